"""``itdesk kb``: the knowledge base, ``kb/<slug>.md`` articles written from resolved tickets.

The shell around :mod:`itdesk.kb`: reading articles (only ``kb/*.md``, front matter by
:mod:`itdesk.yamlio`, so a search costs no GitPython and no jsonschema), writing them
through :meth:`itdesk.store.Desk.transaction` together with the ticket's ``kb`` list (one
commit), and the helpers other commands use: :func:`suggest` for ``itdesk new`` and
:func:`kb_problems` for ``itdesk validate``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import Session, desk_options, format_option, lang_option

if TYPE_CHECKING:
    from ..core.kb import Article, Index
    from ..core.model import Ticket
    from ..errors import InvalidTicket
    from ..store.desk import Desk

KB_DIR = "kb"
README = "README.md"  # the folder's own note, not an article


# ------------------------------------------------------------------ reading


def article_path(desk: Desk, slug: str) -> Path:
    from ..core.kb import check_slug

    return desk.root / KB_DIR / f"{check_slug(slug)}.md"


def _article_files(desk: Desk) -> list[Path]:
    folder = desk.root / KB_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.md") if p.name != README and p.is_file())


def _bare(exc: InvalidTicket) -> str:
    """The message of ``exc`` without its ``path:line:`` prefix."""
    text = str(exc)
    if exc.path is not None:
        prefix = f"{exc.path}:{exc.line}: " if exc.line is not None else f"{exc.path}: "
        text = text.removeprefix(prefix)
    return text


def parse_article(rel: str, text: str, slug: str | None = None) -> Article:
    """The article in ``text`` (the file ``rel``); InvalidArticle with path and line."""
    from ..core.kb import InvalidArticle, article_from_meta, is_slug, split_front_matter
    from ..errors import InvalidTicket
    from ..store.yamlio import line_of, load_yaml

    name = slug if slug is not None else Path(rel).stem
    if not is_slug(name):
        raise InvalidArticle(
            f"{Path(rel).name!r} is not a valid article file name: lowercase letters, digits "
            "and '-' (like wifi-certificate.md)",
            rel,
        )
    front, body, first = split_front_matter(text, rel)
    try:
        meta = load_yaml(front, rel)
    except InvalidTicket as exc:
        at = first + exc.line - 1 if exc.line is not None else first
        raise InvalidArticle(f"front matter: {_bare(exc)}", rel, at) from None

    def line(keys: list[str | int]) -> int | None:
        found = line_of(front, keys)
        return None if found is None else first + found - 1

    return article_from_meta(name, meta, body, rel, line)


def _read_file(desk: Desk, path: Path) -> Article:
    from ..core.kb import InvalidArticle

    rel = desk.rel(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidArticle("not UTF-8 text", rel) from None
    except OSError as exc:
        raise InvalidArticle(f"cannot read: {exc.strerror}", rel) from None
    return parse_article(rel, text)


def read_article(desk: Desk, slug: str) -> Article:
    from ..core.kb import UnknownArticle

    path = article_path(desk, slug.strip())
    if not path.is_file():
        raise UnknownArticle(f"no article {desk.rel(path)} (itdesk kb list shows them)")
    return _read_file(desk, path)


def read_articles(
    desk: Desk, on_error: Callable[[InvalidTicket], None] | None = None
) -> list[Article]:
    """Every article of the desk, by slug; bad ones go to ``on_error`` (or raise)."""
    from ..errors import InvalidTicket

    out = []
    for path in _article_files(desk):
        try:
            out.append(_read_file(desk, path))
        except InvalidTicket as exc:
            if on_error is None:
                raise
            on_error(exc)
    return out


def render_article(article: Article) -> str:
    from ..core.kb import article_meta, join_front_matter
    from ..store.yamlio import dump_yaml

    return join_front_matter(dump_yaml(article_meta(article)), article.body)


def _index(desk: Desk, on_error: Callable[[InvalidTicket], None] | None) -> Index:
    from ..core.kb import Index

    return Index(read_articles(desk, on_error))


def _warn(exc: Exception) -> None:
    click.echo(f"itdesk: warning: {exc}", err=True)


def _ignore(exc: Exception) -> None:
    pass


# ---------------------------------------------------------- for other commands


def suggest(desk: Desk, text: str, limit: int = 3) -> list[tuple[str, str, float]]:
    """(slug, title, score) of the articles that best match ``text``, best first.

    For ``itdesk new``: self-help to offer before a ticket is worked on. Articles that
    cannot be read are skipped silently (``itdesk validate`` reports them).
    """
    from ..core.kb import suggestions
    from ..errors import ItdeskError

    try:
        if not text.strip() or not _article_files(desk):
            return []
        hits = suggestions(_index(desk, _ignore), text, limit)
    except (ItdeskError, OSError):  # a suggestion must never stop a report being recorded
        return []
    return [(h.article.slug, h.article.title, round(h.score, 3)) for h in hits]


def require_articles(desk: Desk, slugs: Iterable[str]) -> tuple[str, ...]:
    """``slugs``, each checked to be the name of an existing article (``resolve --kb``)."""
    from ..core.kb import UnknownArticle

    out: list[str] = []
    for slug in slugs:
        path = article_path(desk, slug.strip())
        if not path.is_file():
            raise UnknownArticle(f"no article {desk.rel(path)} (itdesk kb list shows them)")
        if slug.strip() not in out:
            out.append(slug.strip())
    return tuple(out)


def kb_problems(desk: Desk) -> list[str]:
    """Problems of the knowledge base, one ``path:line: message`` each, for ``validate``:
    articles with a bad file name or front matter, articles naming tickets that exist
    neither active nor archived, and tickets whose ``kb`` names a missing article."""
    from ..core.kb import is_slug, split_front_matter
    from ..errors import InvalidTicket
    from ..store.desk import ARCHIVE, TICKETS
    from ..store.yamlio import line_of

    problems: list[str] = []
    root = desk.root
    ids = {p.stem for p in (root / TICKETS).glob("*.yaml")}
    ids |= {p.stem for p in (root / ARCHIVE).glob("*/*.yaml")}
    present: set[str] = set()
    for path in _article_files(desk):
        rel = desk.rel(path)
        if is_slug(path.stem):
            present.add(path.stem)
        try:
            article = _read_file(desk, path)
        except InvalidTicket as exc:
            problems.append(str(exc))
            continue
        for i, tid in enumerate(article.tickets):
            if tid not in ids:
                front, _, first = split_front_matter(path.read_text(encoding="utf-8"), rel)
                line = line_of(front, ["tickets", i])
                where = f"{rel}:{first + line - 1}" if line is not None else rel
                problems.append(
                    f"{where}: tickets: no ticket {tid} on this desk (neither active nor archived)"
                )
    for data in desk.ticket_data(include_archive=True, on_error=_ignore):
        missing = [(i, s) for i, s in enumerate(data.get("kb") or ()) if s not in present]
        if not missing:
            continue
        try:
            path = desk.locate(str(data["id"])).path
            text = path.read_text(encoding="utf-8")
        except (InvalidTicket, OSError):
            continue
        for i, slug in missing:
            line = line_of(text, ["kb", i])
            where = f"{desk.rel(path)}:{line}" if line is not None else desk.rel(path)
            problems.append(f"{where}: kb: no article kb/{slug}.md")
    return problems


# ------------------------------------------------------------------ commands


@click.group(name="kb", invoke_without_command=True, no_args_is_help=False)
@click.pass_context
def command(ctx: click.Context) -> None:
    """The knowledge base: articles written from resolved tickets, for self-help.

    Articles are kb/<slug>.md: YAML front matter (title, category, tags, tickets,
    created, updated) and a Markdown body (Symptom, Cause, Solution, Self-help).

    Example:

    \b
        itdesk kb promote IT-20231025-001
        itdesk kb search VPN
    """
    if ctx.invoked_subcommand is None:  # plain `itdesk kb`: the help, not an error
        click.echo(ctx.get_help())


@command.command()
@click.argument("ticket_id", metavar="ID")
@click.option("--into", metavar="SLUG", help="Link the ticket to this existing article instead.")
@click.option("--slug", metavar="SLUG", help="Name of the new article (default: from the title).")
@click.option(
    "--new",
    "force_new",
    is_flag=True,
    help="Write a new article even when one with the same fix exists.",
)
@click.option(
    "--edit/--no-edit",
    default=None,
    help="Edit the draft in $EDITOR before it is committed (default: on a terminal).",
)
@desk_options
def promote(
    ticket_id: str,
    into: str | None,
    slug: str | None,
    force_new: bool,
    edit: bool | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Write a resolved or closed ticket's symptom and solution up as kb/<slug>.md.

    The article and the ticket's kb list are committed together. A ticket whose fix an
    article already describes (same category, and its title and solution match the
    article) is linked to that article instead of getting a copy; --into SLUG links
    to an article you choose. Names, contacts, phone numbers and e-mail addresses are
    masked: articles are for everyone.

    Example:

    \b
        itdesk kb promote IT-20231025-001 --slug wifi-certificate
        itdesk kb promote IT-20231026-004 --into wifi-certificate
    """
    from ..core.kb import Index, check_slug, promotable, same_fix
    from ..errors import UsageError

    if into is not None and (slug is not None or force_new):
        raise UsageError("--into links to an existing article; it goes without --slug and --new")
    into = check_slug(into.strip()) if into is not None else None
    slug = check_slug(slug.strip()) if slug is not None else None
    session = Session(desk_path, as_name, now_text)
    desk = session.desk
    ticket = desk.read(ticket_id.strip())
    promotable(ticket)
    if into is not None:
        read_article(desk, into)
        _link(session, ticket.id, into)
        return
    articles = read_articles(desk, on_error=_warn)
    hit = None if force_new else same_fix(Index(articles), ticket)
    if hit is not None:
        a = hit.article
        if ticket.id in a.tickets or a.slug in ticket.kb:
            why = f"{ticket.id} is already linked to {a.path} ({a.title})"
        else:
            why = f"same fix as {a.path} ({a.title}): linked instead of writing a copy"
        _link(session, ticket.id, a.slug, f"{why}; --new writes a new article anyway")
        return
    _write_new(session, ticket, slug, bool(sys.stdin.isatty() if edit is None else edit))


