"""The ticket: typed, immutable values and their mapping to and from plain data.

A :class:`Ticket` is a frozen dataclass; every change builds a new one with
:func:`dataclasses.replace`, and the log only grows. :func:`ticket_to_dict` fixes the key
order of the YAML file (the order of section 3 of the spec), so that a change to one
field is a one-line diff and two clones' edits merge line by line.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from typing import Any, TypeVar

from ..errors import InvalidTicket
from .values import (
    CONTACT_KINDS,
    LINE_MAX,
    NAME_MAX,
    NOTE_MAX,
    TEXT_MAX,
    ZH_LABELS,
    Category,
    Channel,
    LogKind,
    Priority,
    Satisfaction,
    Status,
    check_contact,
    check_line,
    check_text,
    parse_category,
    parse_channel,
    parse_priority,
    parse_satisfaction,
    parse_status,
)

# The desk's words (itdesk.core.values) are named here too, beside the ticket built of them.
__all__ = [
    "Escalation",
    "Followup",
    "Impact",
    "LogEntry",
    "Requester",
    "Resolution",
    "Ticket",
    "evolve",
    "format_time",
    "instant",
    "ticket_from_dict",
    "ticket_to_dict",
    "CONTACT_KINDS",
    "LINE_MAX",
    "NAME_MAX",
    "NOTE_MAX",
    "TEXT_MAX",
    "ZH_LABELS",
    "Category",
    "Channel",
    "LogKind",
    "Priority",
    "Satisfaction",
    "Status",
    "check_contact",
    "check_line",
    "check_text",
    "parse_category",
    "parse_channel",
    "parse_priority",
    "parse_satisfaction",
    "parse_status",
]

E = TypeVar("E", bound=enum.Enum)


@dataclass(frozen=True, slots=True)
class Requester:
    name: str
    employee_id: str | None = None
    department: str | None = None
    contact: str | None = None

    def __post_init__(self) -> None:
        check_line(self.name, "the requester's name", NAME_MAX)
        check_line(self.employee_id, "the employee number", 64)
        check_line(self.department, "the department", NAME_MAX)
        check_contact(self.contact)


@dataclass(frozen=True, slots=True)
class Impact:
    blocks_work: bool = False
    scope: str | None = None
    devices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_text(self.scope, "the scope", NOTE_MAX)
        for device in self.devices:
            check_line(device, "a device", NAME_MAX)


@dataclass(frozen=True, slots=True)
class LogEntry:
    at: datetime
    by: str
    kind: LogKind
    text: str
    # Set on entries that change a field, so clocks can be recomputed from the log alone.
    status: Status | None = None
    priority: Priority | None = None
    assignee: str | None = None

    def __post_init__(self) -> None:
        check_line(self.by, "who acted (by)", NAME_MAX)
        check_text(self.text, "the log text")
        check_line(self.assignee, "the assignee", NAME_MAX)


@dataclass(frozen=True, slots=True)
class Escalation:
    at: datetime
    by: str
    level: str  # supervisor | manager | vendor
    to: str
    reason: str
    eta: datetime | None = None
    clock: str | None = None  # the SLA clock that breached, for automatic escalations

    def __post_init__(self) -> None:
        check_line(self.by, "who escalated (by)", NAME_MAX)
        check_line(self.to, "whom it is escalated to", NAME_MAX)
        check_text(self.reason, "the reason", NOTE_MAX)


@dataclass(frozen=True, slots=True)
class Resolution:
    summary: str
    at: datetime
    by: str
    verified_by_requester: bool = False

    def __post_init__(self) -> None:
        check_text(self.summary, "the summary")
        check_line(self.by, "who resolved it (by)", NAME_MAX)


@dataclass(frozen=True, slots=True)
class Followup:
    at: datetime
    by: str
    speed: Satisfaction
    attitude: Satisfaction
    overall: Satisfaction
    comment: str | None = None

    def __post_init__(self) -> None:
        check_line(self.by, "who called back (by)", NAME_MAX)
        check_text(self.comment, "the comment", NOTE_MAX)


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    title: str
    status: Status
    requester: Requester
    reported_at: datetime
    priority: Priority | None = None
    category: Category | None = None
    impact: Impact = field(default_factory=Impact)
    description: str = ""
    channel: Channel | None = None
    expected_by: datetime | None = None
    acknowledged_at: datetime | None = None
    team: str | None = None
    assignee: str | None = None
    assigned_at: datetime | None = None
    accepted_at: datetime | None = None
    escalations: tuple[Escalation, ...] = ()
    log: tuple[LogEntry, ...] = ()
    resolution: Resolution | None = None
    followup: Followup | None = None
    closed_at: datetime | None = None
    kb: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    remarks: str | None = None

    def __post_init__(self) -> None:
        check_line(self.title, "the title")
        check_text(self.description, "the description")
        check_line(self.team, "the team", NAME_MAX)
        check_line(self.assignee, "the assignee", NAME_MAX)
        check_text(self.remarks, "the remarks", NOTE_MAX)


_TICKET_FIELDS = tuple(Ticket.__dataclass_fields__)


def evolve(t: Ticket, **changes: Any) -> Ticket:
    """``dataclasses.replace(t, **changes)`` for a ticket, a third of its time: the
    fields copied one by one, the new ticket checked as :class:`Ticket` checks one. A
    lifecycle step makes one; an import of 100,000 rows a million (#12)."""
    new = object.__new__(Ticket)
    put = object.__setattr__
    for name in _TICKET_FIELDS:
        put(new, name, changes.pop(name) if name in changes else getattr(t, name))
    if changes:
        raise TypeError(f"Ticket has no field {next(iter(changes))!r}")
    new.__post_init__()
    return new


# ---------------------------------------------------------------- to plain data


def format_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="seconds")


