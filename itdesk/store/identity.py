"""Who acts on the desk: the name written into tickets and the commit's author."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the name recorded in the ticket and the commit's author."""

    name: str
    email: str


def placeholder_email(name: str) -> str:
    """An address for a technician the desk and git know no address of."""
    local = re.sub(r"[^A-Za-z0-9._-]+", ".", name).strip(".").lower() or "technician"
    return f"{local}@itdesk.invalid"
