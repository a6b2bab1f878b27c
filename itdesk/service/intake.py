"""Intake: what a reported problem arrives as, turned into a new ticket.

Every channel (the CLI's flags and prompts, ``new --from FILE.yaml``, later the portal's
form and mail) hands over the same plain fields, named after ``new``'s options with
dashes as underscores (``title``, ``requester``, ``employee_id``, ``department``,
``contact``, ``description``, ``blocks_work``, ``scope``, ``devices``, ``expected_by``,
``channel``, ``reported_at``). :func:`builder` checks them and returns what
:meth:`itdesk.service.session.Session.create` needs to number and commit the ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ..core.lifecycle import Change
    from .context import Context

# The keys of ``new --from FILE.yaml``: the ticket's own key names (SPEC section 4).
INTAKE_FIELDS = (
    "title",
    "description",
    "channel",
    "expected_by",
    "reported_at",
    "requester",
    "impact",
)


# The fields every channel hands over: new's options with dashes as underscores.
FIELDS = (
    "title",
    "requester",
    "employee_id",
    "department",
    "contact",
    "description",
    "blocks_work",
    "scope",
    "devices",
    "expected_by",
    "channel",
    "reported_at",
)


def intake_from_file(path: str | Path) -> dict[str, Any]:
    """The intake fields of a YAML file with the ticket's key names, flattened to
    ``new``'s field names (``requester.name`` -> ``requester``...)."""
    from ..store.yamlio import load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    data = load_yaml(text, str(path))
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}: expected a mapping with the intake fields ({', '.join(INTAKE_FIELDS)})"
        )
    unknown = sorted(set(data) - set(INTAKE_FIELDS))
    if unknown:
        raise UsageError(
            f"{path}: unknown field {unknown[0]!r}; intake fields: {', '.join(INTAKE_FIELDS)}"
        )
    out: dict[str, Any] = {
        k: data.get(k) for k in ("title", "description", "channel", "expected_by", "reported_at")
    }
    req = data.get("requester") or {}
    imp = data.get("impact") or {}
    if not isinstance(req, dict) or not isinstance(imp, dict):
        raise UsageError(f"{path}: requester and impact must be mappings")
    out["requester"] = req.get("name")
    out["employee_id"] = req.get("employee_id")
    out["department"] = req.get("department")
    out["contact"] = req.get("contact")
    out["blocks_work"] = imp.get("blocks_work")
    out["scope"] = imp.get("scope")
    out["devices"] = imp.get("devices")
    return {
        k: (str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v)
        for k, v in out.items()
    }


def builder(session: Context, values: Mapping[str, Any]) -> tuple[Callable[[str], Change], date]:
    """Check the intake ``values``; return ``build(ticket_id) -> Change`` and the day
    the ticket is numbered by: the day it was reported (``reported_at``, else now)."""
    from ..core.lifecycle import open_ticket
    from ..core.model import Impact, Requester, parse_channel

    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise UsageError(f"unknown intake field {unknown[0]!r}; fields: {', '.join(FIELDS)}")
    if not values.get("requester"):
        raise UsageError("missing --requester: the requester's name is required")
    title = values.get("title")
    if not title:
        desc = str(values.get("description") or "").strip()
        if not desc:
            raise UsageError("missing --title: say in a few words what the problem is")
        title = desc.splitlines()[0][:80]
    devices = values.get("devices") or []
    if isinstance(devices, str):
        devices = [d.strip() for d in devices.split(",") if d.strip()]
    blocks = values.get("blocks_work")
    if blocks is not None and not isinstance(blocks, bool):
        raise UsageError(f"blocks_work: {blocks!r} is not true or false")
    requester = Requester(
        name=str(values["requester"]).strip(),
        employee_id=values.get("employee_id") or None,
        department=values.get("department") or None,
        contact=values.get("contact") or None,
    )
    impact = Impact(
        blocks_work=bool(blocks),
        scope=values.get("scope") or None,
        devices=tuple(str(d) for d in devices),
    )
    channel = parse_channel(values["channel"]) if values.get("channel") else None
    reported_at = session.time(values.get("reported_at"))
    if reported_at is not None and reported_at > session.now:
        raise UsageError("reported_at is later than now; give --now or fix the time")
    reported = reported_at or session.now
    # Relative forms (+2h, 今日下班前) count from the report, not from when it is typed in.
    expected_by = session.time(values.get("expected_by"), reported)
    if expected_by is not None and expected_by < reported:
        raise UsageError(
            f"--expected-by {values.get('expected_by')}: "
            f"{expected_by.isoformat(timespec='minutes')} is before the report "
            f"({reported.isoformat(timespec='minutes')}); give a later time"
        )
    if expected_by is not None:  # (the calendars are built only for an expected time)
        session.check_working_time(expected_by, f"--expected-by {values.get('expected_by')}")
    by = session.actor.name
    now = session.now
    description = str(values.get("description") or "")

    def build(ticket_id: str) -> Change:
        return open_ticket(
            ticket_id,
            title=str(title),
            requester=requester,
            now=now,
            by=by,
            reported_at=reported_at,
            description=description,
            impact=impact,
            channel=channel,
            expected_by=expected_by,
        )

    return build, reported.astimezone(session.desk.policy.tz).date()


def parse_edit(session: Context, values: Mapping[str, Any], reported: datetime) -> dict[str, Any]:
    """``edit``'s values as :func:`itdesk.core.lifecycle.edit` takes them: devices a
    tuple (from comma-separated text), ``expected_by`` a time not before the report
    (relative forms count from the report, as at intake)."""
    from ..core.lifecycle import EDITABLE

    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise UsageError(f"cannot edit {unknown[0]!r}; intake fields: {', '.join(EDITABLE)}")
    out = dict(values)
    if isinstance(out.get("devices"), str):
        out["devices"] = tuple(d.strip() for d in out["devices"].split(",") if d.strip())
    if "blocks_work" in out and not isinstance(out["blocks_work"], bool):
        raise UsageError(f"blocks_work: {out['blocks_work']!r} is not true or false")
    if "expected_by" in out:
        text = str(out["expected_by"] or "").strip()
        expected = session.time(text, reported) if text else None
        if expected is not None and expected < reported:
            raise UsageError(
                f"--expected-by {text}: {expected.isoformat(timespec='minutes')} is before "
                f"the report ({reported.isoformat(timespec='minutes')}); give a later time"
            )
        out["expected_by"] = expected
    return out
