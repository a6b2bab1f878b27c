"""``itdesk validate``: the policy and every ticket against the schema and the status machine.

This is the one place that runs the reference JSON Schema validator (jsonschema) over
every ticket, besides the fast checker that every read uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..core.model import Ticket
from ..core.status import history_problems
from ..errors import InvalidTicket
from ..store import Desk, jsonschema_problems, key_path, line_of


def _where(rel: str, text: str, keys: list[str | int], message: str) -> str:
    line = line_of(text, keys)
    return f"{rel}:{line}: {key_path(keys)}: {message}" if line else f"{rel}: {message}"


def validate_desk(
    desk: Desk, progress: Callable[[int, int], None] | None = None
) -> tuple[list[str], int]:
    """(problems as ``path:line: message``, number of ticket files checked);
    ``progress(done, total)`` is called after each file."""
    problems: list[str] = []
    _ = desk.policy  # raises InvalidPolicy with the key and the reason
    _ = desk.calendars  # the business-hours calendars and their include files too
    notify = desk.policy.raw.get("notify")
    if notify:
        from ..channels.notify import check_config

        check_config(notify)
    files = desk.ticket_files(include_archive=True)
    seen: dict[str, str] = {}
    for done, tf in enumerate(files, 1):
        if progress is not None:
            progress(done, len(files))
        rel = desk.rel(tf.path)
        try:
            text, data = desk.load_file(tf.path)
        except InvalidTicket as exc:
            problems.append(str(exc))
            continue
        found = [_where(rel, text, keys, msg) for keys, msg in jsonschema_problems(data)]
        if found:
            problems.extend(found)
            continue
        try:
            ticket = desk.read_file(tf.path)
        except InvalidTicket as exc:
            problems.append(str(exc))
            continue
        if ticket.id in seen:
            problems.append(f"{rel}: {ticket.id} is also in {seen[ticket.id]}")
        seen[ticket.id] = rel
        if tf.archived and ticket.status.is_open:  # list and check never look there
            problems.append(
                f"{rel}: {ticket.id} is {ticket.status.value} but in the archive (a merge "
                "carried a reopening into it); itdesk sync moves it back to tickets/"
            )
        problems.extend(_where(rel, text, keys, msg) for keys, msg in history_problems(ticket))
        problems.extend(
            _where(rel, text, keys, msg) for keys, msg in _attachment_problems(desk, ticket)
        )
    return problems, len(files)


def coverage_notes(desk: Desk, now: datetime) -> list[str]:
    """Open tickets' clocks due past the last day their calendar knows holidays for
    (see :func:`itdesk.core.sla.coverage_warnings`)."""
    from ..core.sla import Rules, clock_states, coverage_warnings

    calendars = desk.calendars
    rules = Rules.of(desk.policy, calendars)
    states = [
        s for d in desk.ticket_data(on_error=lambda e: None) for s in clock_states(d, rules, now)
    ]
    return coverage_warnings(states, calendars)


def _attachment_problems(desk: Desk, ticket: Ticket) -> list[tuple[list[str | int], str]]:
    """Each file the ticket lists under ``attachments`` is in the desk, under
    ``attachments/<ID>/``, a regular file (not a link)."""
    from ..core.lifecycle import ATTACHMENTS

    out: list[tuple[list[str | int], str]] = []
    for i, rel in enumerate(ticket.attachments):
        keys: list[str | int] = ["attachments", i]
        path = desk.root / rel
        if not rel.startswith(f"{ATTACHMENTS}/{ticket.id}/") or ".." in rel.split("/"):
            out.append((keys, f"{rel} is not under {ATTACHMENTS}/{ticket.id}/"))
        elif path.is_symlink() or not path.is_file():
            out.append((keys, f"{rel}: no such file in the desk"))
    return out
