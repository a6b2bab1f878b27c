"""Every step of a ticket's life as a pure function: old ticket in, :class:`Change` out.

Each function checks the step against the status machine, builds the new ticket with
:func:`~itdesk.core.model.evolve` (the log only grows) and says, in the commit subject, what
happened. Nothing here reads the clock or touches a file: ``now`` and ``by`` come in.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from ..errors import InvalidTransition, UsageError
from .model import (
    Category,
    Channel,
    Escalation,
    Followup,
    Impact,
    LogEntry,
    LogKind,
    Priority,
    Requester,
    Resolution,
    Satisfaction,
    Status,
    Ticket,
    evolve,
    instant,
)
from .status import transition


class Action(enum.Enum):
    NEW = "new"
    ACK = "ack"
    CLASSIFY = "classify"
    ASSIGN = "assign"
    ACCEPT = "accept"
    LOG = "log"
    ESCALATE = "escalate"
    PENDING = "pending"
    RESOLVE = "resolve"
    FOLLOWUP = "followup"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"
    KB = "kb"
    ARCHIVE = "archive"
    EDIT = "edit"
    ATTACH = "attach"
    RENUMBER = "renumber"


@dataclass(frozen=True, slots=True)
class Change:
    ticket: Ticket
    action: Action
    summary: str  # the commit subject after "<ID>: "

    @property
    def subject(self) -> str:
        return f"{self.ticket.id}: {self.summary}"


P = ParamSpec("P")
R = TypeVar("R")


def last_event(t: Ticket) -> datetime:
    """The latest time the ticket records (its report, any log entry or field)."""
    times = [t.reported_at, *(e.at for e in t.log), *(e.at for e in t.escalations)]
    times += [
        x
        for x in (
            t.acknowledged_at,
            t.assigned_at,
            t.accepted_at,
            t.closed_at,
            t.resolution.at if t.resolution else None,
            t.followup.at if t.followup else None,
        )
        if x is not None
    ]
    return max(times, key=instant)


def check_time(t: Ticket, now: datetime) -> None:
    """A ticket's times never run backwards: a step dated before its last event is refused."""
    last = last_event(t)
    if instant(now) < instant(last):
        raise UsageError(
            f"{t.id}: the time of this step ({now.isoformat(timespec='minutes')}) is before "
            f"the ticket's last recorded event ({last.isoformat(timespec='minutes')}); "
            "a ticket's times never run backwards: give a later --now"
        )


def _dated(step: Callable[Concatenate[Ticket, P], R]) -> Callable[Concatenate[Ticket, P], R]:
    """Refuse ``step(t, now=...)`` when ``now`` is before the ticket's last event."""

    @functools.wraps(step)
    def checked(t: Ticket, /, *args: P.args, **kwargs: P.kwargs) -> R:
        now = kwargs.get("now")
        if isinstance(now, datetime):
            check_time(t, now)
        return step(t, *args, **kwargs)

    return checked


