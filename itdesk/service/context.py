"""The acting context of the service layer: a desk, who acts, and when.

Only the clock's reading when no ``now`` is given happens here; every time recorded
comes from :attr:`Context.now`. Nothing is printed: :meth:`Context.warn` hands what a
person should be told to the caller's ``on_warning`` (and keeps it in ``warnings``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    import os

    from ..core.calendar import BusinessHours
    from ..core.model import Ticket
    from ..store.desk import Desk
    from ..store.folders import TicketFolder
    from ..store.identity import Actor
    from ..store.transaction import Transaction

SYSTEM_ACTOR = "itdesk"
FUTURE_SLACK = timedelta(days=1)  # how far ahead of the clock --now may be (zones, skew)


class Context:
    """One desk, one acting technician, one ``now``: what every service function needs.

    :class:`~itdesk.service.session.Session` adds the lifecycle steps; the service
    modules below it (intake, kb, archive, escalation) take a Context, so that none of
    them imports the session that calls them."""

    def __init__(
        self,
        desk: Desk,
        *,
        as_name: str | None = None,
        now: datetime | None = None,
        on_warning: Callable[[str], None] | None = None,
    ):
        self.desk = desk
        if as_name is not None and as_name.strip():
            as_name = self._check_known(as_name.strip())
        self.as_name = as_name
        self.now = now if now is not None else datetime.now(desk.policy.tz)
        self.warnings: list[str] = []
        # Problems found on the way (an invalid, dirty or untracked ticket file): each is
        # also a warning; a cron job's exit status tells that there were any.
        self.findings: list[str] = []
        # The folders of tickets the last folder_summaries listed (for another pass of
        # the same command over the same files)
        self.listed: list[TicketFolder] = []
        # More trailers for this session's commits (the portal's "Employee: 王小明").
        self.trailers: dict[str, str] = {}
        self._on_warning = on_warning

    @classmethod
    def open(
        cls,
        desk_path: str | os.PathLike[str] | None = None,
        *,
        as_name: str | None = None,
        now: datetime | str | None = None,
        on_warning: Callable[[str], None] | None = None,
    ) -> Self:
        """The desk at ``desk_path`` (else ``$ITDESK_DESK``, else above the working
        directory); ``now`` as an aware time or ISO 8601 text (no offset: the desk's
        zone)."""
        from ..store.desk import Desk

        desk = Desk.open(desk_path)
        if isinstance(now, str):  # relative forms (+2h, tomorrow 9:00) count from the clock
            from ..core.times import parse_time

            now = parse_time(now, desk.policy.tz, datetime.now(desk.policy.tz), human=False)
        return cls(desk, as_name=as_name, now=now, on_warning=on_warning)

    # -- what callers need ----------------------------------------------------

    def warn(self, message: object) -> None:
        """Tell the person behind this session something (never printed here), once."""
        text = str(message)
        if text in self.warnings:  # a file read twice in one command is reported once
            return
        self.warnings.append(text)
        if self._on_warning is not None:
            self._on_warning(text)

    def _check_known(self, name: str) -> str:
        """``--as`` names someone the desk's policy knows (members, supervisors,
        managers, ``people:``, ``robots:``), never just any string; returns the name as
        the policy spells it (``--as Zhang`` is ``zhang``)."""
        policy = self.desk.policy
        spelled = policy.canonical(name)
        if policy.knows(spelled):
            return spelled
        from ..errors import UsageError

        known = policy.known
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise UsageError(
            f"--as {name}: not someone this desk knows ({shown}); add them to a team, "
            "to people: or, for a robot, to robots: in itdesk.yaml"
        )

    def found(self, problem: object) -> None:
        """A problem with the desk's files: a warning, and remembered in ``findings``."""
        if str(problem) not in self.findings:
            self.findings.append(str(problem))
        self.warn(problem)

    def take_store_warnings(self) -> None:
        """Pass on what the store noted (an interrupted earlier run put back)."""
        noted = getattr(self.desk, "warnings", None)
        while noted:
            self.warn(noted.pop(0))

    def check_recordable(self) -> None:
        """``now`` may be written into a ticket: not more than a day ahead of the clock.
        A step dated in the future would lock the ticket, every later step without
        --now being "before its last event" until then. (Reads and what-ifs, such as
        ``archive --purge --dry-run --now 2030-01-01``, may look ahead.)"""
        clock = datetime.now(self.desk.policy.tz)
        if self.now - clock > FUTURE_SLACK:
            from ..errors import UsageError

            raise UsageError(
                f"--now {self.now.isoformat(timespec='minutes')} is more than a day ahead of "
                "this machine's clock; a ticket records when a step happened"
            )

    @contextlib.contextmanager
    def transaction(self, actor: Actor | None = None) -> Iterator[Transaction]:
        """The desk's transaction (one commit) as ``actor`` (default: the acting
        technician) at ``now``; what the store noted on the way is passed on."""
        try:
            with self.desk.transaction(actor or self.actor, self.now) as tx:
                self.take_store_warnings()
                tx.trailers.update(self.trailers)
                yield tx
        finally:
            self.take_store_warnings()

    def time(self, text: str | None, since: datetime | None = None) -> datetime | None:
        """``text`` as a time: ISO 8601, or relative to ``since`` (default ``now``):
        ``+2h``, ``tomorrow 18:00``, ``今日下班前``."""
        from ..core.times import parse_time

        if text is None:
            return None
        return parse_time(text, self.desk.policy.tz, since or self.now, day_end=self._day_end())

    def check_working_time(self, when: datetime | None, what: str) -> None:
        """Warn when ``when`` (an expected time) falls outside the desk's working hours,
        its closing moment counted in: nobody is there to meet it."""
        calendar = self._working_calendar()
        if when is None or calendar is None:
            return
        if calendar.is_open(when) or calendar.is_open(when - timedelta(seconds=1)):
            return
        opens = calendar.next_open(when)
        self.warn(
            f"{what}: {when.isoformat(timespec='minutes')} is outside the desk's working "
            f"hours; it next works from {opens.isoformat(timespec='minutes')}"
        )

    def _day_end(self) -> Callable[[datetime], datetime] | None:
        calendar = self._working_calendar()
        return None if calendar is None else calendar.day_end

    def _working_calendar(self) -> BusinessHours | None:
        """The desk's working day, for 今日下班前: the business calendar of
        ``sla.quiet_hours``, else the unclassified priority's; None when both run 24x7."""
        from ..core.calendar import BusinessHours

        policy = self.desk.policy
        calendars = self.desk.calendars
        for name in (policy.sla.quiet_hours, policy.sla.calendars.get(policy.default_priority)):
            found = calendars.get(name) if name else None
            if isinstance(found, BusinessHours):
                return found
        return None

    @property
    def actor(self) -> Actor:
        """Who acts: ``--as`` (checked at open), else git's identity."""
        return self.desk.actor(self.as_name)

    def actor_or_system(self) -> Actor:
        """The acting technician, else ``itdesk`` itself (cron often has no git identity)."""
        from ..errors import NoIdentity
        from ..store.identity import Actor

        try:
            return self.actor
        except NoIdentity:
            return Actor(SYSTEM_ACTOR, f"{SYSTEM_ACTOR}@itdesk.invalid")

    def lang(self, lang: str | None = None) -> str:
        return lang or self.desk.policy.locale

    # -- reading ----------------------------------------------------------------

    def read(self, ticket_id: str) -> Ticket:
        from ..core.ids import normal_id

        return self.desk.read(normal_id(ticket_id))

    def ticket_data(self, include_archive: bool = False) -> list[dict[str, Any]]:
        """Every valid ticket as plain data; invalid files become warnings (and findings)."""
        return list(self.iter_ticket_data(include_archive))

    def iter_ticket_data(
        self,
        include_archive: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """:meth:`ticket_data` one at a time (a big desk's tickets are never all held);
        ``progress(done, total)`` is told of the files parsed (the cache's misses)."""
        try:
            yield from self.desk.iter_ticket_data(
                include_archive=include_archive,
                on_error=self.found,
                progress=progress,
            )
        finally:
            self.take_store_warnings()

    def iter_derived(
        self, kind: str, salt: str, make: Callable[[dict[str, Any]], Any]
    ) -> Iterator[Any]:
        """``make(data)`` of every valid active ticket, kept per file with ``salt``
        (:meth:`itdesk.store.desk.Desk.iter_derived`); invalid files become warnings
        (and findings), as in :meth:`iter_ticket_data`."""
        try:
            yield from self.desk.iter_derived(kind, salt, make, on_error=self.found)
        finally:
            self.take_store_warnings()

    def folder_summaries(
        self,
        kind: str,
        salt: str,
        make: Callable[[list[dict[str, Any]]], Any | None],
        include_archive: bool = True,
        progress: Callable[[int, int], None] | None = None,
        folders: list[TicketFolder] | None = None,
    ) -> Iterator[tuple[Any | None, Callable[[], list[dict[str, Any]]]]]:
        """Each folder of tickets as ``(summary, read)``: its summary of ``kind`` (what
        ``make(tickets)`` gives; None when ``make`` declines, e.g. for a folder with open
        tickets, whose figures change with time), and ``read()``, its tickets (read once,
        when asked). A summary is kept in ``.git`` for the folder's exact files and
        ``salt`` (:mod:`itdesk.store.folders`): on a desk of two years the archive's
        months are read once, not on every ``list --all`` or ``stats``. ``folders``: as
        listed by an earlier call of this command (:attr:`listed`), not listed again."""
        try:
            if folders is None:
                folders = self.desk.ticket_folders(include_archive, on_error=self.found)
            self.listed = folders
            kept = [folder.summary(kind, salt) for folder in folders]
            unread = [f for f, summary in zip(folders, kept, strict=True) if summary is None]
            on_parse = None
            if progress is not None and unread:  # a big desk's first read: on every core
                on_parse = self.desk.parse_progress(unread, progress, (kind, salt, make))
                kept = [
                    f.summary(kind, salt) if s is None else s
                    for f, s in zip(folders, kept, strict=True)
                ]

            def reader(folder: TicketFolder) -> Callable[[], list[dict[str, Any]]]:
                return functools.cache(lambda: list(folder.tickets(self.found, on_parse)))

            for folder, summary in zip(folders, kept, strict=True):
                read = reader(folder)
                if summary is None:
                    summary = make(read())
                    if summary is not None:
                        folder.keep_summary(kind, salt, summary)
                yield summary, read
        finally:
            self.take_store_warnings()
