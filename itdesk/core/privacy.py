"""Masking of personal data (names, phone numbers, e-mail) wherever it leaves the desk.

``王小明`` -> ``王*明``, ``张三`` -> ``张*``, ``13956785678`` -> ``139****5678``,
``wang.xm@example.com`` -> ``w******@example.com``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
# Both patterns run in linear time on any text (a 1 MB description included): a match
# may start only where a token starts, and once started it always succeeds and is
# consumed whole, so no position is scanned twice. Short runs are left alone in phone().
_PHONE = re.compile(r"(?<![\w-])\+?\d(?:[\d\s-]*\d)?")
_PHONE_MIN = 7  # characters: a run shorter than this is not a phone number
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)@")


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


_MAYBE = re.compile(r"[0-9@]")  # what a phone number or an e-mail address needs


def mask_contact(contact: str | None) -> str | None:
    """Mask every phone number and e-mail address inside ``contact``."""
    if not contact or not _MAYBE.search(contact):
        return contact

    def phone(m: re.Match[str]) -> str:
        if len(m.group(0).lstrip("+")) < _PHONE_MIN:
            return m.group(0)
        if _DATE.search(m.group(0)):  # 2023-10-26 18:00 is a time, not a phone number
            return m.group(0)
        digits = re.sub(r"\D", "", m.group(0))
        return ("+" if m.group(0).startswith("+") else "") + _mask_digits(digits)

    text = _PHONE.sub(phone, contact)
    return _EMAIL.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + "@", text)


def redact(text: str, names: list[str | None], contacts: list[str | None]) -> str:
    """``text`` with each of ``names`` and ``contacts`` masked, and any phone number or
    e-mail address in it too: for free text (log entries, remarks) that leaves the desk."""
    for name in names:
        if name and len(name) > 1:
            text = text.replace(name, mask_name(name) or "")
    for contact in contacts:
        if contact:
            text = text.replace(contact, mask_contact(contact) or "")
    return mask_contact(text) or ""


# What a desk can call personal data (``privacy: {personal: [...]}`` in itdesk.yaml):
# the requester's fields, and the handling technician's name in exported record forms.
PERSONAL_FIELDS = ("name", "employee_id", "department", "contact", "handler")
DEFAULT_PERSONAL = frozenset({"name", "contact", "handler"})


def shown(field: str, value: str | None, personal: frozenset[str]) -> str | None:
    """``value`` as it may leave the desk: masked if ``field`` is personal."""
    if field not in personal or not value:
        return value
    return mask_contact(value) if field == "contact" else mask_name(value)


def redactor(
    requester: Any, reveal: bool, personal: frozenset[str] = DEFAULT_PERSONAL
) -> Callable[[str], str]:
    """A function that masks the requester's personal data in free text (log entries,
    remarks) and any phone number or e-mail address; the identity if ``reveal``."""
    if reveal:
        return lambda text: text
    names = [getattr(requester, f) for f in ("name", "employee_id", "department") if f in personal]
    contacts = [requester.contact] if "contact" in personal else []
    return lambda text: redact(text, names, contacts)


_FREE_TEXT = ("title", "description", "remarks")


def masked_data(
    d: Any, personal: frozenset[str] = DEFAULT_PERSONAL, keys: frozenset[str] | None = None
) -> dict[str, Any]:
    """Ticket data (the YAML's keys) as it may leave the desk: the requester's personal
    fields masked, and the requester's name and contact, phone numbers and e-mail
    addresses masked in every free text, as ``show`` masks them. ``keys``: only these
    are kept and masked (a table that shows a few columns pays for those alone)."""
    if keys is not None:  # the few keys asked for, not a walk over all of d's
        d = {k: d[k] for k in (*keys, "requester") if k in d}
    req = dict(d.get("requester") or {})
    names = [req.get(f) for f in ("name", "employee_id", "department") if f in personal]
    contacts = [req.get("contact")] if "contact" in personal else []

    def free(text: Any) -> Any:
        return redact(text, names, contacts) if isinstance(text, str) and text else text

    out = dict(d)
    out["requester"] = {k: shown(k, v, personal) for k, v in req.items()}
    if keys is not None and "requester" not in keys:
        del out["requester"]
    for key in _FREE_TEXT:
        if key in out:
            out[key] = free(out[key])
    if out.get("log"):
        out["log"] = [{**e, "text": free(e.get("text"))} for e in out["log"]]
    if out.get("escalations"):
        out["escalations"] = [{**e, "reason": free(e.get("reason"))} for e in out["escalations"]]
    if isinstance(out.get("resolution"), dict):
        out["resolution"] = {**out["resolution"], "summary": free(out["resolution"]["summary"])}
    if isinstance(out.get("followup"), dict):
        out["followup"] = {**out["followup"], "comment": free(out["followup"].get("comment"))}
    if isinstance(out.get("impact"), dict):
        out["impact"] = {**out["impact"], "scope": free(out["impact"].get("scope"))}
    return out
