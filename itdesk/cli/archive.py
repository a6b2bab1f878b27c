"""``itdesk archive``: the monthly archive of closed tickets, and its purge after retention.

Each month archived is one commit that renames ``tickets/<ID>.yaml`` to
``tickets/archive/<YYYY-MM>/<ID>.yaml`` (the bytes unchanged, so ``git log --follow``
and ``itdesk history`` see one story). ``--purge`` removes a month of the archive once
every ticket in it is older than the desk's retention, again one commit a month, so
the files stay in git's history. What to move or remove is decided by
:mod:`itdesk.archiving`, on the ticket data of the desk's cache (which ``list`` and
``check`` keep warm). Each month is chosen under the desk's lock, after the store has
undone an interrupted earlier run, so a ticket reopened meanwhile stays where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from . import Session, desk_options, dump_json, format_option, warn

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from pathlib import Path

    from ..core.archiving import Month
    from ..core.policy import Retention
    from ..store.desk import Actor, Desk

LIST_IDS_UP_TO = 50  # a commit message names the tickets up to this many


@dataclass(frozen=True, slots=True)
class Batch:
    """One month archived or purged: one commit."""

    month: Month
    tickets: list[str]


@click.command()
@click.option("--month", metavar="YYYY-MM", help="Only this month (default: every month due).")
@click.option(
    "--purge",
    is_flag=True,
    help="Remove archived months older than the retention (itdesk.yaml retention:, "
    "default 2y) instead of archiving.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be done; change nothing.")
@format_option("table", "json")
@desk_options
def command(
    month: str | None,
    purge: bool,
    dry_run: bool,
    fmt: str,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Archive closed and cancelled tickets by month (归档), or purge old archives.

    Moves every ticket closed or cancelled in a month before the current one (or only
    in --month) to tickets/archive/YYYY-MM/, the month of its closed_at: one commit per
    month. Archived tickets stay readable (show, report, list --all, export, history)
    and their numbers are never reused. --purge removes archived months in which every
    ticket is older than the desk's retention (retention: 2y, 24m or 730d in
    itdesk.yaml; default 2y, counted from closed_at); git's history keeps them.

    Example:

    \b
        itdesk archive
        itdesk archive --month 2023-10 --dry-run
        itdesk archive --purge --month 2021-09
    """
    from ..core.archiving import parse_month

    session = Session(desk_path, as_name, now_text)
    only = parse_month(month) if month is not None else None
    actor = None if dry_run else session.actor  # a cron job without identity fails here
    retention = None
    if purge:
        from ..core.policy import retention_of

        retention = retention_of(session.desk.policy.raw)
        batches = _purge(session, only, retention, actor)
    else:
        batches = _archive(session, only, actor)
    _report(batches, purge, dry_run, fmt, only, retention)


# ---------------------------------------------------------------------- archive


def _archive(session: Session, only: Month | None, actor: Actor | None) -> list[Batch]:
    """Archive the months due, oldest first, one transaction each; a dry run (no
    ``actor``) only reads."""
    from ..core.archiving import Month
    from ..errors import UsageError
    from ..store.desk import ARCHIVE, TICKETS

    desk, tz = session.desk, session.desk.policy.tz
    current = Month.of(session.now, tz)
    if only is not None and only >= current:
        raise UsageError(
            f"--month {only} is not over yet (it is {current} now); "
            f"only months before {current} can be archived"
        )
    if actor is None:
        return [Batch(m, ids) for m, ids in _due(desk, current, only, report=True).items()]
    done: list[Batch] = []
    while True:
        with desk.transaction(actor, session.now) as tx:
            due = _due(desk, current, only, report=not done)
            month = next((m for m in due if m not in {b.month for b in done}), None)
            if month is None:
                break
            ids = due[month]
            for tid in ids:
                tx.move(f"{TICKETS}/{tid}.yaml", f"{ARCHIVE}/{month}/{tid}.yaml")
            tx.subject = _subject("archive:", month, len(ids))
            tx.action = "archive"
            tx.body = _body(f"Closed or cancelled in {month}; moved to {ARCHIVE}/{month}/.", ids)
            tx.trailers = {"Tickets": str(len(ids))}
        done.append(Batch(month, ids))
    return done


def _due(desk: Desk, current: Month, only: Month | None, report: bool) -> dict[Month, list[str]]:
    """The active tickets to archive by month; ``report``: warn of the files that cannot
    be (unreadable, or closed without closed_at)."""
    from ..core.archiving import FINAL, closed_month, to_archive

    tz = desk.policy.tz
    tickets = desk.ticket_data(on_error=warn if report else _ignore)
    for data in tickets if report else []:
        if data["status"] in FINAL and closed_month(data, tz) is None:
            click.echo(
                f"itdesk: warning: {data['id']} is {data['status']} but has no closed_at; "
                "not archived (itdesk validate)",
                err=True,
            )
    return to_archive(tickets, current, tz, only)


# ------------------------------------------------------------------------ purge


def _purge(
    session: Session, only: Month | None, retention: Retention, actor: Actor | None
) -> list[Batch]:
    """Purge the archived months past the retention, oldest first, one transaction
    each; a dry run (no ``actor``) only reads."""
    desk, now = session.desk, session.now
    if actor is None:
        return [
            Batch(m, [p.stem for p in files]) for m, files in _purgeable(session, only, retention)
        ]
    done: list[Batch] = []
    while True:
        with desk.transaction(actor, now) as tx:
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
            tx.subject = _subject("archive: purge", month, len(ids))
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
    return done


def _purgeable(
    session: Session, only: Month | None, retention: Retention
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
    from ..store.desk import ARCHIVE

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
    from datetime import datetime

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


# ---------------------------------------------------------------------- output


def _subject(verb: str, month: Month, count: int) -> str:
    return f"{verb} {month}, {count} ticket{'' if count == 1 else 's'}"


def _body(text: str, ids: list[str]) -> str:
    if len(ids) > LIST_IDS_UP_TO:
        return text
    return "\n".join([text, "", *ids])


def _report(
    batches: list[Batch],
    purge: bool,
    dry_run: bool,
    fmt: str,
    only: Month | None,
    retention: Retention | None,
) -> None:
    from ..store.desk import ARCHIVE

    if fmt == "json":
        out: dict[str, Any] = {"action": "purge" if purge else "archive", "dry_run": dry_run}
        if retention is not None:
            out["retention"] = str(retention)
        out["months"] = [
            {
                "month": str(b.month),
                "folder": f"{ARCHIVE}/{b.month}",
                "count": len(b.tickets),
                "tickets": b.tickets,
            }
            for b in batches
        ]
        dump_json(out)
        return
    if not batches:
        what = "purge" if purge else "archive"
        if purge:
            why = f"no archived month older than the retention ({retention})"
            if only is not None:
                why = f"no archive for {only}"
        else:
            why = "no closed or cancelled ticket from " + (
                f"{only}" if only is not None else "before this month"
            )
        click.echo(f"nothing to {what}: {why}")
        return
    verb = "archive: purge" if purge else "archive:"
    for b in batches:
        line = _subject(verb, b.month, len(b.tickets))
        if not dry_run:
            click.echo(line)
            continue
        click.echo(f"{line} (dry run: nothing changed)")
        if len(b.tickets) <= LIST_IDS_UP_TO:
            for tid in b.tickets:
                click.echo(f"  {tid}")


def _ignore(exc: Exception) -> None:
    """Invalid files were reported when the months were chosen; not twice."""
