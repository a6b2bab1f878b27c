"""Desk statistics: where the desk spends its time, computed over plain ticket data.

:func:`compute` takes the tickets as :meth:`itdesk.store.desk.Desk.ticket_data` returns
them (the YAML's keys, served from the cache in ``.git``) and returns every figure as
plain data under stable keys: the JSON output of ``itdesk stats``, and what
:mod:`itdesk.channels.statsreport` lays out for people. Nothing here renders.

It never builds a :class:`~itdesk.core.model.Ticket` for every ticket: one costs
~200 µs to build, a minute for the 100,000 tickets of two years (PERFORMANCE.md asks
for 2 s). Times are parsed only where a figure needs them, each ticket's log is read
once (:func:`itdesk.core.sla.read_log`), and SLA compliance is what the desk's one SLA
engine says of each clock (:func:`itdesk.core.sla.clock_outcomes`, the verdicts of
``check`` without the due times). Similar titles are grouped within a fixed budget of
work (:data:`GROUPING_BUDGET`), so 100,000 different titles cost no more than a few
thousand.

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
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from itertools import chain
from operator import itemgetter
from typing import Any

from ..errors import InvalidValue
from .kb import _STOPWORDS, _stem, symptom_words
from .model import Category, Priority, Satisfaction, Status
from .policy import Policy
from .privacy import redact
from .sla import (
    BREACHED,
    CLOCKS,
    MET,
    RUNNING,
    Calendar,
    Rules,
    clock_outcomes,
    naive_time,
    read_log,
    read_times,
)

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
LEVELS = ("supervisor", "manager", "vendor")
WARNING = "assignee"  # the level of an at-risk warning to the assignee: not an escalation
MANUAL = "manual"  # escalations not tied to an SLA clock (P1 inform, vendor, by hand)
# Statuses in which a ticket is in a technician's hands.
_FINISHED = frozenset({"closed", "cancelled"})
WORKING = frozenset({"assigned", "in_progress", "pending_vendor", "pending_user", "reopened"})

# Two titles are "the same problem" from this Jaccard similarity of their search terms
# (itdesk.core.kb.tokenize: words and CJK bigrams): 打印机卡纸，无法打印 and the same title
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


# itdesk.core.kb.tokenize, character by character in Python, costs ~25 µs a title; the same
# terms by one regular expression ~5 µs (tests/test_stats.py checks they agree).
_CJK_RANGES = (
    "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af\U00020000-\U0002ffff"
)
_TERM = re.compile(f"([{_CJK_RANGES}]+)|[^\\W_{_CJK_RANGES}]+")


def terms(text: str) -> list[str]:
    """The search terms of :func:`itdesk.core.kb.tokenize`: lowercase words (less stopwords,
    plurals stemmed) and the character bigrams of CJK runs."""
    text = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).lower()
    text = symptom_words(text)
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


# ------------------------------------------------------------------------- scan

_parse = datetime.fromisoformat


@dataclass(slots=True)
class _Scan:
    """What one pass over the tickets collects; :func:`_figures` counts it."""

    # A title's requesters' names and contacts found in it (for masking the top titles):
    # kept instead of the tickets, so the scan holds figures, never the tickets.
    title_names: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    title_contacts: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
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
    outcomes: list[int] = field(default_factory=list)  # itdesk.core.sla.clock_outcomes
    levels: list[str] = field(default_factory=list)
    esc_clocks: list[str] = field(default_factory=list)
    escalated: int = 0
    warnings: int = 0  # at-risk warnings to assignees
    ratings: list[tuple[str, str, str]] = field(default_factory=list)
    assigned: list[str] = field(default_factory=list)
    open_by: list[str] = field(default_factory=list)
    resolved_by: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    resolved: int = 0
    reopened: int = 0
    kb: list[str] = field(default_factory=list)


def _scan(
    tickets: Iterable[Mapping[str, Any]],
    rules: Rules,
    since: datetime | None,
    until: datetime | None,
) -> _Scan:
    """One pass over the tickets reported in [since, until).

    The hot loop of ``stats``: at 100,000 tickets every step counts, so the lists it
    appends to are bound to local names, and each ticket's log and times are read once,
    for the figures and the SLA engine alike (times naive: see
    :func:`itdesk.core.sla.naive_time`)."""
    s = _Scan()
    add_status = s.statuses.append
    title_names, title_contacts = s.title_names, s.title_contacts
    add_priority, add_category = s.priorities.append, s.categories.append
    add_title = s.titles.append
    response, resolution, resolved_by = s.response, s.resolution, s.resolved_by
    add_outcomes, add_open, add_assigned = s.outcomes.extend, s.open_by.append, s.assigned.extend
    pause_on = rules.pause_on
    parse, read_log_of, read_times_of, outcomes_of = _parse, read_log, read_times, clock_outcomes
    add_rating = s.ratings.append
    resolved = reopened = 0
    bounded = since is not None or until is not None
    for d in tickets:
        rep = d["reported_at"]
        if bounded:
            when = parse(rep)
            if (since is not None and when < since) or (until is not None and when >= until):
                continue
        status = d["status"]
        priority = d.get("priority")
        title = d["title"]
        req = d.get("requester")
        if req:
            name, contact = req.get("name"), req.get("contact")
            if name and name in title:
                title_names[title].add(name)
            if contact and contact in title:
                title_contacts[title].add(contact)
        add_status(status)
        add_priority(priority)
        add_category(d.get("category"))
        if status != "cancelled":  # duplicates and mistakes are no problem of their own
            add_title(title)

        facts = read_log_of(d, pause_on)
        _, first_resolved, _, reopen, resolvers, assignees, _, _ = facts
        times = read_times_of(d, facts)
        reported, _, responded, _, _, resolved_at, _, _, _ = times
        if responded is not None:
            response[priority].append((responded - reported).total_seconds())
        if first_resolved is not None:
            resolved += 1
            result = d.get("resolution")  # resolved once: the same time, read already
            first = resolved_at if result and result["at"] == first_resolved else None
            if first is None:
                first = naive_time(first_resolved, rep)
            resolution[priority].append((first - reported).total_seconds())
            for name, when in resolvers.items():
                theirs = first if when == first_resolved else naive_time(when, rep)
                resolved_by[name].append((theirs - reported).total_seconds())
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
            add_rating((fol["speed"], fol["attitude"], fol["overall"]))
        escalations = d.get("escalations")
        if escalations:
            raised = False
            for esc in escalations:
                if esc["level"] == WARNING:  # an at-risk warning, not an escalation
                    s.warnings += 1
                    continue
                raised = True
                s.levels.append(esc["level"])
                s.esc_clocks.append(esc.get("clock") or MANUAL)
            s.escalated += raised
        kb = d.get("kb")
        if kb:
            s.kb.extend(set(kb))

        # Open tickets' clocks as they stand, closed ones' at their closing; cancelled
        # ones owe none (duplicates and mistakes).
        add_outcomes(outcomes_of(d, rules, facts, times))
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
    rules = Rules.of(policy, calendars)
    part = tally(tickets, rules, period.since, period.until)
    return figures([part], policy, now, period, articles)


def figures(
    tallies: Iterable[Tally],
    policy: Policy,
    now: datetime,
    period: Period | None = None,
    articles: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """:func:`compute`'s figures from the :func:`tally` of each part of the tickets (a
    month of the archive, the active tickets), the parts in the order of the files."""
    return _figures(merge(tallies), policy, now, period or Period(), articles or {})


# ------------------------------------------------------------------------- tally

Tally = dict[str, Any]  # plain data (marshal, JSON-like): what _figures counts
_COUNTED = ("kinds", "titles", "outcomes", "levels", "esc_clocks", "ratings", "assigned",
            "open_by", "kb")  # fmt: skip
_LISTED = ("response", "resolution", "resolved_by")  # {key: [seconds, ...]}
_SUMMED = ("escalated", "warnings", "resolved", "reopened")


def tally(
    tickets: Iterable[Mapping[str, Any]],
    rules: Rules,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Tally:
    """What :func:`figures` needs of ``tickets`` (those reported in [since, until)),
    counted: a few thousand values for a month of tickets, not the tickets. Tallies of
    parts are merged by :func:`merge`; one of finished tickets is kept by the store."""
    # Thousands of small lists made while the tickets are alive would set off the
    # cyclic collector again and again (the cache does the same, see itdesk.store.cache).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _tally(_scan(tickets, rules, since, until))
    finally:
        if collecting:
            gc.enable()


def finished_tally(tickets: Sequence[Mapping[str, Any]], rules: Rules) -> Tally | None:
    """The :func:`tally` of ``tickets`` when every one is closed or cancelled (its
    figures no longer change with time), with the first and last time reported, so that
    a period can take it whole or leave it out (:func:`within`); None otherwise."""
    if any(d["status"] not in _FINISHED for d in tickets):
        return None
    part = tally(tickets, rules)
    reported = [_parse(d["reported_at"]) for d in tickets]
    part["span"] = [min(reported).isoformat(), max(reported).isoformat()] if reported else None
    return part


def within(part: Tally, period: Period) -> bool | None:
    """Whether every ticket of a :func:`finished_tally` was reported in ``period``
    (True), none (False), or some (None: the tickets must be tallied for the period)."""
    if period.since is None and period.until is None:
        return True
    span = part.get("span")
    if not span:
        return False
    first, last = _parse(span[0]), _parse(span[1])
    since, until = period.since, period.until
    if (since is not None and last < since) or (until is not None and first >= until):
        return False
    if (since is None or first >= since) and (until is None or last < until):
        return True
    return None


def _tally(s: _Scan) -> Tally:
    return {
        "kinds": dict(Counter(zip(s.statuses, s.categories, s.priorities, strict=True))),
        "titles": dict(Counter(s.titles)),
        "title_names": {t: sorted(v) for t, v in s.title_names.items()},
        "title_contacts": {t: sorted(v) for t, v in s.title_contacts.items()},
        "response": dict(s.response),
        "resolution": dict(s.resolution),
        "outcomes": dict(Counter(s.outcomes)),
        "levels": dict(Counter(s.levels)),
        "esc_clocks": dict(Counter(s.esc_clocks)),
        "escalated": s.escalated,
        "warnings": s.warnings,
        "ratings": dict(Counter(s.ratings)),
        "assigned": dict(Counter(s.assigned)),
        "open_by": dict(Counter(s.open_by)),
        "resolved_by": dict(s.resolved_by),
        "resolved": s.resolved,
        "reopened": s.reopened,
        "kb": dict(Counter(s.kb)),
    }


def merge(tallies: Iterable[Tally]) -> Tally:
    """One tally of several parts, as if their tickets had been tallied in one pass
    (counts in order of first appearance, as a Counter of the whole would keep them)."""
    out: Tally = {k: Counter() for k in _COUNTED}
    out |= {k: defaultdict(list) for k in _LISTED}
    out |= {k: 0 for k in _SUMMED}
    out |= {"title_names": defaultdict(set), "title_contacts": defaultdict(set)}
    for part in tallies:
        for k in _COUNTED:
            out[k].update(part[k])
        for k in _LISTED:
            lists = out[k]
            for key, values in part[k].items():
                lists[key] += values
        for k in _SUMMED:
            out[k] += part[k]
        for k in ("title_names", "title_contacts"):
            found = out[k]
            for title, values in part[k].items():
                found[title].update(values)
    return out


def _figures(
    t: Tally,
    policy: Policy,
    now: datetime,
    period: Period,
    articles: Mapping[str, str | None],
) -> dict[str, Any]:
    kinds: Counter[tuple[str, str | None, str | None]] = t["kinds"]
    total = sum(kinds.values())
    by_status: Counter[str] = Counter()
    by_category: Counter[str | None] = Counter()
    by_priority: Counter[str | None] = Counter()
    for (status, category, priority), n in kinds.items():
        by_status[status] += n
        if status != "cancelled":  # duplicates and mistakes count in no problem figure
            by_category[category] += n
            by_priority[priority] += n

    def counted(values: Counter[str | None], keys: Sequence[str]) -> dict[str, Any]:
        counter: Counter[str] = Counter()
        for value, n in values.items():
            counter[value or UNCLASSIFIED] += n
        extra = sorted(k for k in counter if k not in keys)
        whole = sum(counter.values())  # cancelled tickets are left out of these
        return {
            k: {"count": counter[k], "share": _share(counter[k], whole)} for k in (*keys, *extra)
        }

    titles: Counter[str] = t["titles"]
    groups, grouped = group_titles(titles)
    masked = _mask_titles([g.title for g in groups], t["title_names"], t["title_contacts"])

    response, resolution = t["response"], t["resolution"]
    for lists in (*response.values(), *resolution.values()):
        lists.sort()
    times: dict[str, Any] = {}
    for key in (*PRIORITY_KEYS, "all"):
        if key == "all":
            # Sorted runs one after the other: timsort merges them in one pass.
            resp = sorted(chain.from_iterable(response.values()))
            reso = sorted(chain.from_iterable(resolution.values()))
        else:
            which = None if key == UNCLASSIFIED else key
            resp, reso = response.get(which, []), resolution.get(which, [])
        times[key] = {"response": _time_figures(resp), "resolution": _time_figures(reso)}

    outcomes: Counter[int] = t["outcomes"]
    sla: dict[str, Any] = {}
    for i, clock in enumerate(CLOCKS):
        met, breached = outcomes[3 * i + MET], outcomes[3 * i + BREACHED]
        sla[clock] = {
            "stopped": met + breached,
            "met": met,
            "breached": breached,
            "met_share": _share(met, met + breached),
            "running": outcomes[3 * i + RUNNING],
        }
    stopped = sum(v["stopped"] for v in sla.values())
    met_all = sum(v["met"] for v in sla.values())

    satisfaction: dict[str, Any] = {}
    combinations: Counter[tuple[str, str, str]] = t["ratings"]
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

    assigned, open_by = t["assigned"], t["open_by"]
    resolved_by = t["resolved_by"]
    names = set(assigned) | set(resolved_by)
    technicians = [
        {
            "name": name,
            "assigned": assigned[name],
            "resolved": len(resolved_by.get(name, ())),
            "open": open_by[name],
            "median_resolution_seconds": _seconds(
                _quantile(sorted(resolved_by.get(name, [])), 0.5)
            ),
        }
        for name in sorted(names, key=lambda n: (-assigned[n], n))
    ]
    kb_counts: Counter[str] = t["kb"]
    kb = [
        {
            "slug": slug,
            "title": articles.get(slug),
            "exists": slug in articles,
            "tickets": kb_counts[slug],
        }
        for slug in sorted(set(articles) | set(kb_counts), key=lambda x: (-kb_counts[x], x))
    ]
    levels, esc_clocks = t["levels"], t["esc_clocks"]
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
            "resolved": t["resolved"],
            "closed": by_status["closed"],
            "cancelled": by_status["cancelled"],
        },
        "by_status": {k: by_status[k] for k in STATUS_KEYS},
        "by_category": counted(by_category, CATEGORY_KEYS),
        "by_priority": counted(by_priority, PRIORITY_KEYS),
        "similar_titles": [
            {
                "title": title,
                "count": g.count,
                "share": _share(g.count, total - by_status["cancelled"]),
                "variants": g.variants,
            }
            for g, title in zip(groups, masked, strict=True)
        ],
        "title_grouping": {"distinct": len(titles), "grouped": grouped},
        "times": times,
        "sla": sla,
        "sla_overall": {"stopped": stopped, "met": met_all, "met_share": _share(met_all, stopped)},
        "escalations": {
            "total": sum(levels.values()),
            "tickets": t["escalated"],
            "at_risk_warnings": t["warnings"],
            "by_level": {k: levels[k] for k in (*LEVELS, *sorted(set(levels) - set(LEVELS)))},
            "by_clock": {
                k: esc_clocks[k]
                for k in (*CLOCKS, MANUAL, *sorted(set(esc_clocks) - {*CLOCKS, MANUAL}))
            },
        },
        "satisfaction": satisfaction,
        "technicians": technicians,
        "reopen": {
            "reopened": t["reopened"],
            "resolved": t["resolved"],
            "rate": _share(t["reopened"], t["resolved"]),
        },
        "kb": kb,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _mask_titles(
    titles: list[str], names: Mapping[str, set[str]], contacts: Mapping[str, set[str]]
) -> list[str]:
    """``titles`` with the names and contacts of the requesters of the tickets that carry
    them masked (``names``/``contacts``: those found in each title), and any phone number
    or e-mail address."""
    # Longest names first, so that 王小明 is masked before a 王小 inside it.
    return [
        redact(
            t,
            sorted(names.get(t, ()), key=lambda n: -len(n)),
            list(contacts.get(t, ())),
        )
        for t in titles
    ]
