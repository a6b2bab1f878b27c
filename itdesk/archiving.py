"""The monthly archive's rules as pure functions: months, retention, and what to move.

Step 5 of the process document: closed tickets are archived monthly, under
``tickets/archive/YYYY-MM/`` by the month of their ``closed_at`` in the desk's zone, and
archives are kept at least as long as the desk's ``retention`` (default two years,
counted from ``closed_at``). :mod:`itdesk.commands.archive` reads the desk and commits;
everything it decides is decided here, on plain ticket data, with ``now`` passed in.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from .errors import InvalidPolicy, UsageError

FINAL = ("closed", "cancelled")  # the statuses a ticket is archived in
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_RETENTION_PART = re.compile(r"(\d+)\s*(years?|y|months?|mo|m|days?|d)")
MAX_YEARS = 100
_RETENTION_FORMS = "a duration such as 2y, 24m or 730d (y years, m months, d days)"


@dataclass(frozen=True, order=True, slots=True)
class Month:
    """A calendar month, written ``YYYY-MM`` (the archive's folder names)."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def start(self, tz: tzinfo) -> datetime:
        """The month's first instant in ``tz``."""
        return datetime(self.year, self.month, 1, tzinfo=tz)

    @classmethod
    def of(cls, when: datetime, tz: tzinfo) -> Month:
        local = when.astimezone(tz)
        return cls(local.year, local.month)


def parse_month(text: str, option: str = "--month") -> Month:
    """``2023-10`` -> Month(2023, 10); anything else is refused naming ``option``."""
    m = _MONTH.fullmatch(text.strip())
    if not m:
        raise UsageError(f"bad {option} {text!r}; expected YYYY-MM, such as 2023-10")
    return Month(int(m.group(1)), int(m.group(2)))


# -------------------------------------------------------------------- retention


@dataclass(frozen=True, slots=True)
class Retention:
    """How long archived tickets are kept: calendar months plus days."""

    months: int
    days: int = 0

    def __str__(self) -> str:
        years, months = divmod(self.months, 12)
        parts = [f"{years}y" if years else "", f"{months}m" if months else ""]
        return "".join([*parts, f"{self.days}d" if self.days else ""]) or "0d"

    def expires(self, closed_at: datetime) -> datetime:
        """When a ticket closed at ``closed_at`` may go: ``closed_at`` plus the retention
        (a day that the target month lacks, such as 29 February, becomes its last day)."""
        index = closed_at.year * 12 + closed_at.month - 1 + self.months
        year, month = divmod(index, 12)
        month += 1
        day = min(closed_at.day, calendar.monthrange(year, month)[1])
        return closed_at.replace(year=year, month=month, day=day) + timedelta(days=self.days)


DEFAULT_RETENTION = Retention(months=24)


def parse_retention(value: Any) -> Retention:
    """``2y``, ``24m``, ``730d`` or a sum such as ``1y6m`` -> :class:`Retention`.

    ``m`` means months here (nobody keeps an archive for minutes). Anything else raises
    :class:`InvalidPolicy` naming ``retention``.
    """
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    if isinstance(value, bool) or not text:
        raise _bad_retention(value)
    months = days = 0
    at = 0
    for m in _RETENTION_PART.finditer(text):
        if text[at : m.start()].strip():
            raise _bad_retention(value)
        count, unit = int(m.group(1)), m.group(2)
        if unit.startswith("y"):
            months += 12 * count
        elif unit.startswith("m"):
            months += count
        else:
            days += count
        at = m.end()
    if at == 0 or text[at:].strip():
        raise _bad_retention(value)
    if months == 0 and days == 0:
        raise _bad_retention(value, "keeps nothing")
    if months + days // 28 > 12 * MAX_YEARS:
        raise _bad_retention(value, f"is more than {MAX_YEARS} years")
    return Retention(months, days)


def _bad_retention(value: Any, why: str = "is not a retention") -> InvalidPolicy:
    from .policy import POLICY_FILE  # here: policy.py may check retention with this module

    return InvalidPolicy(f"{POLICY_FILE}: retention: {value!r} {why}; use {_RETENTION_FORMS}")


def retention_of(policy: Mapping[str, Any]) -> Retention:
    """The desk's retention (``retention:`` in itdesk.yaml, else two years)."""
    value = policy.get("retention")
    return DEFAULT_RETENTION if value is None else parse_retention(value)


def purge_from(
    month: Month, closed: Iterable[datetime], retention: Retention, tz: tzinfo
) -> datetime:
    """The first instant at which every ticket of the archive's ``month`` is older than
    the retention: counted from the month's end, or from a later ``closed_at``."""
    latest = max([month.next().start(tz), *closed])
    return retention.expires(latest.astimezone(tz))


# ----------------------------------------------------------------------- choice


def closed_month(data: Mapping[str, Any], tz: tzinfo) -> Month | None:
    """The month a closed or cancelled ticket (plain data) is archived under; None for
    an open ticket, or one without ``closed_at``."""
    if data.get("status") not in FINAL or not data.get("closed_at"):
        return None
    return Month.of(datetime.fromisoformat(str(data["closed_at"])), tz)


def to_archive(
    tickets: Iterable[Mapping[str, Any]], current: Month, tz: tzinfo, only: Month | None = None
) -> dict[Month, list[str]]:
    """The ids of the closed and cancelled tickets to archive, by month, oldest first:
    those closed before the ``current`` month, or only in ``only``."""
    months: dict[Month, list[str]] = {}
    for data in tickets:
        month = closed_month(data, tz)
        if month is None or month >= current or (only is not None and month != only):
            continue
        months.setdefault(month, []).append(str(data["id"]))
    return {m: sorted(months[m]) for m in sorted(months)}
