"""The record form as files: CSV and .xlsx sheets read for ``import`` and written for
``export``. Cells only; what the columns mean is :mod:`itdesk.channels.recordform`'s.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError

_WIDTH_CAP = 60  # characters; long descriptions and steps wrap instead


def read_sheet(path: Path) -> list[list[object]]:
    """The cells of a CSV file or of an .xlsx workbook's record-form sheet, row by row."""
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

    from .recordform import SHEET_TITLE

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


def csv_bytes(rows: list[list[str]], bom: bool) -> bytes:
    """The rows as CSV as Excel reads it (CRLF, quoting; a BOM for Chinese Excel),
    each cell made safe from formula injection."""
    import csv
    import io

    from .recordform import csv_safe

    buf = io.StringIO()
    # quoting as Excel does, CRLF line ends
    csv.writer(buf).writerows([csv_safe(c) for c in row] for row in rows)
    return ("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8")


def _display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: CJK characters count double."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def xlsx_bytes(rows: list[list[str]], lang: str) -> bytes:
    """The rows as an .xlsx workbook: every cell text, the header bold and frozen."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from .recordform import SHEET_TITLE

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
    return buf.getvalue()
