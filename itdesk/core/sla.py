"""Service-level clocks of a ticket, computed from its own history every time.

Pure functions of a ticket, the desk's SLA policy, the calendars and "now": no stored
counters, so the clocks stay right after a priority change, a reopen, a calendar edit
or a merge of another clone's work. The clocks (spec section 5):

========== ===================================== =========================================
clock      starts                                stops
========== ===================================== =========================================
ack        the report                            the desk's acknowledgement
response   the report                            the first accept or phone/remote/onsite step
accept     the latest assignment                 its acceptance
resolution the report (or the latest reopening)  "resolved"
followup   "resolved"                            the follow-up call
expected   the report, due at the requester's    "resolved"
           expected time
========== ===================================== =========================================

A clock runs on the calendar of the ticket's priority (24x7 unless the policy names a
business-hours calendar) and, except ``ack`` and ``followup``, pauses while the ticket
is in a status of ``sla.pause_on``. Its due time is found by spending the target over
the clock's running stretches in order, so it never has to be "backed off" and always
falls inside (or at the end of) working time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from .model import CONTACT_KINDS, LogKind, Status, Ticket
from .policy import ALWAYS_OPEN, Policy

T = TypeVar("T")  # a status, as an enum member or as its value
CLOCKS = ("ack", "response", "accept", "resolution", "followup", "expected")
STATES = ("met", "running", "at_risk", "breached")
# Clocks that never pause: the desk's own steps do not wait on anyone.
_NO_PAUSE = frozenset({"ack", "followup"})


class Calendar(Protocol):
    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta: ...


class _Wall:
    """Plain elapsed time, for the requester's own expected time."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))


WALL = _Wall()

