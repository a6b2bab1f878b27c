"""The record form as files: CSV and .xlsx sheets read for ``import`` and written for
``export``. Cells only; what the columns mean is :mod:`itdesk.channels.recordform`'s.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from .recordform import Cell

# Bounds on what import reads: two years of a large desk fit (100,000 rows), a bomb does
# not. The file is read as a stream (#12), so its size bounds time, not memory: 100,000
# rows exported with --reveal are ~300 MB of CSV.
MAX_ROWS = 200_000
MAX_FILE_BYTES = 1_000_000_000
MAX_INFLATED_BYTES = 1_000_000_000
_WIDTH_CAP = 60  # characters; long descriptions and steps wrap instead
_DATE_FORMAT = "yyyy-mm-dd hh:mm"
_SECONDS_FORMAT = "yyyy-mm-dd hh:mm:ss"
# rows pickled together in a Sheet's temporary file: what a worker process checks at a
# time when it reads them there itself (:meth:`Sheet.spans`)
_BATCH = 200


class Sheet:
    """The cells of a CSV file or of an .xlsx workbook's record-form sheet, row by row,
    read once from the file into a temporary file: :meth:`rows` goes over them again as
    often as needed, and a sheet of 100,000 rows is never held in memory (#12)."""

    def __init__(self) -> None:
        import tempfile

        self._file = tempfile.TemporaryFile()
        self._batch: list[list[object]] = []
        self._spans: list[tuple[int, int, int]] = []  # see spans()
        self._end = 0
        self.count = 0  # rows

    def _add(self, row: list[object]) -> None:
        self._batch.append(row)
        self.count += 1
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        import pickle

        if self._batch:
            data = pickle.dumps(self._batch, protocol=pickle.HIGHEST_PROTOCOL)
            self._file.seek(self._end)
            self._file.write(data)
            self._spans.append((self.count - len(self._batch), self._end, len(data)))
            self._end += len(data)
            self._batch = []

    def _clear(self) -> None:
        self._file.seek(0)
        self._file.truncate()
        self._batch, self.count, self._spans, self._end = [], 0, [], 0

    def spans(self) -> list[tuple[int, int, int]]:
        """The rows in batches, each as (index of its first row, and where its rows are
        in the temporary file): a worker process reads a batch's rows itself
        (:meth:`load`, by position: forked, it has the file), so that they are not sent
        to it row by row (#12)."""
        self._flush()
        self._file.flush()
        return list(self._spans)

    def load(self, span: tuple[int, int, int]) -> list[list[object]]:
        """The rows of one of :meth:`spans`."""
        import os
        import pickle

        _, offset, size = span
        rows: list[list[object]] = pickle.loads(os.pread(self._file.fileno(), size, offset))
        return rows

    def rows(self) -> Iterator[list[object]]:
        """Every row, the first one first."""
        for span in self.spans():
            yield from self.load(span)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Sheet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_sheet(path: Path) -> Sheet:
    """The rows of a CSV file or of an .xlsx workbook's record-form sheet (see
    :class:`Sheet`; the caller closes it)."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        hint = " (save it as .xlsx first)" if suffix == ".xls" else ""
        raise UsageError(f"cannot import {path.name}{hint}; accepted: FILE.csv, FILE.xlsx")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(
                f"{path.name} is {size // 1_000_000} MB; a sheet may be at most "
                f"{MAX_FILE_BYTES // 1_000_000} MB (split it)"
            )
        with path.open("rb"):
            pass  # readable (a folder, a file without permission: said here)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    sheet = Sheet()
    try:
        if suffix == ".csv":
            _csv_rows(path, sheet)
        else:
            _xlsx_rows(path, sheet)
    except BaseException:
        sheet.close()
        raise
    return sheet


def _csv_rows(path: Path, sheet: Sheet) -> None:
    import csv

    for encoding in ("utf-8-sig", "gb18030"):  # Excel on a Chinese Windows saves GBK
        sheet._clear()
        try:
            with path.open(encoding=encoding, newline="") as fh:
                first = _first_line(fh)
                delimiter = "\t" if first.count("\t") > first.count(",") else ","
                try:
                    for r in csv.reader(fh, delimiter=delimiter):
                        sheet._add(list(r))
                        if sheet.count > MAX_ROWS:
                            raise UsageError(f"{path.name} has more than {MAX_ROWS} rows; split it")
                except csv.Error as exc:
                    raise UsageError(f"{path.name}: not a readable CSV file: {exc}") from None
            return
        except UnicodeDecodeError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    raise UsageError(f"{path.name}: not UTF-8 or GBK text; save it as CSV UTF-8")


def _first_line(fh: IO[str]) -> str:
    """The text before the file's first ``\\n``; the file is then back at its start."""
    first = ""
    while "\n" not in first:
        chunk = fh.read(65536)
        if not chunk:
            break
        first += chunk
    fh.seek(0)
    return first.split("\n", 1)[0]


def _xlsx_rows(path: Path, sheet: Sheet) -> None:
    import zipfile

    _check_workbook(path)
    try:
        try:
            _xlsx_values(path, sheet)
        except _Unusual:  # what the fast reader leaves to openpyxl, which says it
            sheet._clear()
            _openpyxl_rows(path, sheet)
    except UsageError:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError, SyntaxError) as exc:
        # xml.etree's ParseError is a SyntaxError: a broken or hostile workbook.
        what = type(exc).__name__
        raise UsageError(f"{path.name}: not a readable .xlsx workbook ({what})") from None


