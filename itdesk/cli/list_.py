"""``itdesk list``: tickets, filtered and sorted, for people and programs."""

from __future__ import annotations

from typing import Any

import click

from . import (
    Progress,
    colour,
    desk_options,
    filter_options,
    format_option,
    lang_option,
    neutral,
    open_session,
    page,
    terminal_width,
    ticket_filter,
)


@click.command(name="list")
@filter_options
@click.option("--breached", is_flag=True, help="Only tickets with a breached SLA clock.")
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Every ticket, closed, cancelled and archived ones included.",
)
@click.option(
    "--sort",
    type=click.Choice(["id", "reported", "priority", "status", "assignee"]),
    default="id",
    show_default=True,
    help="Sort order.",
)
@click.option("--reverse", is_flag=True, help="Reverse the order.")
@click.option("--reveal", is_flag=True, help="Do not mask personal data.")
@format_option("table", "json", "csv")
@lang_option
@desk_options
def command(
    breached: bool,
    include_all: bool,
    sort: str,
    reverse: bool,
    reveal: bool,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **filters: Any,
) -> None:
    """List tickets; with no filter, those not yet closed or cancelled.

    Personal data is masked (in the title too, and in every field of --format json)
    unless --reveal. --breached keeps the open tickets with a breached SLA clock at
    --now (the clocks of itdesk check). On a terminal the states are coloured and a
    ticket with a breached clock is red ($NO_COLOR turns colour off; never in pipes).

    Example:

    \b
        itdesk list --priority P1 --status in_progress,pending_vendor
        itdesk list --breached --assignee zhang
        itdesk list --mine --as zhang
        itdesk list -t E1001          # number, text, requester, 工号 or contact
        itdesk list --all --format json
    """
    import json
    import sys

    from ..channels.views import COLUMNS, SORT_KEYS, render_list, sort_tickets
    from ..core.privacy import masked_data

    session = open_session(desk_path, as_name, now_text)
    flt = ticket_filter(session, include_all=include_all, **filters)
    personal = frozenset() if reveal else session.desk.policy.personal
    # Each ticket is cut down as it is read, so listing a big archive holds rows, not
    # tickets: the table and the CSV keep their few columns (masked); JSON writes each
    # ticket's text to a temporary file and keeps where it is, beside the sort fields.
    keys = None if fmt == "json" else frozenset(COLUMNS)
    spill = None
    if fmt == "json":
        import tempfile  # (with shutil and the compressors: ~5 ms a table need not pay)

        spill = tempfile.TemporaryFile()
    # On a terminal, states are coloured and a ticket with a breached clock is red: the
    # open tickets' rows are then marked by what check keeps of their clocks, else (all
    # tickets, a text search) each ticket read is looked at
    coloured = fmt == "table" and colour()
    kept_marks = coloured and flt.text is None and not breached and not include_all
    breaches = _breach_finder(session) if coloured and not kept_marks else None

    def shown_of(d: Any, wanted: frozenset[str] | None) -> Any:
        if not reveal:
            return masked_data(d, personal, wanted)
        return d if wanted is None else {k: d[k] for k in wanted if k in d}

    def keep(d: Any) -> Any:
        shown = shown_of(d, keys)
        if breaches is not None and breaches(d):
            shown = {**shown, _BREACHED: True}
        if spill is None:
            return shown
        text = json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode()
        row = {k: d.get(k) for k in SORT_KEYS}
        row[_TEXT] = (spill.tell(), len(text))
        spill.write(text)
        return row

    heads = None
    if spill is None:  # a table or CSV: a month of closed tickets is kept as its rows,
        # an active ticket's row by itself (unless its clocks mark it)
        from ..store.folders import salt_of

        head_keys = frozenset((*COLUMNS, "team"))  # and the filter's team

        def head(d: Any) -> Any:
            return shown_of(d, head_keys)

        kind = "list-revealed" if reveal else "list"
        heads = (kind, salt_of(sorted(personal), COLUMNS), head)
    progress = Progress("reading tickets")  # a cold cache: on a terminal only
    try:
        found = session.tickets(
            flt,
            breached=breached,
            keep=keep,
            heads=heads,
            progress=progress,
            open_heads=breaches is None,
        )
    finally:
        progress.close()
    if kept_marks:
        marked = _breached_ids(session, flt)
        found = [{**row, _BREACHED: True} if row["id"] in marked else row for row in found]
    # the folders as listed, for the rows of the short path (else not held meanwhile)
    keeping = fmt == "table" and not coloured and not reveal and not breached
    keeping = keeping and sort == "id" and not reverse and terminal_width() is None
    keeping = keeping and flt == type(flt)(include_all=True)  # the whole desk, unfiltered
    keeping = keeping and getattr(sys.modules.get("itdesk.quicklist"), "declined", False)
    listed, session.listed = (session.listed if keeping else []), []
    chosen = sort_tickets(found, sort, reverse)
    if spill is not None:
        with spill:
            _echo_json(spill, [row[_TEXT] for row in chosen])
        return
    if fmt != "table":
        click.echo(render_list(chosen, fmt, session.lang(lang)), nl=fmt != "csv")
        return
    if not coloured:
        page(neutral(render_list(chosen, fmt, session.lang(lang), terminal_width())))
        if keeping:
            del found, chosen
            _keep_rows(session, listed, session.lang(lang), personal)
        return
    page(render_list(chosen, fmt, session.lang(lang), terminal_width(), style=_paint))


