"""Ticket numbers: ``IT-YYYYMMDD-NNN``, a per-day sequence that is never reused.

Pure functions: the store tells :func:`allocate_id` which numbers of that day exist
anywhere on the desk (active or archived), and gets the next one back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from ..errors import UnknownTicket

DEFAULT_PREFIX = "IT"
DEFAULT_DIGITS = 3

_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,15}$")
# Any desk's IDs: letters prefix, a date, a sequence of at least one digit.
ID_PATTERN = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9]{0,15})-(?P<date>\d{8})-(?P<seq>\d{1,9})$")


def valid_prefix(prefix: str) -> bool:
    return bool(_PREFIX.fullmatch(prefix))


def normal_id(text: str) -> str:
    """A ticket number as typed, in the desk's form: any letter case is accepted
    (``it-20240403-001`` is ``IT-20240403-001``: prefixes are upper case)."""
    return text.strip().upper()


def check_id(ticket_id: str) -> str:
    """Return ``ticket_id`` if it is a well-formed number (safe as a file name)."""
    if not ID_PATTERN.fullmatch(ticket_id):
        raise UnknownTicket(
            f"{ticket_id!r} is not a ticket number; expected the form IT-20231025-001"
        )
    return ticket_id


def day_prefix(prefix: str, day: date) -> str:
    """The part every number of ``day`` starts with: ``IT-20231025-``."""
    return f"{prefix}-{day:%Y%m%d}-"


def format_id(prefix: str, day: date, seq: int, digits: int = DEFAULT_DIGITS) -> str:
    return f"{day_prefix(prefix, day)}{seq:0{digits}d}"


def sequence_of(ticket_id: str) -> int:
    m = ID_PATTERN.fullmatch(ticket_id)
    if not m:
        raise UnknownTicket(f"{ticket_id!r} is not a ticket number")
    return int(m.group("seq"))


def allocate_id(
    prefix: str, day: date, existing: Iterable[str], digits: int = DEFAULT_DIGITS
) -> str:
    """The next number of ``day`` after every one in ``existing`` (gaps are not refilled)."""
    start = day_prefix(prefix, day)
    highest = 0
    for ticket_id in existing:
        if ticket_id.startswith(start) and ID_PATTERN.fullmatch(ticket_id):
            highest = max(highest, sequence_of(ticket_id))
    return format_id(prefix, day, highest + 1, digits)