def _openpyxl_rows(path: Path, sheet: Sheet) -> None:
    """The record form's sheet read by openpyxl (read-only), row by row."""
    from openpyxl import load_workbook

    from .recordform import SHEET_TITLE

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        names = [n for n in wb.sheetnames if n in SHEET_TITLE.values()]
        ws = wb[names[0]] if names else wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            _add_row(path, sheet, list(row))
    finally:
        wb.close()


def _add_row(path: Path, sheet: Sheet, row: list[object]) -> None:
    sheet._add(row)
    if sheet.count > MAX_ROWS:
        raise UsageError(f"{path.name} has more than {MAX_ROWS} rows; split it")


class _Unusual(Exception):
    """A workbook :func:`_xlsx_values` does not read as openpyxl would: openpyxl reads it."""


def _xlsx_values(path: Path, sheet: Sheet) -> None:
    """The cells of the record form's sheet, as openpyxl's read-only worksheet gives them
    (``iter_rows(values_only=True)``), read ~3x faster (#12): openpyxl finds the sheet,
    its styles and date formats, but the sheet's XML is read once (openpyxl reads it
    twice when it has no <dimension>, as an export has not) and each row's cells are
    taken straight from the XML elements, without a dict and a Text object per cell."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.xml.constants import SHARED_STRINGS

    from .recordform import SHEET_TITLE

    reader = ExcelReader(path, read_only=True, data_only=True)
    try:
        reader.read_manifest()
        package: Any = reader.package
        part = package.find(SHARED_STRINGS)
        strings: list[str] = []
        if part is not None:
            with reader.archive.open(part.PartName[1:]) as src:
                strings = _shared_strings(src)
        reader.read_workbook()
        reader.read_properties()
        reader.read_custom()
        reader.read_theme()
        apply_stylesheet(reader.archive, reader.wb)
        sheets: list[tuple[str, str]] = []  # (name, part) of each sheet openpyxl lists
        for found, rel in reader.parser.find_sheets():
            if rel.target not in reader.valid_files:
                continue
            if "chartsheet" in rel.Type:
                raise _Unusual
            sheets.append((found.name, rel.target))
        wanted = [target for name, target in sheets if name in SHEET_TITLE.values()]
        if not wanted and not sheets:
            raise _Unusual
        wb: Any = reader.wb
        with reader.archive.open(wanted[0] if wanted else sheets[0][1]) as src:
            for row in _sheet_rows(src, strings, wb.epoch, wb._date_formats, wb._timedelta_formats):
                _add_row(path, sheet, list(row))
    finally:
        reader.archive.close()


def _localname(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text_of(node: Any) -> str:
    """The text of an <si> or <is> element as openpyxl's ``Text.content``: its <t> (the
    last one), then the <t> of each <r> (rich text runs); phonetic runs left out."""
    plain: str | None = None
    runs: list[str] = []
    for el in node:
        tag = _localname(el.tag)
        if tag == "t":
            plain = el.text
        elif tag == "r":
            t = None
            for sub in el:
                if _localname(sub.tag) == "t":
                    t = sub.text
            if t is not None:
                runs.append(t)
    return ("" if plain is None else plain) + "".join(runs)


def _shared_strings(src: IO[bytes]) -> list[str]:
    """A workbook's shared strings as openpyxl reads them (``read_string_table``)."""
    from xml.etree.ElementTree import iterparse

    si = f"{{{_MAIN}}}si"
    out: list[str] = []
    for _, node in iterparse(src):
        if node.tag == si:
            out.append(_text_of(node).replace("x005F_", ""))
            node.clear()
    return out


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_COLUMN = re.compile(r"[^0-9]*")


