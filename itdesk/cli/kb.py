"""``itdesk kb``: promote, list, show and search the knowledge base's articles.

The articles on the desk are :mod:`itdesk.service.kb`'s; this module parses options,
runs the editor for ``promote`` and prints.
"""

from __future__ import annotations

import sys

import click

from ..service.kb import article_index, read_article, read_articles, render_article
from . import (
    ID_ARG,
    completes,
    desk_options,
    dump_json,
    echo_text,
    format_option,
    lang_option,
    lang_said,
    neutral,
    open_session,
    page,
    say,
    terminal_width,
    warn,
)


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
@ID_ARG
@click.option(
    "--into",
    metavar="SLUG",
    shell_complete=completes("slugs"),
    help="Link the ticket to this existing article instead.",
)
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
@lang_said
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
    from ..service.kb import promote as do_promote

    session = open_session(desk_path, as_name, now_text)
    use_editor = bool(sys.stdin.isatty() if edit is None else edit)
    done = do_promote(
        session,
        ticket_id,
        into=into,
        slug=slug,
        force_new=force_new,
        edit=_editor if use_editor else None,
        on_error=warn,
    )
    if done.subject is not None:
        say(done.subject, session)
    if done.note is not None:
        click.echo(done.note)


def _editor(draft: str) -> str | None:
    """The draft as edited in $EDITOR (None: closed without saving)."""
    from ..errors import UsageError

    try:
        return click.edit(draft, extension=".md", require_save=True)
    except click.ClickException as exc:
        raise UsageError(
            f"{exc.message}; set $EDITOR to an editor that works, or use --no-edit "
            "(nothing was changed)"
        ) from None


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
    session = open_session(desk_path, as_name, now_text)
    articles = [
        a for a in read_articles(session.desk, warn) if wanted is None or a.category == wanted
    ]
    if fmt == "json":
        dump_json([article_to_dict(a, body=False) for a in articles])
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
    page(neutral(render(_LIST_HEADERS[language], rows, terminal_width())))


@command.command()
@click.argument("slug", shell_complete=completes("slugs"))
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
    from ..core.kb import article_to_dict

    session = open_session(desk_path, as_name, now_text)
    article = read_article(session.desk, slug)
    if fmt == "json":
        dump_json(article_to_dict(article))
    else:
        echo_text(render_article(article), nl=False)


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
    session = open_session(desk_path, as_name, now_text)
    hits = article_index(session.desk, warn).search(text, limit)
    if fmt == "json":
        dump_json(
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
    page(neutral(render(_SEARCH_HEADERS[language], rows, terminal_width())))
