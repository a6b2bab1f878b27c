# ruff: noqa: E501  (the parts of a workbook, as XML)
"""The fast reader of .xlsx sheets (#12) gives the rows openpyxl's read-only worksheet
gives, value for value and type for type, on workbooks of every shape it meets."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from itdesk.channels import sheets

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""
STYLES = f"""<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="{MAIN}"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>
<fonts count="1"><font><sz val="11"/></font></fonts><fills count="1"><fill><patternFill/></fill></fills>
<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs>
<cellXfs count="4"><xf numFmtId="0" xfId="0"/><xf numFmtId="164" xfId="0"/><xf numFmtId="14" xfId="0"/><xf numFmtId="46" xfId="0"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""
SHARED = f"""<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="{MAIN}" count="4" uniqueCount="4"><si><t>编号</t></si>
<si><r><rPr><b/></rPr><t>rich </t></r><r><t xml:space="preserve">runs </t></r></si>
<si><t>a_x005F_x000D_b</t><rPh sb="0" eb="1"><t>ふりがな</t></rPh></si><si><t/></si></sst>"""


def workbook(path: Path, sheet_data: str, head: str = "", date1904: bool = False) -> Path:
    pr = '<workbookPr date1904="1"/>' if date1904 else ""
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'{pr}<sheets><sheet name="问题处理记录表" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">{head}<sheetData>{sheet_data}</sheetData></worksheet>'
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", book)
        z.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        z.writestr("xl/styles.xml", STYLES)
        z.writestr("xl/sharedStrings.xml", SHARED)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def rows_of(read: object, path: Path) -> list[list[object]]:
    with sheets.Sheet() as sheet:
        read(path, sheet)  # type: ignore[operator]
        return list(sheet.rows())


def assert_read_alike(path: Path) -> list[list[object]]:
    fast = rows_of(sheets._xlsx_values, path)
    slow = rows_of(sheets._openpyxl_rows, path)
    assert fast == slow
    assert [[type(v) for v in r] for r in fast] == [[type(v) for v in r] for r in slow]
    return fast


CELLS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s">'
    '<v>2</v></c><c r="D1" t="s"><v>3</v></c></row>'
    '<row r="2"><c r="A2"><v>13956785678</v></c><c r="B2"><v>1.5</v></c><c r="C2"><v>1E3</v>'
    '</c><c r="D2" t="b"><v>1</v></c><c r="E2" t="str"><v>=formula text</v></c>'
    '<c r="F2" t="e"><v>#N/A</v></c><c r="G2" t="d"><v>2023-10-25T09:30:00</v></c></row>'
    '<row r="4"><c r="B4" s="1"><v>45224.395833333336</v></c><c r="C4" s="2"><v>45224</v></c>'
    '<c r="D4" s="3"><v>1.25</v></c><c r="F4" t="inlineStr"><is><t>内联 &amp; &lt;文本&gt;\r\n第二行</t>'
    '</is></c><c r="G4" t="inlineStr"><is><r><t>富</t></r><r><t>文本</t></r></is></c>'
    '<c r="H4" t="inlineStr"/><c r="I4"><v></v></c></row>'
    "<row><c><v>7</v></c><c/><c><v>8</v></c></row>"
    '<row r="6.0"><c r="AA6"><v>9</v></c></row>'
    '<row r="8"/>'
)


def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    rows = assert_read_alike(workbook(tmp_path / "cells.xlsx", CELLS))
    assert rows[0] == ["编号", "rich runs ", "a_x000D_b", ""]
    assert rows[1][:4] == [13956785678, 1.5, 1000.0, True]
    assert rows[2] == []  # a missing row
    assert rows[3][1] == datetime(2023, 10, 25, 9, 30)
    assert rows[3][5] == "内联 & <文本>\n第二行"
    assert rows[4] == [7, None, 8]


@pytest.mark.parametrize(
    "head",
    ['<dimension ref="A1:E5"/>', '<dimension ref="A1"/>', '<dimension ref="B2:AC9"/>'],
)
def test_a_dimension_sizes_the_rows_as_in_openpyxl(tmp_path: Path, head: str) -> None:
    assert_read_alike(workbook(tmp_path / "sized.xlsx", CELLS, head=head))


def test_the_1904_calendar_and_a_date_out_of_range(tmp_path: Path) -> None:
    assert_read_alike(workbook(tmp_path / "mac.xlsx", CELLS, date1904=True))
    out = '<row r="1"><c r="A1" s="1"><v>1E12</v></c></row>'
    with pytest.warns(UserWarning):  # left to openpyxl, which warns and gives an error
        assert rows_of(sheets._xlsx_rows, workbook(tmp_path / "far.xlsx", out)) == [["#VALUE!"]]


def test_workbooks_written_by_openpyxl_read_alike(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "Record form"
    ws.append(["编号", "提交时间", None, 3, 2.5, True])
    ws.append([None, datetime(2023, 10, 25, 9, 30, 15), "文本\n两行"])
    ws.append([])
    ws.append(["IT-20231025-001", CellRichText([TextBlock(InlineFont(b=True), "粗"), "体"])])
    other = wb.create_sheet("other")
    other.append(["not this one"])
    wb.move_sheet(other, offset=-1)
    path = tmp_path / "written.xlsx"
    wb.save(path)
    rows = assert_read_alike(path)
    assert rows[0][0] == "编号"  # the record form's sheet, though not the first


def test_a_workbook_without_the_form_reads_its_first_sheet(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.append(["a", 1])
    wb.create_sheet("two").append(["b", 2])
    path = tmp_path / "first.xlsx"
    wb.save(path)
    assert assert_read_alike(path) == [["a", 1]]
