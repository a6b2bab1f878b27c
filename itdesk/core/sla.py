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
falls inside (or at the end of) working time. A clock is breached once its target was
used up strictly before it stopped (or before "now", while it runs).

This is the desk's one SLA engine, and it reads plain ticket data: the YAML's keys, as
:meth:`itdesk.store.desk.Desk.ticket_data` serves them (times as ISO 8601 text), or as
:func:`_data` shows a :class:`~itdesk.core.model.Ticket` (times as aware datetimes).
:func:`read_log` reads a ticket's log once, :func:`read_times` its times once,
:func:`_runs` says which clocks run, where each starts and stops and its target, and
two readers judge them by the same rule (:func:`spend`):

* :func:`clock_states`: every clock's state, due time, working time used, pauses and
  escalations, at "now" (``check``, ``check --escalate``, ``sla explain``, ``list
  --breached``); :func:`evaluate` asks it about a ``Ticket``. It is
  :func:`clock_plan` (what the clocks are, apart from "now") then :func:`plan_states`
  (where they stand at "now"): ``check`` keeps each ticket's plan between runs, with
  the spending that "now" can no longer change (:func:`lasting`), so that a run spends
  only the clocks still within their targets.
* :func:`clock_outcomes`: only whether each clock is running, met or breached, for
  ``stats`` over 100,000 tickets, where building a ``Ticket`` (~200 µs) and its states
  (~40 µs) would cost a minute (PERFORMANCE.md asks for 2 s). Working time never
  exceeds wall time, so a clock stopped within its target in wall time met it, and one
  past it on a 24x7 calendar without a pause breached it; only the others are spent
  over their calendar and pauses. Times are read naive there (:func:`naive_time`).

tests/test_sla.py checks that both readers agree clock by clock, and that
:func:`evaluate` says of a ``Ticket`` what :func:`clock_states` says of its file.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone, tzinfo
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, cast

from ..errors import InvalidPolicy
from .values import CONTACT_KINDS

if TYPE_CHECKING:
    from .model import Ticket
from .policy import ALWAYS_OPEN, Policy

T = TypeVar("T")  # a status, as an enum member or as its value
CLOCKS = ("ack", "response", "accept", "resolution", "followup", "expected")
STATES = ("met", "running", "at_risk", "breached")
# What clock_outcomes() says of a clock: its code is 3 * CLOCKS.index(clock) + one of these.
RUNNING, MET, BREACHED = 0, 1, 2
_ACK, _RESPONSE, _ACCEPT, _RESOLUTION, _FOLLOWUP, _EXPECTED = range(6)
# Clocks that never pause: the desk's own steps do not wait on anyone.
_NO_PAUSE = frozenset({"ack", "followup"})
_PAUSABLE = tuple(name not in _NO_PAUSE for name in CLOCKS)  # by clock index
_CONTACT = frozenset(k.value for k in CONTACT_KINDS)
_FINAL = frozenset({"closed", "cancelled"})
_NO_LEVELS: frozenset[str] = frozenset()
_BREACH_LEVELS = frozenset({"supervisor", "manager"})  # a breach escalation was recorded
_parse = datetime.fromisoformat
# Bump when a Plan, its record or what plan_states() makes of it changes: ``check`` keeps
# each ticket's plan in .git with this in its salt.
PLAN_VERSION = 2


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