def _text(value: str | None, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise UsageError(f"{what} must not be empty")
    return text


def _entry(
    now: datetime,
    by: str,
    kind: LogKind,
    text: str,
    *,
    status: Status | None = None,
    priority: Priority | None = None,
    assignee: str | None = None,
) -> LogEntry:
    return LogEntry(now, by, kind, text, status=status, priority=priority, assignee=assignee)


def _move(t: Ticket, target: Status, action: str) -> Status:
    return transition(t.id, t.status, target, action)


def _require_open(t: Ticket, action: str) -> None:
    if not t.status.is_open:
        hint = "reopen it first (itdesk reopen)" if t.status is Status.CLOSED else "it is final"
        raise InvalidTransition(f"{t.id} is {t.status.value}: cannot {action}; {hint}")


def open_ticket(
    ticket_id: str,
    *,
    title: str,
    requester: Requester,
    now: datetime,
    by: str,
    reported_at: datetime | None = None,
    description: str = "",
    impact: Impact | None = None,
    channel: Channel | None = None,
    expected_by: datetime | None = None,
) -> Change:
    title = _text(title, "the title")
    _text(requester.name, "the requester's name")
    reported = reported_at or now
    if instant(reported) > instant(now):
        raise UsageError("reported_at is later than now; give --now or fix the time")
    via = f" via {channel.value}" if channel else ""
    ticket = Ticket(
        id=ticket_id,
        title=title,
        status=Status.NEW,
        requester=requester,
        reported_at=reported,
        impact=impact or Impact(),
        description=description.strip(),
        channel=channel,
        expected_by=expected_by,
        log=(
            _entry(
                reported,
                by,
                LogKind.STATUS,
                f"reported{via}",
                status=Status.NEW,
            ),
        ),
    )
    return Change(ticket, Action.NEW, f"new: {title}")


@_dated
def acknowledge(t: Ticket, *, now: datetime, by: str) -> Change:
    status = _move(t, Status.ACKNOWLEDGED, "acknowledge")
    text = f"acknowledged; ticket number {t.id} given to the requester"
    entry = _entry(now, by, LogKind.STATUS, text, status=status)
    new = evolve(t, status=status, acknowledged_at=now, log=t.log + (entry,))
    return Change(new, Action.ACK, "acknowledge")


@_dated
def classify(
    t: Ticket,
    *,
    now: datetime,
    by: str,
    priority: Priority | None = None,
    category: Category | None = None,
    supervisor: str | None = None,
) -> Change:
    """Set priority and/or category; raising a ticket to P1 informs the supervisor."""
    _require_open(t, "classify")
    if priority is None and category is None:
        raise UsageError("give --priority and/or --category")
    new_priority = priority or t.priority
    new_category = category or t.category
    if new_priority == t.priority and new_category == t.category:
        raise UsageError(
            f"{t.id} is already {_label(t.priority)} {_label(t.category)}; nothing to change"
        )
    parts = []
    if new_priority != t.priority:
        parts.append(new_priority.value if new_priority else "-")
    if new_category != t.category:
        parts.append(new_category.value if new_category else "-")
    what = " ".join(parts)
    log = t.log + (
        _entry(
            now,
            by,
            LogKind.SYSTEM,
            f"classified {what}",
            priority=new_priority if new_priority != t.priority else None,
        ),
    )
    escalations = t.escalations
    summary = f"classify {what}"
    if new_priority is Priority.P1 and t.priority is not Priority.P1:
        to = supervisor or "supervisor"
        reason = "P1 (紧急): core business affected, supervisor informed at once"
        escalations += (Escalation(now, by, "supervisor", to, reason),)
        log += (_entry(now, by, LogKind.ESCALATE, f"P1: supervisor {to} informed"),)
        summary += f", inform {to}"
    new = evolve(t, priority=new_priority, category=new_category, escalations=escalations, log=log)
    return Change(new, Action.CLASSIFY, summary)


def _label(value: enum.Enum | None) -> str:
    return "unclassified" if value is None else str(value.value)


@_dated
def assign(t: Ticket, *, now: datetime, by: str, to: str, team: str | None) -> Change:
    to = _text(to, "the assignee")
    if t.assignee == to and t.status is Status.ASSIGNED:
        raise UsageError(f"{t.id} is already assigned to {to}")
    status = _move(t, Status.ASSIGNED, f"assign to {to}")
    where = f" ({team})" if team else ""
    entry = _entry(now, by, LogKind.ASSIGN, f"assigned to {to}{where}", status=status, assignee=to)
    new = evolve(
        t,
        status=status,
        assignee=to,
        team=team,
        assigned_at=now,
        accepted_at=None,
        log=t.log + (entry,),
    )
    return Change(new, Action.ASSIGN, f"assign to {to}{where}")


@_dated
def accept(t: Ticket, *, now: datetime, by: str) -> Change:
    """The assignee takes the ticket on; from a pending status it resumes the work."""
    was = t.status
    status = _move(t, Status.IN_PROGRESS, "accept")
    if t.assignee is None:
        raise InvalidTransition(
            f"{t.id} has no assignee: assign it first (itdesk assign {t.id} --to NAME)"
        )
    if was is Status.ASSIGNED:
        text = f"accepted by {by}" + (f" for {t.assignee}" if t.assignee != by else "")
        summary = f"accept ({by})"
        accepted_at = now
    else:
        text = f"work resumed ({was.value} -> in_progress)"
        summary = "resume work"
        accepted_at = t.accepted_at or now
    entry = _entry(now, by, LogKind.STATUS, text, status=status)
    new = evolve(t, status=status, accepted_at=accepted_at, log=t.log + (entry,))
    return Change(new, Action.ACCEPT, summary)


WORK_KINDS = {
    "phone": LogKind.PHONE,
    "remote": LogKind.REMOTE,
    "onsite": LogKind.ONSITE,
    "note": LogKind.NOTE,
}
_WORK_ALIASES = {
    "电话": LogKind.PHONE,
    "远程": LogKind.REMOTE,
    "现场": LogKind.ONSITE,
    "上门": LogKind.ONSITE,
    "备注": LogKind.NOTE,
    "记录": LogKind.NOTE,
}


@_dated
def log_work(t: Ticket, *, now: datetime, by: str, via: str, text: str) -> Change:
    _require_open(t, "log work")
    kind = WORK_KINDS.get(via.strip().lower()) or _WORK_ALIASES.get(via.strip())
    if kind is None:
        raise UsageError(
            f"unknown --via {via!r}; accepted: {', '.join(WORK_KINDS)} (电话, 远程, 现场, 备注)"
        )
    via = kind.value
    text = _text(text, "the log text")
    new = evolve(t, log=t.log + (_entry(now, by, kind, text),))
    first_line = text.splitlines()[0]
    short = first_line if len(first_line) <= 60 else first_line[:57] + "..."
    return Change(new, Action.LOG, f"log {via}: {short}")


@_dated
def escalate(
    t: Ticket,
    *,
    now: datetime,
    by: str,
    reason: str,
    supervisor: str | None = None,
    vendor: str | None = None,
    eta: datetime | None = None,
) -> Change:
    """Raise to the supervisor (status unchanged) or hand to a vendor (pending_vendor)."""
    _require_open(t, "escalate")
    reason = _text(reason, "the reason")
    if (supervisor is None) == (vendor is None):
        raise UsageError("escalate to either --supervisor or --vendor NAME")
    when = f", ETA {eta.isoformat(timespec='minutes')}" if eta else ""
    if vendor is not None:
        vendor = _text(vendor, "the vendor")
        status = t.status
        if t.status is not Status.PENDING_VENDOR:
            status = _move(t, Status.PENDING_VENDOR, f"escalate to vendor {vendor}")
        esc = Escalation(now, by, "vendor", vendor, reason, eta)
        entry = _entry(
            now,
            by,
            LogKind.ESCALATE,
            f"escalated to vendor {vendor}: {reason}{when}",
            status=status if status is not t.status else None,
        )
        new = evolve(t, status=status, escalations=t.escalations + (esc,), log=t.log + (entry,))
        return Change(new, Action.ESCALATE, f"escalate to vendor {vendor}")
    to = _text(supervisor, "the supervisor")
    esc = Escalation(now, by, "supervisor", to, reason, eta)
    entry = _entry(now, by, LogKind.ESCALATE, f"escalated to supervisor {to}: {reason}{when}")
    new = evolve(t, escalations=t.escalations + (esc,), log=t.log + (entry,))
    return Change(new, Action.ESCALATE, f"escalate to supervisor {to}")


@_dated
def pending(t: Ticket, *, now: datetime, by: str, on: str, reason: str | None = None) -> Change:
    targets = {"user": Status.PENDING_USER, "vendor": Status.PENDING_VENDOR}
    if on not in targets:
        raise UsageError(f"unknown --on {on!r}; accepted: user, vendor")
    status = _move(t, targets[on], f"wait on the {on}")
    why = f": {reason.strip()}" if reason and reason.strip() else ""
    entry = _entry(now, by, LogKind.STATUS, f"waiting on the {on}{why}", status=status)
    new = evolve(t, status=status, log=t.log + (entry,))
    return Change(new, Action.PENDING, f"pending on {on}")


@_dated
def resolve(t: Ticket, *, now: datetime, by: str, summary: str, verified: bool = False) -> Change:
    summary = _text(summary, "the summary")
    status = _move(t, Status.RESOLVED, "resolve")
    check = " (verified with the requester)" if verified else ""
    entry = _entry(now, by, LogKind.STATUS, f"resolved{check}: {summary}", status=status)
    new = evolve(
        t, status=status, resolution=Resolution(summary, now, by, verified), log=t.log + (entry,)
    )
    return Change(new, Action.RESOLVE, "resolve" + (" (verified)" if verified else ""))


@_dated
def followup(
    t: Ticket,
    *,
    now: datetime,
    by: str,
    speed: Satisfaction,
    attitude: Satisfaction,
    overall: Satisfaction,
    comment: str | None = None,
) -> Change:
    if t.status is not Status.RESOLVED:
        raise InvalidTransition(
            f"{t.id} is {t.status.value}: cannot record a follow-up; "
            "the call-back is made once the ticket is resolved (itdesk resolve)"
        )
    comment = comment.strip() if comment and comment.strip() else None
    fu = Followup(now, by, speed, attitude, overall, comment)
    text = (
        f"follow-up call: speed {speed.value}, attitude {attitude.value}, "
        f"overall {overall.value}" + (f"; {comment}" if comment else "")
    )
    new = evolve(t, followup=fu, log=t.log + (_entry(now, by, LogKind.PHONE, text),))
    return Change(new, Action.FOLLOWUP, f"follow-up: {overall.value}")


@_dated
def close(
    t: Ticket, *, now: datetime, by: str, force: bool = False, reason: str | None = None
) -> Change:
    """Close a resolved ticket whose follow-up is recorded; ``force`` closes any open one."""
    if force:
        reason = _text(reason, "--force needs --reason; the reason")
        _require_open(t, "close")
        status = _move(t, Status.CLOSED, "close")
        entry = _entry(
            now, by, LogKind.STATUS, f"closed without the normal steps: {reason}", status=status
        )
        new = evolve(t, status=status, closed_at=now, log=t.log + (entry,))
        return Change(new, Action.CLOSE, "close (forced)")
    if t.status is not Status.RESOLVED:
        raise InvalidTransition(
            f"{t.id} is {t.status.value}: cannot close before it is resolved (itdesk resolve), "
            "or use --force --reason"
        )
    if t.followup is None:
        raise InvalidTransition(
            f"{t.id} has no follow-up: record the call-back first (itdesk followup {t.id} "
            "--speed S --attitude S --overall S), or use --force --reason"
        )
    status = _move(t, Status.CLOSED, "close")
    entry = _entry(now, by, LogKind.STATUS, "closed after follow-up", status=status)
    new = evolve(t, status=status, closed_at=now, log=t.log + (entry,))
    return Change(new, Action.CLOSE, "close")


@_dated
def reopen(t: Ticket, *, now: datetime, by: str, reason: str) -> Change:
    reason = _text(reason, "the reason")
    status = _move(t, Status.REOPENED, "reopen")
    entry = _entry(now, by, LogKind.STATUS, f"reopened: {reason}", status=status)
    new = evolve(
        t, status=status, resolution=None, followup=None, closed_at=None, log=t.log + (entry,)
    )
    return Change(new, Action.REOPEN, "reopen")


@_dated
def cancel(t: Ticket, *, now: datetime, by: str, reason: str) -> Change:
    reason = _text(reason, "the reason")
    status = _move(t, Status.CANCELLED, "cancel")
    entry = _entry(now, by, LogKind.STATUS, f"cancelled: {reason}", status=status)
    new = evolve(t, status=status, closed_at=now, log=t.log + (entry,))
    return Change(new, Action.CANCEL, "cancel")


@_dated
def record_escalation(
    t: Ticket, *, now: datetime, by: str, level: str, to: str, clock: str, reason: str
) -> Ticket:
    """Record an automatic escalation (or at-risk warning) of an SLA clock: an entry in
    ``escalations`` and a ``system`` log entry; the status does not change."""
    _require_open(t, "escalate")
    esc = Escalation(now, by, level, to, reason, None, clock)
    entry = _entry(now, by, LogKind.SYSTEM, f"{clock} clock: {reason}; {level} {to} notified")
    return evolve(t, escalations=t.escalations + (esc,), log=t.log + (entry,))


# The intake fields ``edit`` may correct, in the order a commit names them.
EDITABLE = (
    "title",
    "description",
    "requester",
    "employee_id",
    "department",
    "contact",
    "blocks_work",
    "scope",
    "devices",
    "expected_by",
)


@_dated
def edit(t: Ticket, *, now: datetime, by: str, values: Mapping[str, Any]) -> Change:
    """Correct intake fields (``EDITABLE``; ``requester`` is the requester's name):
    the log and the commit name each field that changed, never its value (personal
    data stays out of commit messages). Values are already parsed (``devices`` a
    tuple, ``expected_by`` a time)."""
    _require_open(t, "edit")
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise UsageError(f"cannot edit {unknown[0]!r}; intake fields: {', '.join(EDITABLE)}")
    req, imp = t.requester, t.impact
    current: dict[str, Any] = {
        "title": t.title,
        "description": t.description,
        "requester": req.name,
        "employee_id": req.employee_id,
        "department": req.department,
        "contact": req.contact,
        "blocks_work": imp.blocks_work,
        "scope": imp.scope,
        "devices": imp.devices,
        "expected_by": t.expected_by,
    }
    new = dict(current)
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip()
            if not value and key in ("title", "requester"):
                raise UsageError(f"the {key} must not be empty")
            value = value or (None if key not in ("description",) else "")
        new[key] = value
    changed = [k for k in EDITABLE if new[k] != current[k]]
    if not changed:
        raise UsageError(f"{t.id}: nothing to change (the fields already hold these values)")
    what = ", ".join(changed)
    ticket = evolve(
        t,
        title=new["title"],
        description=new["description"] or "",
        expected_by=new["expected_by"],
        requester=Requester(
            name=new["requester"],
            employee_id=new["employee_id"],
            department=new["department"],
            contact=new["contact"],
        ),
        impact=Impact(
            blocks_work=bool(new["blocks_work"]), scope=new["scope"], devices=tuple(new["devices"])
        ),
        log=t.log + (_entry(now, by, LogKind.SYSTEM, f"edited {what}"),),
    )
    return Change(ticket, Action.EDIT, f"edit {what}")


ATTACHMENTS = "attachments"  # the desk's folder of attached files: attachments/<ID>/<name>


@functools.cache
def _attachment_name() -> re.Pattern[str]:
    """Compiled when first used: ~2 ms (``\\w`` of all Unicode), which every command
    that imports the lifecycle (``new``, ``log``...) paid at start-up."""
    return re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff .+()-]{0,99}$")


