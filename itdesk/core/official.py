"""Official public-holiday calendars: ``official: CN`` in a business-hours calendar.

China's holidays and make-up working days (调休) are announced each year by the State
Council; the ``chinesecalendar`` package keeps them as data (``chinese_calendar.constants``),
so a desk no longer types some 25 dates into itdesk.yaml every year. The data ends with
the last year announced: :func:`official_dates` says which, so that a due time past it
is reported instead of counting unknown days as ordinary ones. Pure data, no I/O.
"""

from __future__ import annotations

import functools
from datetime import date

from ..errors import InvalidPolicy

OFFICIAL = ("CN",)  # the names `official:` accepts


@functools.cache
def official_dates(name: str) -> tuple[frozenset[date], frozenset[date], date]:
    """(days off, make-up working days, the last day the data covers) of ``name``."""
    key = str(name).strip().upper()
    if key not in OFFICIAL:
        raise InvalidPolicy(f"official: {name!r}; accepted: {', '.join(OFFICIAL)}")
    try:
        from chinese_calendar import constants  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency of the package
        raise InvalidPolicy(
            "official: CN needs the chinesecalendar package (pip install chinesecalendar)"
        ) from None
    holidays: frozenset[date] = frozenset(constants.holidays)
    workdays: frozenset[date] = frozenset(constants.workdays)
    last = max(holidays | workdays).year
    return holidays, workdays, date(last, 12, 31)
