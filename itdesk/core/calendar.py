"""Working time: when an SLA clock runs, and where a target of working time lands.

A clock on business hours must skip nights, weekends, the lunch break and holidays, and
still land on the right minute across a daylight-saving change. This module does that
arithmetic and nothing else: it reads no files and no clock, so :mod:`itdesk.core.sla` can
replay any ticket's history at any "now".

* :data:`ALWAYS` (:class:`AlwaysOpen`): 24x7, counted in real (UTC) time, so "+4h" is
  four real hours even on the night the clocks change.
* :class:`BusinessHours`: working windows per weekday in an IANA zone, full-day
  holidays (``MM-DD`` every year, ``YYYY-MM-DD`` once), part-day holidays and make-up
  working days on weekends (China's 调休). Every date is a date in the calendar's own
  zone, so a holiday is never a day off in a zone ahead of UTC.
* :func:`calendar_from_dict` builds either from plain (YAML) data, and
  :func:`holidays_from_ics` reads the holidays and make-up days of an iCalendar file.

Windows are half-open: a calendar open 09:00-18:00 is open at 09:00 and closed at
18:00, yet a target used up exactly at 18:00 is due at 18:00, not the next morning.
Each day's windows are computed once and cached, and elapsed time comes from running
totals per day, so the cron job's thousands of clocks cost milliseconds (see #4).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from ..errors import InvalidPolicy, InvalidValue
from .times import format_duration, zone

__all__ = [
    "ALWAYS",
    "AlwaysOpen",
    "BusinessHours",
    "Calendar",
    "MonthDay",
    "Window",
    "beyond_coverage",
    "calendar_from_dict",
    "holidays_from_ics",
]

# A working window in local wall-clock time, start inclusive, end exclusive. An end of
# 00:00 means midnight at the end of the day (written 24:00).
Window = tuple[time, time]
# A date that repeats every year: (month, day).
MonthDay = tuple[int, int]
Interval = tuple[datetime, datetime]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_WORDS = frozenset({"24x7", "always"})
# How far add() and next_open() search before deciding the calendar never opens again.
SEARCH_YEARS = 10
_SEARCH_DAYS = SEARCH_YEARS * 366
_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MIDNIGHT = time(0)
DEFAULT_HOURS = {"mon-fri": ["09:00-18:00"]}


class Calendar(Protocol):
    """What an SLA clock needs from a calendar."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The time at which ``duration`` of open time has passed after ``start``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between ``start`` and ``end`` (zero if ``end <= start``)."""
        ...

    def is_open(self, t: datetime) -> bool: ...

    def next_open(self, t: datetime) -> datetime:
        """``t`` itself if open, else the start of the next open window."""
        ...

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The open intervals overlapping [start, end), clipped to it."""
        ...


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t.isoformat()}: calendars need aware datetimes")
    return t.astimezone(UTC)


def _check_duration(duration: timedelta) -> None:
    if duration < _ZERO:
        raise ValueError(f"negative duration {duration}: a calendar only adds forward")


@dataclass(frozen=True, slots=True)
class AlwaysOpen:
    """Open 24 hours a day, 7 days a week; results keep the zone of the time given."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        _check_duration(duration)
        # Real time: across a daylight-saving change "+4h" is four hours, not wall time.
        return (_utc(start) + duration).astimezone(start.tzinfo)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(_utc(end) - _utc(start), _ZERO)

    def is_open(self, t: datetime) -> bool:
        _utc(t)
        return True

    def next_open(self, t: datetime) -> datetime:
        _utc(t)
        return t

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        return [(start, end)] if _utc(end) > _utc(start) else []


ALWAYS = AlwaysOpen()


def _offset(t: time, end: bool = False) -> timedelta:
    """A wall time as the time since midnight; an end of 00:00 is 24:00."""
    if end and t == _MIDNIGHT:
        return _DAY
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second, microseconds=t.microsecond)


def _show(window: Window) -> str:
    start, end = window
    return f"{start:%H:%M}-{'24:00' if end == _MIDNIGHT else format(end, '%H:%M')}"


def _fail(key: str, why: str) -> InvalidPolicy:
    return InvalidPolicy(f"{key}: {why}" if key else why)