# ------------------------------------------------------------- the arithmetic


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

    ``due`` is None if the target was not used up by ``end``; a clock that stopped (or
    stands) at ``end`` is breached if ``due < end``.
    """
    remaining = target
    if pauses:
        stretches = running_stretches(start, end, pauses)
    else:  # one stretch, the usual case
        stretches = [(start, end)] if start < end else []
    for a, b in stretches:
        spent = calendar.elapsed(a, b)
        if spent >= remaining:
            return calendar.add(a, remaining), target
        remaining -= spent
    return None, target - remaining


# ----------------------------------------------------------------- the policy


class Rules(NamedTuple):
    """The SLA policy and the desk's calendars, keyed as ticket data is (priorities and
    statuses as written in the files): built once, read for every ticket. (A named
    tuple: a frozen dataclass of this size costs ~0.7 ms to define, at every start.)"""

    ack: timedelta
    accept: timedelta
    followup: timedelta
    at_risk: float
    reopen_grace: timedelta | None
    response: Mapping[str, timedelta]
    resolution: Mapping[str, timedelta]
    calendar_name: Mapping[str, str]  # of each priority's clocks
    calendar: Mapping[str, Calendar | None]  # None: the desk has no calendar of that name
    always: Mapping[str, bool]  # does this priority's calendar run 24x7?
    default: str  # the priority of an unclassified ticket
    pause_on: frozenset[str]

    @classmethod
    def of(cls, policy: Policy, calendars: Mapping[str, Calendar]) -> Rules:
        from .calendar import AlwaysOpen

        sla = policy.sla
        names = {p.value: sla.calendars.get(p, ALWAYS_OPEN) for p in sla.priorities}
        return cls(
            ack=sla.ack,
            accept=sla.accept,
            followup=sla.followup,
            at_risk=sla.at_risk,
            reopen_grace=sla.reopen_grace,
            response={p.value: t.response for p, t in sla.priorities.items()},
            resolution={p.value: t.resolution for p, t in sla.priorities.items()},
            calendar_name=names,
            calendar={p: calendars.get(name) for p, name in names.items()},
            always={p: isinstance(calendars.get(name), AlwaysOpen) for p, name in names.items()},
            default=policy.default_priority.value,
            pause_on=frozenset(s.value for s in sla.pause_on),
        )

    def calendar_of(self, priority: str) -> Calendar:
        found = self.calendar[priority]
        if found is None:
            name = self.calendar_name[priority]
            raise InvalidPolicy(
                f"sla.calendars.{priority}: no calendar {name!r} under calendars: "
                "(validate the desk's itdesk.yaml)"
            )
        return found


# ---------------------------------------------------------------- the log


# What a ticket's log says, read once (times as written): where the clocks start and
# stop, and who worked the ticket, which the statistics count beside them. A plain
# tuple, read by unpacking: a named tuple costs ~0.2 µs more a ticket, 4% of ``stats``.
LogFacts = tuple[
    Any,  # responded: the first contact (phone, remote, onsite) or acceptance
    Any,  # resolved: the first "resolved"
    Any,  # ack: the first "acknowledged"
    Any,  # reopen: the last "reopened"
    dict[str, Any],  # resolvers: technician -> their first "resolved"
    list[str],  # assignees: from the assignment entries, in order
    bool,  # paused: ever in a status that pauses the clocks
    str | None,  # closed_from: the status before the last "closed"
]
PAUSED, CLOSED_FROM = 6, 7  # the fields of LogFacts that are read alone


def _earliest(a: Any, b: Any) -> Any:
    """The earlier of two times as written (ISO 8601 text compared as text when both share
    the layout and offset, the usual case; else parsed), or of two datetimes."""
    if a is None or b is None or a == b:
        return b if a is None else a
    if type(a) is str and type(b) is str:
        if len(a) == len(b) and a[19:] == b[19:]:
            return min(a, b)
        return min(a, b, key=_parse)
    return min(a, b, key=_aware)


def _aware(value: Any) -> datetime:
    """A time as written (ISO 8601 text with its offset) or an aware datetime."""
    return _parse(value) if type(value) is str else value


def read_log(
    d: Mapping[str, Any],
    pause_on: frozenset[str],
    _sorted: Sequence[Mapping[str, Any]] | None = None,
    _contact: frozenset[str] = _CONTACT,  # a local name: this loop runs a million times
) -> LogFacts:
    """:data:`LogFacts` of the ticket ``d``, from one pass over its log, taking the first
    entry of each kind as the earliest. Times written in one layout and offset (the
    desk's zone; checked on the first and last entries) compare as text; a log out of
    order (hand-edited, merged) or in mixed offsets is read again, sorted by time
    (stably: ``_sorted``)."""
    log = (d.get("log") or ()) if _sorted is None else _sorted
    check = False
    if _sorted is None and log:
        first = log[0]["at"]
        if type(first) is str:
            tail = d["reported_at"][19:]
            check = first[19:] == tail and log[-1]["at"][19:] == tail
        else:
            check = True  # datetimes compare as instants
        if not check:
            return read_log(d, pause_on, sorted(log, key=lambda e: _aware(e["at"])))
    contact = accept = resolved = ack = reopen = closed_from = None
    resolvers: dict[str, Any] = {}
    assignees: list[str] = []
    paused = "new" in pause_on  # every ticket starts new
    last = "new"
    prev = log[0]["at"] if check else None
    for e in log:
        at = e["at"]
        if check:
            if at < prev:  # out of order as written
                return read_log(d, pause_on, sorted(log, key=lambda e: _aware(e["at"])))
            prev = at
        st = e.get("status")
        if st is None:  # work entries: most of a log
            if contact is None and e["kind"] in _contact:
                contact = at
            continue
        kind = e["kind"]
        if contact is None and kind in _contact:
            contact = at
        if st == "resolved":
            if resolved is None:
                resolved = at
            resolvers.setdefault(e["by"], at)
        elif st == "in_progress":
            if accept is None and kind == "status":
                accept = at
        elif st == "assigned":
            who = e.get("assignee")
            if who:
                assignees.append(who)
        elif st == "acknowledged":
            if ack is None:
                ack = at
        elif st == "reopened":
            reopen = at
        elif st == "closed":
            closed_from = last
        if st in pause_on:
            paused = True
        last = st
    if contact is None or accept is None:
        responded = accept if contact is None else contact
    elif type(contact) is str and contact[19:] == accept[19:] and len(contact) == len(accept):
        responded = contact if contact <= accept else accept  # _earliest(), without a call
    else:
        responded = _earliest(contact, accept)
    return responded, resolved, ack, reopen, resolvers, assignees, paused, closed_from


def _pauses(d: Mapping[str, Any], pause_on: frozenset[str]) -> list[Interval]:
    """The ticket's stretches in a pausing status, from its status timeline (the report
    counts as entering "new"), in aware times."""
    timeline = [(e["at"], e["status"]) for e in d.get("log") or () if e.get("status")]
    if not timeline or timeline[0][1] != "new":
        timeline.insert(0, (d["reported_at"], "new"))
    ordered = sorted(((_aware(at), st) for at, st in timeline), key=itemgetter(0))
    return pause_intervals(ordered, pause_on)


# --------------------------------------------------------------- the times


# The times of a ticket that its clocks start and stop at, each read once: naive wall
# times in the offset of the report (naive_time()), or aware datetimes. A plain tuple,
# as LogFacts is.
TicketTimes = tuple[
    datetime,  # reported
    datetime | None,  # acknowledged: the earlier of acknowledged_at and the log's
    datetime | None,  # responded
    datetime | None,  # assigned: assigned_at
    datetime | None,  # accepted: accepted_at
    datetime | None,  # resolved: resolution.at, the latest resolution
    datetime | None,  # reopened: the last reopening
    datetime | None,  # followed_up: followup.at
    datetime | None,  # expected: expected_by
]


def naive_time(value: Any, reported: Any) -> datetime:
    """A time as written, as a naive wall time in the offset of the ticket's report
    (``reported``, as written). Arithmetic on aware datetimes costs 0.5 µs a subtraction
    (each operand's offset is looked up), naive 0.05 µs: at a million subtractions, that
    is half a second."""
    if type(value) is str and type(reported) is str and len(reported) == 25:
        if value[19:] == reported[19:]:  # 2023-10-25T09:00:00+08:00, in the same offset
            return _parse(value[:19])
    offset = _aware(reported).utcoffset()
    return _aware(value).astimezone(timezone(offset or timedelta(0))).replace(tzinfo=None)


def read_times(d: Mapping[str, Any], facts: LogFacts, naive: bool = True) -> TicketTimes:
    """:data:`TicketTimes` of ticket ``d`` (``facts``: :func:`read_log` of it), naive
    (:func:`naive_time`) or aware. The hot path of ``stats``: times written in the
    report's offset, nearly all of them, are read by slicing it off, inline (a call per
    time would cost as much as the reading, 700,000 times over). Times are all text, or
    all datetimes."""
    responded, _, log_ack, reopened, _, _, _, _ = facts
    rep = d["reported_at"]
    ack = d.get("acknowledged_at")
    if ack != log_ack:
        ack = _earliest(ack, log_ack)
    assigned, accepted = d.get("assigned_at"), d.get("accepted_at")
    result, followup, expected = d.get("resolution"), d.get("followup"), d.get("expected_by")
    resolved = result["at"] if result else None
    followed_up = followup["at"] if followup else None
    if not naive or type(rep) is not str or len(rep) != 25:  # not 2023-10-25T09:00:00+08:00
        raw = (rep, ack, responded, assigned, accepted, resolved, reopened, followed_up, expected)
        if naive:
            return cast(
                TicketTimes, tuple([None if v is None else naive_time(v, rep) for v in raw])
            )
        return cast(TicketTimes, tuple([_parse(v) if type(v) is str else v for v in raw]))
    tail, parse = rep[19:], _parse
    if ack is not None:
        ack = parse(ack[:19]) if ack[19:] == tail else naive_time(ack, rep)
    if responded is not None:
        responded = parse(responded[:19]) if responded[19:] == tail else naive_time(responded, rep)
    if assigned is not None:
        assigned = parse(assigned[:19]) if assigned[19:] == tail else naive_time(assigned, rep)
    if accepted is not None:
        accepted = parse(accepted[:19]) if accepted[19:] == tail else naive_time(accepted, rep)
    if resolved is not None:
        resolved = parse(resolved[:19]) if resolved[19:] == tail else naive_time(resolved, rep)
    if reopened is not None:
        reopened = parse(reopened[:19]) if reopened[19:] == tail else naive_time(reopened, rep)
    if followed_up is not None:
        followed_up = (
            parse(followed_up[:19]) if followed_up[19:] == tail else naive_time(followed_up, rep)
        )
    if expected is not None:
        expected = parse(expected[:19]) if expected[19:] == tail else naive_time(expected, rep)
    reported = parse(rep[:19])
    return reported, ack, responded, assigned, accepted, resolved, reopened, followed_up, expected


def _fixed_zone(reported: Any) -> tzinfo:
    """The offset of the ticket's report, as a fixed zone (what naive times are in)."""
    offset = _aware(reported).utcoffset()
    assert offset is not None
    return timezone(offset)