def _sheet_rows(
    src: IO[bytes],
    strings: list[str],
    epoch: Any,
    date_formats: Container[int],
    timedelta_formats: Container[int],
) -> Iterator[tuple[object, ...]]:
    """The rows of a worksheet's XML as openpyxl's ``ReadOnlyWorksheet.iter_rows(
    values_only=True)`` gives them: its ``WorkSheetParser.parse`` (the sheet's other
    parts parsed by its own methods, which warn or raise as they do there), each row's
    cells as ``parse_cell`` reads them with ``data_only``, laid out as ``_cells_by_row``
    does: as wide as the sheet's <dimension> says (else up to the row's last cell),
    missing rows empty, rows past the dimension's last left out."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils import datetime as dates
    from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple, range_boundaries
    from openpyxl.utils.datetime import from_excel
    from openpyxl.worksheet import _reader

    r: Any = _reader  # openpyxl's parser of a worksheet, its tags and parts
    from_iso: Any = dates.from_ISO8601
    ws = r.WorkSheetParser(src, strings, True, epoch, date_formats, timedelta_formats)
    dispatcher = {
        r.COL_TAG: ws.parse_column_dimensions,
        r.PROT_TAG: ws.parse_sheet_protection,
        r.EXT_TAG: ws.parse_extensions,
        r.CF_TAG: ws.parse_formatting,
        r.LEGACY_TAG: ws.parse_legacy,
        r.ROW_BREAK_TAG: ws.parse_row_breaks,
        r.COL_BREAK_TAG: ws.parse_col_breaks,
        r.CUSTOM_VIEWS_TAG: ws.parse_custom_views,
    }
    properties = {
        r.PRINT_TAG: r.PrintOptions,
        r.MARGINS_TAG: r.PageMargins,
        r.PAGE_TAG: r.PrintPageSetup,
        r.HEADER_TAG: r.HeaderFooter,
        r.FILTER_TAG: r.AutoFilter,
        r.VALIDATION_TAG: r.DataValidationList,
        r.PROPERTIES_TAG: r.WorksheetProperties,
        r.VIEWS_TAG: r.SheetViewList,
        r.FORMAT_TAG: r.SheetFormatProperties,
        r.SCENARIOS_TAG: r.ScenarioList,
        r.TABLE_TAG: r.TablePartList,
        r.HYPERLINK_TAG: r.HyperlinkList,
        r.MERGE_TAG: r.MergeCells,
    }
    row_tag, v_tag, is_tag = r.ROW_TAG, r.VALUE_TAG, r.INLINE_STRING
    columns: dict[str, int] = {}

    def cells(row: Any) -> list[tuple[int, object]]:
        found: list[tuple[int, object]] = []
        column = 0
        for c in row:
            data_type = c.get("t", "n")
            coordinate = c.get("r")
            style: Any = c.get("s", 0)
            if style:
                style = int(style)
            value: Any = None if data_type == "inlineStr" else (c.findtext(v_tag) or None)
            if coordinate:
                end = _COLUMN.match(coordinate).end()  # type: ignore[union-attr]
                if end == len(coordinate):
                    column = coordinate_to_tuple(coordinate)[1]  # no row number: it raises
                else:
                    int(coordinate[end:])  # a bad row number raises, as in openpyxl
                    letters = coordinate[:end]
                    if letters not in columns:
                        columns[letters] = column_index_from_string(letters)
                    column = columns[letters]
            else:
                column += 1
            if value is not None:
                if data_type == "n":
                    if "." in value or "E" in value or "e" in value:
                        value = float(value)
                    else:
                        value = int(value)
                    if style in date_formats:
                        try:
                            value = from_excel(value, epoch, timedelta=style in timedelta_formats)
                        except (OverflowError, ValueError):
                            raise _Unusual from None  # openpyxl warns, and gives an error
                elif data_type == "s":
                    value = strings[int(value)]
                elif data_type == "b":
                    value = bool(int(value))
                elif data_type == "d":
                    value = from_iso(value)
            elif data_type == "inlineStr":
                child = c.find(is_tag)
                if child is not None:
                    value = _text_of(child)
            found.append((column, value))
        return found

    max_col: int | None = None
    max_row: int | None = None
    sized = False  # openpyxl takes the first <dimension> before the end of <sheetData>
    rows = False  # whether a row was read
    counter = 1  # the next row to give
    number = 0  # the row read last
    for _, element in iterparse(src):
        tag = element.tag
        if tag in dispatcher:
            dispatcher[tag](element)
            element.clear()
        elif tag in properties:
            properties[tag].from_tree(element)
            element.clear()
        elif tag == row_tag:
            rows = True
            text = element.get("r")
            if text is not None:
                try:
                    number = int(text)
                except ValueError:
                    as_float = float(text)
                    if not as_float.is_integer():
                        raise ValueError(f"{text} is not a valid row number") from None
                    number = int(as_float)
            else:
                number += 1
            found = cells(element)
            element.clear()
            empty: Any = (None,) * max_col if max_col is not None else []
            if max_row is not None and number > max_row:
                for _ in range(counter, max_row + 1):
                    yield empty
                return
            for _ in range(counter, number):
                counter += 1
                yield empty
            if counter <= number:
                counter += 1
                if not found and not max_col:
                    yield ()
                    continue
                width = max_col or found[-1][0]
                values: list[object] = [None] * width
                for column, value in found:
                    if 1 <= column <= width:
                        values[column - 1] = value
                yield tuple(values)
        elif tag == r.DIMENSION_TAG and not sized:
            if rows:
                raise _Unusual  # after rows: openpyxl sized them by it
            ref = element.get("ref")
            if ref is None:
                raise _Unusual
            _, _, max_col, max_row = range_boundaries(ref)
            sized = True
        elif tag == r.DATA_TAG:
            sized = True


def _check_workbook(path: Path) -> None:
    """Refuse what no spreadsheet program writes but an attacker does: XML with a
    document type (entity expansion, "billion laughs"), and a zip that inflates to far
    more than a record form can hold. Checked before openpyxl parses anything."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            members = z.infolist()
            if len(members) > 1_000:
                raise UsageError(f"{path.name}: {len(members)} parts; not a record form")
            total = sum(m.file_size for m in members)
            if total > MAX_INFLATED_BYTES:
                raise UsageError(
                    f"{path.name} inflates to {total // 1_000_000} MB; a sheet may hold at "
                    f"most {MAX_INFLATED_BYTES // 1_000_000} MB"
                )
            for m in members:
                if not m.filename.endswith((".xml", ".rels", ".vml")):
                    continue
                with z.open(m) as fh:
                    prolog = _prolog(fh)
                if prolog is None or b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                    raise UsageError(
                        f"{path.name}: {m.filename} declares a document type (entities) or "
                        "has no root element; no spreadsheet program writes that; refused"
                    )
    except zipfile.BadZipFile as exc:
        raise UsageError(f"{path.name}: not an .xlsx workbook ({exc})") from None


