"""Moving records in and out of a desk: the record form (问题处理记录表) as a sheet.

``import`` is all or nothing: every row is parsed
(:func:`itdesk.channels.recordform.parse_records`; a masked export is refused whole)
and each ticket built and validated against the schema before the desk's lock is
taken. Under the lock, rows already on the desk (a sheet imported before) are set
aside, each remaining row keeps its number when it is one of this desk's form and
free, else gets the next number of its submitted day, and all tickets become one
commit. Numbers are counted up from each day's highest number, read once per day: an
import is linear in its rows. ``export`` picks the tickets, active and archived, and
lays them out in the form's columns and the extra ones, personal data masked unless
revealed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import GitError, ItdeskError, UsageError

if TYPE_CHECKING:
    from datetime import date

    from ..channels.recordform import Cell, DeskIndex, Record
    from ..core.lifecycle import Change
    from ..core.policy import Policy
    from .context import Context


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The checked rows of a sheet: those to import, each with the ticket it becomes
    (numbered provisionally), and those already on the desk, each with the number of
    the ticket it is there."""

    records: list[Record]
    planned: list[tuple[Record, Change]]
    skipped: list[tuple[Record, str]]
    source: str | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import made (in row order) and the rows it found on the desk already."""

    changes: list[tuple[Record, Change]]
    skipped: list[tuple[Record, str]]
    commit: str | None


def plan_import(
    session: Context,
    rows: Sequence[Sequence[object]],
    source: str | None = None,
    *,
    check: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportPlan:
    """Check every row and build every ticket not yet on the desk, numbered as the desk
    stands now; one bad row raises, naming it. ``source`` (the file's name) is recorded
    in each ticket's log. The tickets are checked against the schema when the import
    writes them, or here with ``check`` (a dry run). ``progress(done, total)`` follows
    the rows as they are checked."""
    from ..channels.recordform import parse_records
    from ..core.model import ticket_to_dict
    from ..store.schema import check_ticket_data

    policy = session.desk.policy
    by = session.actor.name
    if source is not None:  # a file's name may hold a line break: not in a commit message
        source = "".join(c if c.isprintable() else "?" for c in source)
    records = parse_records(rows, policy.tz, progress)
    index = _index(session)
    todo, skipped = _split(records, index)
    numbers = _numbers(session, todo, index)
    planned = [
        (rec, _build(rec, number, by, policy, source))
        for rec, number in zip(todo, numbers, strict=True)
    ]
    for rec, change in planned if check else ():
        try:
            check_ticket_data(ticket_to_dict(change.ticket), f"row {rec.row}")
        except ItdeskError as exc:
            raise UsageError(f"row {rec.row}: {exc}; nothing was imported") from None
    return ImportPlan(records, planned, skipped, source)


def import_records(
    session: Context, plan: ImportPlan, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Commit the planned tickets as one commit; ``progress(done, total)`` follows the
    tickets as they are put into it.

    What is on the desk is read again under the lock, so that two imports of one sheet
    at the same time make its tickets once; a ticket whose number is still the planned
    one is not built again."""
    policy = session.desk.policy
    actor = session.actor
    built = {rec.row: change for rec, change in plan.planned}
    changes: list[tuple[Record, Change]] = []
    with session.transaction(actor) as tx:
        index = _index(session)
        todo, skipped = _split(plan.records, index)
        for done, (rec, ticket_id) in enumerate(
            zip(todo, _numbers(session, todo, index), strict=True), 1
        ):
            if progress is not None:
                progress(done, len(todo))
            change = built.get(rec.row)
            if change is None or change.ticket.id != ticket_id:
                change = _build(rec, ticket_id, actor.name, policy, plan.source)
            try:
                tx.put(change)  # checked against the schema here
            except ItdeskError as exc:
                raise UsageError(f"row {rec.row}: {exc}; nothing was imported") from None
            changes.append((rec, change))
        count = len(changes)
        what = f"{count} {'ticket' if count == 1 else 'tickets'}"
        tx.subject = f"import: {what}" + (f" from {plan.source}" if plan.source else "")
        tx.action = "import"
    return ImportResult(changes, skipped, tx.commit_id)


def _split(
    records: Sequence[Record], index: DeskIndex
) -> tuple[list[Record], list[tuple[Record, str]]]:
    """(rows to import, rows already on the desk with the number of their ticket)."""
    todo: list[Record] = []
    skipped: list[tuple[Record, str]] = []
    for rec in records:
        held = index.holding(rec)
        if held is None:
            todo.append(rec)
        else:
            skipped.append((rec, held))
    return todo, skipped


def _index(session: Context) -> DeskIndex:
    from ..channels.recordform import DeskIndex

    return DeskIndex.of(session.iter_ticket_data(include_archive=True), session.desk.policy.tz)


def _numbers(session: Context, records: Sequence[Record], index: DeskIndex) -> list[str]:
    """Each row's ticket number: its own when it is one of this desk's form and free,
    else the next of its submitted day. Each day's numbers on the desk are listed once
    and then counted up (the per-day sequence of :func:`itdesk.core.ids.allocate_id`:
    after the highest, gaps not refilled), so this is linear in the rows."""
    from datetime import date as date_type

    from ..channels.recordform import own_number
    from ..core.ids import ID_PATTERN, allocate_id, day_prefix, format_id, sequence_of

    desk, policy = session.desk, session.desk.policy
    prefix, digits = policy.prefix, policy.digits
    on_desk: dict[date_type, set[str]] = {}

    ever: list[set[str]] = []  # every number history added: a removed one is not free

    def existing(day: date) -> set[str]:
        if day not in on_desk:
            if not ever:
                from ..store.numbers import ids_added

                try:
                    ever.append(ids_added(desk.root, ["HEAD"]))
                except GitError:  # a desk with no commit yet
                    ever.append(set())
            start = day_prefix(prefix, day)
            on_desk[day] = {*desk.ids_of_day(day), *(i for i in ever[0] if i.startswith(start))}
        return on_desk[day]

    numbers: list[str | None] = []
    kept: dict[str, list[str]] = {}  # day prefix -> the numbers rows keep on that day
    for rec in records:
        own = own_number(rec.number, prefix, digits)
        m = ID_PATTERN.fullmatch(own) if own else None
        if own is not None and m is not None:
            d = m.group("date")
            day = date_type(int(d[:4]), int(d[4:6]), int(d[6:]))
            if own not in existing(day) and own not in index.ids:
                kept.setdefault(day_prefix(prefix, day), []).append(own)
                numbers.append(own)
                continue
        numbers.append(None)
    following: dict[date_type, int] = {}
    out: list[str] = []
    for rec, number in zip(records, numbers, strict=True):
        if number is None:
            day = rec.reported_at.astimezone(policy.tz).date()
            if day not in following:
                taken = [*existing(day), *kept.get(day_prefix(prefix, day), ())]
                following[day] = sequence_of(allocate_id(prefix, day, taken, digits))
            number = format_id(prefix, day, following[day], digits)
            following[day] += 1
        out.append(number)
    return out


def _build(rec: Record, ticket_id: str, by: str, policy: Policy, source: str | None) -> Change:
    """The ticket of a row; the schema is checked when the transaction puts it."""
    from ..channels.recordform import build_ticket

    try:
        return build_ticket(rec, ticket_id, by=by, policy=policy, source=source)
    except ItdeskError as exc:
        raise UsageError(f"row {rec.row}: {exc}; nothing was imported") from None


class SpilledRows:
    """The rows of an export, kept in a temporary file in the order of the tickets'
    numbers: a sheet of 100,000 tickets is written without being held in memory.
    ``widths`` are the columns' widest texts (for a workbook's column widths)."""

    def __init__(self, header: list[Cell]):
        import tempfile

        from ..channels.sheets import display_width

        self.header = header
        self.widths = [display_width(str(h)) for h in header]
        self._file = tempfile.TemporaryFile()
        self._places: list[tuple[tuple[str, int, str], int, int]] = []

    def add(self, key: tuple[str, int, str], row: list[Cell]) -> None:
        import pickle

        from ..channels.recordform import cell_text
        from ..channels.sheets import display_width

        widths = self.widths
        for i, cell in enumerate(row):
            text = cell if isinstance(cell, str) else cell_text(cell)
            if 2 * len(text) > widths[i]:  # a text is at most twice as wide as it is long
                widths[i] = max(widths[i], display_width(text))
        blob = pickle.dumps(row, protocol=pickle.HIGHEST_PROTOCOL)
        self._places.append((key, self._file.tell(), len(blob)))
        self._file.write(blob)

    def __len__(self) -> int:
        return len(self._places)

    def rows(self) -> Iterator[list[Cell]]:
        """The header, then the rows in number order."""
        import pickle

        yield self.header
        for _, offset, size in sorted(self._places):
            self._file.seek(offset)
            yield pickle.loads(self._file.read(size))

    def __enter__(self) -> SpilledRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def export_sheet(
    session: Context,
    *,
    statuses: Sequence[str] = (),
    month: str | None = None,
    lang: str,
    reveal: bool,
) -> SpilledRows:
    """The record form's rows (header first) of the desk's tickets, archived included
    (the form's 13 columns, then the extra ones an import reads the tickets back from),
    one ticket at a time into a :class:`SpilledRows`."""
    from ..channels.recordform import headers, id_key, ticket_row
    from ..core.model import parse_status, ticket_from_dict

    tz = session.desk.policy.tz
    wanted = {parse_status(s).value for v in statuses for s in v.split(",") if s.strip()}
    personal = session.desk.policy.personal
    sheet = SpilledRows(list(headers(lang)))
    big: list[str] = []
    for d in session.iter_ticket_data(include_archive=True):
        if wanted and d["status"] not in wanted:
            continue
        t = ticket_from_dict(d)
        if month is not None and f"{t.reported_at.astimezone(tz):%Y-%m}" != month:
            continue
        row = ticket_row(t, lang=lang, reveal=reveal, tz=tz, personal=personal)
        if reveal and row[-1] == "":
            big.append(t.id)
        sheet.add(id_key(t), row)
    if big:
        big.sort()
        session.warn(
            f"{len(big)} {'ticket is' if len(big) == 1 else 'tickets are'} too long to "
            f"carry whole in one cell ({', '.join(big[:5])}{', …' if len(big) > 5 else ''}); "
            "an import rebuilds them from the form's columns"
        )
    return sheet