# -------------------------------------------------------------- the clocks

# (clock index, start, stopped or None, target): one clock run of a ticket.
_Run = tuple[int, datetime, datetime | None, timedelta]


def _runs(
    d: Mapping[str, Any], rules: Rules, status: str, times: TicketTimes, priority: str
) -> list[_Run]:
    """The clocks that run for ticket ``d`` in ``status``: where each starts and stops,
    and its target (the table at the top)."""
    reported, acked, responded, assigned, accepted, resolved_at, reopened, done, expected = times
    runs: list[_Run] = [
        (_ACK, reported, acked, rules.ack),
        (_RESPONSE, reported, responded, rules.response[priority]),
    ]
    if assigned is not None and d.get("assignee"):
        stop = accepted
        if stop is not None and stop < assigned:
            stop = None  # accepted an earlier assignment
        runs.append((_ACCEPT, assigned, stop, rules.accept))

    start, length = reported, rules.resolution[priority]
    if reopened is not None:
        start = reopened
        length = rules.reopen_grace or length
    stop = resolved_at if resolved_at is None or resolved_at >= start else None
    runs.append((_RESOLUTION, start, stop, length))

    if status == "resolved" and resolved_at is not None:
        runs.append((_FOLLOWUP, resolved_at, done, rules.followup))
    if expected is not None and expected >= reported:  # 立即解决: due at the report
        runs.append((_EXPECTED, reported, stop, expected - reported))
    return runs