def _taken(desk: Desk) -> set[str]:
    folder = desk.root / KB_DIR
    return {p.stem for p in folder.glob("*.md")} if folder.is_dir() else set()


def _write_new(session: Session, ticket: Ticket, slug: str | None, edit: bool) -> None:
    from dataclasses import replace

    from ..core.kb import draft_article, promotable, scrub_article, slug_for, unique_slug
    from ..core.lifecycle import Action, Change
    from ..errors import UsageError

    desk = session.desk
    taken = _taken(desk)
    if slug is not None and slug in taken:
        raise UsageError(
            f"kb/{slug}.md exists; link the ticket to it (--into {slug}) or choose another --slug"
        )
    category = ticket.category.value if ticket.category else "other"
    name = slug or unique_slug(slug_for(ticket.title, category, ticket.id), taken)
    article = draft_article(ticket, name, session.now)
    if edit:
        article = _edit(article, ticket, slug is None, taken)
    article = scrub_article(article, ticket)
    actor = session.actor
    with desk.transaction(actor, session.now) as tx:
        fresh = tx.read(ticket.id)
        promotable(fresh)
        if (desk.root / article.path).exists():
            raise UsageError(f"{article.path} appeared meanwhile; run the command again")
        if ticket.id not in article.tickets:
            article = replace(article, tickets=(ticket.id, *article.tickets))
        kb = fresh.kb if article.slug in fresh.kb else fresh.kb + (article.slug,)
        change = Change(replace(fresh, kb=kb), Action.KB, f"promote to {article.path[:-3]}")
        tx.put(change)
        tx.put_file(article.path, render_article(article))
    click.echo(change.subject)


