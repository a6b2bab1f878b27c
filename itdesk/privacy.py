"""Masking of personal data (names, phone numbers, e-mail) wherever it leaves the desk.

``王小明`` -> ``王*明``, ``张三`` -> ``张*``, ``13956785678`` -> ``139****5678``,
``wang.xm@example.com`` -> ``w******@example.com``.
"""

from __future__ import annotations

import re

_PHONE = re.compile(r"\+?\d[\d\s-]{5,}\d")


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    text = name.strip()
    if len(text) <= 1:
        return text
    if len(text) == 2:
        return text[0] + "*"
    if " " in text:  # Western names: keep each word's initial
        return " ".join(w[0] + "*" * (len(w) - 1) if w else w for w in text.split(" "))
    return text[0] + "*" * (len(text) - 2) + text[-1]


def _mask_digits(digits: str) -> str:
    n = len(digits)
    if n >= 11:
        return digits[:3] + "****" + digits[-4:]
    if n >= 7:
        return digits[:3] + "*" * (n - 5) + digits[-2:]
    return "*" * (n - 1) + digits[-1:]


def mask_contact(contact: str | None) -> str | None:
    """Mask every phone number and e-mail address inside ``contact``."""
    if not contact:
        return contact

    def phone(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return ("+" if m.group(0).startswith("+") else "") + _mask_digits(digits)

    text = _PHONE.sub(phone, contact)
    return re.sub(
        r"([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)@",
        lambda m: m.group(1) + "*" * len(m.group(2)) + "@",
        text,
    )