class Plan(NamedTuple):
    """What a ticket's clocks are, apart from "now" (:func:`clock_plan`): the runs of its
    clocks and what their states say of the ticket. ``check`` keeps it per ticket file
    (:func:`plan_record`), so that the next run spends only the clocks still running."""

    ticket: str
    assignee: str | None
    priority: str
    paused: bool  # in a status that pauses the clocks
    # (clock index, start, stopped or None, target, the clock's pauses, escalation levels)
    runs: tuple[tuple[int, datetime, datetime | None, timedelta, tuple[Interval, ...],
                      frozenset[str]], ...]  # fmt: skip


# What a clock's spending came to and stays at, by run (:func:`lasting`): (due, used), or
# None while it can still change.
Spent = tuple[tuple[datetime, timedelta] | None, ...]


def clock_plan(
    d: Mapping[str, Any],
    rules: Rules,
    status: str | None = None,
    facts: LogFacts | None = None,
) -> Plan | None:
    """The :class:`Plan` of ticket ``d``'s clocks; None when closed or cancelled (no
    clock). ``status`` judges the ticket as if it were in that status (default: its own)."""
    status = status or d["status"]
    if status in _FINAL:
        return None
    priority = d.get("priority") or rules.default
    rules.calendar_of(priority)  # a calendar the desk lacks is named now
    if facts is None:
        facts = read_log(d, rules.pause_on)
    runs = _runs(d, rules, status, read_times(d, facts, naive=False), priority)
    pauses = tuple(_pauses(d, rules.pause_on)) if facts[PAUSED] else ()
    escalations = d.get("escalations") or ()
    planned = []
    for i, start, stopped, length in runs:
        levels = _NO_LEVELS
        if escalations:
            name = CLOCKS[i]
            levels = frozenset(
                e["level"]
                for e in escalations
                if e.get("clock") == name and _aware(e["at"]) >= start
            )
        planned.append((i, start, stopped, length, pauses if _PAUSABLE[i] else (), levels))
    return Plan(d["id"], d.get("assignee"), priority, status in rules.pause_on, tuple(planned))


