"""``itdesk validate``: the policy and every ticket against the schema and the status machine.

Each ticket file is parsed once and checked once by the fast schema checker that every
read uses; the reference JSON Schema validator (jsonschema) checks again only the files
found wrong, and its messages are reported (#12: 100,000 tickets within a minute).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..core.model import Ticket, ticket_from_dict
from ..core.status import history_problems
from ..errors import InvalidTicket
from ..store import ARCHIVE, TICKETS, Desk, jsonschema_problems, key_path, line_of
from ..store.schema import schema_problems, schema_valid
from .kb import TicketsSeen


def _where(rel: str, text: str, keys: list[str | int], message: str) -> str:
    line = line_of(text, keys)
    return f"{rel}:{line}: {key_path(keys)}: {message}" if line else f"{rel}: {message}"


def validate_desk(
    desk: Desk,
    progress: Callable[[int, int], None] | None = None,
    seen: TicketsSeen | None = None,
) -> tuple[list[str], int]:
    """(problems as ``path:line: message``, number of ticket files checked);
    ``progress(done, total)`` is called after each file, and ``seen`` (when given) is
    filled for :func:`itdesk.service.kb.kb_problems`.

    Each file is read and parsed once and checked once against the schema (the fast
    checker every read uses); only a file it finds wrong is checked again by the
    reference jsonschema, whose messages are the ones reported. The files are visited
    a folder at a time, never listed whole: 100,000 tickets are checked in bounded
    memory (#12)."""
    problems: list[str] = []
    _ = desk.policy  # raises InvalidPolicy with the key and the reason
    _ = desk.calendars  # the business-hours calendars and their include files too
    notify = desk.policy.raw.get("notify")
    if notify:
        from ..channels.notify import check_config

        check_config(notify)
    desk.check_readable()
    folders = _folders(desk)
    total = sum(len(names) for _, _, names in folders)
    if seen is None:
        seen = TicketsSeen()
    where: dict[str, str] = {}
    done = 0
    for folder, archived, names in folders:
        for name in names:
            done += 1
            if progress is not None:
                progress(done, total)
            seen.names.add(name[: -len(".yaml")])
            _check_file(desk, folder / name, archived, where, seen, problems)
    return problems, total


def _folders(desk: Desk) -> list[tuple[Path, bool, list[str]]]:
    """The folders of ticket files, each with whether it is in the archive and the names
    of its ``*.yaml`` files in order: ``tickets/``, then each month of the archive (a
    linked archive is listed as one file, which the check reports and never follows)."""
    root = desk.root / TICKETS
    out = [(root, False, _yaml_names(root))]
    archive = desk.root / ARCHIVE
    if archive.is_symlink():
        out.append((archive.parent, True, [archive.name]))
    elif archive.is_dir():
        for month in sorted(archive.iterdir()):
            if not month.name.startswith(".") and month.is_dir():
                out.append((month, True, _yaml_names(month)))
    return out


def _yaml_names(folder: Path) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return sorted(
                e.name for e in entries if e.name.endswith(".yaml") and not e.name.startswith(".")
            )
    except FileNotFoundError:
        return []


def _check_file(
    desk: Desk,
    path: Path,
    archived: bool,
    where: dict[str, str],
    seen: TicketsSeen,
    problems: list[str],
) -> None:
    """One ticket file's problems, appended to ``problems``; ``where`` maps each ticket
    number met so far to its file."""
    rel = desk.rel(path)
    try:
        text, data = desk.load_file(path)
    except InvalidTicket as exc:
        problems.append(str(exc))
        return
    if not schema_valid(data):
        found = schema_problems(data)
        reference = jsonschema_problems(data)
        if reference:
            problems.extend(_where(rel, text, keys, msg) for keys, msg in reference)
        else:  # only the fast checker objects: its first problem, as a read reports it
            keys, msg = found[0]
            problems.append(
                str(InvalidTicket(f"{key_path(keys)}: {msg}", rel, line_of(text, keys)))
            )
        return
    try:
        ticket = ticket_from_dict(data)
    except InvalidTicket as exc:
        problems.append(str(InvalidTicket(str(exc), rel)))
        return
    if path.stem != ticket.id:
        problems.append(
            str(
                InvalidTicket(
                    f"id {ticket.id!r} does not match the file name", rel, line_of(text, ["id"])
                )
            )
        )
        return
    if ticket.id in where:
        problems.append(f"{rel}: {ticket.id} is also in {where[ticket.id]}")
    where[ticket.id] = rel
    if ticket.kb:
        seen.kb.append((path, list(ticket.kb)))
    if archived and ticket.status.is_open:  # list and check never look there
        problems.append(
            f"{rel}: {ticket.id} is {ticket.status.value} but in the archive (a merge "
            "carried a reopening into it); itdesk sync moves it back to tickets/"
        )
    problems.extend(_where(rel, text, keys, msg) for keys, msg in history_problems(ticket))
    problems.extend(
        _where(rel, text, keys, msg) for keys, msg in _attachment_problems(desk, ticket)
    )


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
