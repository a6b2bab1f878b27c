"""``itdesk export``: every ticket as the record form (问题处理记录表), CSV or .xlsx.

The rows come from :mod:`itdesk.recordform`; this module selects the tickets and writes
the file. openpyxl is imported only for ``--format xlsx``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from . import desk_options, lang_option, open_session

_WIDTH_CAP = 60  # characters; long descriptions and steps wrap instead


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="csv or xlsx (default: from --output's suffix, else csv).",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write to FILE (default: CSV on stdout; xlsx needs a file).",
)
@lang_option
@click.option("--reveal", is_flag=True, help="Do not mask names (requester, handler) and contacts.")
@click.option(
    "--bom/--no-bom",
    default=None,
    help="Start the CSV with a UTF-8 BOM so Excel reads Chinese (default: on with --lang zh).",
)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Every ticket, archived ones included (the default without --status).",
)
@click.option(
    "--status", "-s", multiple=True, help="Only these statuses (repeat or comma-separate)."
)
@click.option("--month", metavar="YYYY-MM", help="Only tickets submitted in this month.")
@desk_options
def command(
    fmt: str | None,
    output: str | None,
    lang: str | None,
    reveal: bool,
    bom: bool | None,
    include_all: bool,
    status: tuple[str, ...],
    month: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Export tickets as the record form (问题处理记录表): 13 columns, CSV or .xlsx.

    Columns: ticket number, submitted at, submitter (department/name), contact,
    description, priority, category, handler, handling steps, result, user feedback,
    closed at, remarks; Chinese headers and values with --lang zh. Every ticket is
    exported, archived ones included. Names (requester and handler, as the
    document's form shows them) and contacts are masked (王*明, 139****5678) unless
    --reveal is given; `itdesk import` reads the file back.

    Example:

    \b
        itdesk export --lang zh > records.csv
        itdesk export --lang zh --output records.xlsx
        itdesk export --status closed --month 2023-10 --reveal -o october.csv
    """
    from ..channels.recordform import export_rows
    from ..core.model import parse_status, ticket_from_dict
    from ..errors import UsageError

    if include_all and status:
        raise UsageError("give --all or --status, not both")
    if fmt is None:
        fmt = "xlsx" if output and output.lower().endswith(".xlsx") else "csv"
    if fmt == "xlsx" and not output:
        raise UsageError("--format xlsx writes a workbook: give --output FILE.xlsx")
    if month is not None and not _is_month(month):
        raise UsageError(f"bad --month {month!r}; use YYYY-MM, e.g. 2023-10")
    session = open_session(desk_path, as_name, now_text)
    lang = session.lang(lang)
    tz = session.desk.policy.tz
    wanted = {parse_status(s).value for v in status for s in v.split(",") if s.strip()}
    tickets = [
        ticket_from_dict(d)
        for d in session.ticket_data(include_archive=True)
        if not wanted or d["status"] in wanted
    ]
    if month is not None:
        tickets = [t for t in tickets if f"{t.reported_at.astimezone(tz):%Y-%m}" == month]
    personal = session.desk.policy.personal
    rows = export_rows(tickets, lang=lang, reveal=reveal, tz=tz, personal=personal)
    if fmt == "xlsx":
        assert output is not None
        _write_xlsx(Path(output), rows, lang)
    else:
        data = _csv_bytes(rows, lang == "zh" if bom is None else bom)
        if output is None:
            click.echo(data, nl=False)  # bytes: written as they are, BOM included
            return
        _write_bytes(Path(output), data)
    click.echo(f"{len(rows) - 1} tickets written to {output}", err=True)


def _is_month(text: str) -> bool:
    import re

    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    return bool(m) and 1 <= int(m.group(2)) <= 12 if m else False


def _csv_bytes(rows: list[list[str]], bom: bool) -> bytes:
    import csv
    import io

    from ..channels.recordform import csv_safe

    buf = io.StringIO()
    # quoting as Excel does, CRLF line ends
    csv.writer(buf).writerows([csv_safe(c) for c in row] for row in rows)
    return ("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8")


def _write_bytes(path: Path, data: bytes) -> None:
    """Write the file whole or not at all (temp file in the same folder, then rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        from ..errors import UsageError

        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: CJK characters count double."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _write_xlsx(path: Path, rows: list[list[str]], lang: str) -> None:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from ..channels.recordform import SHEET_TITLE

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE["zh" if lang == "zh" else "en"]
    for row in rows:
        # Every cell is text: a contact such as 13956785678 must not become a number.
        ws.append(row)
    for cells in ws.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # openpyxl would store it as a formula
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws.freeze_panes = "A2"
    wrap = Alignment(vertical="top", wrap_text=True)
    for col in range(1, len(rows[0]) + 1):
        widest = max(_display_width(r[col - 1]) for r in rows)
        ws.column_dimensions[get_column_letter(col)].width = min(widest, _WIDTH_CAP) + 2
        if widest > _WIDTH_CAP:
            for r in range(2, len(rows) + 1):
                ws.cell(row=r, column=col).alignment = wrap
    buf = io.BytesIO()
    wb.save(buf)
    _write_bytes(path, buf.getvalue())