def clock_states(
    d: Mapping[str, Any],
    rules: Rules,
    now: datetime,
    status: str | None = None,
    facts: LogFacts | None = None,
) -> list[ClockState]:
    """Every applicable clock of ticket ``d`` at ``now`` (closed and cancelled: none).
    ``status`` judges the ticket as if it were in that status (default: its own)."""
    plan = clock_plan(d, rules, status, facts)
    return [] if plan is None else plan_states(plan, rules, now)


def plan_states(
    plan: Plan, rules: Rules, now: datetime, spent: Spent | None = None
) -> list[ClockState]:
    """The states at ``now`` of the clocks of ``plan``. ``spent``: what :func:`lasting`
    said of them at any earlier or later "now"; a clock it holds is not spent again
    where its result cannot have changed (a stopped clock; a running one breached
    before ``now``)."""
    calendar = rules.calendar_of(plan.priority)
    cal_name = rules.calendar_name[plan.priority]
    ticket_id, assignee, priority, at_risk = (
        plan.ticket,
        plan.assignee,
        plan.priority,
        rules.at_risk,
    )
    out: list[ClockState] = []
    for n, (i, start, stopped, length, clock_pauses, levels) in enumerate(plan.runs):
        cal, label = (WALL, "wall") if i == _EXPECTED else (calendar, cal_name)
        end = stopped or now
        kept = None if spent is None else spent[n]
        due: datetime | None
        if kept is not None and (stopped is not None or kept[0] < end):
            due, used = kept  # the same spending: its stretches up to the due time are
        else:  # those of any later end (see lasting())
            due, used = spend(cal, start, end, length, clock_pauses)
        # Due at 09:40 means in time at 09:40:00 and breached from the next instant.
        breached = due is not None and due < end
        if due is None:
            # Not used up yet: the due time if the clock runs on from ``end``.
            due = cal.add(end, length - used)
        if stopped is not None:
            state = "breached" if breached else "met"
        elif breached:
            state = "breached"
        elif length and used >= length * at_risk:
            state = "at_risk"
        else:
            state = "running"
        out.append(
            ClockState(
                ticket=ticket_id,
                clock=CLOCKS[i],
                state=state,
                start=start,
                due=due,
                stopped=stopped,
                target=length,
                used=min(used, length),
                late_seconds=int((end - due).total_seconds()),
                paused=stopped is None and plan.paused and _PAUSABLE[i],
                pauses=clock_pauses,
                calendar=label,
                assignee=assignee,
                priority=priority,
                escalated=not levels.isdisjoint(_BREACH_LEVELS),
                levels=levels,
            )
        )
    return out


