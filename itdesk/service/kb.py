"""The knowledge base on the desk: ``kb/<slug>.md`` articles written from resolved tickets.

Around the pure :mod:`itdesk.core.kb`: reading articles (only ``kb/*.md``, front matter
by :mod:`itdesk.store.yamlio`, so a search costs no GitPython and no jsonschema),
promoting a ticket (a new article, or a link to one with the same fix) through one
transaction together with the ticket's ``kb`` list (one commit), and what other
commands use: :func:`suggest` for ``new``, :func:`require_articles` for
``resolve --kb`` and :func:`kb_problems` for ``validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError

if TYPE_CHECKING:
    from ..core.kb import Article, Index
    from ..core.model import Ticket
    from ..errors import InvalidTicket
    from ..store.desk import Desk
    from .context import Context

KB_DIR = "kb"
README = "README.md"  # the folder's own note, not an article


# ------------------------------------------------------------------ reading


def article_path(desk: Desk, slug: str) -> Path:
    from ..core.kb import check_slug

    return desk.root / KB_DIR / f"{check_slug(slug)}.md"


def _article_files(desk: Desk) -> list[Path]:
    """The article files, symbolic links included: they are reported, never followed."""
    folder = desk.root / KB_DIR
    if not folder.is_dir() or folder.is_symlink():
        return []
    return sorted(
        p for p in folder.glob("*.md") if p.name != README and (p.is_symlink() or p.is_file())
    )


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


def read_article_file(desk: Desk, path: Path) -> Article:
    from ..core.kb import InvalidArticle
    from ..store.desk import LINKED

    rel = desk.rel(path)
    if path.is_symlink() or path.parent.is_symlink():
        raise InvalidArticle(LINKED, rel)
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
    return read_article_file(desk, path)


def read_articles(
    desk: Desk, on_error: Callable[[InvalidTicket], None] | None = None
) -> list[Article]:
    """Every article of the desk, by slug; bad ones go to ``on_error`` (or raise).
    Refused, as ticket reads are, while a merge or rebase is unfinished."""
    from ..errors import InvalidTicket

    desk.check_readable()
    out = []
    for path in _article_files(desk):
        try:
            out.append(read_article_file(desk, path))
        except InvalidTicket as exc:
            if on_error is None:
                raise
            on_error(exc)
    return out


def render_article(article: Article) -> str:
    from ..core.kb import article_meta, join_front_matter
    from ..store.yamlio import dump_yaml

    return join_front_matter(dump_yaml(article_meta(article)), article.body)


def article_index(desk: Desk, on_error: Callable[[InvalidTicket], None] | None) -> Index:
    from ..core.kb import Index

    return Index(read_articles(desk, on_error))


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
        hits = suggestions(article_index(desk, _ignore), text, limit)
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


def kb_problems(desk: Desk, seen: TicketsSeen | None = None) -> list[str]:
    """Problems of the knowledge base, one ``path:line: message`` each, for ``validate``:
    articles with a bad file name or front matter, articles naming tickets that exist
    neither active nor archived, and tickets whose ``kb`` names a missing article.

    ``seen``: what ``validate``'s pass over the ticket files found (their numbers, and
    the tickets that name articles), so that 100,000 tickets are not read a second
    time; without it the tickets are read here, one at a time."""
    from ..core.kb import is_slug, split_front_matter
    from ..errors import InvalidTicket
    from ..store.yamlio import line_of

    if seen is None:
        seen = _tickets_seen(desk)
    problems: list[str] = []
    present: set[str] = set()
    for path in _article_files(desk):
        rel = desk.rel(path)
        if is_slug(path.stem):
            present.add(path.stem)
        try:
            article = read_article_file(desk, path)
        except InvalidTicket as exc:
            problems.append(str(exc))
            continue
        for i, tid in enumerate(article.tickets):
            if tid not in seen.names:
                front, _, first = split_front_matter(path.read_text(encoding="utf-8"), rel)
                line = line_of(front, ["tickets", i])
                where = f"{rel}:{first + line - 1}" if line is not None else rel
                problems.append(
                    f"{where}: tickets: no ticket {tid} on this desk (neither active nor archived)"
                )
    for path, slugs in seen.kb:
        missing = [(i, s) for i, s in enumerate(slugs) if s not in present]
        if not missing:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        for i, slug in missing:
            line = line_of(text, ["kb", i])
            where = f"{desk.rel(path)}:{line}" if line is not None else desk.rel(path)
            problems.append(f"{where}: kb: no article kb/{slug}.md")
    return problems


@dataclass
class TicketsSeen:
    """What a pass over every ticket file saw, for :func:`kb_problems`: each file's
    number (its name, valid or not) and, for each valid ticket naming articles, its
    file and the slugs."""

    names: set[str] = field(default_factory=set)
    kb: list[tuple[Path, list[str]]] = field(default_factory=list)


def _tickets_seen(desk: Desk) -> TicketsSeen:
    from ..errors import ItdeskError
    from ..store.layout import ARCHIVE, TICKETS

    root = desk.root
    seen = TicketsSeen({p.stem for p in (root / TICKETS).glob("*.yaml")})
    seen.names |= {p.stem for p in (root / ARCHIVE).glob("*/*.yaml")}
    for data in desk.iter_ticket_data(include_archive=True, on_error=_ignore):
        if data.get("kb"):
            try:
                path = desk.locate(str(data["id"])).path
            except ItdeskError:
                continue
            seen.kb.append((path, [str(s) for s in data["kb"]]))
    return seen


# ------------------------------------------------------------------ promoting


@dataclass(frozen=True, slots=True)
class Promotion:
    """What ``kb promote`` did: ``subject`` of the commit (None: nothing to change),
    and a ``note`` for the person (why it linked instead of writing, or that it was
    already linked)."""

    subject: str | None
    note: str | None = None


def promote(
    session: Context,
    ticket_id: str,
    *,
    into: str | None = None,
    slug: str | None = None,
    force_new: bool = False,
    edit: Callable[[str], str | None] | None = None,
    on_error: Callable[[InvalidTicket], None] | None = None,
) -> Promotion:
    """Write a resolved or closed ticket up as an article, or link it to one.

    ``into`` links to that article; otherwise an article with the same fix is linked
    (unless ``force_new``), else a new one is written, named ``slug`` or from the title.
    ``edit(draft_text)`` returns the edited text (None: unchanged) before the commit.
    """
    from ..core.kb import Index, check_slug, promotable, same_fix

    if into is not None and (slug is not None or force_new):
        raise UsageError("--into links to an existing article; it goes without --slug and --new")
    into = check_slug(into.strip()) if into is not None else None
    slug = check_slug(slug.strip()) if slug is not None else None
    session.check_recordable()
    desk = session.desk
    ticket = desk.read(ticket_id.strip())
    promotable(ticket)
    if into is not None:
        read_article(desk, into)
        return _link(session, ticket.id, into)
    articles = read_articles(desk, on_error=on_error)
    hit = None if force_new else same_fix(Index(articles), ticket)
    if hit is not None:
        a = hit.article
        if ticket.id in a.tickets or a.slug in ticket.kb:
            why = f"{ticket.id} is already linked to {a.path} ({a.title})"
        else:
            why = f"same fix as {a.path} ({a.title}): linked instead of writing a copy"
        return _link(session, ticket.id, a.slug, f"{why}; --new writes a new article anyway")
    return _write_new(session, ticket, slug, edit)


def _taken(desk: Desk) -> set[str]:
    folder = desk.root / KB_DIR
    return {p.stem for p in folder.glob("*.md")} if folder.is_dir() else set()


def _write_new(
    session: Context, ticket: Ticket, slug: str | None, edit: Callable[[str], str | None] | None
) -> Promotion:
    from ..core.kb import draft_article, promotable, scrub_article, slug_for, unique_slug
    from ..core.lifecycle import Action, Change

    desk = session.desk
    taken = _taken(desk)
    if slug is not None and slug in taken:
        raise UsageError(
            f"kb/{slug}.md exists; link the ticket to it (--into {slug}) or choose another --slug"
        )
    category = ticket.category.value if ticket.category else "other"
    name = slug or unique_slug(slug_for(ticket.title, category, ticket.id), taken)
    article = draft_article(ticket, name, session.now, session.lang())
    if edit is not None:
        article = _edited(article, edit(render_article(article)), ticket, slug is None, taken)
    article = scrub_article(article, ticket)
    with session.transaction() as tx:
        fresh = tx.read(ticket.id, archived=True)
        promotable(fresh)
        if (desk.root / article.path).exists():
            raise UsageError(f"{article.path} appeared meanwhile; run the command again")
        if ticket.id not in article.tickets:
            article = replace(article, tickets=(ticket.id, *article.tickets))
        kb = fresh.kb if article.slug in fresh.kb else fresh.kb + (article.slug,)
        change = Change(replace(fresh, kb=kb), Action.KB, f"promote to {article.path[:-3]}")
        tx.put(change)
        tx.put_file(article.path, render_article(article))
    return Promotion(change.subject)


def _edited(
    article: Article, edited: str | None, ticket: Ticket, rename: bool, taken: set[str]
) -> Article:
    """The draft as edited; an emptied draft aborts. With ``rename``, a new title also
    gives the article a new name."""
    from ..core.kb import slug_for, unique_slug
    from ..errors import InvalidTicket

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


def _link(session: Context, ticket_id: str, slug: str, note: str | None = None) -> Promotion:
    """Add ``ticket_id`` to the article's tickets and ``slug`` to the ticket's kb list."""
    from ..core.kb import link_ticket, promotable
    from ..core.lifecycle import Action, Change

    desk = session.desk
    with session.transaction() as tx:
        ticket = tx.read(ticket_id, archived=True)
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
        return Promotion(None, f"{ticket_id} is already linked to {article.path}; nothing changed")
    return Promotion(subject, note[0].upper() + note[1:] + "." if note else None)
