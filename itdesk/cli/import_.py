"""``itdesk import``: tickets from a record-form sheet (CSV or .xlsx), all in one commit.

Every row is checked first (:func:`itdesk.recordform.parse_records`), and each ticket
is built and validated against the schema before the desk's lock is taken; then every
row gets the next number of its submitted day and all tickets become one commit through
:meth:`itdesk.store.Desk.transaction`. A bad row means nothing is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import desk_options, open_session

if TYPE_CHECKING:
    from ..channels.recordform import Record
    from ..core.lifecycle import Change
    from ..core.policy import Policy


@click.command()
@click.argument("file", metavar="FILE.csv|FILE.xlsx", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the sheet and show what would be made.")
@desk_options
def command(
    file: str,
    dry_run: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Create tickets from a record-form sheet (问题处理记录表), all or nothing.

    The header row names the columns in English or Chinese, as `itdesk export` writes
    them; a CSV may start with a BOM and may be UTF-8 or GBK. Every row is checked
    first: one bad row and nothing is imported, and the message names the row and the
    column. Each row becomes a ticket numbered by its submitted day, taken through the
    steps its result implies (已解决 closed or resolved, 待跟进 in progress, 升级处理
    pending on a vendor); the sheet's own number goes into the remarks.

    Example:

    \b
        itdesk import records.xlsx
        itdesk import records.csv --dry-run
    """
    from ..channels.recordform import parse_records
    from ..core.ids import format_id

    path = Path(file)
    rows = read_sheet(path)
    session = open_session(desk_path, as_name, now_text)
    policy = session.desk.policy
    actor = session.actor
    records = parse_records(rows, policy.tz)
    # Build and validate every ticket before the lock: a row the schema refuses is
    # reported by its number, and nothing is written.
    planned = [
        _build(rec, format_id(policy.prefix, rec.reported_at.date(), 1, policy.digits), actor.name,
               policy)
        for rec in records
    ]  # fmt: skip
    masked = [str(r.row) for r in records if r.masked]
    if masked:
        click.echo(
            f"itdesk: warning: rows {', '.join(masked[:10])} hold masked names or contacts "
            "(*); export with --reveal to move records between desks",
            err=True,
        )
    noun = "ticket" if len(records) == 1 else "tickets"
    subject = f"import: {len(records)} {noun} from {path.name}"
    if dry_run:
        click.echo(f"{subject} (dry run: nothing written)")
        for rec, change in zip(records, planned, strict=True):
            click.echo(
                f"  row {rec.row}  {rec.reported_at:%Y-%m-%d %H:%M}  "
                f"{change.ticket.status.value:<14} {rec.number or ''}".rstrip()
            )
        return
    changes: list[Change] = []
    with session.desk.transaction(actor, session.now) as tx:
        for rec in records:
            ticket_id = tx.allocate_id(rec.reported_at.astimezone(policy.tz).date())
            change = _build(rec, ticket_id, actor.name, policy)
            tx.put(change)
            changes.append(change)
        tx.subject = subject
        tx.action = "import"
    click.echo(subject)
    for rec, change in zip(records, changes, strict=True):
        click.echo(f"  {change.ticket.id}  {change.ticket.status.value:<14} {_origin(rec)}")


def _origin(rec: Record) -> str:
    return f"from {rec.number} (row {rec.row})" if rec.number else f"from row {rec.row}"


def _build(rec: Record, ticket_id: str, by: str, policy: Policy) -> Change:
    from ..channels.recordform import build_ticket
    from ..core.model import ticket_to_dict
    from ..errors import ItdeskError, UsageError
    from ..store.desk import check_ticket_data

    try:
        change = build_ticket(rec, ticket_id, by=by, policy=policy)
        check_ticket_data(ticket_to_dict(change.ticket), f"row {rec.row}")
    except ItdeskError as exc:
        raise UsageError(f"row {rec.row}: {exc}; nothing was imported") from None
    return change


def read_sheet(path: Path) -> list[list[object]]:
    """The cells of a CSV file or of an .xlsx workbook's record-form sheet, row by row."""
    from ..errors import UsageError

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        hint = " (save it as .xlsx first)" if suffix == ".xls" else ""
        raise UsageError(f"cannot import {path.name}{hint}; accepted: FILE.csv, FILE.xlsx")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    if suffix == ".csv":
        return _csv_rows(data, path)
    return _xlsx_rows(data, path)


def _csv_rows(data: bytes, path: Path) -> list[list[object]]:
    import csv
    import io

    from ..errors import UsageError

    for encoding in ("utf-8-sig", "gb18030"):  # Excel on a Chinese Windows saves GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UsageError(f"{path.name}: not UTF-8 or GBK text; save it as CSV UTF-8")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise UsageError(f"{path.name}: not a readable CSV file: {exc}") from None


def _xlsx_rows(data: bytes, path: Path) -> list[list[object]]:
    import io
    import zipfile

    from openpyxl import load_workbook

    from ..channels.recordform import SHEET_TITLE
    from ..errors import UsageError

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UsageError(f"{path.name}: not an .xlsx workbook ({exc})") from None
    try:
        names = [n for n in wb.sheetnames if n in SHEET_TITLE.values()]
        ws = wb[names[0]] if names else wb.worksheets[0]
        return [list(row) for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
