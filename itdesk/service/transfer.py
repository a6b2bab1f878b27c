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

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import GitError, ItdeskError, UsageError

if TYPE_CHECKING:
    from array import array
    from datetime import tzinfo

    from ..channels.recordform import Cell, DeskIndex, Record, RecordKey, WholeRow
    from ..channels.sheets import Sheet
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from ..core.policy import Policy
    from ..store.pack import PackWriter
    from .context import Context


class Made(NamedTuple):
    """A row of the sheet and the ticket it becomes (or would, in a dry run)."""

    rec: RecordKey
    ticket_id: str
    status: str


class _Built(NamedTuple):
    """What a worker sends back of a ticket it made: its number, its status, action,
    commit subject, file and blob id pickled and its file's bytes (both to wait in the
    plan's temporary file), and, when the import stores its blobs as it goes, the blob's
    pack entry."""

    ticket_id: str
    ready: bytes
    text: bytes
    oid: str | None
    entry: bytes | None


class _Spill:
    """Blobs in a temporary file, read back by their place: what an import of 100,000
    rows would otherwise hold in memory (#12)."""

    def __init__(self) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile()
        self._end = 0

    # By position (pread, pwrite): a pool's feeder thread reads while this one writes.
    def add(self, blob: bytes) -> tuple[int, int]:
        import os

        place = (self._end, len(blob))
        self._end += len(blob)
        os.pwrite(self._file.fileno(), blob, place[0])
        return place

    def read(self, place: tuple[int, int]) -> bytes:
        import os

        return os.pread(self._file.fileno(), place[1], place[0])

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()


