"""The monthly archive's rules as pure functions: months, retention, and what to move.

Step 5 of the process document: closed tickets are archived monthly, under
``tickets/archive/YYYY-MM/`` by the month of their ``closed_at`` in the desk's zone, and
archives are kept at least as long as the desk's ``retention`` (default two years,
counted from ``closed_at``). :mod:`itdesk.service.archive` reads the desk and commits;
everything it decides is decided here, on plain ticket data, with ``now`` passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from ..errors import UsageError
from .policy import Retention

FINAL = ("closed", "cancelled")  # the statuses a ticket is archived in
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


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
    month = Month(int(m.group(1)), int(m.group(2)))
    if not 1970 <= month.year <= 2099:
        raise UsageError(f"bad {option} {text!r}; a year from 1970 to 2099")
    return month


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