def _edit(article: Article, ticket: Ticket, rename: bool, taken: set[str]) -> Article:
    """The draft as edited in $EDITOR; an emptied draft aborts. With ``rename``, a new
    title also gives the article a new name."""
    from dataclasses import replace

    from ..core.kb import slug_for, unique_slug
    from ..errors import InvalidTicket, UsageError

    try:
        edited = click.edit(render_article(article), extension=".md", require_save=True)
    except click.ClickException as exc:
        raise UsageError(
            f"{exc.message}; set $EDITOR to an editor that works, or use --no-edit "
            "(nothing was changed)"
        ) from None
    if edited is None:  # closed without saving: the draft as it was
        return article
    if not edited.strip():
        raise UsageError("the edited article is empty: promotion aborted, nothing was changed")
    try:
        new = parse_article(article.path, edited, slug=article.slug)
    except InvalidTicket as exc:
        raise UsageError(f"the edited article is not valid: {exc}; nothing was changed") from None
    if rename and new.title != article.title:
        category = new.category
        new = replace(new, slug=unique_slug(slug_for(new.title, category, ticket.id), taken))
    return new


def _link(session: Session, ticket_id: str, slug: str, note: str | None = None) -> None:
    """Add ``ticket_id`` to the article's tickets and ``slug`` to the ticket's kb list."""
    from dataclasses import replace

    from ..core.kb import link_ticket, promotable
    from ..core.lifecycle import Action, Change

    desk = session.desk
    with desk.transaction(session.actor, session.now) as tx:
        ticket = tx.read(ticket_id)
        promotable(ticket)
        article = read_article(desk, slug)
        linked = link_ticket(article, ticket.id, session.now)
        new = ticket if slug in ticket.kb else replace(ticket, kb=ticket.kb + (slug,))
        if linked != article or new != ticket:
            tx.put(Change(new, Action.KB, f"link to {article.path[:-3]}"))
            if linked != article:
                tx.put_file(article.path, render_article(linked))
            subject: str | None = f"{ticket.id}: link to {article.path[:-3]}"
        else:
            subject = None
    if subject is None:
        click.echo(f"{ticket_id} is already linked to {article.path}; nothing changed")
        return
    click.echo(subject)
    if note:
        click.echo(note[0].upper() + note[1:] + ".")


