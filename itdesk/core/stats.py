"""Desk statistics: where the desk spends its time, computed over plain ticket data.

:func:`compute` takes the tickets as :meth:`itdesk.store.Desk.ticket_data` returns them
(the YAML's keys, served from the cache in ``.git``) and returns every figure as plain
data under stable keys: the JSON output, and what :mod:`itdesk.channels.statsreport`
lays out for people (nothing here renders). It never builds a
:class:`~itdesk.model.Ticket` for every ticket: one costs ~200 µs to build and ~130 µs
to evaluate, a minute for the 100,000 tickets of two years (PERFORMANCE.md asks for
2 s). Times are parsed only where a figure needs them, and SLA compliance follows
:func:`itdesk.sla.evaluate` clock by clock without it: a clock stopped within its
target in wall time met it, one past it on a 24x7 calendar without pauses breached it,
and the few others are spent over their calendar and pauses by the engine's own rule
(tests/test_stats.py checks that both give the same verdicts, on 24x7 and on business
hours with pauses); the engine itself runs only if a calendar is missing. Similar
titles are grouped within a fixed budget of work (:data:`GROUPING_BUDGET`), so 100,000
different titles cost no more than a few thousand.

Durations (response, resolution) are wall time from the report: what the requester
waited. Requester names never appear in the output: titles shown are masked with the
requesters' names and contacts of the tickets that carry them.
"""

from __future__ import annotations

import gc
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from itertools import chain
from operator import itemgetter
from typing import Any

from ..errors import InvalidValue
from .calendar import AlwaysOpen
from .kb import _STOPWORDS, _stem
from .model import Category, Priority, Satisfaction, Status, ticket_from_dict
from .policy import Policy
from .privacy import redact
from .sla import CLOCKS, WALL, Calendar, evaluate, pause_intervals, spend

__all__ = [
    "Period",
    "TitleGroup",
    "compute",
    "group_titles",
    "month_period",
    "percentile",
    "terms",
]

UNCLASSIFIED = "unclassified"
CATEGORY_KEYS = (*(c.value for c in Category), UNCLASSIFIED)
PRIORITY_KEYS = (*(p.value for p in Priority), UNCLASSIFIED)
STATUS_KEYS = tuple(s.value for s in Status)
RATINGS = tuple(s.value for s in Satisfaction)
ASPECTS = ("speed", "attitude", "overall")
LEVELS = ("assignee", "supervisor", "manager", "vendor")
MANUAL = "manual"  # escalations not tied to an SLA clock (P1 inform, vendor, by hand)
# Statuses in which a ticket is in a technician's hands.
WORKING = frozenset({"assigned", "in_progress", "pending_vendor", "pending_user", "reopened"})
CONTACT = frozenset({"phone", "remote", "onsite"})

# Two titles are "the same problem" from this Jaccard similarity of their search terms
# (itdesk.kb.tokenize: words and CJK bigrams): 打印机卡纸，无法打印 and the same title
# with （3楼东区） appended score 0.67; VPN 连接超时 and VPN 客户端启动闪退 0.1.
SIMILARITY = 0.5
TOP_TITLES = 10
# Comparisons the grouping may spend (and 20 times the titles it reads): ~0.3 s at most.
GROUPING_BUDGET = 200_000


# ----------------------------------------------------------------------- period


@dataclass(frozen=True, slots=True)
class Period:
    """Tickets reported in [since, until); None means open-ended."""

    since: datetime | None = None
    until: datetime | None = None
    month: str | None = None  # YYYY-MM when the period is a calendar month


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def month_period(text: str, tz: tzinfo) -> Period:
    """``2023-10`` -> that calendar month in the zone ``tz``."""
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12 or int(m.group(1)) < 1:
        raise InvalidValue(f"bad month {text!r}; use YYYY-MM like 2023-10")
    year, month = int(m.group(1)), int(m.group(2))
    since = datetime(year, month, 1, tzinfo=tz)
    until = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return Period(since, until, f"{year:04d}-{month:02d}")


