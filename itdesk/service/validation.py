"""``itdesk validate``: the policy and every ticket against the schema and the status machine.

Each ticket file is parsed once and checked once by the fast schema checker that every
read uses; the reference JSON Schema validator (jsonschema) checks again only the files
found wrong, and its messages are reported (#12: 100,000 tickets within a minute).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from ..core.model import Ticket, ticket_from_dict
from ..core.status import history_problems
from ..errors import InvalidTicket
from ..store import ARCHIVE, TICKETS, Desk, jsonschema_problems, key_path, line_of
from ..store.schema import schema_problems, schema_valid
from .kb import TicketsSeen


def _where(rel: str, text: str, keys: list[str | int], message: str) -> str:
    line = line_of(text, keys)
    return f"{rel}:{line}: {key_path(keys)}: {message}" if line else f"{rel}: {message}"


# A process pool parses the files when there are at least this many: below it, starting
# the workers costs more than it saves (a fork and an import-free start, ~20 ms each).
POOL_FROM = 2_000
CHUNK = 250  # files a worker checks per task: few tasks, and the progress still moves


class _Checked(NamedTuple):
    """What checking one ticket file found: its problems before its number is known to
    be unique (or all of them, for a file that is not a valid ticket), the valid
    ticket's number, the problems after it, and the articles it names."""

    first: list[str]
    ticket_id: str | None = None
    then: list[str] = []
    kb: list[str] = []


def validate_desk(
    desk: Desk,
    progress: Callable[[int, int], None] | None = None,
    seen: TicketsSeen | None = None,
    workers: int | None = None,
) -> tuple[list[str], int]:
    """(problems as ``path:line: message``, number of ticket files checked);
    ``progress(done, total)`` is called after each file, and ``seen`` (when given) is
    filled for :func:`itdesk.service.kb.kb_problems`.

    Each file is read and parsed once and checked once against the schema (the fast
    checker every read uses); only a file it finds wrong is checked again by the
    reference jsonschema, whose messages are the ones reported. The files are visited
    a folder at a time, never listed whole: 100,000 tickets are checked in bounded
    memory (#12).

    Parsing YAML is most of the time: on a desk of at least :data:`POOL_FROM` files the
    files are checked by a pool of worker processes (``workers``, default one per
    processor), a slice of a folder each, and their findings are put together in the
    files' order, so the output is the same as one process's. ``workers=1`` checks in
    this process."""
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
    for folder, name, found in _checked_files(desk, folders, total, workers):
        done += 1
        if progress is not None:
            progress(done, total)
        seen.names.add(name[: -len(".yaml")])
        problems += found.first
        if found.ticket_id is None:
            continue
        rel = desk.rel(folder / name)
        if found.ticket_id in where:
            problems.append(f"{rel}: {found.ticket_id} is also in {where[found.ticket_id]}")
        where[found.ticket_id] = rel
        if found.kb:
            seen.kb.append((folder / name, found.kb))
        problems += found.then
    return problems, total


_Task = tuple[Path, bool, list[str]]  # a folder, whether it is archived, names in it
_worker_desk: list[Desk] = []  # the desk a pool's workers check (inherited by fork)


def _checked_files(
    desk: Desk, folders: list[_Task], total: int, workers: int | None
) -> Iterator[tuple[Path, str, _Checked]]:
    """Each file (folder, name) with what checking it found, in the folders' order."""
    count = _pool_size(total, workers)
    if count <= 1:
        for folder, archived, names in folders:
            for name in names:
                yield folder, name, _check_file(desk, folder / name, archived)
        return
    import multiprocessing

    tasks = [
        (folder, archived, names[i : i + CHUNK])
        for folder, archived, names in folders
        for i in range(0, len(names), CHUNK)
    ]
    _worker_desk[:] = [desk]
    try:
        context = multiprocessing.get_context("fork")
        pool = context.Pool(min(count, len(tasks)))
        try:
            for (folder, archived, names), found in zip(
                tasks, pool.imap(_check_task, tasks), strict=True
            ):
                if found is None:  # the worker failed: again here, to raise as one process
                    found = [_check_file(desk, folder / name, archived) for name in names]
                for name, one in zip(names, found, strict=True):
                    yield folder, name, one
        except Exception:
            # The workers finish what they were given and leave (terminate() can hang for
            # good on a pool forked from a process with threads: seen in the test suite)
            pool.close()
            pool.join()
            raise
        except BaseException:  # interrupted, or the reader stopped: no waiting
            pool.terminate()
            raise
        pool.close()
        pool.join()
    finally:
        _worker_desk.clear()


def _pool_size(total: int, workers: int | None) -> int:
    """How many worker processes check ``total`` files (from :data:`POOL_FROM` on)."""
    from .workers import pool_size

    return pool_size(total, workers, start=POOL_FROM)


def _check_task(task: _Task) -> list[_Checked] | None:
    """A pool worker's job: the files of one slice of a folder (None if one raised)."""
    folder, archived, names = task
    desk = _worker_desk[0]
    try:
        return [_check_file(desk, folder / name, archived) for name in names]
    except Exception:
        return None


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


def _check_file(desk: Desk, path: Path, archived: bool) -> _Checked:
    """What checking one ticket file finds (the check for a number used twice is the
    caller's: it sees every file)."""
    rel = desk.rel(path)
    try:
        text, data = desk.load_file(path)
    except InvalidTicket as exc:
        return _Checked([str(exc)])
    if not schema_valid(data):
        found = schema_problems(data)
        reference = jsonschema_problems(data)
        if reference:
            return _Checked([_where(rel, text, keys, msg) for keys, msg in reference])
        # only the fast checker objects: its first problem, as a read reports it
        keys, msg = found[0]
        return _Checked([str(InvalidTicket(f"{key_path(keys)}: {msg}", rel, line_of(text, keys)))])
    try:
        ticket = ticket_from_dict(data)
    except InvalidTicket as exc:
        return _Checked([str(InvalidTicket(str(exc), rel))])
    if path.stem != ticket.id:
        return _Checked(
            [
                str(
                    InvalidTicket(
                        f"id {ticket.id!r} does not match the file name", rel, line_of(text, ["id"])
                    )
                )
            ]
        )
    then: list[str] = []
    if archived and ticket.status.is_open:  # list and check never look there
        then.append(
            f"{rel}: {ticket.id} is {ticket.status.value} but in the archive (a merge "
            "carried a reopening into it); itdesk sync moves it back to tickets/"
        )
    then += (_where(rel, text, keys, msg) for keys, msg in history_problems(ticket))
    then += (_where(rel, text, keys, msg) for keys, msg in _attachment_problems(desk, ticket))
    return _Checked([], ticket.id, then, list(ticket.kb))


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
