"""``check --escalate``: record what the escalation ladder finds, once each, in one commit.

The ladder itself is pure (:func:`itdesk.core.escalation.plan`); here the candidates are
re-read and re-planned under the desk's lock, so two runs at once cannot both record
the same breach, and the records of one run become one commit. Notices are queued only
for what was committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.escalation import Step, plan
from ..core.lifecycle import Action, Change, record_escalation
from ..core.model import Ticket
from ..errors import UsageError

if TYPE_CHECKING:
    from .context import Context


def escalate_breaches(
    session: Context,
    tickets: list[Ticket],
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Record what :func:`plan` finds for ``tickets`` in one commit; a one-line summary.

    A ticket that cannot be written (uncommitted hand edits, an untracked or invalid
    file) is reported as a finding and left out; the others are still escalated.
    ``progress(done, total)`` follows the look over the tickets."""
    desk, now = session.desk, session.now
    policy, calendars = desk.policy, desk.calendars
    candidates = []
    for done, t in enumerate(tickets, 1):
        if plan(t, policy, now, calendars):
            candidates.append(t)
        if progress is not None:
            progress(done, len(tickets))
    if not candidates:
        return ""
    session.check_recordable()
    actor = session.actor_or_system()  # cron often runs without a git identity
    recorded: list[tuple[Ticket, Step]] = []
    with session.transaction(actor) as tx:
        # fresh, under the lock; one git status for all of them (#12)
        fresh = tx.read_many([t.id for t in candidates])
        for old in candidates:
            ticket = fresh[old.id]
            if isinstance(ticket, UsageError):  # a hand edit, an untracked or a broken file
                session.found(f"{ticket}; not escalated, the other tickets are")
                continue
            steps = plan(ticket, policy, now, calendars)
            if not steps:
                continue
            new = ticket
            for step in steps:
                new = record_escalation(
                    new,
                    now=now,
                    by=actor.name,
                    level=step.level,
                    to=step.to,
                    clock=step.clock,
                    reason=step.reason,
                )
                recorded.append((new, step))
            what = ", ".join(f"{st.clock} to {st.level} {st.to}" for st in steps)
            tx.put(Change(new, Action.ESCALATE, f"escalate {what}"))
        count = len(tx.changes)
        tx.subject = f"check: escalate {count} ticket{'s' if count != 1 else ''}"
        tx.action = Action.ESCALATE.value
    if not recorded:
        return ""
    if desk.policy.raw.get("notify"):
        from ..channels.outbox import enqueue_escalations

        enqueue_escalations(desk, now, recorded)  # check flushes the outbox next
    breaches = sum(1 for _, st in recorded if st.event == "escalated")
    warnings = len(recorded) - breaches
    return (
        f"check: recorded {breaches} escalation(s) and {warnings} warning(s) on {count} ticket(s)"
    )