def _normal(windows: Sequence[Window], key: str) -> tuple[Window, ...]:
    """``windows`` sorted, after checking each is non-empty and none overlap."""
    for i, (start, end) in enumerate(windows):
        if _offset(end, end=True) <= _offset(start):
            why = "is empty" if start == end else "ends before it starts"
            raise _fail(f"{key}[{i}]", f"{_show((start, end))!r} {why}")
    order = sorted(range(len(windows)), key=lambda i: _offset(windows[i][0]))
    for prev, cur in zip(order, order[1:], strict=False):
        if _offset(windows[cur][0]) < _offset(windows[prev][1], end=True):
            raise _fail(
                f"{key}[{cur}]",
                f"{_show(windows[cur])!r} overlaps {_show(windows[prev])!r}; "
                "give each stretch once",
            )
    return tuple(windows[i] for i in order)


def _check_month_day(md: MonthDay, key: str) -> None:
    month, day = md
    try:
        date(2024, month, day)  # a leap year, so 02-29 is a valid yearly date
    except (ValueError, TypeError):
        raise _fail(key, f"{month:02}-{day:02} is not a day of the year") from None


class _Plan:
    """A :class:`BusinessHours`'s normalized rules and its caches (it is frozen)."""

    __slots__ = (
        "week",
        "standard",
        "once",
        "yearly",
        "days",
        "totals",
        "anchor",
        "ahead",
        "memo",
    )

    def __init__(self) -> None:
        self.week: tuple[tuple[Window, ...], ...] = ((),) * 7
        self.standard: tuple[Window, ...] = ()
        self.once: dict[date, tuple[Window, ...]] = {}
        self.yearly: dict[MonthDay, tuple[Window, ...]] = {}
        self.days: dict[date, tuple[Interval, ...]] = {}
        self.totals: dict[date, timedelta] = {}
        # Running totals: ahead[i] is the open time in the days [anchor, anchor + i).
        # Empty until the first question; then grown on demand in either direction.
        self.anchor = date.min
        self.ahead: list[timedelta] = []
        # _open_until by instant: a cron run asks about the same "now" for every clock.
        self.memo: dict[datetime, timedelta] = {}


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Working windows per weekday in zone ``tz``, with holidays and make-up days.

    ``hours`` maps a weekday (0 = Monday) to its windows; a weekday left out is closed.
    ``holidays`` are closed all day: a :class:`date` once, a ``(month, day)`` every year.
    ``part_days`` replace a date's windows (e.g. open only 09:00-12:00 on 2024-12-24).
    ``workdays`` open a date, usually a weekend make-up day, with the given windows, or
    with the standard ones (those of the first weekday from Monday that has any) when
    the value is ``None``. For one date, a dated rule beats a yearly one, and a working
    day beats a part-day holiday, which beats a full-day one.
    """

    tz: tzinfo
    hours: Mapping[int, Sequence[Window]]
    holidays: Collection[date | MonthDay] = frozenset()
    part_days: Mapping[date | MonthDay, Sequence[Window]] = field(default_factory=dict)
    workdays: Mapping[date, Sequence[Window] | None] = field(default_factory=dict)
    # The last day its holiday dates are known for (the official data's last year, or
    # the last year of the dated holidays written by hand); None: no dated holidays.
    covered_until: date | None = None
    _plan: _Plan = field(default_factory=_Plan, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plan = self._plan
        week: list[tuple[Window, ...]] = [()] * 7
        for weekday, windows in self.hours.items():
            if weekday not in range(7):
                raise _fail(f"hours[{weekday!r}]", "a weekday is 0 (Monday) to 6 (Sunday)")
            week[weekday] = _normal(windows, f"hours.{WEEKDAYS[weekday]}")
        plan.week = tuple(week)
        plan.standard = next((w for w in week if w), ())
        for day in self.holidays:
            if isinstance(day, date):
                plan.once[day] = ()
            else:
                _check_month_day(day, f"holidays: {day!r}")
                plan.yearly[day] = ()
        for day, windows in self.part_days.items():
            key = f"part_days.{_label(day)}"
            if isinstance(day, date):
                plan.once[day] = _normal(windows, key)
            else:
                _check_month_day(day, key)
                plan.yearly[day] = _normal(windows, key)
        for day, maybe in self.workdays.items():
            if maybe is None and not plan.standard:
                raise _fail(
                    f"workdays.{day}", "no weekday has hours to copy; give this day's hours"
                )
            windows = plan.standard if maybe is None else _normal(maybe, f"workdays.{day}")
            plan.once[day] = windows
        if not any(plan.week) and not any(plan.once.values()) and not any(plan.yearly.values()):
            raise _fail("", "calendar has no working hours; give hours like mon-fri 09:00-18:00")

    # -- per-day windows, cached ---------------------------------------------------

    def _local(self, d: date) -> tuple[Window, ...]:
        plan = self._plan
        windows = plan.once.get(d)
        if windows is None:
            windows = plan.yearly.get((d.month, d.day))
        if windows is None:
            windows = plan.week[d.weekday()]
        return windows

    def _day(self, d: date) -> tuple[Interval, ...]:
        """Date ``d``'s open intervals in UTC, in order."""
        got = self._plan.days.get(d)
        if got is None:
            spans = []
            for start, end in self._local(d):
                # Wall times through the zone: on a daylight-saving day the window still
                # opens at local 09:00; a window lost in the skipped hour is dropped.
                a = datetime.combine(d, start, self.tz).astimezone(UTC)
                b = datetime.combine(d + _DAY if end == _MIDNIGHT else d, end, self.tz)
                if a < (b := b.astimezone(UTC)):
                    spans.append((a, b))
            got = self._plan.days[d] = tuple(spans)
        return got

    def _total(self, d: date) -> timedelta:
        total = self._plan.totals.get(d)
        if total is None:
            total = self._plan.totals[d] = sum((b - a for a, b in self._day(d)), _ZERO)
        return total

    def _index(self, d: date) -> int:
        """Where ``d`` is in the running totals, which are grown to reach it."""
        plan = self._plan
        if not plan.ahead:
            plan.anchor, plan.ahead = d, [_ZERO]
        n = (d - plan.anchor).days
        if n < 0:
            # An earlier day than any so far: start the totals earlier, with room to spare.
            grow = max(-n, len(plan.ahead), 31)
            anchor = plan.anchor - timedelta(days=grow)
            head = [_ZERO]
            for i in range(grow):
                head.append(head[-1] + self._total(anchor + timedelta(days=i)))
            plan.ahead = head[:-1] + [head[-1] + t for t in plan.ahead]
            plan.memo.clear()
            plan.anchor, n = anchor, n + grow
        self._extend(n)
        return n

    def _extend(self, n: int) -> None:
        """Grow the running totals to index ``n``."""
        plan = self._plan
        ahead = plan.ahead
        while len(ahead) <= n:
            ahead.append(ahead[-1] + self._total(plan.anchor + timedelta(days=len(ahead) - 1)))

    def _open_until(self, u: datetime, d: date) -> timedelta:
        """Open time from the anchor to instant ``u`` (UTC), which falls on local date ``d``.

        Only comparable with values got after the earliest date was indexed (an earlier
        day moves the anchor).
        """
        plan = self._plan
        total = plan.memo.get(u)
        if total is None:
            n = self._index(d)
            total = plan.ahead[n]
            for a, b in self._day(d):
                if u <= a:
                    break
                total += min(u, b) - a
            if len(plan.memo) > 10_000:
                plan.memo.clear()
            plan.memo[u] = total
        return total

    def _date(self, t: datetime) -> date:
        return t.astimezone(self.tz).date()

    def _never(self, what: str, start: datetime) -> InvalidPolicy:
        return InvalidPolicy(
            f"calendar: {what} within {SEARCH_YEARS} years after {start.isoformat()}; "
            "check its hours and holidays"
        )

    # -- the Calendar protocol -----------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        _check_duration(duration)
        if not duration:
            return self.next_open(start)
        first = self._date(start)
        start_index = self._index(first)
        target = self._open_until(_utc(start), first) + duration
        plan = self._plan
        # The first day by whose end ``target`` is reached, found by bisecting the running
        # totals (grown a month at a time), so a long target costs a few look-ups.
        while plan.ahead[-1] < target:
            if len(plan.ahead) > start_index + _SEARCH_DAYS:
                raise self._never(f"no {format_duration(duration)} of working time", start)
            self._extend(len(plan.ahead) + 31)
        k = bisect_left(plan.ahead, target, start_index + 1)
        day = plan.anchor + timedelta(days=k - 1)
        remaining = target - plan.ahead[k - 1]
        for a, b in self._day(day):
            if remaining <= b - a:
                # Used up exactly at a window's end: due then, not at the next opening.
                return (a + remaining).astimezone(self.tz)
            remaining -= b - a
        raise AssertionError("running totals disagree with the day's windows")  # pragma: no cover

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        s, e = _utc(start), _utc(end)
        if e <= s:
            return _ZERO
        # The earlier instant first: indexing an earlier day may move the anchor.
        before = self._open_until(s, self._date(start))
        return self._open_until(e, self._date(end)) - before

    def is_open(self, t: datetime) -> bool:
        u = _utc(t)
        return any(a <= u < b for a, b in self._day(self._date(t)))

    def next_open(self, t: datetime) -> datetime:
        u = _utc(t)
        first = self._date(t)
        for n in range(_SEARCH_DAYS):
            for a, b in self._day(first + timedelta(days=n)):
                if b > u:
                    return max(a, u).astimezone(self.tz)
        raise self._never("no working time", t)

    def day_end(self, t: datetime) -> datetime:
        """When the working day ``t`` falls in ends (its last window's end), or the next
        working day's when ``t`` is after hours or on a day off: what "下班前" means."""
        u = _utc(t)
        first = self._date(t)
        for n in range(_SEARCH_DAYS):
            day = self._day(first + timedelta(days=n))
            if day and day[-1][1] > u:
                return day[-1][1].astimezone(self.tz)
        raise self._never("no working day", t)

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        s, e = _utc(start), _utc(end)
        out = []
        d, last = self._date(start), self._date(end)
        while d <= last:
            for a, b in self._day(d):
                a, b = max(a, s), min(b, e)
                if a < b:
                    out.append((a.astimezone(self.tz), b.astimezone(self.tz)))
            d += _DAY
        return out

    # -- more dates from another source --------------------------------------------

    def with_dates(
        self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()
    ) -> BusinessHours:
        """This calendar plus full-day holidays and standard make-up days from elsewhere
        (an ICS file); a date this calendar names by its full date keeps its meaning."""
        named = set(self._plan.once)
        extra_work = {d: None for d in workdays if d not in named}
        extra_off = {d for d in holidays if d not in named and d not in extra_work}
        return replace(
            self,
            holidays=frozenset(self.holidays) | extra_off,
            workdays={**extra_work, **self.workdays},
        )