def _enum(value: enum.Enum | None) -> str | None:
    return None if value is None else str(value.value)


def _log_to_dict(entry: LogEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "at": format_time(entry.at),
        "by": entry.by,
        "kind": entry.kind.value,
        "text": entry.text,
    }
    if entry.status is not None:
        out["status"] = entry.status.value
    if entry.priority is not None:
        out["priority"] = entry.priority.value
    if entry.assignee is not None:
        out["assignee"] = entry.assignee
    return out


def _escalation_to_dict(e: Escalation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "at": format_time(e.at),
        "by": e.by,
        "level": e.level,
        "to": e.to,
        "reason": e.reason,
        "eta": format_time(e.eta),
    }
    if e.clock is not None:
        out["clock"] = e.clock
    return out


def ticket_to_dict(t: Ticket) -> dict[str, Any]:
    """The ticket as plain data, keys in file order (also the JSON output)."""
    return {
        "id": t.id,
        "title": t.title,
        "status": t.status.value,
        "priority": _enum(t.priority),
        "category": _enum(t.category),
        "requester": {
            "name": t.requester.name,
            "employee_id": t.requester.employee_id,
            "department": t.requester.department,
            "contact": t.requester.contact,
        },
        "impact": {
            "blocks_work": t.impact.blocks_work,
            "scope": t.impact.scope,
            "devices": list(t.impact.devices),
        },
        "description": t.description,
        "channel": _enum(t.channel),
        "expected_by": format_time(t.expected_by),
        "reported_at": format_time(t.reported_at),
        "acknowledged_at": format_time(t.acknowledged_at),
        "team": t.team,
        "assignee": t.assignee,
        "assigned_at": format_time(t.assigned_at),
        "accepted_at": format_time(t.accepted_at),
        "escalations": [_escalation_to_dict(e) for e in t.escalations],
        "log": [_log_to_dict(e) for e in t.log],
        "resolution": None
        if t.resolution is None
        else {
            "summary": t.resolution.summary,
            "at": format_time(t.resolution.at),
            "by": t.resolution.by,
            "verified_by_requester": t.resolution.verified_by_requester,
        },
        "followup": None
        if t.followup is None
        else {
            "at": format_time(t.followup.at),
            "by": t.followup.by,
            "speed": t.followup.speed.value,
            "attitude": t.followup.attitude.value,
            "overall": t.followup.overall.value,
            "comment": t.followup.comment,
        },
        "closed_at": format_time(t.closed_at),
        "kb": list(t.kb),
        "attachments": list(t.attachments),
        "remarks": t.remarks,
    }


def instant(at: datetime) -> datetime:
    """``at`` in UTC, to order aware times by the instant they name. Two datetimes that
    share a tzinfo compare by the wall clock (Python's rule, offset and fold ignored), so
    in Berlin 02:58 on the night the clocks spring forward (written +01:00, 01:58 UTC)
    would pass for earlier than 03:28 (+02:00, 01:28 UTC). A fixed offset (how a file's
    times are read) compares by the instant already, and is returned as it is: two
    such times compare by the wall clock only when they share the offset, else by UTC
    (an import checks ~50 pairs of times a row, #12)."""
    return at if type(at.tzinfo) is timezone else at.astimezone(UTC)


# -------------------------------------------------------------- from plain data
# The data has passed the JSON Schema before it gets here; these functions still
# fail cleanly (InvalidTicket) so that a caller who skips the schema gets no traceback.


