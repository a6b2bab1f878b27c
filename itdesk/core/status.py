"""The status machine: one table of legal moves, read by one function.

The table follows section 3 of the spec. ``assigned -> assigned`` is a reassignment; a
ticket waiting on the requester or a vendor goes back to ``in_progress`` when work
resumes, or straight to ``resolved``.
"""

from __future__ import annotations

from ..errors import InvalidTransition
from .model import Status, Ticket, instant

S = Status
_OPEN_TABLE: dict[Status, frozenset[Status]] = {
    S.NEW: frozenset({S.ACKNOWLEDGED}),
    S.ACKNOWLEDGED: frozenset({S.ASSIGNED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.PENDING_USER, S.PENDING_VENDOR, S.RESOLVED}),
    S.PENDING_USER: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.PENDING_VENDOR, S.RESOLVED}),
    S.PENDING_VENDOR: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.PENDING_USER, S.RESOLVED}),
    S.REOPENED: frozenset(
        {S.ASSIGNED, S.IN_PROGRESS, S.PENDING_USER, S.PENDING_VENDOR, S.RESOLVED}
    ),
}
# Any open ticket may be cancelled, or closed by force (close --force --reason); a
# resolved one is closed normally or reopened, a closed one only reopened.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    **{s: nexts | {S.CANCELLED, S.CLOSED} for s, nexts in _OPEN_TABLE.items()},
    S.RESOLVED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.CANCELLED: frozenset(),
}

# The command that moves a ticket into each status, for messages.
COMMAND_FOR: dict[Status, str] = {
    S.ACKNOWLEDGED: "ack",
    S.ASSIGNED: "assign",
    S.IN_PROGRESS: "accept",
    S.PENDING_USER: "pending --on user",
    S.PENDING_VENDOR: "pending --on vendor",
    S.RESOLVED: "resolve",
    S.CLOSED: "close",
    S.REOPENED: "reopen",
    S.CANCELLED: "cancel",
}


def allowed_next(current: Status) -> list[Status]:
    """The statuses reachable from ``current``, in the table's order of the enum."""
    return [s for s in Status if s in TRANSITIONS[current]]


def transition(ticket_id: str, current: Status, target: Status, action: str) -> Status:
    """Return ``target`` if ``current -> target`` is legal, else raise InvalidTransition."""
    if target in TRANSITIONS[current]:
        return target
    nexts = allowed_next(current)
    if nexts:
        hint = ", ".join(f"{s.value} ({_command(current, s)})" for s in nexts)
        allowed = f"from {current.value} it can go to: {hint}"
    else:
        allowed = f"{current.value} is final"
    raise InvalidTransition(f"{ticket_id} is {current.value}: cannot {action}; {allowed}")


def _command(current: Status, target: Status) -> str:
    if target is Status.CLOSED and current is not Status.RESOLVED:
        return "close --force --reason"
    return COMMAND_FOR[target]


def history_problems(ticket: Ticket) -> list[tuple[list[str | int], str]]:
    """Where a ticket's recorded history breaks the status machine or its own fields.

    Walks the ``status`` of each log entry from ``new``; each step must be in
    TRANSITIONS and the last one must be the ticket's status. Each problem comes with
    the path of keys it is about, so the caller can point at a line. Times are compared
    as the instants they name (:func:`~itdesk.core.model.instant`).
    """
    problems: list[tuple[list[str | int], str]] = []
    current: Status | None = None
    previous = None
    for i, entry in enumerate(ticket.log):
        where: list[str | int] = ["log", i]
        # times never run backwards (SPEC section 7): each entry after the one before
        if previous is not None and instant(entry.at) < instant(previous):
            problems.append(
                (["log", i, "at"], f"{entry.at.isoformat()} is earlier than the entry before it")
            )
        previous = entry.at if previous is None else max(previous, entry.at, key=instant)
        if entry.status is None:
            continue
        if current is None:
            if entry.status is not Status.NEW:
                problems.append((where, f"the first status is {entry.status.value}, not new"))
        elif entry.status is current and entry.status is not Status.NEW:
            pass  # the same step taken on two clones before they met (merged logs)
        elif entry.status not in TRANSITIONS[current]:
            problems.append(
                (where, f"{current.value} -> {entry.status.value} is not a legal transition")
            )
        current = entry.status
    s = ticket.status
    if current is not None and current is not s:
        problems.append((["status"], f"{s.value}, but the log's last status is {current.value}"))
    if s in (Status.ASSIGNED, Status.IN_PROGRESS) and not ticket.assignee:
        problems.append((["assignee"], f"a ticket that is {s.value} needs an assignee"))
    if s is Status.RESOLVED and ticket.resolution is None:
        problems.append((["resolution"], "a resolved ticket needs a resolution"))
    if s in (Status.CLOSED, Status.CANCELLED) and ticket.closed_at is None:
        problems.append((["closed_at"], f"a {s.value} ticket needs closed_at"))
    reported = instant(ticket.reported_at)
    for key, when in (
        ("acknowledged_at", ticket.acknowledged_at),
        ("assigned_at", ticket.assigned_at),
        ("accepted_at", ticket.accepted_at),
        ("closed_at", ticket.closed_at),
    ):
        if when is not None and instant(when) < reported:
            problems.append(([key], f"{when.isoformat()} is earlier than reported_at"))
    for key, part in (("resolution", ticket.resolution), ("followup", ticket.followup)):
        if part is not None and instant(part.at) < reported:
            problems.append(([key, "at"], f"{part.at.isoformat()} is earlier than reported_at"))
    if ticket.log and instant(ticket.log[0].at) < reported:
        problems.append((["log", 0, "at"], "is earlier than reported_at"))
    # Fields that follow one another: each no earlier than the one it follows.
    resolved = ticket.resolution.at if ticket.resolution else None
    followed = ticket.followup.at if ticket.followup else None
    for (key, when), (after_key, after) in (
        (("accepted_at", ticket.accepted_at), ("assigned_at", ticket.assigned_at)),
        (("followup.at", followed), ("resolution.at", resolved)),
        (("closed_at", ticket.closed_at), ("resolution.at", resolved)),
        (("closed_at", ticket.closed_at), ("followup.at", followed)),
        (("closed_at", ticket.closed_at), ("acknowledged_at", ticket.acknowledged_at)),
        (("closed_at", ticket.closed_at), ("assigned_at", ticket.assigned_at)),
    ):
        if when is not None and after is not None and instant(when) < instant(after):
            keys: list[str | int] = list(key.split("."))
            problems.append((keys, f"{when.isoformat()} is earlier than {after_key}"))
    if s.is_open and ticket.closed_at is not None:
        problems.append((["closed_at"], f"set on a ticket that is {s.value}"))
    return problems
