"""Acting on a desk without a command line: open it, act as someone at a time, commit once.

A :class:`Session` is what every front end (the CLI, ``check --escalate`` from cron,
later ``sync``, the portal and mail intake) holds: the desk, the time (``now``, injected
or the clock's) and who acts. Each lifecycle step reads the ticket under the desk's
lock, applies a pure function of :mod:`itdesk.core.lifecycle`, commits once, then queues
and sends the change's notifications. It returns the :class:`~itdesk.core.lifecycle.Change`
and never prints: what a person should be told goes to :attr:`Session.warnings` (or the
``on_warning`` callable given at open), and the caller decides how to show it.

Several steps, on one ticket or many, become one commit with :meth:`Session.batch`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import ItdeskError, UsageError
from .context import Context

if TYPE_CHECKING:
    from datetime import date, datetime

    from ..channels.views import TicketFilter
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from ..store.identity import Actor
    from ..store.transaction import Transaction

Step = Callable[..., "Change"]  # step(ticket, now=..., by=...) -> Change
_FINISHED = frozenset({"closed", "cancelled"})  # no clock runs: what is shown stays


class Session(Context):
    """A :class:`Context` that acts: each lifecycle step is a method; ``batch`` commits
    several at once."""

    def tickets(
        self,
        flt: TicketFilter,
        breached: bool = False,
        keep: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None,
        heads: tuple[str, str, Callable[[Mapping[str, Any]], Mapping[str, Any]]] | None = None,
        progress: Callable[[int, int], None] | None = None,
        open_heads: bool = False,
    ) -> list[Mapping[str, Any]]:
        """The tickets (plain data) that pass ``flt``; ``breached``: only open ones with a
        breached SLA clock at ``now``. ``keep`` turns each into what the caller keeps
        (the few columns of a table): the tickets are read one at a time, so a listing of
        the whole archive holds its rows, never every ticket's data.

        ``heads``, ``(kind, salt, head)``: ``head(ticket)`` is what ``keep`` gives for a
        closed or cancelled ticket, with the fields the filter reads besides; a folder
        of such tickets is kept as its heads (:meth:`folder_summaries`), so listing two
        years of archive reads a month's heads, not its tickets, where no file changed.
        Not with a text search or ``breached``, which read more than the heads.
        ``open_heads``: ``head`` is what ``keep`` gives for an open ticket too (its row
        is not marked by its clocks); the active tickets' heads are then kept per file
        (:meth:`iter_derived`), so that listing them reads only the files changed since.
        ``progress(done, total)`` is told of the files parsed (a cold cache)."""
        out: list[Mapping[str, Any]] = []
        if heads is not None and flt.text is None and not breached:
            kind, salt, head = heads
            if open_heads and not flt.include_all:
                return [h for h in self.iter_derived(kind, salt, head) if flt.matches(h)]

            def make(tickets: list[dict[str, Any]]) -> list[Mapping[str, Any]] | None:
                if any(d["status"] not in _FINISHED for d in tickets):
                    return None  # an open ticket's row may be marked by its clocks
                return [head(d) for d in tickets]

            found = self.folder_summaries(kind, salt, make, flt.include_all, progress)
            for summary, read in found:
                if summary is not None:
                    out += [h for h in summary if flt.matches(h)]
                else:
                    out += [d if keep is None else keep(d) for d in read() if flt.matches(d)]
            return out
        rules = None
        if breached:
            from ..core.sla import Rules, clock_states

            # The engine reads plain data: no Ticket is built (closed ones have no clock).
            rules = Rules.of(self.desk.policy, self.desk.calendars)
        for d in self.iter_ticket_data(include_archive=flt.include_all, progress=progress):
            if not flt.matches(d):
                continue
            if rules is not None and not any(
                s.open and s.state == "breached" for s in clock_states(d, rules, self.now)
            ):
                continue
            out.append(d if keep is None else keep(d))
        return out

    # -- acting -----------------------------------------------------------------

    _open: Batch | None = None  # the batch this session is inside, if any

    def apply(self, ticket_id: str, step: Step) -> Change:
        """``step(ticket, now=..., by=...)`` on one ticket: one commit, then notify.
        Inside :meth:`batch`, the step joins the batch's commit instead."""
        if self._open is not None:
            return self._open.apply(ticket_id, step)
        with self.batch() as batch:
            change = batch.apply(ticket_id, step)
        return change

    @contextlib.contextmanager
    def batch(self, subject: str | None = None, action: str | None = None) -> Iterator[Batch]:
        """Steps on one or more tickets that become one commit when the block ends (or
        nothing, if it raises); their notifications are queued and sent after it."""
        if self._open is not None:
            raise UsageError("a batch is already open on this session; add the steps to it")
        self.check_recordable()
        actor = self.actor
        with self.transaction(actor) as tx:
            self.take_store_warnings()
            batch = Batch(self, tx, actor)
            self._open = batch
            try:
                yield batch
            finally:
                self._open = None
            if subject is not None:
                tx.subject = subject
            if action is not None:
                tx.action = action
        for before, change in batch.done:
            self.notify(before, change)

    def create(
        self,
        build: Callable[[str], Change],
        day: date | None = None,
        on_committed: Callable[[Change], None] | None = None,
    ) -> Change:
        """A new ticket: ``build(next number of day)`` under the lock (``day``: the day
        it was reported, default today), one commit, then notify. ``on_committed`` is
        called as soon as the commit is made, before the notifications (which may take
        a while): the number is never lost to an interrupt after the commit."""
        if self._open is not None:  # inside a batch: one more change of its commit
            change = build(self._open.tx.allocate_id(day))
            self._open.put(None, change)
            return change
        self.check_recordable()
        with self.transaction() as tx:
            change = build(tx.allocate_id(day))
            tx.put(change)
        if on_committed is not None:
            on_committed(change)
        self.notify(None, change)
        return change

    def notify(self, before: Ticket | None, change: Change) -> None:
        """Queue the notifications of a committed change and try to send them; what
        cannot be sent stays queued (``itdesk check`` retries) and becomes a warning."""
        if not self.desk.policy.raw.get("notify"):
            return
        from ..channels.outbox import enqueue_change

        try:
            enqueue_change(self.desk, self.now, before, change)
        except ItdeskError as exc:  # the change is committed: report, do not fail it
            self.warn(f"notifications not sent: {exc}")
            return
        self.flush()

    def flush(self) -> None:
        """Send what this and earlier commands queued (``check`` runs it every time),
        and tell of what failed and of the dead letters waiting for a person."""
        from ..channels.outbox import flush, has_outbox

        if not self.desk.policy.raw.get("notify") and not has_outbox(self.desk):
            return
        try:
            report = flush(self.desk, self.now, self.clock)
        except ItdeskError as exc:  # records are committed; a broken notify: only warns
            self.warn(f"notifications not sent: {exc}")
            return
        for line in report.lines():
            self.warn(line)

    # The real time, for what leaves the machine (robots' signatures, a mail's Date:);
    # ``now`` (--now) is what the desk records. None: the machine's clock.
    clock: Callable[[], datetime] | None = None

    # -- the lifecycle, one method a step -----------------------------------------

    def new(
        self, values: Mapping[str, Any], on_committed: Callable[[Change], None] | None = None
    ) -> Change:
        """Record a reported problem from intake fields (see :mod:`itdesk.service.intake`)."""
        from .intake import builder

        build, day = builder(self, values)
        return self.create(build, day, on_committed)

    def edit(self, ticket_id: str, values: Mapping[str, Any]) -> Change:
        """Correct a ticket's intake fields (the names of ``new``'s options with dashes
        as underscores; see :func:`itdesk.core.lifecycle.edit`): one commit naming each
        field that changed."""
        from ..core.lifecycle import edit
        from .intake import parse_edit

        if not values:
            raise UsageError("give at least one field to change (itdesk edit --help)")

        def step(t: Ticket, **kw: Any) -> Change:
            return edit(t, values=parse_edit(self, values, t.reported_at), **kw)

        return self.apply(ticket_id, step)

    def attach(self, ticket_id: str, source: str, name: str | None = None) -> Change:
        """Store the file ``source`` under the ticket as ``attachments/<ID>/<name>`` and
        list it in its ``attachments``: one commit (see :mod:`itdesk.service.attach`)."""
        from pathlib import Path

        from ..core.lifecycle import check_attachment_name
        from .attach import read_attachment

        chosen = check_attachment_name(name if name is not None else Path(source).name)
        data = read_attachment(source, self.desk.policy.attachment_limit)
        return self.attach_data(ticket_id, chosen, data)

    def attach_data(self, ticket_id: str, name: str, data: bytes) -> Change:
        """Store ``data`` as attachment ``name`` of the ticket: one commit, or one more
        change of the open :meth:`batch` (a ticket and its screenshot together)."""
        from ..core.lifecycle import attach, attachment_path, check_attachment_name
        from .attach import check_folders

        chosen = check_attachment_name(name)
        limit = self.desk.policy.attachment_limit
        if len(data) > limit:
            raise UsageError(
                f"{chosen} has {len(data)} bytes; the desk takes attachments up to {limit} "
                "(attachments: max_bytes in itdesk.yaml)"
            )

        def run(batch: Batch) -> Change:
            def step(t: Ticket, **kw: Any) -> Change:
                rel = attachment_path(t.id, chosen)
                check_folders(self.desk.root, rel)
                change = attach(t, name=chosen, size=len(data), **kw)
                batch.tx.put_file(rel, data)
                return change

            return batch.apply(ticket_id, step)

        if self._open is not None:
            return run(self._open)
        with self.batch() as batch:
            return run(batch)

    def ack(self, ticket_id: str) -> Change:
        from ..core.lifecycle import acknowledge

        return self.apply(ticket_id, acknowledge)

    def classify(
        self, ticket_id: str, priority: str | None = None, category: str | None = None
    ) -> Change:
        from ..core.lifecycle import classify
        from ..core.model import parse_category, parse_priority

        prio = parse_priority(priority) if priority is not None else None
        cat = parse_category(category) if category is not None else None
        policy = self.desk.policy

        def step(t: Ticket, **kw: Any) -> Change:
            supervisor = policy.supervisor_for(t.team)
            return classify(t, priority=prio, category=cat, supervisor=supervisor, **kw)

        return self.apply(ticket_id, step)

    def assign(self, ticket_id: str, to: str | None = None, auto: bool = False) -> Change:
        from ..core.lifecycle import assign
        from ..core.routing import choose_assignee, load_by_member, team_for_member

        if (to is None) == (not auto):
            raise UsageError("give either --to NAME or --auto")
        policy = self.desk.policy

        def step(t: Ticket, **kw: Any) -> Change:
            if auto:
                load = load_by_member(self.desk.ticket_data(on_error=lambda e: None))
                team, member = choose_assignee(policy, t, load)
                return assign(t, to=member, team=team, **kw)
            assert to is not None
            name = policy.canonical(to.strip())  # --to Zhang is zhang
            return assign(t, to=name, team=team_for_member(policy, name, t), **kw)

        return self.apply(ticket_id, step)

    def accept(self, ticket_id: str) -> Change:
        from ..core.lifecycle import accept

        return self.apply(ticket_id, accept)

    def log(self, ticket_id: str, text: str, via: str = "note") -> Change:
        from ..core.lifecycle import log_work

        return self.apply(ticket_id, lambda t, **kw: log_work(t, via=via, text=text, **kw))

    def escalate(
        self,
        ticket_id: str,
        reason: str,
        *,
        supervisor: bool = False,
        vendor: str | None = None,
        eta: str | None = None,
    ) -> Change:
        from ..core.lifecycle import escalate

        if supervisor == (vendor is not None):
            raise UsageError("give either --supervisor or --vendor NAME")
        eta_time = self.time(eta)
        policy = self.desk.policy

        def step(t: Ticket, **kw: Any) -> Change:
            if vendor is not None:
                return escalate(t, vendor=vendor, reason=reason, eta=eta_time, **kw)
            to = policy.supervisor_for(t.team)
            if to is None:
                raise UsageError(
                    "no supervisor in itdesk.yaml (supervisors: or a team's supervisor)"
                )
            return escalate(t, supervisor=to, reason=reason, eta=eta_time, **kw)

        return self.apply(ticket_id, step)

    def pending(self, ticket_id: str, on: str, reason: str | None = None) -> Change:
        from ..core.lifecycle import pending

        return self.apply(ticket_id, lambda t, **kw: pending(t, on=on, reason=reason, **kw))

    def resolve(
        self, ticket_id: str, summary: str, verified: bool = False, kb: Iterable[str] = ()
    ) -> Change:
        """Resolve; ``kb`` names the articles that solved it (each must exist)."""
        from ..core.lifecycle import resolve
        from .kb import require_articles

        slugs = require_articles(self.desk, kb)

        def step(t: Ticket, **kw: Any) -> Change:
            change = resolve(t, summary=summary, verified=verified, **kw)
            added = tuple(s for s in slugs if s not in change.ticket.kb)
            if not added:
                return change
            ticket = replace(change.ticket, kb=change.ticket.kb + added)
            kbs = ", ".join(f"kb/{s}" for s in added)
            return replace(change, ticket=ticket, summary=f"{change.summary}, {kbs}")

        return self.apply(ticket_id, step)

    def followup(
        self,
        ticket_id: str,
        speed: str,
        attitude: str,
        overall: str,
        comment: str | None = None,
    ) -> Change:
        from ..core.lifecycle import followup
        from ..core.model import parse_satisfaction

        s, a, o = (parse_satisfaction(x) for x in (speed, attitude, overall))
        return self.apply(
            ticket_id,
            lambda t, **kw: followup(t, speed=s, attitude=a, overall=o, comment=comment, **kw),
        )

    def close(self, ticket_id: str, force: bool = False, reason: str | None = None) -> Change:
        from ..core.lifecycle import close

        if reason is not None and not force:
            raise UsageError("--reason goes with --force")
        return self.apply(ticket_id, lambda t, **kw: close(t, force=force, reason=reason, **kw))

    def reopen(self, ticket_id: str, reason: str) -> Change:
        from ..core.lifecycle import reopen

        return self.apply(ticket_id, lambda t, **kw: reopen(t, reason=reason, **kw))

    def cancel(self, ticket_id: str, reason: str) -> Change:
        from ..core.lifecycle import cancel

        return self.apply(ticket_id, lambda t, **kw: cancel(t, reason=reason, **kw))


class Batch:
    """The steps of one :meth:`Session.batch`: each reads its ticket fresh, under the lock."""

    def __init__(self, session: Session, tx: Transaction, actor: Actor):
        self.session = session
        self.tx = tx
        self.actor = actor
        self.done: list[tuple[Ticket | None, Change]] = []

    def read(self, ticket_id: str) -> Ticket:
        """The ticket as this batch's steps have left it so far."""
        for _before, change in reversed(self.done):
            if change.ticket.id == ticket_id:
                return change.ticket
        from ..core.ids import normal_id

        ticket: Ticket = self.tx.read(normal_id(ticket_id), archived=True)
        return ticket

    def apply(self, ticket_id: str, step: Step) -> Change:
        before = self.read(ticket_id)
        change = step(before, now=self.session.now, by=self.actor.name)
        self.put(before, change)
        return change

    def put(self, before: Ticket | None, change: Change) -> None:
        """A change made by the caller (``before``: the ticket it started from)."""
        self.tx.put(change)
        self.done.append((before, change))

    @property
    def changes(self) -> list[Change]:
        return [c for _, c in self.done]