def check_attachment_name(name: str) -> str:
    """A file name safe to store under ``attachments/<ID>/``: letters (Chinese too),
    digits, ``_ . + - ( )`` and spaces, no leading dot, no path, at most 100 characters."""
    name = name.strip()
    if not _attachment_name().fullmatch(name) or name.endswith((".", " ")):
        raise UsageError(
            f"{name!r} is not a usable attachment name; use letters, digits, spaces and "
            "_ . + - ( ), not starting with a dot, at most 100 characters (give --name)"
        )
    return name


def attachment_path(ticket_id: str, name: str) -> str:
    """Where attachment ``name`` of ``ticket_id`` lives, relative to the desk."""
    return f"{ATTACHMENTS}/{ticket_id}/{check_attachment_name(name)}"


@_dated
def attach(t: Ticket, *, now: datetime, by: str, name: str, size: int) -> Change:
    """List the file stored at :func:`attachment_path` in the ticket's ``attachments``."""
    _require_open(t, "attach a file")
    rel = attachment_path(t.id, name)
    if rel in t.attachments:
        raise UsageError(f"{t.id} already has an attachment named {name!r}; give another --name")
    entry = _entry(now, by, LogKind.NOTE, f"attached {rel} ({size} bytes)")
    new = evolve(t, attachments=t.attachments + (rel,), log=t.log + (entry,))
    return Change(new, Action.ATTACH, f"attach {name}")


def renumber(t: Ticket, new_id: str, *, now: datetime, by: str, why: str) -> Change:
    """The ticket under another number (``sync`` found its number taken on the remote):
    the old number stays in its log. Dated at ``now`` or, if later, its last event, so
    that its times never run backwards."""
    at = max(now, last_event(t), key=instant)
    entry = LogEntry(at, by, LogKind.SYSTEM, f"renumbered from {t.id} to {new_id}: {why}")
    ticket = evolve(t, id=new_id, log=(*t.log, entry))
    return Change(ticket, Action.RENUMBER, f"renumber from {t.id}")


def renumbered_from(t: Ticket) -> list[str]:
    """The numbers the ticket had before ``sync`` renumbered it, latest first."""
    found = []
    for entry in reversed(t.log):
        if entry.kind is LogKind.SYSTEM and entry.text.startswith("renumbered from "):
            old = entry.text[len("renumbered from ") :].split(" ", 1)[0]
            if old != t.id:
                found.append(old)
    return found