# ------------------------------------------------------------------ small maths


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between the closest
    ranks (numpy's default; the median of an even count is the mean of the middle two).
    None when there are no values."""
    return _quantile(sorted(values), q)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """:func:`percentile` of values already sorted."""
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _time_figures(ordered: Sequence[float]) -> dict[str, Any]:
    """Count, median and 90th percentile of sorted durations."""
    return {
        "count": len(ordered),
        "median_seconds": _seconds(_quantile(ordered, 0.5)),
        "p90_seconds": _seconds(_quantile(ordered, 0.9)),
    }


# --------------------------------------------------------------- similar titles


@dataclass(frozen=True, slots=True)
class TitleGroup:
    title: str  # the group's first title: the commonest (ties: in the input's order)
    count: int  # tickets
    variants: int  # distinct titles


# itdesk.kb.tokenize, character by character in Python, costs ~25 µs a title; the same
# terms by one regular expression ~5 µs (tests/test_stats.py checks they agree).
_CJK_RANGES = (
    "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af\U00020000-\U0002ffff"
)
_TERM = re.compile(f"([{_CJK_RANGES}]+)|[^\\W_{_CJK_RANGES}]+")


def terms(text: str) -> list[str]:
    """The search terms of :func:`itdesk.kb.tokenize`: lowercase words (less stopwords,
    plurals stemmed) and the character bigrams of CJK runs."""
    text = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for m in _TERM.finditer(text):
        run = m.group(1)
        if run is None:
            word = m.group()
            if word not in _STOPWORDS:
                out.append(_stem(word))
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend([run[i : i + 2] for i in range(len(run) - 1)])
    return out


def group_titles(
    titles: Mapping[str, int],
    threshold: float = SIMILARITY,
    limit: int | None = TOP_TITLES,
    budget: int = GROUPING_BUDGET,
) -> tuple[list[TitleGroup], int]:
    """Group titles (with their ticket counts) whose term sets have a Jaccard similarity
    of at least ``threshold``: the biggest groups first, and how many titles were
    grouped.

    Leader clustering: titles are taken commonest first (ties in the order given), and
    each joins the group whose first title it is most like, or starts one. Candidates
    are found by prefix filtering (a set with Jaccard >= t to another shares one of its
    first ``|x| - ceil(t*|x|) + 1`` terms, rarest first) and a length filter, so a title
    is compared with a few groups, not all. Titles without terms group only with
    themselves. The work is bounded: at most ``budget`` // 20 titles are read, and once
    ``budget`` comparisons are spent the remaining titles are left out (a desk of
    100,000 different titles would otherwise take minutes).
    """
    order = sorted(titles.items(), key=itemgetter(1), reverse=True)[: budget // 20]
    term_sets = [frozenset(terms(title)) for title, _ in order]
    df = Counter(chain.from_iterable(term_sets))

    leaders: list[frozenset[str]] = []
    counts: list[int] = []
    variants: list[int] = []
    names: list[str] = []
    index: dict[str, list[int]] = defaultdict(list)
    by_text: dict[str, int] = {}
    spent = grouped = 0
    for (title, count), ts in zip(order, term_sets, strict=True):
        if spent >= budget:
            break
        grouped += 1
        best, best_score = -1, 0.0
        prefix: list[str] = []
        if ts:
            n = len(ts)
            prefix = sorted(ts, key=lambda t: (df[t], t))[: n - math.ceil(threshold * n) + 1]
            low, high = threshold * n, n / threshold
            seen: set[int] = set()
            for term in prefix:
                for g in index.get(term, ()):
                    if g in seen:
                        continue
                    seen.add(g)
                    other = leaders[g]
                    if not low <= len(other) <= high:
                        continue
                    spent += 1
                    common = len(ts & other)
                    score = common / (n + len(other) - common)
                    if score >= threshold and (
                        score > best_score or score == best_score and g < best
                    ):
                        best, best_score = g, score
        else:
            best = by_text.get(title, -1)
        if best < 0:
            best = len(leaders)
            leaders.append(ts)
            counts.append(0)
            variants.append(0)
            names.append(title)
            for term in prefix:
                index[term].append(best)
            if not ts:
                by_text[title] = best
        counts[best] += count
        variants[best] += 1
    ranked = sorted(range(len(leaders)), key=lambda g: (-counts[g], g))
    if limit is not None:
        ranked = ranked[:limit]
    return [TitleGroup(names[g], counts[g], variants[g]) for g in ranked], grouped


# ------------------------------------------------------------------------ times

_parse = datetime.fromisoformat


def _earliest(a: str | None, b: str | None) -> str | None:
    """The earlier of two ISO 8601 times as written (compared as text when they share
    the layout and offset, the usual case; else parsed)."""
    if a is None or b is None:
        return b if a is None else a
    if len(a) == len(b) and a[19:] == b[19:]:
        return min(a, b)
    return min(a, b, key=_parse)


def _local(text: str, tail: str | None, reported: str) -> datetime:
    """``text`` as a naive wall time in the offset of the ticket's report (``tail``, the
    report's ``+08:00``; None if written another way). Arithmetic on aware datetimes
    costs 0.8 µs a subtraction (each operand's offset is looked up), naive 0.05 µs: at
    a million subtractions that is the difference between 0.05 s and 0.8 s."""
    if text[19:] == tail:
        return _parse(text[:19])
    return _parse(text).astimezone(_parse(reported).tzinfo).replace(tzinfo=None)


# The facts of a ticket's log that the figures need, from one pass over it.
_Facts = tuple[
    str | None,  # first contact (phone, remote, onsite entry)
    str | None,  # first acceptance (in_progress status entry)
    str | None,  # first "resolved"
    str | None,  # first "acknowledged"
    str | None,  # last "reopened"
    dict[str, str],  # technician -> their first "resolved"
    list[str],  # assignees
    bool,  # ever in a status that pauses the clocks
    str | None,  # the status before the last "closed"
]


def _walk(
    log: Sequence[Mapping[str, Any]],
    pause_on: frozenset[str],
    check: bool,
    _contact: frozenset[str] = CONTACT,  # a local name: this loop runs a million times
) -> _Facts | None:
    """Read ``log`` once, taking the first entry of each kind as the earliest. With
    ``check`` it gives up (None) on an entry out of order as written, for
    :func:`_facts` to sort the log by time."""
    contact = accept = resolved = ack = reopen = before_close = None
    resolvers: dict[str, str] = {}
    assignees: list[str] = []
    paused = False
    last = "new"
    prev = ""
    for e in log:
        at = e["at"]
        if check:
            if at < prev:
                return None
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
            before_close = last
        if st in pause_on:
            paused = True
        last = st
    return contact, accept, resolved, ack, reopen, resolvers, assignees, paused, before_close


def _facts(d: Mapping[str, Any], pause_on: frozenset[str]) -> _Facts:
    """:func:`_walk` over the ticket's log. Times written in one layout and offset (the
    desk's zone; checked on the first and last entries) compare as text; a log out of
    order (hand-edited, merged) or in mixed offsets is sorted by parsed time first."""
    log = d.get("log") or ()
    facts = None
    if log:
        tail = d["reported_at"][19:]
        if log[0]["at"][19:] == tail and log[-1]["at"][19:] == tail:
            facts = _walk(log, pause_on, True)
    if facts is None:
        facts = _walk(sorted(log, key=lambda e: _parse(e["at"])), pause_on, False)
        assert facts is not None
    return facts


# -------------------------------------------------------------------------- SLA


@dataclass(frozen=True, slots=True)
class _Targets:
    """The SLA policy in the form the scan needs (values as written in the files)."""

    ack: timedelta
    accept: timedelta
    followup: timedelta
    reopen_grace: timedelta | None
    response: Mapping[str, timedelta]
    resolution: Mapping[str, timedelta]
    always: Mapping[str, bool]  # does this priority's calendar run 24x7?
    calendar: Mapping[str, Calendar]  # the calendar of each priority's clocks
    default: str
    pause_on: frozenset[str]

    @classmethod
    def of(cls, policy: Policy, calendars: Mapping[str, Calendar]) -> _Targets:
        sla = policy.sla
        return cls(
            ack=sla.ack,
            accept=sla.accept,
            followup=sla.followup,
            reopen_grace=sla.reopen_grace,
            response={p.value: t.response for p, t in sla.priorities.items()},
            resolution={p.value: t.resolution for p, t in sla.priorities.items()},
            always={
                p.value: isinstance(calendars.get(sla.calendars.get(p, "24x7")), AlwaysOpen)
                for p in Priority
            },
            calendar={
                p.value: calendars[name]
                for p in Priority
                if (name := sla.calendars.get(p, "24x7")) in calendars
            },
            default=policy.default_priority.value,
            pause_on=frozenset(s.value for s in sla.pause_on),
        )


# Outcome codes of a clock: 3 * (its index in CLOCKS) + one of these.
_RUNNING, _MET, _BREACHED = 0, 1, 2
_ACK, _RESPONSE, _ACCEPT, _RESOLUTION, _FOLLOWUP, _EXPECTED = (3 * i for i in range(6))
assert CLOCKS == ("ack", "response", "accept", "resolution", "followup", "expected")


def _pauses(
    d: Mapping[str, Any], pause_on: frozenset[str]
) -> list[tuple[datetime, datetime | None]]:
    """The stretches the ticket spent in a pausing status, as itdesk.sla reads them from
    the status timeline (aware times; the last one open if it is paused now)."""
    timeline = [(e["at"], e["status"]) for e in d.get("log") or () if e.get("status")]
    if not timeline or timeline[0][1] != "new":
        timeline.insert(0, (d["reported_at"], "new"))
    ordered = sorted(((_parse(at), st) for at, st in timeline), key=itemgetter(0))
    return pause_intervals(ordered, pause_on)


def _within(
    calendar: Calendar,
    start: datetime,
    stop: datetime,
    target: timedelta,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> bool:
    """Did a clock that ran from ``start`` to ``stop`` on ``calendar``, less ``pauses``,
    meet ``target``? The engine's rule (itdesk.sla.spend): the
    target is spent over the running stretches in order, and the clock breached if it
    was used up strictly before the clock stopped."""
    due, _ = spend(calendar, start, stop, target, pauses)
    return due is None or not due < stop


def _clock_outcomes(
    d: Mapping[str, Any],
    targets: _Targets,
    state: str,
    facts: _Facts,
    tail: str | None,
    reported: datetime,
    responded: datetime | None,
    resolved_at: datetime | None,
) -> list[int] | None:
    """The outcome codes of the clocks :func:`itdesk.sla.evaluate` runs for the ticket
    in status ``state`` (for a closed ticket, the status it was closed from), or None
    if a calendar is missing (the engine then reports it). Times are naive, in the
    report's offset (:func:`_local`); ``resolved_at`` is the time of ``resolution.at``.

    Working time never exceeds wall time, so a clock stopped within its target in wall
    time met it, and one past it on a 24x7 calendar without pauses breached it: that
    settles nearly every clock without a calendar. The rest are spent over the calendar
    and the pauses as the engine does (:func:`_within`).
    """
    _, _, _, ack, reopen, _, _, paused, _ = facts
    rep = d["reported_at"]
    priority = d.get("priority") or targets.default
    always = targets.always[priority]
    ack_text = d.get("acknowledged_at")
    if ack_text is None or (ack is not None and ack != ack_text):
        ack_text = _earliest(ack_text, ack)
    calendar = targets.calendar.get(priority)
    # (code base, start, stopped, target, calendar, 24x7?, can pause?)
    clocks: list[tuple[int, datetime, datetime | None, timedelta, Calendar | None, bool, bool]]
    clocks = [
        (_ACK, reported, None if ack_text is None else _local(ack_text, tail, rep), targets.ack,
         calendar, always, False),
        (_RESPONSE, reported, responded, targets.response[priority], calendar, always, True),
    ]  # fmt: skip
    assigned_at = d.get("assigned_at")
    if assigned_at is not None and d.get("assignee"):
        start = _local(assigned_at, tail, rep)
        accepted_at = d.get("accepted_at")
        stop = None if accepted_at is None else _local(accepted_at, tail, rep)
        if stop is not None and stop < start:
            stop = None
        clocks.append((_ACCEPT, start, stop, targets.accept, calendar, always, True))
    start, length = reported, targets.resolution[priority]
    if reopen is not None:
        start = _local(reopen, tail, rep)
        length = targets.reopen_grace or length
    stop = resolved_at if resolved_at is None or resolved_at >= start else None
    clocks.append((_RESOLUTION, start, stop, length, calendar, always, True))
    if state == "resolved" and resolved_at is not None:
        fol = d.get("followup")
        done = None if not fol else _local(fol["at"], tail, rep)
        clocks.append((_FOLLOWUP, resolved_at, done, targets.followup, calendar, always, False))
    expected_by = d.get("expected_by")
    if expected_by is not None:
        expected = _local(expected_by, tail, rep)
        if expected > reported:
            clocks.append((_EXPECTED, reported, stop, expected - reported, WALL, True, True))

    out: list[int] = []
    zone: tzinfo | None = None
    pauses: list[tuple[datetime, datetime | None]] | None = None
    for base, begin, end, target, clock_calendar, on_wall, pausable in clocks:
        if end is None:
            out.append(base + _RUNNING)
        elif end - begin <= target:
            out.append(base + _MET)
        elif on_wall and not (pausable and paused):
            out.append(base + _BREACHED)
        elif clock_calendar is None:
            return None  # a calendar the policy does not define: the engine says so
        else:
            zone = zone or _parse(rep).tzinfo
            if pausable and paused and pauses is None:
                pauses = _pauses(d, targets.pause_on)
            met = _within(
                clock_calendar,
                begin.replace(tzinfo=zone),
                end.replace(tzinfo=zone),
                target,
                pauses if pausable and paused and pauses is not None else (),
            )
            out.append(base + (_MET if met else _BREACHED))
    return out


def _run_engine(s: _Scan, policy: Policy, now: datetime, calendars: Mapping[str, Calendar]) -> None:
    """Tickets whose calendar the scan did not find (a policy that skipped validation),
    through the SLA engine itself, which says what is missing."""
    index = {c: 3 * i for i, c in enumerate(CLOCKS)}
    for d, state in s.engine:
        ticket = ticket_from_dict(d)
        at = now
        if ticket.status is Status.CLOSED:
            at = ticket.closed_at or now
            ticket = replace(ticket, status=Status(state))
        for c in evaluate(ticket, policy, at, calendars):
            if c.stopped is None:
                s.outcomes.append(index[c.clock] + _RUNNING)
            else:
                s.outcomes.append(index[c.clock] + (_MET if c.state == "met" else _BREACHED))


# ------------------------------------------------------------------------- scan


@dataclass(slots=True)
class _Scan:
    """What one pass over the tickets collects; :func:`_figures` counts it."""

    period: list[Mapping[str, Any]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)
    priorities: list[str | None] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    # seconds from the report, by priority (None: unclassified)
    response: defaultdict[str | None, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    resolution: defaultdict[str | None, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    outcomes: list[int] = field(default_factory=list)
    engine: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    esc_clocks: list[str] = field(default_factory=list)
    escalated: int = 0
    ratings: list[tuple[str, str, str]] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)
    open_by: list[str] = field(default_factory=list)
    resolved_by: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    resolved: int = 0
    reopened: int = 0
    kb: list[str] = field(default_factory=list)


def _scan(
    tickets: Iterable[Mapping[str, Any]],
    targets: _Targets,
    since: datetime | None,
    until: datetime | None,
) -> _Scan:
    """One pass over the tickets reported in [since, until).

    The hot loop of ``stats``: at 100,000 tickets every step counts, so the lists it
    appends to are bound to local names, and times are parsed once each, naive
    (:func:`_local`)."""
    s = _Scan()
    add_ticket, add_status = s.period.append, s.statuses.append
    add_priority, add_category = s.priorities.append, s.categories.append
    add_title = s.titles.append
    response, resolution, resolved_by = s.response, s.resolution, s.resolved_by
    add_outcomes, add_open, add_assigned = s.outcomes.extend, s.open_by.append, s.assigned.extend
    pause_on = targets.pause_on
    parse, local = _parse, _local
    resolved = reopened = 0
    for d in tickets:
        rep = d["reported_at"]
        if since is not None or until is not None:
            when = parse(rep)
            if (since is not None and when < since) or (until is not None and when >= until):
                continue
        tail = rep[19:] if len(rep) == 25 else None
        reported = parse(rep[:19]) if tail is not None else _local(rep, None, rep)
        status = d["status"]
        priority = d.get("priority")
        add_ticket(d)
        add_status(status)
        add_priority(priority)
        add_category(d.get("category"))
        add_title(d["title"])

        facts = _facts(d, pause_on)
        contact, accept, first_resolved, _, reopen, resolvers, assignees, _, closed_from = facts
        if contact is None or accept is None:
            response_stop = contact or accept
        else:
            response_stop = _earliest(contact, accept)
        responded = None
        if response_stop is not None:
            responded = local(response_stop, tail, rep)
            response[priority].append((responded - reported).total_seconds())
        result = d.get("resolution")
        resolved_at = None
        if first_resolved is not None:
            resolved += 1
            first = local(first_resolved, tail, rep)
            resolution[priority].append((first - reported).total_seconds())
            for name, at in resolvers.items():
                theirs = first if at == first_resolved else local(at, tail, rep)
                resolved_by[name].append((theirs - reported).total_seconds())
            if result and result["at"] == first_resolved:
                resolved_at = first
        if result and resolved_at is None:
            resolved_at = local(result["at"], tail, rep)
        if reopen is not None:
            reopened += 1

        assignee = d.get("assignee")
        if assignee:
            if status in WORKING:
                add_open(assignee)
            if assignee not in assignees:
                assignees.append(assignee)
        add_assigned(set(assignees) if len(assignees) > 1 else assignees)

        fol = d.get("followup")
        if fol:
            s.ratings.append((fol["speed"], fol["attitude"], fol["overall"]))
        escalations = d.get("escalations")
        if escalations:
            s.escalated += 1
            for esc in escalations:
                s.levels.append(esc["level"])
                s.esc_clocks.append(esc.get("clock") or MANUAL)
        kb = d.get("kb")
        if kb:
            s.kb.extend(set(kb))

        if status == "cancelled":
            continue  # duplicates and mistakes: no service was owed
        state = (closed_from or "resolved") if status == "closed" else status
        outcomes = _clock_outcomes(d, targets, state, facts, tail, reported, responded, resolved_at)
        if outcomes is None:
            s.engine.append((d, state))
        else:
            add_outcomes(outcomes)
    s.resolved, s.reopened = resolved, reopened
    return s


# ---------------------------------------------------------------------- compute


def compute(
    tickets: Iterable[Mapping[str, Any]],
    policy: Policy,
    now: datetime,
    calendars: Mapping[str, Calendar],
    period: Period | None = None,
    articles: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Every figure over the tickets reported in ``period`` (default: all), as plain
    data under the keys documented in ``itdesk stats --help``.

    ``calendars`` are the desk's (:attr:`itdesk.store.Desk.calendars`); open tickets'
    clocks are evaluated at ``now``, closed tickets' at their closing, cancelled
    tickets' not at all. ``articles`` maps the knowledge base's slugs to their titles,
    so that articles no ticket names count 0.
    """
    period = period or Period()
    targets = _Targets.of(policy, calendars)
    # Thousands of small lists made while 100,000 tickets are alive would set off the
    # cyclic collector again and again (the cache does the same, see itdesk.cache).
    collecting = gc.isenabled()
    gc.disable()
    try:
        s = _scan(tickets, targets, period.since, period.until)
        _run_engine(s, policy, now, calendars)
        return _figures(s, policy, now, period, articles or {})
    finally:
        if collecting:
            gc.enable()


def _figures(
    s: _Scan,
    policy: Policy,
    now: datetime,
    period: Period,
    articles: Mapping[str, str | None],
) -> dict[str, Any]:
    total = len(s.statuses)
    by_status = Counter(s.statuses)

    def counted(values: list[str | None], keys: Sequence[str]) -> dict[str, Any]:
        counter: Counter[str] = Counter()
        for value, n in Counter(values).items():
            counter[value or UNCLASSIFIED] += n
        extra = sorted(k for k in counter if k not in keys)
        return {
            k: {"count": counter[k], "share": _share(counter[k], total)} for k in (*keys, *extra)
        }

    titles = Counter(s.titles)
    groups, grouped = group_titles(titles)
    masked = _mask_titles([g.title for g in groups], s.period)

    for lists in (*s.response.values(), *s.resolution.values()):
        lists.sort()
    times: dict[str, Any] = {}
    for key in (*PRIORITY_KEYS, "all"):
        if key == "all":
            # Sorted runs one after the other: timsort merges them in one pass.
            resp = sorted(v for vals in s.response.values() for v in vals)
            reso = sorted(v for vals in s.resolution.values() for v in vals)
        else:
            which = None if key == UNCLASSIFIED else key
            resp, reso = s.response.get(which, []), s.resolution.get(which, [])
        times[key] = {"response": _time_figures(resp), "resolution": _time_figures(reso)}

    outcomes = Counter(s.outcomes)
    sla: dict[str, Any] = {}
    for i, clock in enumerate(CLOCKS):
        met, breached = outcomes[3 * i + _MET], outcomes[3 * i + _BREACHED]
        sla[clock] = {
            "stopped": met + breached,
            "met": met,
            "breached": breached,
            "met_share": _share(met, met + breached),
            "running": outcomes[3 * i + _RUNNING],
        }
    stopped = sum(v["stopped"] for v in sla.values())
    met_all = sum(v["met"] for v in sla.values())

    satisfaction: dict[str, Any] = {}
    combinations = Counter(s.ratings)
    for i, aspect in enumerate(ASPECTS):
        counter: Counter[str] = Counter()
        for ratings, n in combinations.items():
            counter[ratings[i]] += n
        rated = sum(counter[r] for r in RATINGS)
        satisfaction[aspect] = {
            **{r: counter[r] for r in RATINGS},
            "rated": rated,
            "satisfied_share": _share(counter["satisfied"], rated),
        }

    assigned, open_by = Counter(s.assigned), Counter(s.open_by)
    names = set(assigned) | set(s.resolved_by)
    technicians = [
        {
            "name": name,
            "assigned": assigned[name],
            "resolved": len(s.resolved_by.get(name, ())),
            "open": open_by[name],
            "median_resolution_seconds": _seconds(
                _quantile(sorted(s.resolved_by.get(name, [])), 0.5)
            ),
        }
        for name in sorted(names, key=lambda n: (-assigned[n], n))
    ]
    kb_counts = Counter(s.kb)
    kb = [
        {
            "slug": slug,
            "title": articles.get(slug),
            "exists": slug in articles,
            "tickets": kb_counts[slug],
        }
        for slug in sorted(set(articles) | set(kb_counts), key=lambda x: (-kb_counts[x], x))
    ]
    levels, esc_clocks = Counter(s.levels), Counter(s.esc_clocks)
    return {
        "period": {
            "since": _iso(period.since),
            "until": _iso(period.until),
            "month": period.month,
            "now": _iso(now),
            "timezone": policy.timezone,
        },
        "tickets": {
            "total": total,
            "open": total - by_status["closed"] - by_status["cancelled"],
            "resolved": s.resolved,
            "closed": by_status["closed"],
            "cancelled": by_status["cancelled"],
        },
        "by_status": {k: by_status[k] for k in STATUS_KEYS},
        "by_category": counted(s.categories, CATEGORY_KEYS),
        "by_priority": counted(s.priorities, PRIORITY_KEYS),
        "similar_titles": [
            {
                "title": title,
                "count": g.count,
                "share": _share(g.count, total),
                "variants": g.variants,
            }
            for g, title in zip(groups, masked, strict=True)
        ],
        "title_grouping": {"distinct": len(titles), "grouped": grouped},
        "times": times,
        "sla": sla,
        "sla_overall": {"stopped": stopped, "met": met_all, "met_share": _share(met_all, stopped)},
        "escalations": {
            "total": len(s.levels),
            "tickets": s.escalated,
            "by_level": {k: levels[k] for k in (*LEVELS, *sorted(set(levels) - set(LEVELS)))},
            "by_clock": {
                k: esc_clocks[k]
                for k in (*CLOCKS, MANUAL, *sorted(set(esc_clocks) - {*CLOCKS, MANUAL}))
            },
        },
        "satisfaction": satisfaction,
        "technicians": technicians,
        "reopen": {
            "reopened": s.reopened,
            "resolved": s.resolved,
            "rate": _share(s.reopened, s.resolved),
        },
        "kb": kb,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _mask_titles(titles: list[str], tickets: Iterable[Mapping[str, Any]]) -> list[str]:
    """``titles`` with the names and contacts of the requesters of the tickets that carry
    them masked, and any phone number or e-mail address."""
    wanted = set(titles)
    names: dict[str, set[str | None]] = defaultdict(set)
    contacts: dict[str, set[str | None]] = defaultdict(set)
    if wanted:
        for d in tickets:
            title = d["title"]
            if title not in wanted:
                continue
            req = d.get("requester") or {}
            name, contact = req.get("name"), req.get("contact")
            if name and str(name) in title:
                names[title].add(str(name))
            if contact and str(contact) in title:
                contacts[title].add(str(contact))
    # Longest names first, so that 王小明 is masked before a 王小 inside it.
    return [
        redact(t, sorted(names[t], key=lambda n: -len(n or "")), list(contacts[t])) for t in titles
    ]