_LIST_HEADERS = {
    "en": ("Slug", "Category", "Tickets", "Updated", "Title"),
    "zh": ("文章", "问题类型", "工单数", "更新时间", "标题"),
}
_SEARCH_HEADERS = {
    "en": ("Score", "Slug", "Category", "Title"),
    "zh": ("得分", "文章", "问题类型", "标题"),
}


def _category_label(value: str, lang: str) -> str:
    from ..core.model import ZH_LABELS, Category

    if lang != "zh":
        return value
    try:
        return ZH_LABELS[Category(value)]
    except ValueError:
        return value


def _dump_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@command.command(name="list")
@click.option("--category", "-c", help="Only this category (network, 网络, ...).")
@format_option("table", "json")
@lang_option
@desk_options
def list_cmd(
    category: str | None,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """List the knowledge base's articles.

    Example:

    \b
        itdesk kb list --category network
        itdesk kb list --format json
    """
    from ..core.kb import article_to_dict
    from ..core.model import parse_category

    wanted = parse_category(category).value if category is not None else None
    session = Session(desk_path, as_name, now_text)
    articles = [
        a for a in read_articles(session.desk, _warn) if wanted is None or a.category == wanted
    ]
    if fmt == "json":
        _dump_json([article_to_dict(a, body=False) for a in articles])
        return
    language = session.lang(lang)
    if not articles:
        click.echo("没有知识库文章" if language == "zh" else "No articles.")
        return
    from ..channels.table import render

    rows = [
        [a.slug, _category_label(a.category, language), str(len(a.tickets)),
         (a.updated or "-")[:10], a.title]
        for a in articles
    ]  # fmt: skip
    click.echo(render(_LIST_HEADERS[language], rows))


@command.command()
@click.argument("slug")
@format_option("markdown", "json")
@desk_options
def show(
    slug: str, fmt: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Print an article: its Markdown file, or --format json.

    Example:

    \b
        itdesk kb show wifi-certificate
    """
    from ..core.kb import UnknownArticle, article_to_dict

    session = Session(desk_path, as_name, now_text)
    path = article_path(session.desk, slug.strip())
    if not path.is_file():
        raise UnknownArticle(f"no article {session.desk.rel(path)} (itdesk kb list shows them)")
    article = _read_file(session.desk, path)
    if fmt == "json":
        _dump_json(article_to_dict(article))
    else:
        click.echo(render_article(article), nl=False)


@command.command()
@click.argument("query", nargs=-1, required=True)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="At most this many articles.",
)
@format_option("table", "json")
@lang_option
@desk_options
def search(
    query: tuple[str, ...],
    limit: int,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Find articles, best match first; English words and Chinese text alike.

    Title and tags count more than the body. Chinese needs no spaces: 打印机共享 finds
    an article titled 打印机共享设置.

    Example:

    \b
        itdesk kb search VPN
        itdesk kb search 打印机共享 --format json
    """
    from ..errors import UsageError

    text = " ".join(query).strip()
    if not text:
        raise UsageError("the query is empty; give words to search for")
    session = Session(desk_path, as_name, now_text)
    hits = _index(session.desk, _warn).search(text, limit)
    if fmt == "json":
        _dump_json(
            [
                {
                    "slug": h.article.slug,
                    "title": h.article.title,
                    "category": h.article.category,
                    "tags": list(h.article.tags),
                    "tickets": list(h.article.tickets),
                    "score": round(h.score, 3),
                }
                for h in hits
            ]
        )
        return
    language = session.lang(lang)
    if not hits:
        click.echo(
            f"没有匹配“{text}”的文章" if language == "zh" else f"No articles match {text!r}."
        )
        return
    from ..channels.table import render

    rows = [
        [f"{h.score:.2f}", h.article.slug, _category_label(h.article.category, language),
         h.article.title]
        for h in hits
    ]  # fmt: skip
    click.echo(render(_SEARCH_HEADERS[language], rows))
