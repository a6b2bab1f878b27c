"""Times and durations as people type them, turned into aware datetimes.

Accepted times: ISO 8601 (``2023-10-25T09:30``, ``2023-10-25 09:30+08:00``; without an
offset the desk's zone is meant), ``now``, a duration from now (``+2h``, ``30m``,
``1d``), ``today 18:00`` / ``tomorrow 9:00``, ``eod`` (today at the end of the working
day), the process document's own phrases (``立即解决``, ``今日下班前``, ``明天``), and,
where a reference time is given, what dateutil can read (``2023/10/26 18:00``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InvalidValue

_DURATION = re.compile(r"^\+?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*$")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")
END_OF_DAY = time(18, 0)

_NOW_WORDS = {"now", "asap", "immediately", "立即", "立即解决", "马上", "尽快"}
_EOD_WORDS = {"eod", "today", "今天", "今日", "今日下班前", "今天下班前", "下班前"}
_TOMORROW_WORDS = {"tomorrow", "明天", "明日", "明天下班前", "明日下班前"}

# When the working day that a time falls in ends (the next one's, after hours or on a day
# off): a business calendar's BusinessHours.day_end.
DayEnd = Callable[[datetime], datetime]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"unknown time zone {name!r}; use an IANA name like Asia/Shanghai"
        ) from None


def parse_duration(text: str) -> timedelta:
    """``10m``, ``2h``, ``1d``, ``1h30m`` -> timedelta (a bare number means minutes)."""
    raw = str(text).strip().lower()
    if raw.isdigit():
        return timedelta(minutes=int(raw))
    m = _DURATION.match(raw)
    if not raw or not m or not any(m.groups()):
        raise InvalidValue(f"bad duration {text!r}; use forms like 10m, 2h, 1d, 1h30m")
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    try:
        return timedelta(days=days, hours=hours, minutes=minutes)
    except OverflowError:
        raise InvalidValue(f"bad duration {text!r}: too long") from None


def format_duration(delta: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` -> ``1h30m`` (negative durations get a ``-``)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    text = "".join(parts) or "0m"
    return sign + text


def _at_clock(day: datetime, text: str) -> datetime | None:
    m = _CLOCK.match(text.strip())
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


FIRST_YEAR, LAST_YEAR = 1970, 2099  # what git's dates and the desk's numbers can hold


def parse_time(
    text: str,
    tz: tzinfo,
    now: datetime | None = None,
    human: bool = True,
    day_end: DayEnd | None = None,
) -> datetime:
    """Parse a time as described in the module docstring; ``now`` anchors relative forms.
    ``human=False`` leaves out dateutil's guesses (``25/10/2023`` could be either order).
    ``day_end`` gives the end of a working day (``今日下班前``, ``eod``, ``明天``) from the
    desk's business calendar, holidays included; without it a working day ends at 18:00.
    Only years from 1970 to 2099 are accepted."""
    try:
        when: datetime | None = _parse_time(text, tz, now, human, day_end)
    except OverflowError:
        when = None
    if when is None or not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise InvalidValue(
            f"time {text!r} is out of range; give one from {FIRST_YEAR} to {LAST_YEAR}"
        )
    return when


def _end_of_day(local: datetime, day_end: DayEnd | None, tomorrow: bool = False) -> datetime:
    """The end of the working day at ``local`` (after hours: of the next one), or of the
    working day from tomorrow on."""
    start = local
    if tomorrow:
        start = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if day_end is not None:
        return day_end(start)
    at = start.replace(hour=END_OF_DAY.hour, minute=0, second=0, microsecond=0)
    if at < start:  # typed after the working day ended: the end of the next day
        at = (start + timedelta(days=1)).replace(
            hour=END_OF_DAY.hour, minute=0, second=0, microsecond=0
        )
    return at


def _parse_time(
    text: str, tz: tzinfo, now: datetime | None, human: bool, day_end: DayEnd | None
) -> datetime:
    raw = str(text).strip()
    if not raw:
        raise InvalidValue("empty time; use ISO 8601 like 2023-10-25T09:30")
    word = raw.lower()
    if now is not None:
        local = now.astimezone(tz)
        if word in _NOW_WORDS:
            return local
        first, _, rest = word.partition(" ")
        if first in _EOD_WORDS:
            at = _at_clock(local, rest) if rest else _end_of_day(local, day_end)
            if at is not None:
                return at
        if first in _TOMORROW_WORDS:
            at = (
                _at_clock(local + timedelta(days=1), rest)
                if rest
                else _end_of_day(local, day_end, tomorrow=True)
            )
            if at is not None:
                return at
        if raw.startswith("+") or _DURATION.match(word) and not raw.isdigit():
            try:
                # Elapsed time: across a daylight-saving change "+2h" is two real hours.
                return (local.astimezone(UTC) + parse_duration(raw)).astimezone(tz)
            except InvalidValue:
                pass
    try:
        # UTC as Z, or z (RFC 3339 allows it; fromisoformat of Python 3.11 does not)
        utc = raw.endswith(("Z", "z"))
        parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if utc else raw)
    except ValueError:
        guess = _human(raw, tz, now) if now is not None and human else None
        if guess is None:
            raise InvalidValue(
                f"bad time {text!r}; use ISO 8601 like 2023-10-25T09:30 or 2023-10-25T09:30+08:00"
                + (", or now, +2h, today 18:00, tomorrow 9:00, eod" if now is not None else "")
            ) from None
        parsed = guess
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    # Stored times are in the desk's zone. Going through UTC also moves a wall time that
    # a daylight-saving change skipped (02:30 on a spring-forward night) to a real one.
    return parsed.astimezone(UTC).astimezone(tz)


def _human(raw: str, tz: tzinfo, now: datetime) -> datetime | None:
    """Other ways people write a date and time (``2023/10/26 18:00``, ``Oct 26 6pm``),
    read by dateutil, with ``now``'s date filling what is left out."""
    from dateutil import parser

    try:
        day = now.astimezone(tz).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        return parser.parse(raw, default=day)
    except (ValueError, OverflowError):
        return None