def _prolog(fh: IO[bytes], limit: int = 1_000_000) -> bytes | None:
    """What comes before an XML part's root element (declaration, comments, a document
    type), or None if no root element starts within ``limit`` bytes."""
    seen = b""
    while len(seen) < limit:
        chunk = fh.read(65536)
        if not chunk:
            break
        seen += chunk
        m = _ROOT.search(seen)
        if m:
            return seen[: m.start()]
    return None


_ROOT = re.compile(rb"<[A-Za-z_]")


def write_csv(rows: Iterable[Sequence[Cell]], out: IO[bytes], bom: bool = True) -> None:
    """The rows as CSV as Excel reads it, written to ``out`` as they come: UTF-8 with a
    BOM (without it Excel takes the file for the machine's legacy code page, GBK on a
    Chinese Windows, and garbles it), CRLF line ends, quoting; times as
    ``2023-10-25 09:30``; each cell made safe from formula injection."""
    import csv
    import io

    from .recordform import cell_text, csv_safe

    if bom:
        out.write("\ufeff".encode())
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    try:
        writer = csv.writer(text)  # quoting as Excel does, CRLF line ends
        for row in rows:
            writer.writerow([csv_safe(cell_text(c)) for c in row])
        text.flush()
    finally:
        text.detach()  # ``out`` stays open: it is the caller's


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet cell: CJK characters count double."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def write_xlsx(
    rows: Iterable[Sequence[Cell]], widths: Sequence[int], lang: str, out: IO[bytes]
) -> None:
    """The rows (the header first) as an .xlsx workbook written to ``out``, row by row
    (openpyxl's write-only mode: a sheet of 100,000 tickets is never held whole). The
    header is bold and frozen; ``widths`` (each column's widest text) size the columns,
    and a column wider than the cap wraps. Times are date cells (a spreadsheet can sort,
    filter and compute with them); every other cell is text, so that a contact such as
    13956785678 or a number such as 001 stays as written."""
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from .recordform import SHEET_TITLE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE["zh" if lang == "zh" else "en"])
    for col, widest in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = min(widest, _WIDTH_CAP) + 2
    ws.freeze_panes = "A2"
    wrapped = {i for i, widest in enumerate(widths) if widest > _WIDTH_CAP}
    wrap = Alignment(vertical="top", wrap_text=True)
    bold, middle = Font(bold=True), Alignment(vertical="center", wrap_text=True)
    header = True
    for row in rows:
        if header:
            cells = []
            for value in row:
                cell = WriteOnlyCell(ws, value=value)
                cell.font, cell.alignment = bold, middle
                cells.append(cell)
            ws.append(cells)
            header = False
            continue
        out_row: list[object] = []
        for i, value in enumerate(row):
            if isinstance(value, datetime):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = _DATE_FORMAT if value.second == 0 else _SECONDS_FORMAT
            elif isinstance(value, str) and (value.startswith("=") or i in wrapped):
                cell = WriteOnlyCell(ws, value=value)
                if value.startswith("="):
                    cell.data_type = "s"  # openpyxl would store it as a formula
                if i in wrapped:
                    cell.alignment = wrap
            else:
                out_row.append(value)
                continue
            out_row.append(cell)
        ws.append(out_row)
    wb.save(out)