# -- plain data (YAML) -------------------------------------------------------------

_CLOCK_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–~]\s*(\d{1,2}):(\d{2})\s*$")
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_DAY_NAMES = {
    **{name: i for i, name in enumerate(WEEKDAYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")},
    **{f"星期{c}": i for i, c in enumerate("一二三四五六日")},
    "周天": 6,
    "星期天": 6,
}
_DAY_GROUPS = {
    "weekdays": range(5),
    "weekend": range(5, 7),
    "weekends": range(5, 7),
    "daily": range(7),
}
_KEYS = ("timezone", "hours", "official", "holidays", "workdays", "description")
_WINDOW_HELP = "expected a window like '09:00-12:00' (HH:MM-HH:MM, end up to 24:00)"
_DAYS_HELP = "use mon..sun, a range like mon-fri, or a list like mon,wed,fri"
_DATE_HELP = "expected a date like 2024-02-10, 2024-02-10..2024-02-17 or (every year) 01-01"


def _window(value: Any, key: str) -> Window:
    m = _CLOCK_RANGE.match(value) if isinstance(value, str) else None
    if m is None:
        raise _fail(key, f"{value!r}: {_WINDOW_HELP}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise _fail(key, f"{value!r} is not a time of day; {_WINDOW_HELP}")
    return time(h1, m1), time(0 if h2 == 24 else h2, m2)


def _windows(value: Any, key: str) -> tuple[Window, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return _normal([_window(value, key)], key)
    if not isinstance(value, list):
        raise _fail(key, f"{value!r}: expected a list of windows like ['09:00-12:00']")
    return _normal([_window(v, f"{key}[{i}]") for i, v in enumerate(value)], key)


def _day_names(spec: str, key: str) -> list[int]:
    days: list[int] = []
    for part in re.split(r"\s*[,，、]\s*", spec.strip().lower()):
        if part in _DAY_GROUPS:
            days.extend(_DAY_GROUPS[part])
            continue
        first, sep, last = part.partition("-")
        if first.strip() not in _DAY_NAMES or sep and last.strip() not in _DAY_NAMES:
            raise _fail(key, f"unknown day {part!r}; {_DAYS_HELP}")
        a = _DAY_NAMES[first.strip()]
        b = _DAY_NAMES[last.strip()] if sep else a
        if b < a:
            raise _fail(key, f"{part!r} runs backwards; write ranges from Monday on, e.g. mon-fri")
        days.extend(range(a, b + 1))
    return days


def _hours(value: Any, key: str) -> dict[int, tuple[Window, ...]]:
    if isinstance(value, str) and value.strip().lower() in ALWAYS_WORDS:
        return {i: ((_MIDNIGHT, _MIDNIGHT),) for i in range(7)}
    if not isinstance(value, Mapping):
        raise _fail(key, f"expected a mapping like mon-fri: ['09:00-18:00'] (or 24x7); {value!r}")
    hours: dict[int, tuple[Window, ...]] = {}
    given_by: dict[int, str] = {}
    for spec, windows in value.items():
        sub = f"{key}.{spec}"
        if not isinstance(spec, str):
            raise _fail(sub, f"unknown day {spec!r}; {_DAYS_HELP}")
        parsed = _windows(windows, sub)
        for day in _day_names(spec, sub):
            if day in given_by:
                raise _fail(sub, f"{WEEKDAYS[day]} is already given by {given_by[day]!r}")
            given_by[day] = spec
            hours[day] = parsed
    return hours


def _dates(value: Any, key: str) -> list[date | MonthDay]:
    """One date entry: a date, ``YYYY-MM-DD``, ``MM-DD`` or a ``a..b`` range."""
    if isinstance(value, datetime):
        raise _fail(key, f"{value.isoformat()!r}: {_DATE_HELP}")
    if isinstance(value, date):
        return [value]
    if not isinstance(value, str):
        raise _fail(key, f"{value!r}: {_DATE_HELP}")
    text = value.strip()
    if m := _MONTH_DAY.match(text):
        md = (int(m.group(1)), int(m.group(2)))
        _check_month_day(md, key)
        return [md]
    first, sep, last = text.partition("..")
    try:
        a = date.fromisoformat(first.strip())
        b = date.fromisoformat(last.strip()) if sep else a
    except ValueError:
        raise _fail(key, f"{value!r}: {_DATE_HELP}") from None
    if not timedelta(0) <= b - a <= timedelta(days=366):
        raise _fail(key, f"{value!r}: a range runs forward and spans at most a year")
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def _entry(value: Any, key: str) -> tuple[list[date | MonthDay], tuple[Window, ...] | None, str]:
    """A holiday or workday entry: (its dates, its hours if given, the key of the date)."""
    if not isinstance(value, Mapping):
        return _dates(value, key), None, key
    unknown = [str(k) for k in value if k not in ("date", "hours", "name")]
    if unknown or "date" not in value:
        why = f"unknown key {unknown[0]!r}" if unknown else "missing date"
        raise _fail(key, f"{why}; an entry is {{date: 2024-12-24, hours: ['09:00-12:00']}}")
    given = value.get("hours")
    hours = None if given is None else _windows(given, f"{key}.hours")
    return _dates(value["date"], f"{key}.date"), hours, f"{key}.date"


def _list(value: Any, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(key, f"expected a list of dates; {_DATE_HELP}")
    return value


def calendar_from_dict(
    data: Mapping[str, Any] | str, where: str = "calendar", default_tz: str = "UTC"
) -> BusinessHours | AlwaysOpen:
    """Build a calendar from plain data, as parsed from YAML::

        timezone: Asia/Shanghai          # default: default_tz (pass the desk's zone)
        hours:                           # default: mon-fri 09:00-18:00
          mon-fri: ["09:00-12:00", "13:30-18:00"]
          sat: []
        holidays: ["01-01", "2024-02-10..2024-02-17", {date: "2024-12-24", hours: ["09:00-12:00"]}]
        workdays: ["2024-02-04", {date: "2024-02-18", hours: ["09:00-17:00"]}]

    or the string ``24x7`` (``always``). ``hours`` keys are ``mon``..``sun`` (also
    ``monday``, ``周一``), ranges (``mon-fri``), lists (``mon,wed``), ``weekdays``,
    ``weekend`` or ``daily``; ``hours: 24x7`` opens every day around the clock, holidays
    aside. A date entry is ``YYYY-MM-DD``, ``MM-DD`` (holidays only, every year) or a range
    ``YYYY-MM-DD..YYYY-MM-DD``. ``official: CN`` adds China's official holidays and
    make-up working days (:mod:`itdesk.core.official`); the dates written under
    ``holidays``/``workdays`` override them. The same date given bare and with hours (as when an ICS
    file's dates are appended) takes the hours; a make-up day beats a holiday. Errors name
    the key under ``where`` (e.g. ``itdesk.yaml: calendars.business``) and what is
    accepted there, in one line.
    """
    if isinstance(data, str) and data.strip().lower() in ALWAYS_WORDS:
        return ALWAYS
    if not isinstance(data, Mapping):
        raise _fail(where, f"{data!r}: expected 24x7 or a mapping with keys {', '.join(_KEYS)}")

    def at(sub: str) -> str:
        return f"{where}.{sub}" if where else sub

    for k in data:
        if k not in _KEYS:
            raise _fail(at(str(k)), f"unknown key; known keys: {', '.join(_KEYS)}")
    tz_name = data.get("timezone", default_tz)
    try:
        tz = zone(str(tz_name))
    except InvalidValue as exc:
        raise _fail(at("timezone"), str(exc)) from None
    hours = _hours(data.get("hours", DEFAULT_HOURS), at("hours"))

    holidays: set[date | MonthDay] = set()
    part_days: dict[date | MonthDay, tuple[Window, ...]] = {}
    part_key: dict[date | MonthDay, str] = {}
    for i, item in enumerate(_list(data.get("holidays"), at("holidays"))):
        days, windows, key = _entry(item, at(f"holidays[{i}]"))
        for day in days:
            if windows is None:
                holidays.add(day)
            elif part_days.setdefault(day, windows) != windows:
                raise _fail(key, f"{_label(day)} already has other hours at {part_key[day]}")
            else:
                part_key.setdefault(day, key)
    workdays: dict[date, tuple[Window, ...] | None] = {}
    work_key: dict[date, str] = {}
    for i, item in enumerate(_list(data.get("workdays"), at("workdays"))):
        days, windows, key = _entry(item, at(f"workdays[{i}]"))
        for day in days:
            if not isinstance(day, date):
                raise _fail(key, f"{_label(day)}: a make-up working day needs a full date")
            if windows is None:
                if not any(hours.values()):
                    raise _fail(key, f"{day}: no weekday has hours to copy; give this day's hours")
                workdays.setdefault(day, None)  # a bare date (e.g. from an ICS file) adds nothing
            elif workdays.setdefault(day, windows) not in (None, windows):
                raise _fail(key, f"{day} already has other hours at {work_key[day]}")
            else:
                workdays[day] = windows
                work_key.setdefault(day, key)
    dated = [d for d in (*holidays, *part_days, *workdays) if isinstance(d, date)]
    covered = date(max(dated).year, 12, 31) if dated else None
    try:
        cal = BusinessHours(tz, hours, frozenset(holidays), part_days, workdays, covered)
    except InvalidPolicy as exc:
        raise _fail(where, str(exc)) from None
    if data.get("official") is None:
        return cal
    from .official import official_dates

    try:
        off, work, last = official_dates(str(data["official"]))
    except InvalidPolicy as exc:
        raise _fail(at("official"), str(exc).removeprefix("official: ")) from None
    # the dates written under holidays/workdays keep their meaning (with_dates)
    cal = cal.with_dates(off, work)
    return replace(cal, covered_until=max(last, covered) if covered else last)


def beyond_coverage(calendar: object, due: datetime) -> date | None:
    """The last day ``calendar``'s holiday dates cover, when ``due`` falls after it (its
    days were counted as ordinary ones, holidays unknown); else None."""
    covered = getattr(calendar, "covered_until", None)
    if covered is None:
        return None
    tz = getattr(calendar, "tz", None)
    day = due.astimezone(tz).date() if tz is not None else due.date()
    return covered if day > covered else None


def _label(day: date | MonthDay) -> str:
    return day.isoformat() if isinstance(day, date) else f"{day[0]:02}-{day[1]:02}"


# -- iCalendar ---------------------------------------------------------------------

_WORK_WORDS = ("补班", "上班", "workday", "working day", "work day")
_NOT_WORK = re.compile(r"non[- ]?work(?:ing)?[ -]?day")
_ICS_DURATION = re.compile(r"^\+?P(?:(\d+)W)?(?:(\d+)D)?(?:T.*)?$")


def _unfold(text: str) -> list[str]:
    """Content lines with RFC 5545 folding undone (a line break then a space or tab)."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    return lines


def _content(line: str) -> tuple[str, str, str]:
    """``NAME;PARAM=x:value`` -> (NAME, params, value); colons in quoted params skipped."""
    quoted = False
    for i, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            name, _, params = head.partition(";")
            return name.strip().upper(), params, value
    return line.strip().upper(), "", ""


def _unescape(value: str) -> str:
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _ics_date(value: str, what: str, event: str) -> tuple[date, bool]:
    """An ICS DATE or DATE-TIME value: (its date, whether it has a time after 00:00)."""
    v = value.strip()
    try:
        day = date(int(v[0:4]), int(v[4:6]), int(v[6:8]))
        if len(v) > 8 and (v[8] != "T" or not v[9:15].isdigit()):
            raise ValueError(v)
    except (ValueError, IndexError):
        raise InvalidPolicy(
            f"calendar file: event {event!r}: {what} {value!r} is not a date like 20240210"
        ) from None
    return day, len(v) > 8 and v[9:15] != "000000"


def _event_days(props: Mapping[str, list[str]]) -> list[date]:
    event = _unescape((props.get("SUMMARY") or props.get("UID") or ["?"])[0])
    if "DTSTART" not in props:
        return []
    first, _ = _ics_date(props["DTSTART"][0], "DTSTART", event)
    last = first
    if "DTEND" in props:
        end, timed = _ics_date(props["DTEND"][0], "DTEND", event)
        # DTEND is exclusive: an all-day event 20240210..20240218 ends on the 17th.
        last = max(first, end if timed else end - _DAY)
    elif "DURATION" in props:
        m = _ICS_DURATION.match(props["DURATION"][0].strip().upper())
        if m is None:
            raise InvalidPolicy(
                f"calendar file: event {event!r}: DURATION {props['DURATION'][0]!r} "
                "is not like P1D or P2W"
            )
        days = 7 * int(m.group(1) or 0) + int(m.group(2) or 0)
        last = max(first, first + timedelta(days=days - 1))
    if last - first > timedelta(days=366):
        raise InvalidPolicy(f"calendar file: event {event!r} is longer than a year")
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _is_workday(props: Mapping[str, list[str]]) -> bool:
    text = " ".join(_unescape(v) for v in props.get("SUMMARY", []) + props.get("CATEGORIES", []))
    text = _NOT_WORK.sub(" ", text.lower())
    return any(word in text for word in _WORK_WORDS)


def holidays_from_ics(text: str) -> tuple[list[date], list[date]]:
    """(holidays, make-up workdays) from an iCalendar file's all-day VEVENTs.

    An event whose SUMMARY or CATEGORIES says it is a working day (补班, 上班, workday,
    working day) gives make-up days; any other event gives holidays. A multi-day event
    gives each of its days (DTEND is exclusive). A date-time DTSTART counts by its date
    as written; RRULEs are not expanded; cancelled events are skipped. A date marked
    both ways is a workday. Both lists are sorted and without repeats.
    """
    holidays: set[date] = set()
    workdays: set[date] = set()
    props: dict[str, list[str]] | None = None
    depth = 0  # components nested inside the event (VALARM), whose lines are not its own
    for line in _unfold(text):
        name, _, value = _content(line)
        if name == "BEGIN":
            if props is not None:
                depth += 1
            elif value.strip().upper() == "VEVENT":
                props, depth = {}, 0
        elif name == "END" and props is not None:
            if depth:
                depth -= 1
                continue
            cancelled = any(s.strip().upper() == "CANCELLED" for s in props.get("STATUS", []))
            if not cancelled:
                (workdays if _is_workday(props) else holidays).update(_event_days(props))
            props = None
        elif props is not None and not depth:
            props.setdefault(name, []).append(value)
    return sorted(holidays - workdays), sorted(workdays)