def lasting(states: Sequence[ClockState]) -> Spent:
    """What :func:`plan_states` may take again of ``states`` (one per run of the plan,
    at any "now"): a stopped clock's spending, which "now" does not enter, and a running
    clock's that ran out, due at ``due``: at any later end its stretches up to ``due``
    are the same (pauses after it aside), so :func:`spend` finds the same due time and
    the whole target used. A clock still within its target is spent again every time."""
    return tuple(
        (s.due, s.used) if s.stopped is not None or s.state == "breached" else None for s in states
    )


# ----------------------------------------------------- a plan kept between runs


def plan_record(plan: Plan, spent: Spent) -> tuple[Any, ...]:
    """``plan`` and ``spent`` as data that :mod:`marshal` keeps (times as ISO 8601 text,
    with the name of their zone where they have one; durations in microseconds; the
    ticket's pauses once), read back by :func:`record_plan` to equal objects."""
    pauses = next((p for _, _, _, _, p, _ in plan.runs if p), ())
    runs = []
    for (i, start, stopped, length, _, levels), kept in zip(plan.runs, spent, strict=True):
        held = None if kept is None else (_stamp(kept[0]), _micros(kept[1]))
        stop = None if stopped is None else _stamp(stopped)
        runs.append((i, _stamp(start), stop, _micros(length), tuple(sorted(levels)), held))
    return (
        plan.ticket,
        plan.assignee,
        plan.priority,
        plan.paused,
        tuple((_stamp(a), None if b is None else _stamp(b)) for a, b in pauses),
        tuple(runs),
    )


def record_plan(record: tuple[Any, ...], open_only: bool = False) -> tuple[Plan, Spent]:
    """The plan and its spending that :func:`plan_record` wrote; ``open_only``: without
    the clocks that stopped (what ``check`` shows and warns of is the running ones)."""
    ticket, assignee, priority, paused, pause_stamps, rows = record
    pauses = tuple((_unstamp(a), None if b is None else _unstamp(b)) for a, b in pause_stamps)
    runs, spent = [], []
    for i, start, stopped, length, levels, kept in rows:
        if stopped is not None and open_only:
            continue
        runs.append(
            (
                i,
                _unstamp(start),
                None if stopped is None else _unstamp(stopped),
                timedelta(microseconds=length),
                pauses if _PAUSABLE[i] else (),
                frozenset(levels) if levels else _NO_LEVELS,
            )
        )
        spent.append(None if kept is None else (_unstamp(kept[0]), timedelta(microseconds=kept[1])))
    return Plan(ticket, assignee, priority, paused, tuple(runs)), tuple(spent)