class _Ready:
    """The planned rows' tickets built and checked before the lock: each one's number,
    and where in the plan's spill its status, action, commit subject and file are, its
    file's bytes right after them (compact: 100,000 of them stay in memory, #12)."""

    def __init__(self) -> None:
        from array import array

        self.by_row: dict[int, int] = {}
        self.ids: list[str] = []
        self.offsets = array("q")
        self.sizes = array("q")
        self.text_sizes = array("q")

    def add(self, row: int, ticket_id: str, offset: int, size: int, text_size: int) -> None:
        self.by_row[row] = len(self.ids)
        self.ids.append(ticket_id)
        self.offsets.append(offset)
        self.sizes.append(size)
        self.text_sizes.append(text_size)

    def number(self, row: int) -> str | None:
        """The number row ``row``'s ticket was built with, if it was."""
        i = self.by_row.get(row)
        return None if i is None else self.ids[i]

    def place(self, row: int) -> tuple[int, int]:
        i = self.by_row[row]
        return self.offsets[i], self.sizes[i]

    def text_place(self, row: int) -> tuple[int, int]:
        i = self.by_row[row]
        return self.offsets[i] + self.sizes[i], self.text_sizes[i]


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """The checked rows of a sheet: the key of each (in row order), those to import
    with the number each would get as the desk stands now, and those already on the
    desk, each with the number of the ticket it is there. The records, and the tickets
    :func:`prepare_import` builds of them, wait in a temporary file: :meth:`close` the
    plan when done."""

    keys: list[RecordKey]
    # each record's offset and size in the spill; the size is -1 for a record not kept
    # there (its ticket was made as the row was checked: it is read again if needed)
    places: tuple[array[int], array[int]]
    planned: list[tuple[RecordKey, str]]
    skipped: list[tuple[RecordKey, str]]
    source: str | None
    spill: _Spill
    ready: _Ready  # filled by plan_import (own numbers) and prepare_import
    workers: int
    sheet: Sheet  # open until the import is done
    tz: tzinfo
    # the tickets' blobs, packed as they are made; installed in the repository under
    # the lock, just before the commit (None: a dry run, or a repository whose objects
    # are elsewhere; the commit stores them then)
    pack: PackWriter | None
    # the desk's commit when the rows were numbered (None: none yet); under the lock
    # they are numbered again only if the desk has another commit by then
    head: str | None

    def close(self) -> None:
        self.spill.close()
        if self.pack is not None:
            self.pack.discard()  # (installed already when the import was committed)

    def keep(self, row: int, made: _Built) -> None:
        _keep(self.ready, self.spill, self.pack, row, made)

    def records(self, wanted: Iterable[tuple[RecordKey, str]]) -> Iterator[tuple[bytes, str]]:
        """The pickled record of each row in ``wanted`` (row order), with its number."""
        import pickle

        from ..channels.recordform import reread_records

        numbers = {key.row: number for key, number in wanted}
        offsets, sizes = self.places
        again = {k.row for k, size in zip(self.keys, sizes, strict=True) if size < 0}
        again &= numbers.keys()
        reread = reread_records(self.sheet.rows(), self.tz, again) if again else iter(())
        for key, offset, size in zip(self.keys, offsets, sizes, strict=True):
            number = numbers.get(key.row)
            if number is None:
                continue
            if size < 0:
                record = next(reread)
                assert record.row == key.row
                yield pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL), number
            else:
                yield self.spill.read((offset, size)), number


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import made (in row order) and the rows it found on the desk already."""

    changes: list[Made]
    skipped: list[tuple[RecordKey, str]]
    commit: str | None


def plan_import(
    session: Context,
    sheet: Sheet,
    source: str | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    store: bool = True,
) -> ImportPlan:
    """Check every row, one at a time, and number each row not yet on the desk as the
    desk stands now; one bad row raises, naming it. ``source`` (the file's name) is
    recorded in each ticket's log. ``progress(done, total)`` follows the rows as they
    are checked. A big sheet's rows are checked by worker processes (``workers``,
    default: one per processor; see :mod:`itdesk.service.workers`), which also
    compress the blobs of the tickets they make into a pack, installed when the import
    commits (``store=False``, as for a dry run: not made)."""
    from array import array
    from functools import partial

    from ..channels.recordform import iter_records
    from ..store import gitdir
    from .workers import in_order, pool_size

    if source is not None:  # a file's name may hold a line break: not in a commit message
        source = "".join(c if c.isprintable() else "?" for c in source)
    size = pool_size(sheet.count, workers)
    spill = _Spill()
    pack = _pack(session) if store else None
    try:
        keys: list[RecordKey] = []
        places = (array("q"), array("q"))
        ready = _Ready()
        tz = session.desk.policy.tz
        mapper = partial(in_order, workers=size, batch=1)  # (a batch: one of the sheet's)
        oid_len = pack.oid_len if pack is not None else 0
        keep = partial(_checked, session=session, source=source, oid_len=oid_len)
        checked = iter_records(sheet.rows(), sheet.count, tz, progress, mapper, keep, sheet)
        for key, blob, made in checked:
            offset, length = spill.add(blob) if blob is not None else (0, -1)
            places[0].append(offset)
            places[1].append(length)
            keys.append(key)
            if made is not None:
                _keep(ready, spill, pack, key.row, made)
        head = gitdir.head(session.desk.git_dir).oid
        index = _index(session)
        todo, skipped = _split(keys, index)
        numbers = _numbers(session, todo, index)
    except BaseException:
        spill.close()
        if pack is not None:
            pack.discard()
        raise
    planned = list(zip(todo, numbers, strict=True))
    return ImportPlan(
        keys, places, planned, skipped, source, spill, ready, size, sheet, tz, pack, head
    )


def _keep(ready: _Ready, spill: _Spill, pack: PackWriter | None, row: int, made: _Built) -> None:
    """A ticket made: its file waits in the spill, its blob goes into the pack."""
    offset, _ = spill.add(made.ready + made.text)  # (one write)
    ready.add(row, made.ticket_id, offset, len(made.ready), len(made.text))
    if pack is not None and made.oid is not None and made.entry is not None:
        pack.add(made.oid, made.entry)


def _pack(session: Context) -> PackWriter | None:
    """A pack for the import's blobs, open, in the desk's repository (None where its
    objects are not in the desk's git folder, or git's object format is unknown)."""
    from ..store import gitdir
    from ..store.pack import PackWriter

    desk = session.desk
    home = gitdir.objects_home(desk.git_dir)
    head = gitdir.head(desk.git_dir).oid
    if home is None or head is None or len(head) not in (40, 64):
        return None
    PackWriter.sweep(home)  # what an import killed while checking its rows left
    return PackWriter(home, len(head)).__enter__()


def _checked(
    record: Record | WholeRow, session: Context, source: str | None, oid_len: int
) -> tuple[RecordKey, bytes | None, _Built | None]:
    """What a worker sends back of a checked record: its key, and its ticket made with
    the row's own number (which a row keeps unless the desk has it: an export imported
    into another desk), else the record pickled, to wait in the temporary file until
    its number is known. A ticket made now is not made again, and its record neither
    pickled nor sent (#12); one that cannot be made is made again by prepare_import,
    which says why. ``oid_len``: see :func:`_make`."""
    import pickle

    from ..channels.recordform import RecordKey, own_number
    from ..core.ids import ID_PATTERN

    policy = session.desk.policy
    own = own_number(record.number, policy.prefix, policy.digits)
    if own is not None and ID_PATTERN.fullmatch(own):
        made = _make(session, record, own, source, dry_run=False, oid_len=oid_len)
        if not isinstance(made, str):
            return RecordKey.of(record), None, made
    blob = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    return RecordKey.of(record), blob, None


def _make(
    session: Context,
    rec: Record | WholeRow,
    number: str,
    source: str | None,
    *,
    dry_run: bool,
    oid_len: int = 0,
) -> _Built | str:
    """The ticket of a row with its number, checked against the schema, as its number,
    its status, action, commit subject, file and blob id pickled, and its file's bytes;
    or why it cannot be (an error message naming the row). With ``oid_len`` (the
    repository's object ids' length), also its blob's id and pack entry
    (:func:`itdesk.store.pack.pack_entry`: the compressing is done here, in the
    workers, #12)."""
    import pickle

    desk, policy = session.desk, session.desk.policy
    try:
        change = _build(rec, number, session.actor.name, policy, source)
        t = change.ticket
        rel = desk.active_rel(t.id)
        # a record cell's ticket kept as it was passed the schema when its row did
        data = rec.data if rec.checked and t is rec.ticket else None
        text = _ticket_text(t, f"row {rec.row}" if dry_run else rel, data)
    except UsageError as exc:
        return str(exc)
    except ItdeskError as exc:
        return f"row {rec.row}: {exc}; nothing was imported"
    blob = text.encode("utf-8")
    oid = entry = None
    if oid_len:
        from ..store.pack import pack_entry

        oid, entry = pack_entry(blob, oid_len)
    ready = (t.status.value, change.action.value, change.subject, rel, oid)
    return _Built(t.id, pickle.dumps(ready, protocol=pickle.HIGHEST_PROTOCOL), blob, oid, entry)


def _ticket_text(ticket: Ticket, rel: str, checked: dict[str, Any] | None) -> str:
    """The file of ``ticket``, as :func:`itdesk.store.transaction.ticket_text` makes it
    (checked against the schema unless ``checked``, its data that passed it already),
    written by :mod:`itdesk.store.emit` where it is sure to write what ``dump_yaml``
    writes: PyYAML's emitter took a quarter of an import's time (#12)."""
    from ..core.model import ticket_to_dict
    from ..store.emit import dump
    from ..store.schema import check_data
    from ..store.yamlio import dump_yaml

    data = checked
    if data is None:
        data = ticket_to_dict(ticket)
        check_data(data, rel)
    text = dump(data)
    return dump_yaml(data) if text is None else text


def prepare_import(
    session: Context,
    plan: ImportPlan,
    progress: Callable[[int, int], None] | None = None,
    *,
    dry_run: bool = False,
) -> list[Made]:
    """Build each planned row's ticket, with its planned number, and check it against
    the schema; one that fails raises, naming its row. The tickets' files wait in the
    plan's temporary file for :func:`import_records` (a row keeping its own number had
    its ticket made as it was checked; the others are made here, by worker processes
    when they are many); ``progress(done, total)`` follows them. With ``dry_run``,
    returns what each row would become."""
    import pickle

    from . import workers

    source = plan.source
    oid_len = plan.pack.oid_len if plan.pack is not None and not dry_run else 0

    def make(item: tuple[bytes, str]) -> _Built | str:
        record = pickle.loads(item[0])
        return _make(session, record, item[1], source, dry_run=dry_run, oid_len=oid_len)

    ready = plan.ready
    again = [(k, n) for k, n in plan.planned if ready.number(k.row) != n]
    size = plan.workers if len(again) >= workers.POOL_FROM else 1
    made = workers.in_order(make, plan.records(again), size)
    out: list[Made] = []
    for done, (key, number) in enumerate(plan.planned, 1):
        if progress is not None:
            progress(done, len(plan.planned))
        if ready.number(key.row) != number:
            found = next(made)
            if isinstance(found, str):
                raise UsageError(found)
            plan.keep(key.row, found)
        if dry_run:
            status = pickle.loads(plan.spill.read(ready.place(key.row)))[0]
            out.append(Made(key, number, status))
    return out


def import_records(
    session: Context, plan: ImportPlan, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Commit the planned tickets as one commit; ``progress(done, total)`` follows the
    tickets as they are put into it.

    What is on the desk is read again under the lock when the desk has another commit
    than when the rows were numbered (two imports of one sheet at the same time make
    its tickets once; a file made by hand meanwhile, not committed, at a planned path is
    refused by the commit); a ticket :func:`prepare_import` made with the number it
    still gets is not built again (the transaction keeps the tickets' files, not the
    tickets)."""
    import pickle
    import sys

    from ..core.lifecycle import Action
    from ..store.transaction import Made as Put
    from ..store.transaction import Spilled

    policy = session.desk.policy
    actor = session.actor
    changes: list[Made] = []
    with session.transaction(actor) as tx:
        if plan.pack is not None:
            tx.install_at_commit(plan.pack)
        if plan.head is not None and tx.head.oid == plan.head:
            numbered, skipped = plan.planned, plan.skipped  # as they were numbered
        else:
            index = _index(session)
            todo, skipped = _split(plan.keys, index)
            numbered = list(zip(todo, _numbers(session, todo, index), strict=True))
        ready = plan.ready
        again = [(k, n) for k, n in numbered if ready.number(k.row) != n]
        rebuilt = plan.records(again)  # the rows whose number changed, in row order
        for done, (key, ticket_id) in enumerate(numbered, 1):
            if progress is not None:
                progress(done, len(numbered))
            if ready.number(key.row) == ticket_id:
                status, action, subject, rel, oid = pickle.loads(
                    plan.spill.read(ready.place(key.row))
                )
                text = Spilled(*ready.text_place(key.row), plan.spill.fileno())
                tx.put_text(Put(ticket_id, Action(action), subject), rel, text, stored=oid)
                changes.append(Made(key, ticket_id, sys.intern(status)))
                continue
            rec = pickle.loads(next(rebuilt)[0])
            change = _build(rec, ticket_id, actor.name, policy, plan.source)
            try:
                tx.put(change)  # checked against the schema here
            except ItdeskError as exc:
                raise UsageError(f"row {rec.row}: {exc}; nothing was imported") from None
            changes.append(Made(key, change.ticket.id, sys.intern(change.ticket.status.value)))
        count = len(changes)
        what = f"{count} {'ticket' if count == 1 else 'tickets'}"
        tx.subject = f"import: {what}" + (f" from {plan.source}" if plan.source else "")
        tx.action = "import"
    return ImportResult(changes, skipped, tx.commit_id)


def _split(
    records: Sequence[RecordKey], index: DeskIndex
) -> tuple[list[RecordKey], list[tuple[RecordKey, str]]]:
    """(rows to import, rows already on the desk with the number of their ticket)."""
    todo: list[RecordKey] = []
    skipped: list[tuple[RecordKey, str]] = []
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


def _numbers(session: Context, records: Sequence[RecordKey], index: DeskIndex) -> list[str]:
    """Each row's ticket number: its own when it is one of this desk's form and free,
    else the next of its submitted day. Each day's numbers on the desk are listed once
    and then counted up (the per-day sequence of :func:`itdesk.core.ids.allocate_id`:
    after the highest, gaps not refilled), so this is linear in the rows."""
    from datetime import date as date_type

    from ..channels.recordform import own_number
    from ..core.ids import ID_PATTERN, allocate_id, day_prefix, format_id, sequence_of

    desk, policy = session.desk, session.desk.policy
    prefix, digits = policy.prefix, policy.digits
    by_day: dict[str, set[str]] = {}  # every number ever used, by day prefix, once asked

    def existing(start: str) -> set[str]:  # (the day's prefix, IT-20231025-)
        if not by_day:
            from ..store.numbers import ids_added

            by_day.update(desk.numbers_by_day())
            try:
                ever = ids_added(desk.root, ["HEAD"])  # a removed number is not free
            except GitError:  # a desk with no commit yet
                ever = set()
            for number in ever:
                m = ID_PATTERN.fullmatch(number)
                if m is not None:
                    by_day.setdefault(f"{m['prefix']}-{m['date']}-", set()).add(number)
            by_day.setdefault("", set())  # asked: not listed again
        return by_day.get(start, set())

    numbers: list[str | None] = []
    kept: dict[str, list[str]] = {}  # day prefix -> the numbers rows keep on that day
    for rec in records:
        own = own_number(rec.number, prefix, digits)  # (a number of a real day)
        if own is not None:
            start = own[: own.rindex("-") + 1]
            if own not in existing(start) and own not in index.ids:
                kept.setdefault(start, []).append(own)
                numbers.append(own)
                continue
        numbers.append(None)
    following: dict[date_type, int] = {}
    out: list[str] = []
    for rec, number in zip(records, numbers, strict=True):
        if number is None:
            day = rec.reported_at.astimezone(policy.tz).date()
            if day not in following:
                start = day_prefix(prefix, day)
                taken = [*existing(start), *kept.get(start, ())]
                following[day] = sequence_of(allocate_id(prefix, day, taken, digits))
            number = format_id(prefix, day, following[day], digits)
            following[day] += 1
        out.append(number)
    return out


def _build(
    rec: Record | WholeRow, ticket_id: str, by: str, policy: Policy, source: str | None
) -> Change:
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
    progress: Callable[[int, int], None] | None = None,
) -> SpilledRows:
    """The record form's rows (header first) of the desk's tickets, archived included
    (the form's 13 columns, then the extra ones an import reads the tickets back from),
    one ticket at a time into a :class:`SpilledRows`. ``progress(done, total)`` is told
    of the files parsed (the first read of a big desk, on every core)."""
    from ..channels.recordform import headers, id_key, ticket_row
    from ..core.model import parse_status, ticket_from_dict

    tz = session.desk.policy.tz
    wanted = {parse_status(s).value for v in statuses for s in v.split(",") if s.strip()}
    personal = session.desk.policy.personal
    sheet = SpilledRows(list(headers(lang)))
    big: list[str] = []
    for d in session.iter_ticket_data(include_archive=True, progress=progress):
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