def _time(value: Any, key: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise InvalidTicket(f"{key}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        raise InvalidTicket(f"{key}: {value!r} has no UTC offset")
    return parsed


def _opt_time(value: Any, key: str) -> datetime | None:
    return None if value is None else _time(value, key)


def _member(cls: type[E], value: Any, key: str) -> E:
    try:
        return _MEMBERS[cls][value]  # type: ignore[return-value]  # (a dict: 22 a ticket)
    except (KeyError, TypeError):
        pass
    try:
        return cls(value)
    except ValueError:
        accepted = ", ".join(str(m.value) for m in cls)
        raise InvalidTicket(f"{key}: {value!r} is not one of {accepted}") from None


_MEMBERS: dict[type[enum.Enum], dict[Any, enum.Enum]] = {
    cls: {m.value: m for m in cls}
    for cls in (Status, Priority, Category, Channel, Satisfaction, LogKind)
}


def _opt_member(cls: type[E], value: Any, key: str) -> E | None:
    return None if value is None else _member(cls, value, key)


def _strings(value: Iterable[Any] | None) -> tuple[str, ...]:
    return tuple(str(v) for v in value or ())


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def ticket_from_dict(d: Mapping[str, Any]) -> Ticket:
    """Build a ticket from plain data as written by :func:`ticket_to_dict`."""
    try:
        req = d["requester"]
        imp = d.get("impact") or {}
        res = d.get("resolution")
        fol = d.get("followup")
        return Ticket(
            id=str(d["id"]),
            title=str(d["title"]),
            status=_member(Status, d["status"], "status"),
            priority=_opt_member(Priority, d.get("priority"), "priority"),
            category=_opt_member(Category, d.get("category"), "category"),
            requester=Requester(
                name=str(req["name"]),
                employee_id=_opt_str(req.get("employee_id")),
                department=_opt_str(req.get("department")),
                contact=_opt_str(req.get("contact")),
            ),
            impact=Impact(
                blocks_work=bool(imp.get("blocks_work", False)),
                scope=_opt_str(imp.get("scope")),
                devices=_strings(imp.get("devices")),
            ),
            description=str(d.get("description") or ""),
            channel=_opt_member(Channel, d.get("channel"), "channel"),
            expected_by=_opt_time(d.get("expected_by"), "expected_by"),
            reported_at=_time(d["reported_at"], "reported_at"),
            acknowledged_at=_opt_time(d.get("acknowledged_at"), "acknowledged_at"),
            team=_opt_str(d.get("team")),
            assignee=_opt_str(d.get("assignee")),
            assigned_at=_opt_time(d.get("assigned_at"), "assigned_at"),
            accepted_at=_opt_time(d.get("accepted_at"), "accepted_at"),
            escalations=tuple(
                Escalation(
                    at=_time(e["at"], "escalations.at"),
                    by=str(e["by"]),
                    level=str(e["level"]),
                    to=str(e["to"]),
                    reason=str(e["reason"]),
                    eta=_opt_time(e.get("eta"), "escalations.eta"),
                    clock=_opt_str(e.get("clock")),
                )
                for e in d.get("escalations") or ()
            ),
            log=tuple(
                LogEntry(
                    at=_time(e["at"], "log.at"),
                    by=str(e["by"]),
                    kind=_member(LogKind, e["kind"], "log.kind"),
                    text=str(e["text"]),
                    status=_opt_member(Status, e.get("status"), "log.status"),
                    priority=_opt_member(Priority, e.get("priority"), "log.priority"),
                    assignee=_opt_str(e.get("assignee")),
                )
                for e in d.get("log") or ()
            ),
            resolution=None
            if res is None
            else Resolution(
                summary=str(res["summary"]),
                at=_time(res["at"], "resolution.at"),
                by=str(res["by"]),
                verified_by_requester=bool(res.get("verified_by_requester", False)),
            ),
            followup=None
            if fol is None
            else Followup(
                at=_time(fol["at"], "followup.at"),
                by=str(fol["by"]),
                speed=_member(Satisfaction, fol["speed"], "followup.speed"),
                attitude=_member(Satisfaction, fol["attitude"], "followup.attitude"),
                overall=_member(Satisfaction, fol["overall"], "followup.overall"),
                comment=_opt_str(fol.get("comment")),
            ),
            closed_at=_opt_time(d.get("closed_at"), "closed_at"),
            kb=_strings(d.get("kb")),
            attachments=_strings(d.get("attachments")),
            remarks=_opt_str(d.get("remarks")),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidTicket(f"missing or malformed field: {exc}") from None