def _keep_rows(session: Any, folders: list[Any], lang: str, personal: frozenset[str]) -> None:
    """After a full, unfiltered ``list --all`` into a pipe, when :mod:`itdesk.quicklist`
    was tried in this process and could not serve: each folder's rows kept where they
    are not (for exactly its files), and what that path needs of the policy. Only when
    the command said nothing on stderr (that path would not say it)."""
    import marshal
    import os
    import time

    from .. import __version__, quicklist
    from ..channels.table import width
    from ..channels.views import HEADERS
    from ..quicknew import _stat_key, _write_atomic
    from ..store.cache import RACY_NS

    if session.warnings or session.findings:
        return
    now = time.time_ns()
    if not folders or any(now - m < RACY_NS for _, _, m, _, _ in folders[0].listing):
        return  # a ticket just written: its folder's rows would not be kept (store.folders)
    salt, make = rows_maker(lang, personal)
    for _ in session.folder_summaries(quicklist.KIND, salt, make, folders=folders):
        pass
    if session.warnings or session.findings:
        return
    desk = session.desk
    path = desk.git_dir / quicklist.FACTS
    try:
        key = _stat_key(str(desk.root / "itdesk.yaml"))
    except OSError:
        return
    try:
        facts = marshal.loads(path.read_bytes())
        if not isinstance(facts, dict) or facts.get("policy") != key:
            facts = {}
    except (OSError, ValueError, EOFError, TypeError):
        facts = {}
    heads = tuple(HEADERS[lang])
    kept = {
        "version": [__version__, quicklist.FACTS_VERSION],
        "policy": key,
        "locale": desk.policy.locale,
        "salts": {**facts.get("salts", {}), lang: salt},
        "heads": {**facts.get("heads", {}), lang: (heads, tuple(width(h) for h in heads))},
    }
    if kept != facts:
        try:
            os.makedirs(path.parent, exist_ok=True)
            _write_atomic(str(path), marshal.dumps(kept), fsync=False)
        except OSError:
            pass


def rows_maker(lang: str, personal: frozenset[str]) -> tuple[str, Any]:
    """The salt of the rows :mod:`itdesk.quicklist` lays out, and ``make(tickets)``: a
    folder's tickets (sorted by id) as those rows, and whether every cell is plain."""
    import marshal

    from .. import quicklist
    from ..channels.table import width
    from ..channels.views import COLUMNS, id_key, table_cells
    from ..core.privacy import masked_data
    from ..store.folders import salt_of

    keys = frozenset(COLUMNS)
    salt = salt_of(quicklist.KIND, quicklist.ROWS_VERSION, lang, sorted(personal), COLUMNS)

    def make(tickets: list[dict[str, Any]]) -> tuple[bool, bytes]:
        shown: list[Any] = [masked_data(d, personal, keys) for d in tickets]
        cells = [tuple(str(c).strip() for c in row) for row in table_cells(shown, lang)]
        plain = not any(_odd(c) for row in cells for c in row)
        rows = []
        for d, row in zip(shown, cells, strict=True):  # sorted by id as sort_tickets does
            rows.append((*id_key(d), *row, *(width(c) for c in row)))
        return plain, marshal.dumps(rows)  # decoded by quicklist alone

    return salt, make