def _stamp(t: datetime) -> str | tuple[str, str]:
    """An aware time as text: in a fixed offset (a ticket's times) its ISO 8601 form; in
    a named zone (a calendar's due times) with the zone's name too. (A zone without a
    name comes back as its offset at ``t``: the same instant, printed alike.)"""
    zone_name = getattr(t.tzinfo, "key", None)
    return t.isoformat() if zone_name is None else (t.isoformat(), zone_name)


def _unstamp(stamp: str | tuple[str, str]) -> datetime:
    if type(stamp) is str:
        return _parse(stamp)
    return _parse(stamp[0]).astimezone(_zone(stamp[1]))


def _zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _micros(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def clock_outcomes(
    d: Mapping[str, Any],
    rules: Rules,
    facts: LogFacts | None = None,
    times: TicketTimes | None = None,
) -> list[int]:
    """What each clock of ticket ``d`` came to, as codes ``3 * CLOCKS.index(clock) +``
    :data:`RUNNING`, :data:`MET` or :data:`BREACHED`: an open ticket's clocks as they
    stand, a closed ticket's at its closing (judged in the status it was closed from),
    a cancelled ticket's none (no service was owed). The verdicts of
    :func:`clock_states`, without the due times; a clock still running is RUNNING.

    The hot loop of ``stats``: times are read naive (:func:`read_times`; pass ``facts``
    and ``times`` if the caller has read them), and a clock is spent over its calendar
    only when wall time cannot tell (see the module's docstring).
    """
    status = d["status"]
    if status == "cancelled":
        return []
    if facts is None:
        facts = read_log(d, rules.pause_on)
    closed: datetime | None = None
    if status == "closed":
        status = facts[CLOSED_FROM] or "resolved"
        if d.get("closed_at"):  # a clock still running at the close stopped there
            closed = naive_time(d["closed_at"], d["reported_at"])
    priority = d.get("priority") or rules.default
    runs = _runs(d, rules, status, times or read_times(d, facts), priority)
    if closed is not None:
        runs = [
            (i, begin, closed if end is None else end, target) for i, begin, end, target in runs
        ]

    always, paused = rules.always[priority], facts[PAUSED]
    out: list[int] = []
    pauses: list[Interval] | None = None
    for i, begin, end, target in runs:
        code = 3 * i
        if end is None:
            out.append(code + RUNNING)
        elif end - begin <= target:
            out.append(code + MET)
        elif (always or i == _EXPECTED) and not (paused and _PAUSABLE[i]):
            out.append(code + BREACHED)
        else:
            cal = WALL if i == _EXPECTED else rules.calendar_of(priority)
            zone = _fixed_zone(d["reported_at"])
            stop = end.replace(tzinfo=zone)
            if paused and _PAUSABLE[i]:
                if pauses is None:
                    pauses = _pauses(d, rules.pause_on)
                due, _ = spend(cal, begin.replace(tzinfo=zone), stop, target, pauses)
            else:
                due, _ = spend(cal, begin.replace(tzinfo=zone), stop, target, ())
            out.append(code + (BREACHED if due is not None and due < stop else MET))
    return out


# ---------------------------------------------------------------- a Ticket


def _data(ticket: Ticket) -> dict[str, Any]:
    """The keys of ``ticket``'s data that the clocks read, times left as datetimes:
    ~5 µs, where the whole of :func:`~itdesk.core.model.ticket_to_dict` costs ~20."""
    res, fol = ticket.resolution, ticket.followup
    return {
        "id": ticket.id,
        "status": ticket.status.value,
        "priority": None if ticket.priority is None else ticket.priority.value,
        "reported_at": ticket.reported_at,
        "acknowledged_at": ticket.acknowledged_at,
        "assignee": ticket.assignee,
        "assigned_at": ticket.assigned_at,
        "accepted_at": ticket.accepted_at,
        "expected_by": ticket.expected_by,
        "closed_at": ticket.closed_at,
        "resolution": None if res is None else {"at": res.at},
        "followup": None if fol is None else {"at": fol.at},
        "escalations": [
            {"at": e.at, "level": e.level, "clock": e.clock} for e in ticket.escalations
        ],
        # ``_value_``: ``.value`` is a descriptor written in Python (3.11), 4x slower
        "log": [
            {
                "at": e.at,
                "by": e.by,
                "kind": e.kind._value_,
                "status": None if e.status is None else e.status._value_,
                "assignee": e.assignee,
            }
            for e in ticket.log
        ],
    }


_last_rules: tuple[Policy, Mapping[str, Calendar], Rules] | None = None


def _rules(policy: Policy, calendars: Mapping[str, Calendar]) -> Rules:
    """:meth:`Rules.of`, kept for the last policy and calendars given: ``check`` asks
    for every open ticket's clocks with the same two."""
    global _last_rules
    last = _last_rules
    if last is None or last[0] is not policy or last[1] is not calendars:
        last = _last_rules = (policy, calendars, Rules.of(policy, calendars))
    return last[2]


def closed_clock_states(d: Mapping[str, Any], rules: Rules) -> list[ClockState]:
    """A closed ticket's clocks after the fact: judged at its closing, in the status it
    was closed from; a clock still running then stopped there. Cancelled: none (no
    service was owed). What ``sla explain`` shows of a closed ticket, and the verdicts
    ``stats`` counts."""
    if d["status"] != "closed" or not d.get("closed_at"):
        return []
    facts = read_log(d, rules.pause_on)
    closed = _aware(d["closed_at"])
    closed_from = str(facts[CLOSED_FROM] or "resolved")
    states = clock_states(d, rules, closed, status=closed_from, facts=facts)
    out = []
    for s in states:
        if s.stopped is None:
            state = "breached" if s.late_seconds > 0 else "met"
            s = replace(s, stopped=closed, state=state, paused=False)
        out.append(s)
    return out


def evaluate(
    ticket: Ticket,
    policy: Policy,
    now: datetime,
    calendars: Mapping[str, Calendar],
) -> list[ClockState]:
    """Every applicable clock of ``ticket`` at ``now`` (closed and cancelled: none):
    :func:`clock_states` of its data."""
    if not ticket.status.is_open:
        return []
    return clock_states(_data(ticket), _rules(policy, calendars), now)


def evaluate_closed(
    ticket: Ticket, policy: Policy, calendars: Mapping[str, Calendar]
) -> list[ClockState]:
    """A closed ticket's clocks after the fact (:func:`closed_clock_states`)."""
    return closed_clock_states(_data(ticket), _rules(policy, calendars))


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


def coverage_warnings(states: Iterable[ClockState], calendars: Mapping[str, Calendar]) -> list[str]:
    """One line per calendar whose holiday dates end before a running clock's due time:
    the days past the data's (or the hand list's) last year were counted as ordinary
    working days, which a holiday there would make wrong."""
    from .calendar import beyond_coverage

    late: dict[str, tuple[date, list[str]]] = {}
    for s in states:
        if not s.open or s.calendar not in calendars:
            continue
        covered = beyond_coverage(calendars[s.calendar], s.due)
        if covered is not None:
            late.setdefault(s.calendar, (covered, []))[1].append(f"{s.ticket} {s.clock}")
    out = []
    for name, (covered, clocks) in late.items():
        shown = ", ".join(clocks[:3]) + (f" and {len(clocks) - 3} more" if len(clocks) > 3 else "")
        out.append(
            f"calendar {name}: holidays are known until {covered}, but {shown} "
            f"{'is' if len(clocks) == 1 else 'are'} due after it; those days count as "
            "ordinary working days: update chinesecalendar (pip install -U chinesecalendar) "
            "or add the dates under holidays/workdays in itdesk.yaml"
        )
    return out
