"""The escalation ladder of ``check --escalate``: what to record for a ticket, pure.

The ladder, per clock run (a reassignment or a reopening starts a new run):

1. at risk -> a warning to the assignee (level ``assignee``);
2. breached -> the supervisor (of the ticket's team, else the desk's first);
3. still breached ``sla.manager_after`` after the due time -> the first of ``managers``.

Each level is recorded once on the ticket (an ``escalations`` entry naming the clock,
and a ``system`` log entry), so a cron job that runs every five minutes never records
a level twice. All records of one run are one commit. Tickets are re-read and their
clocks re-evaluated under the desk's lock, so two runs at once cannot both record the
same breach (:mod:`itdesk.service.escalation` does that). Notifications go to the
outbox only for records that were committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Ticket
from .policy import Policy
from .sla import Calendar, ClockState, evaluate
from .times import format_duration


@dataclass(frozen=True, slots=True)
class Step:
    """One record to make: ``level`` ``to`` for ``clock``."""

    clock: str
    level: str
    to: str
    reason: str
    event: str  # notification event: escalated | at_risk


def plan(
    ticket: Ticket, policy: Policy, now: datetime, calendars: dict[str, Calendar]
) -> list[Step]:
    """What the ladder says to record for ``ticket`` at ``now`` (pure)."""
    steps: list[Step] = []
    supervisor = policy.supervisor_for(ticket.team)
    for s in evaluate(ticket, policy, now, calendars):
        if not s.open:
            continue
        if s.state == "at_risk" and "assignee" not in s.levels:
            to = ticket.assignee or supervisor
            if to:
                reason = f"at risk, due {s.due:%Y-%m-%d %H:%M}"
                steps.append(Step(s.clock, "assignee", to, reason, "at_risk"))
        elif s.state == "breached":
            steps += _breach_steps(s, policy, now, supervisor)
    return steps


def _breach_steps(
    s: ClockState, policy: Policy, now: datetime, supervisor: str | None
) -> list[Step]:
    late = format_duration(timedelta(seconds=s.late_seconds))
    if "supervisor" not in s.levels:
        if supervisor is None:
            return []
        return [Step(s.clock, "supervisor", supervisor, f"target missed by {late}", "escalated")]
    after = policy.sla.manager_after
    if after is not None and policy.managers and "manager" not in s.levels and now >= s.due + after:
        reason = f"target missed by {late}, still open"
        return [Step(s.clock, "manager", policy.managers[0], reason, "escalated")]
    return []