def made_rows(root: str, rels: list[str], lang: str, salt: str) -> list[Any] | None:
    """For :mod:`itdesk.quicklist`: the rows of the ticket folders ``rels`` (relative to
    the desk ``root``), which have none kept for their files now, made by
    :func:`rows_maker` through the per-file cache and kept where the full command keeps
    them; None when a file is not valid (the full command says so), the policy's
    masking is not the one ``salt`` was made for, or a cell is not plain."""
    import marshal

    from .. import quicklist
    from ..errors import ItdeskError
    from ..service.context import Context

    try:
        context = Context.open(root, on_warning=lambda text: None)
        made_salt, make = rows_maker(lang, context.desk.policy.personal)
        if made_salt != salt:
            return None
        folders = context.desk.ticket_folders(True, on_error=context.found, only=rels)
        if [folder.rel for folder in folders] != rels:
            return None
        rows: list[Any] = []
        for summary, _ in context.folder_summaries(quicklist.KIND, salt, make, folders=folders):
            if summary is None or not summary[0]:
                return None  # (a cell to escape for a terminal: the full command's)
            rows += marshal.loads(summary[1])
    except (ItdeskError, OSError):
        return None
    if context.warnings or context.findings:
        return None
    return rows


def _odd(cell: str) -> bool:
    """Whether the full command's text would change where the cell is: :func:`neutral`
    escapes a character a terminal acts on, table.render splits lines where
    str.splitlines does (the short path declines such rows)."""
    from ..channels.table import _BREAKS

    return neutral(cell) != cell or _BREAKS.search(cell) is not None


_BREACHED = "\0breached"  # a row's mark: a clock of the ticket is breached (no field's name)
# Status colours on a terminal: what waits for the desk stands out, what is done recedes.
STATUS_COLOURS = {
    "new": "cyan",
    "reopened": "yellow",
    "pending_vendor": "magenta",
    "pending_user": "magenta",
    "resolved": "green",
    "closed": "bright_black",
    "cancelled": "bright_black",
}


def _breached_ids(session: Any, flt: Any) -> set[str]:
    """The open tickets that pass ``flt`` with a breached SLA clock at --now, from the
    clock plans check keeps of each active ticket (read only where a file changed)."""
    from ..core.sla import plan_states
    from .check import clock_plans, sla_rules

    rules, now = sla_rules(session), session.now
    return {
        s.ticket
        for plan, spent in clock_plans(session, flt)
        for s in plan_states(plan, rules, now, spent)
        if s.open and s.state == "breached"
    }


def _breach_finder(session: Any) -> Any:
    """``breached(data)``: whether an open ticket has a breached SLA clock at --now."""
    from ..core.sla import Rules, clock_states

    rules = Rules.of(session.desk.policy, session.desk.calendars)

    def breached(d: Any) -> bool:
        if d["status"] in ("closed", "cancelled"):
            return False
        return any(s.open and s.state == "breached" for s in clock_states(d, rules, session.now))

    return breached


def _paint(d: Any, column: str, cell: str) -> str:
    """A cell made safe for the terminal, then coloured (ESC is ours alone)."""
    text = neutral(cell, one_line=True)
    if d.get(_BREACHED) and column in ("id", "status"):
        return click.style(text, fg="red", bold=True)
    if column == "status" and d.get("status") in STATUS_COLOURS:
        return click.style(text, fg=STATUS_COLOURS[d["status"]])
    return text


INDENTED = 1000  # a JSON listing of more tickets is written one ticket a line
_TEXT = "\0json"  # the key of a row's (offset, length) in the spill: no field is named so


def _echo_json(spill: Any, places: list[tuple[int, int]]) -> None:
    """A JSON array of the tickets' texts kept in ``spill``: indented when short, one
    ticket a line when long (the same data, streamed; a 100,000-ticket listing is never
    held whole)."""
    import json
    import sys

    def text(place: tuple[int, int]) -> bytes:
        spill.seek(place[0])
        data: bytes = spill.read(place[1])
        return data

    if len(places) <= INDENTED:
        tickets = [json.loads(text(p)) for p in places]
        click.echo(json.dumps(tickets, ensure_ascii=False, indent=2))
        return
    out = sys.stdout.buffer
    out.write(b"[\n")
    for i, place in enumerate(places):
        out.write(text(place) + (b",\n" if i < len(places) - 1 else b"\n"))
    out.write(b"]\n")
    out.flush()
