"""The monthly archive of closed tickets, and its purge after the retention.

Each month archived is one commit that renames ``tickets/<ID>.yaml`` to
``tickets/archive/<YYYY-MM>/<ID>.yaml`` (the bytes unchanged, so ``git log --follow``
and ``itdesk history`` see one story). A purge removes a month of the archive once
every ticket in it is older than the desk's retention, again one commit a month, so
the files stay in git's history. What to move or remove is decided by
:mod:`itdesk.core.archiving`, on the ticket data of the desk's cache (which ``list`` and
``check`` keep warm). Each month is chosen under the desk's lock, after the store has
undone an interrupted earlier run, so a ticket reopened meanwhile stays where it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.lifecycle import ATTACHMENTS

if TYPE_CHECKING:
    from ..core.archiving import Month
    from ..core.policy import Retention
    from ..store.desk import Desk
    from ..store.identity import Actor
    from .context import Context

LIST_IDS_UP_TO = 50  # a commit message names the tickets up to this many


@dataclass(frozen=True, slots=True)
class Batch:
    """One month archived or purged: one commit."""

    month: Month
    tickets: list[str]


# ---------------------------------------------------------------------- archive


def archive_months(session: Context, only: Month | None, actor: Actor | None) -> list[Batch]:
    """Archive the months due, oldest first, one transaction each; a dry run (no
    ``actor``) only reads."""
    from ..core.archiving import Month
    from ..errors import UsageError
    from ..store.layout import ARCHIVE, TICKETS

    tz = session.desk.policy.tz
    current = Month.of(session.now, tz)
    if only is not None and only >= current:
        raise UsageError(
            f"--month {only} is not over yet (it is {current} now); "
            f"only months before {current} can be archived"
        )
    if actor is None:
        return [Batch(m, ids) for m, ids in _due(session, current, only, report=True).items()]
    done: list[Batch] = []
    while True:
        with session.transaction(actor) as tx:
            due = _due(session, current, only, report=not done)
            month = next((m for m in due if m not in {b.month for b in done}), None)
            if month is None:
                break
            ids = due[month]
            for tid in ids:
                tx.move(f"{TICKETS}/{tid}.yaml", f"{ARCHIVE}/{month}/{tid}.yaml")
            tx.subject = subject("archive:", month, len(ids))
            tx.action = "archive"
            tx.body = _body(f"Closed or cancelled in {month}; moved to {ARCHIVE}/{month}/.", ids)
            tx.trailers = {"Tickets": str(len(ids))}
        done.append(Batch(month, ids))
    return done


def _due(
    session: Context, current: Month, only: Month | None, report: bool
) -> dict[Month, list[str]]:
    """The active tickets to archive by month; ``report``: warn of the files that cannot
    be (unreadable, or closed without closed_at)."""
    from ..core.archiving import FINAL, closed_month, to_archive

    desk = session.desk
    tz = desk.policy.tz
    tickets = desk.ticket_data(on_error=session.warn if report else _ignore)
    for data in tickets if report else []:
        if data["status"] in FINAL and closed_month(data, tz) is None:
            session.warn(
                f"{data['id']} is {data['status']} but has no closed_at; "
                "not archived (itdesk validate)"
            )
    return to_archive(tickets, current, tz, only)


# ------------------------------------------------------------------------ purge


def purge_months(
    session: Context, only: Month | None, retention: Retention, actor: Actor | None
) -> list[Batch]:
    """Purge the archived months past the retention, oldest first, one transaction
    each; a dry run (no ``actor``) only reads."""
    desk = session.desk
    if actor is None:
        return [
            Batch(m, [p.stem for p in files]) for m, files in _purgeable(session, only, retention)
        ]
    done: list[Batch] = []
    while True:
        with session.transaction(actor) as tx:
            chosen = next(
                (
                    (m, files)
                    for m, files in _purgeable(session, only, retention)
                    if m not in {b.month for b in done}
                ),
                None,
            )
            if chosen is None:
                break
            month, files = chosen
            ids = [p.stem for p in files]
            for path in files:
                tx.put_file(desk.rel(path), None)
            for rel in _attachments_of(desk.root, ids):  # screenshots hold personal data too
                tx.put_file(rel, None)
            tx.subject = subject("archive: purge", month, len(ids))
            tx.action = "purge"
            tx.body = _body(
                f"Archived in {month} and older than the retention ({retention}); "
                "git's history keeps them.",
                ids,
            )
            tx.trailers = {"Tickets": str(len(ids))}
        done.append(Batch(month, ids))
        folder = files[0].parent
        if not any(folder.iterdir()):
            folder.rmdir()  # git keeps no empty folders; neither does the desk
        for tid in ids:
            gone = desk.root / ATTACHMENTS / tid
            if gone.is_dir() and not gone.is_symlink() and not any(gone.iterdir()):
                gone.rmdir()
    return done


def _purgeable(
    session: Context, only: Month | None, retention: Retention
) -> Iterator[tuple[Month, list[Path]]]:
    """The archived months (and their files) that may be purged at ``now``, oldest first;
    a ``--month`` that may not is refused."""
    from ..errors import UsageError

    desk, tz, now = session.desk, session.desk.policy.tz, session.now
    months = _archived_months(desk)
    if only is not None:
        due = _purge_from(desk, only, months.get(only, []), retention, now)
        if due > now:
            raise UsageError(
                f"--month {only} is younger than the retention ({retention}): it may be "
                f"purged from {due.astimezone(tz):%Y-%m-%d}; nothing was removed"
            )
        if only in months:
            yield only, months[only]
        return
    for month, files in months.items():
        if _purge_from(desk, month, files, retention, now) <= now:
            yield month, files


def _archived_months(desk: Desk) -> dict[Month, list[Path]]:
    """The ticket files of each month folder of the archive, oldest month first."""
    from ..core.archiving import parse_month
    from ..errors import UsageError
    from ..store.layout import ARCHIVE

    out: dict[Month, list[Path]] = {}
    root = desk.root / ARCHIVE
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            month = parse_month(folder.name)
        except UsageError:
            continue  # not a month folder: not the archive's
        files = sorted(p for p in folder.glob("*.yaml") if p.is_file())
        if files:
            out[month] = files
    return out


def _purge_from(
    desk: Desk, month: Month, files: list[Path], retention: Retention, now: datetime
) -> datetime:
    """When ``month`` of the archive may be purged: its end plus the retention, or later
    if a ticket in it was closed later. Its files are read only once the month's end is
    old enough."""
    from ..core.archiving import purge_from

    tz = desk.policy.tz
    due = purge_from(month, [], retention, tz)
    if due > now:
        return due
    return purge_from(month, [_closed_at(desk, path) for path in files], retention, tz)


def _closed_at(desk: Desk, path: Path) -> datetime:
    """A ticket's closed_at; a file without one is never purged unseen: it stops the run."""
    from ..errors import InvalidTicket

    data = desk.load_file(path)[1]  # InvalidTicket (path and line) if it is not YAML
    value = data.get("closed_at") if isinstance(data, dict) else None
    try:
        closed = datetime.fromisoformat(str(value))
    except ValueError:
        closed = None
    if closed is None or closed.tzinfo is None:
        raise InvalidTicket(
            f"closed_at: {value!r} is not a time with an offset, and purging needs it "
            "(itdesk validate); nothing was removed",
            desk.rel(path),
        )
    return closed


# ---------------------------------------------------------------------- commits


def subject(verb: str, month: Month, count: int) -> str:
    return f"{verb} {month}, {count} ticket{'' if count == 1 else 's'}"


def _body(text: str, ids: list[str]) -> str:
    if len(ids) > LIST_IDS_UP_TO:
        return text
    return "\n".join([text, "", *ids])


def _ignore(exc: Exception) -> None:
    """Invalid files were reported when the months were chosen; not twice."""


def _attachments_of(root: Path, ids: list[str]) -> list[str]:
    """The files under ``attachments/<ID>/`` of these tickets (relative to the desk)."""
    out = []
    for tid in ids:
        folder = root / ATTACHMENTS / tid
        if folder.is_dir() and not folder.is_symlink():
            out += [
                f"{ATTACHMENTS}/{tid}/{p.name}" for p in sorted(folder.iterdir()) if p.is_file()
            ]
    return out