Interval = tuple[datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class ClockState:
    ticket: str
    clock: str
    state: str  # met | running | at_risk | breached
    start: datetime
    due: datetime
    stopped: datetime | None
    target: timedelta
    used: timedelta  # working time spent (pauses and closed hours excluded)
    late_seconds: int  # (stopped or now) - due; negative while in time
    paused: bool  # waiting on the requester or a vendor right now
    pauses: tuple[Interval, ...]
    calendar: str
    assignee: str | None
    priority: str
    escalated: bool  # a breach escalation of this clock is recorded
    levels: frozenset[str]  # escalation levels recorded for this clock run

    @property
    def open(self) -> bool:
        return self.stopped is None


def status_timeline(ticket: Ticket) -> list[tuple[datetime, Status]]:
    """(time, status entered) from the ticket's log, oldest first."""
    timeline = [(e.at, e.status) for e in ticket.log if e.status is not None]
    if not timeline or timeline[0][1] is not Status.NEW:
        timeline.insert(0, (ticket.reported_at, Status.NEW))
    return sorted(timeline, key=lambda pair: pair[0])


def pause_intervals(
    timeline: Sequence[tuple[datetime, T]], pause_on: Collection[T]
) -> list[Interval]:
    """The stretches spent in a pausing status (the last one open if still paused)."""
    out: list[Interval] = []
    since: datetime | None = None
    for at, status in timeline:
        if status in pause_on and since is None:
            since = at
        elif status not in pause_on and since is not None:
            out.append((since, at))
            since = None
    if since is not None:
        out.append((since, None))
    return out


def running_stretches(
    start: datetime, end: datetime, pauses: Sequence[Interval]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the pauses."""
    segments = []
    cursor = start
    for p_start, p_end in pauses:
        p_stop = p_end or end
        if p_stop <= cursor or p_start >= end:
            continue
        if p_start > cursor:
            segments.append((cursor, p_start))
        cursor = max(cursor, p_stop)
    if cursor < end:
        segments.append((cursor, end))
    return segments


def spend(
    calendar: Calendar,
    start: datetime,
    end: datetime,
    target: timedelta,
    pauses: Sequence[Interval],
) -> tuple[datetime | None, timedelta]:
    """Spend ``target`` over the running stretches of [start, end): (due, used).

    ``due`` is None if the target was not used up by ``end``.
    """
    remaining = target
    for a, b in running_stretches(start, end, pauses):
        spent = calendar.elapsed(a, b)
        if spent >= remaining:
            return calendar.add(a, remaining), target
        remaining -= spent
    return None, target - remaining


def _first(times: Sequence[datetime | None]) -> datetime | None:
    found = [t for t in times if t is not None]
    return min(found) if found else None


def evaluate(
    ticket: Ticket,
    policy: Policy,
    now: datetime,
    calendars: Mapping[str, Calendar],
) -> list[ClockState]:
    """Every applicable clock of ``ticket`` at ``now`` (closed and cancelled: none)."""
    if not ticket.status.is_open:
        return []
    sla = policy.sla
    priority = ticket.priority or policy.default_priority
    target = sla.priorities[priority]
    cal_name = sla.calendars.get(priority, ALWAYS_OPEN)
    calendar = calendars[cal_name]
    timeline = status_timeline(ticket)
    pauses = pause_intervals(timeline, sla.pause_on)
    currently_paused = ticket.status in sla.pause_on

    def entered(status: Status, after: datetime | None = None) -> datetime | None:
        return _first([at for at, s in timeline if s is status and (after is None or at >= after)])

    out: list[ClockState] = []

    def clock(
        name: str,
        start: datetime,
        stopped: datetime | None,
        length: timedelta,
        cal: Calendar = calendar,
        cal_label: str = cal_name,
    ) -> None:
        clock_pauses = () if name in _NO_PAUSE else tuple(pauses)
        end = stopped or now
        due, used = spend(cal, start, end, length, clock_pauses)
        # Due at 09:40 means in time at 09:40:00 and breached from the next instant.
        breached = due is not None and due < end
        if due is None:
            # Not used up yet: the due time if the clock runs on from ``end``.
            resume = end
            if stopped is None and currently_paused and name not in _NO_PAUSE:
                resume = now
            due = cal.add(resume, length - used)
        if stopped is not None:
            state = "breached" if breached else "met"
        elif breached:
            state = "breached"
        elif length and used >= length * sla.at_risk:
            state = "at_risk"
        else:
            state = "running"
        records = [e for e in ticket.escalations if e.clock == name and e.at >= start]
        levels = frozenset(e.level for e in records)
        out.append(
            ClockState(
                ticket=ticket.id,
                clock=name,
                state=state,
                start=start,
                due=due,
                stopped=stopped,
                target=length,
                used=min(used, length),
                late_seconds=int((end - due).total_seconds()),
                paused=stopped is None and currently_paused and name not in _NO_PAUSE,
                pauses=clock_pauses,
                calendar=cal_label,
                assignee=ticket.assignee,
                priority=priority.value,
                escalated=bool(levels & {"supervisor", "manager"}),
                levels=levels,
            )
        )

    reported = ticket.reported_at
    clock("ack", reported, _first([ticket.acknowledged_at, entered(Status.ACKNOWLEDGED)]), sla.ack)

    contact = _first([e.at for e in ticket.log if e.kind in CONTACT_KINDS])
    accepted = _first(
        [e.at for e in ticket.log if e.status is Status.IN_PROGRESS and e.kind is LogKind.STATUS]
    )
    clock("response", reported, _first([contact, accepted]), target.response)

    if ticket.assignee and ticket.assigned_at is not None:
        stop = ticket.accepted_at
        if stop is not None and stop < ticket.assigned_at:
            stop = None
        clock("accept", ticket.assigned_at, stop, sla.accept)

    reopened = [at for at, s in timeline if s is Status.REOPENED]
    resolved_at = ticket.resolution.at if ticket.resolution else None
    if reopened:
        start = reopened[-1]
        length = sla.reopen_grace or target.resolution
    else:
        start, length = reported, target.resolution
    if resolved_at is not None and resolved_at < start:
        resolved_at = None
    clock("resolution", start, resolved_at, length)

    if ticket.status is Status.RESOLVED and ticket.resolution is not None:
        fu = ticket.followup.at if ticket.followup else None
        clock("followup", ticket.resolution.at, fu, sla.followup)

    if ticket.expected_by is not None and ticket.expected_by > reported:
        clock("expected", reported, resolved_at, ticket.expected_by - reported, WALL, "wall")
    return out


def build_calendars(
    definitions: Mapping[str, object], default_tz: str = "UTC"
) -> dict[str, Calendar]:
    """The calendars by name from their definitions (``include`` files already merged in
    by the caller: this module does no I/O), and 24x7."""
    from .calendar import ALWAYS, calendar_from_dict

    out: dict[str, Calendar] = {ALWAYS_OPEN: ALWAYS}
    for name, definition in definitions.items():
        out[name] = calendar_from_dict(
            definition,  # type: ignore[arg-type]
            where=f"itdesk.yaml: calendars.{name}",
            default_tz=default_tz,
        )
    return out
