"""Moving records in and out of a desk: the record form (问题处理记录表) as a sheet.

``import`` is all or nothing: every row is parsed (:func:`itdesk.channels.recordform.parse_records`)
and each ticket built and validated against the schema before the desk's lock is
taken; then each row gets the next number of its submitted day and all tickets become
one commit. ``export`` picks the tickets, active and archived, and lays them out in
the form's columns, personal data masked unless revealed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ItdeskError, UsageError

if TYPE_CHECKING:
    from ..channels.recordform import Record
    from ..core.lifecycle import Change
    from ..core.policy import Policy
    from .context import Context


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The rows of a sheet, checked, and the ticket each becomes (numbered provisionally)."""

    records: list[Record]
    planned: list[Change]

    @property
    def masked_rows(self) -> list[int]:
        """Rows whose names or contacts were masked (*) by an export without --reveal."""
        return [r.row for r in self.records if r.masked]


def plan_import(session: Context, rows: Sequence[Sequence[object]]) -> ImportPlan:
    """Check every row and build every ticket; one bad row raises, naming it."""
    from ..channels.recordform import parse_records
    from ..core.ids import format_id

    policy = session.desk.policy
    by = session.actor.name
    records = parse_records(rows, policy.tz)
    planned = [
        _build(rec, format_id(policy.prefix, rec.reported_at.date(), 1, policy.digits), by, policy)
        for rec in records
    ]
    return ImportPlan(records, planned)


def import_records(session: Context, plan: ImportPlan, subject: str) -> list[Change]:
    """Number and commit the planned tickets as one commit; their changes, in row order."""
    policy = session.desk.policy
    actor = session.actor
    changes: list[Change] = []
    with session.transaction(actor) as tx:
        for rec in plan.records:
            ticket_id = tx.allocate_id(rec.reported_at.astimezone(policy.tz).date())
            change = _build(rec, ticket_id, actor.name, policy)
            tx.put(change)
            changes.append(change)
        tx.subject = subject
        tx.action = "import"
    return changes


def _build(rec: Record, ticket_id: str, by: str, policy: Policy) -> Change:
    from ..channels.recordform import build_ticket
    from ..core.model import ticket_to_dict
    from ..store.desk import check_ticket_data

    try:
        change = build_ticket(rec, ticket_id, by=by, policy=policy)
        check_ticket_data(ticket_to_dict(change.ticket), f"row {rec.row}")
    except ItdeskError as exc:
        raise UsageError(f"row {rec.row}: {exc}; nothing was imported") from None
    return change


def export_rows(
    session: Context,
    *,
    statuses: Sequence[str] = (),
    month: str | None = None,
    lang: str,
    reveal: bool,
) -> list[list[str]]:
    """The record form's rows (header first) of the desk's tickets, archived included."""
    from ..channels.recordform import export_rows as rows_of
    from ..core.model import parse_status, ticket_from_dict

    tz = session.desk.policy.tz
    wanted = {parse_status(s).value for v in statuses for s in v.split(",") if s.strip()}
    tickets = [
        ticket_from_dict(d)
        for d in session.ticket_data(include_archive=True)
        if not wanted or d["status"] in wanted
    ]
    if month is not None:
        tickets = [t for t in tickets if f"{t.reported_at.astimezone(tz):%Y-%m}" == month]
    personal = session.desk.policy.personal
    return rows_of(tickets, lang=lang, reveal=reveal, tz=tz, personal=personal)
