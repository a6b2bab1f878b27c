"""`itdesk export` and `itdesk import`: the record form (问题处理记录表) out and back in.

The process document's two sample rows (section 三) are re-created through the real
commands with the document's times, exported with --lang zh and compared column by
column with the document's table; then sheets are imported, good and bad.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from conftest import Itdesk, git, git_state

IT001 = "IT-20231025-001"
IT002 = "IT-20231025-002"
# The technicians of the document's table (张*, 李*), as team members.
MEMBERS = {"hardware": ["张伟"], "network": ["张伟"], "desk": ["李强"]}

# Section 三 of the process document, as printed there. Its text lost characters
# around the masks: "研发部/*明" is our "研发部/王*明", "1395678" is "139****5678", and
# the times lost their space. IT001's contact is empty in the document.
DOCUMENT = [
    ["IT001", "2023-10-2509:30", "研发部/*明", "",
     "电脑无法连接公司WiFi,提示“网络身份验证失败”,影响代码提交", "二级(重要)", "网络", "张*",
     "1.检查电脑无线网卡驱动;2.重置网络配置;3.更新公司WiFi证书", "已解决", "满意",
     "2023-10-2511:00", "员工对处理效率认可"],
    ["IT002", "2023-10-2510:15", "市场部/*丽", "1395678",
     "OA系统登录时弹出“未知错误代码500”,无法进入审批流程", "一级(紧急)", "软件", "李*",
     "1.检查OA服务器日志;2.重启应用服务;3.联系系统厂商排查接口问题", "升级处理(厂商协调中)",
     "待回访", "-", "需跟进厂商解决进度"],
]  # fmt: skip
ZH_HEADER = [
    "工单编号", "提交时间", "提交人(部门/姓名)", "联系方式", "问题描述(现象+报错信息+影响范围)",
    "问题分级(紧急/重要/一般)", "问题类型(硬件/软件/网络/账号/其他)", "处理人",
    "处理过程(步骤+操作记录)", "解决结果(已解决/待跟进/升级处理)", "用户反馈(满意/一般/不满意)",
    "关闭时间", "备注",
]  # fmt: skip
EN_HEADER = [
    "Ticket number", "Submitted at", "Submitter (department/name)", "Contact",
    "Description (symptom + error + impact)", "Priority (urgent/important/normal)",
    "Category (hardware/software/network/account/other)", "Handler", "Handling steps",
    "Result (resolved/awaiting follow-up/escalated)",
    "User feedback (satisfied/neutral/unsatisfied)", "Closed at", "Remarks",
]  # fmt: skip
ZH_EXTRA = ["状态", "标题", "工号", "影响范围", "处理组", "解决方案", "解决时间", "速度满意度",
            "态度满意度", "回访意见", "工单备注", "后续记录", "工单记录(JSON)"]  # fmt: skip
EN_EXTRA = ["Status", "Title", "Employee number", "Impact scope", "Team", "Resolution summary",
            "Resolved at", "Satisfaction with speed", "Satisfaction with attitude",
            "Follow-up comment", "Ticket remarks", "Later steps", "Record (JSON)"]  # fmt: skip
PHONE = "13900005678"


def _as_document(column: int, value: str) -> str:
    """Our cell as the document prints it (see the note on DOCUMENT)."""
    if column == 0:
        return "IT" + value.rsplit("-", 1)[1]
    if column in (1, 11):
        return value.replace(" ", "")
    if column == 2:
        return re.sub(r"/.(?=\*)", "/", value)
    if column == 3:
        return value.replace("*", "")
    return value


def seed_rows(d: Itdesk) -> None:
    """The document's two tickets, step by step with its times."""
    tid = d.ok(
        "new", "--now", "2023-10-25T09:30", "--title", "电脑无法连接公司WiFi",
        "--requester", "王小明", "--department", "研发部",
        "--description", "电脑无法连接公司WiFi,提示“网络身份验证失败”",
        "--scope", "影响代码提交", "--blocks-work", "--channel", "chat",
    ).stdout.strip()  # fmt: skip
    assert tid == IT001
    steps = [
        ("ack", tid, "--now", "09:32"),
        ("classify", tid, "--priority", "二级(重要)", "--category", "网络", "--now", "09:33"),
        ("assign", tid, "--to", "张伟", "--now", "09:35"),
        ("accept", tid, "--as", "张伟", "--now", "09:40"),
        ("log", tid, "--via", "remote", "--as", "张伟", "检查电脑无线网卡驱动", "--now", "09:50"),
        ("log", tid, "--via", "remote", "--as", "张伟", "重置网络配置", "--now", "10:10"),
        ("log", tid, "--via", "onsite", "--as", "张伟", "更新公司WiFi证书", "--now", "10:40"),
        ("resolve", tid, "--summary", "更新证书后恢复", "--verified", "--as", "张伟",
         "--now", "10:50"),
        ("followup", tid, "--speed", "满意", "--attitude", "满意", "--overall", "满意",
         "--comment", "员工对处理效率认可", "--now", "11:00"),
        ("close", tid, "--now", "11:00"),
    ]  # fmt: skip
    tid = d.ok(
        "new", "--now", "2023-10-25T10:15", "--title", "OA系统登录报错500",
        "--requester", "陈小丽", "--department", "市场部", "--contact", PHONE,
        "--description", "OA系统登录时弹出“未知错误代码500”", "--scope", "无法进入审批流程",
        "--blocks-work", "--channel", "portal",
    ).stdout.strip()  # fmt: skip
    assert tid == IT002
    steps += [
        ("ack", tid, "--now", "10:17"),
        ("classify", tid, "--priority", "紧急", "--category", "软件", "--now", "10:18"),
        ("assign", tid, "--to", "李强", "--now", "10:20"),
        ("accept", tid, "--as", "李强", "--now", "10:24"),
        ("log", tid, "--via", "remote", "--as", "李强", "检查OA服务器日志", "--now", "10:35"),
        ("log", tid, "--via", "remote", "--as", "李强", "重启应用服务", "--now", "10:50"),
        ("log", tid, "--via", "phone", "--as", "李强", "联系系统厂商排查接口问题",
         "--now", "11:10"),
        ("escalate", tid, "--vendor", "OA系统厂商", "--reason", "接口问题需厂商排查",
         "--eta", "2023-10-26T18:00", "--as", "李强", "--now", "11:15"),
    ]  # fmt: skip
    for step in steps:
        *args, when = step
        d.ok(*args, f"2023-10-25T{when}")


@pytest.fixture
def seeded(make_desk: Callable[..., Itdesk]) -> Itdesk:
    d = make_desk(members=MEMBERS)
    seed_rows(d)
    return d


def csv_rows(result: Result) -> list[list[str]]:
    return list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"), newline="")))


def commits(d: Itdesk) -> int:
    return int(git(d.desk, "rev-list", "--count", "HEAD"))


# ------------------------------------------------------------------- export


def test_seed_rows_exported_match_the_documents_table(seeded: Itdesk) -> None:
    before = git_state(seeded.desk)
    result = seeded.ok("export", "--lang", "zh")
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")  # BOM
    assert b"\r\n" in result.stdout_bytes
    header, *rows = csv_rows(result)
    assert header[:13] == ZH_HEADER  # the form's columns first, in its order
    assert header[13:] == ZH_EXTRA  # then what the form lacks
    assert len(rows) == 2
    for ours, doc in zip(rows, DOCUMENT, strict=True):
        assert len(ours) == 13 + len(ZH_EXTRA)
        for column, (value, want) in enumerate(zip(ours[:13], doc, strict=True)):
            assert _as_document(column, value) == want, (doc[0], header[column], value)
    assert rows[0][2] == "研发部/王*明" and rows[1][2:4] == ["市场部/陈*丽", "139****5678"]
    assert git_state(seeded.desk) == before  # exporting changes nothing


def test_masked_export_has_no_full_phone_number_or_name(seeded: Itdesk, tmp_path: Path) -> None:
    for args in (["--lang", "zh"], ["--lang", "en"]):
        text = seeded.ok("export", *args).stdout
        assert PHONE not in text and not re.search(r"\d{11}", text)
        assert "陈小丽" not in text and "王小明" not in text and "张伟" not in text
    out = tmp_path / "r.xlsx"
    seeded.ok("export", "--output", str(out))
    from openpyxl import load_workbook

    sheet = load_workbook(out).worksheets[0]
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row]
    assert PHONE not in " ".join(cells) and "139****5678" in cells
    revealed = seeded.ok("export", "--reveal").stdout
    assert PHONE in revealed and "市场部/陈小丽" in revealed and "张伟" in revealed


def test_english_export_bom_options_and_selection(seeded: Itdesk, tmp_path: Path) -> None:
    en = seeded.ok("export")  # the desk's locale is en: a BOM all the same
    assert en.stdout_bytes.startswith(b"\xef\xbb\xbf")
    header, r1, r2 = csv_rows(en)
    assert header == EN_HEADER + EN_EXTRA
    assert r1[5:12] == ["P2 (important)", "network", "张*",
                        "1.检查电脑无线网卡驱动;2.重置网络配置;3.更新公司WiFi证书", "resolved",
                        "satisfied", "2023-10-25 11:00"]  # fmt: skip
    assert r2[9:13] == ["escalated (vendor)", "awaiting call-back", "-",
                        "follow up on the vendor's progress"]  # fmt: skip
    assert seeded.ok("export", "--bom").stdout_bytes.startswith(b"\xef\xbb\xbf")
    assert not seeded.ok("export", "--lang", "zh", "--no-bom").stdout_bytes.startswith(b"\xef")
    assert "BOM" in seeded.ok("export", "--help").stdout  # the choice is documented
    only = csv_rows(seeded.ok("export", "--status", "pending_vendor"))
    assert [r[0] for r in only[1:]] == [IT002]
    assert len(csv_rows(seeded.ok("export", "--month", "2023-11"))) == 1  # the header only
    for lang in ("zh", "en"):
        out = tmp_path / f"records-{lang}.csv"
        done = seeded.ok("export", "--lang", lang, "-o", str(out))
        said = "已导出 2 张工单" if lang == "zh" else "2 tickets"  # the message follows --lang
        assert done.stdout == "" and said in done.stderr
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_xlsx_is_a_real_workbook(seeded: Itdesk, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "records.xlsx"
    seeded.ok("export", "--lang", "zh", "--format", "xlsx", "--output", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["问题处理记录表"]
    ws = wb.worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ZH_HEADER + ZH_EXTRA
    assert rows[1][:3] == [IT001, datetime(2023, 10, 25, 9, 30), "研发部/王*明"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    widths = [ws.column_dimensions[c].width for c in "ABCDEFGHIJKLM"]
    assert all(8 <= w <= 62 for w in widths) and widths[4] > widths[7]


def test_export_usage_errors(seeded: Itdesk) -> None:
    for args, message in [
        (["--format", "xlsx"], "give --output FILE.xlsx"),
        (["--month", "2023-13"], "bad --month"),
        (["--status", "done"], "unknown status 'done'"),
        (["--all", "--status", "closed"], "not both"),
    ]:
        result = seeded("export", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr and result.stderr.count("\n") == 1


def test_archived_tickets_are_exported(seeded: Itdesk) -> None:
    month = seeded.desk / "tickets" / "archive" / "2023-10"
    month.mkdir(parents=True)
    git(seeded.desk, "mv", f"tickets/{IT001}.yaml", f"tickets/archive/2023-10/{IT001}.yaml")
    git(seeded.desk, "commit", "-qm", "archive")
    rows = csv_rows(seeded.ok("export"))
    assert [r[0] for r in rows[1:]] == [IT001, IT002]


# ------------------------------------------------------------------- import


def write_csv(path: Path, rows: list[list[str]], bom: bool = True) -> Path:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(("\ufeff" if bom else "").encode() + buf.getvalue().encode("utf-8"))
    return path


def unmasked_document() -> list[list[str]]:
    """The document's rows with the names and contact its print masked (王小明...)."""
    rows = [list(r) for r in DOCUMENT]
    rows[0][2], rows[1][2], rows[1][3] = "研发部/王小明", "市场部/陈小丽", PHONE
    rows[0][7], rows[1][7] = "张伟", "李强"
    return rows


def test_one_bad_row_imports_nothing(desk: Itdesk, tmp_path: Path) -> None:
    bad = unmasked_document()
    bad[1][5] = "特急"  # not a priority
    sheet = write_csv(tmp_path / "records.csv", [ZH_HEADER, *bad])
    before = git_state(desk.desk)
    result = desk("import", str(sheet))
    assert result.exit_code == 2
    assert result.stdout == ""
    line = result.stderr.splitlines()[-1]
    assert line.startswith("itdesk: error: row 3, 问题分级 (priority): '特急'"), line
    assert "二级(重要)" in line and "nothing was imported" in line
    assert git_state(desk.desk) == before
    assert not list((desk.desk / "tickets").glob("*.yaml"))


def test_good_csv_import_is_one_commit_and_valid(make_desk: Callable[..., Itdesk],
                                                 tmp_path: Path) -> None:  # fmt: skip
    d = make_desk(members=MEMBERS)
    rows = unmasked_document()
    sheet = write_csv(tmp_path / "records.csv", [ZH_HEADER, *rows])
    before = commits(d)
    result = d.ok("import", str(sheet), "--now", "2023-11-01T09:00")
    assert result.stdout.splitlines()[0] == "import: 2 tickets from records.csv"
    assert commits(d) == before + 1
    assert git(d.desk, "status", "--porcelain") == ""
    message = git(d.desk, "log", "-1", "--format=%B")
    assert message.startswith("import: 2 tickets from records.csv\n")
    assert f"Ticket: {IT001}" in message and "Action: import" in message
    assert d.ok("validate").exit_code == 0
    t1, t2 = d.ticket(IT001), d.ticket(IT002)
    assert (t1["status"], t2["status"]) == ("closed", "pending_vendor")
    assert t1["requester"] == {"name": "王小明", "employee_id": None, "department": "研发部",
                               "contact": None}  # fmt: skip
    assert t1["reported_at"] == "2023-10-25T09:30:00+08:00"
    assert t1["closed_at"] == "2023-10-25T11:00:00+08:00"
    assert (t1["priority"], t1["category"]) == ("P2", "network")
    assert (t1["assignee"], t1["team"]) == ("张伟", "network")
    assert [e["text"] for e in t1["log"] if e["kind"] == "note"] == [
        "检查电脑无线网卡驱动", "重置网络配置", "更新公司WiFi证书",
    ]  # fmt: skip
    assert t1["followup"]["overall"] == "satisfied"
    assert t1["followup"]["comment"] == "员工对处理效率认可"
    assert t1["remarks"] == "imported from IT001"
    assert t2["remarks"] == "imported from IT002"
    # The export gives the document's row back (numbers aside, and the masks).
    exported = csv_rows(d.ok("export", "--lang", "zh"))[1:]
    for ours, doc in zip(exported, DOCUMENT, strict=True):
        assert [_as_document(i, v) for i, v in enumerate(ours)][:12] == doc[:12]


def test_xlsx_import_and_round_trip(seeded: Itdesk, make_desk: Callable[..., Itdesk],
                                   tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "records.xlsx"
    seeded.ok("export", "--reveal", "--output", str(out))
    original = csv_rows(seeded.ok("export", "--reveal", "--lang", "zh"))
    empty = make_desk()
    before = commits(empty)
    result = empty.ok("import", str(out))
    assert "import: 2 tickets from records.xlsx" in result.stdout
    assert commits(empty) == before + 1
    assert empty.ok("validate").exit_code == 0
    assert csv_rows(empty.ok("export", "--reveal", "--lang", "zh")) == original
    # and through CSV, with the BOM, into another empty desk
    again = make_desk()
    sheet = tmp_path / "records.csv"
    sheet.write_bytes(seeded.ok("export", "--reveal", "--lang", "zh").stdout_bytes)
    again.ok("import", str(sheet))
    assert csv_rows(again.ok("export", "--reveal", "--lang", "zh")) == original


def test_bom_gbk_and_dry_run(desk: Itdesk, tmp_path: Path) -> None:
    row = ["", "2023-10-26 08:00", "财务部/赵强", "", "打印机卡纸", "一般", "硬件", "", "",
           "待跟进", "", "", ""]  # fmt: skip
    plain = write_csv(tmp_path / "plain.csv", [ZH_HEADER, row], bom=False)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(plain.read_text(encoding="utf-8").encode("gb18030"))
    before = git_state(desk.desk)
    dry = desk.ok("import", str(gbk), "--dry-run")
    assert "dry run" in dry.stdout and "acknowledged" in dry.stdout
    assert git_state(desk.desk) == before
    desk.ok("import", str(write_csv(tmp_path / "bom.csv", [ZH_HEADER, row])))
    t = desk.ticket("IT-20231026-001")
    assert (t["status"], t["priority"], t["category"]) == ("acknowledged", "P3", "hardware")
    assert t["requester"]["department"] == "财务部" and t["remarks"] is None
    assert desk.ok("validate").exit_code == 0


def test_a_row_in_the_hour_the_clocks_skip(make_desk: Callable[..., Itdesk],
                                           tmp_path: Path) -> None:  # fmt: skip
    """Berlin's clocks skip 02:00-03:00 on 2024-03-31. A row submitted at 02:30 was read
    as 02:30+01:00 (01:30 UTC) and, closed at 03:20 (+02:00, 01:20 UTC), imported as a
    ticket closed before it was reported: validate refused the file, report said it was
    handled in -10m. 02:30 is read as the real time 03:30, as --now reads it, and the
    row is refused in the sheet's terms; closed at 04:00, every reader agrees."""
    d = make_desk(members=MEMBERS, tz="Europe/Berlin")
    row = ["IT900", "2024-03-31 02:30", "研发部/王小明", PHONE, "WiFi 连不上", "三级(一般)",
           "网络", "张伟", "重置网络配置", "已解决", "满意", "2024-03-31 03:20", ""]  # fmt: skip
    result = d("import", str(write_csv(tmp_path / "early.csv", [ZH_HEADER, row])))
    assert result.exit_code == 2
    assert result.stderr == (
        "itdesk: error: row 2, 关闭时间 (closed at): 2024-03-31 03:20 is before the submitted "
        "time 2024-03-31 03:30; nothing was imported\n"
    )
    assert not list((d.desk / "tickets").glob("*.yaml"))
    row[11] = "2024-03-31 04:00"
    d.ok("import", str(write_csv(tmp_path / "late.csv", [ZH_HEADER, row])))
    ticket_id = "IT-20240331-001"
    t = d.ticket(ticket_id)
    assert t["reported_at"] == "2024-03-31T03:30:00+02:00"
    assert t["closed_at"] == "2024-03-31T04:00:00+02:00"
    assert d("validate").exit_code == 0
    assert "| Handling time | 30m |" in d.ok("report", ticket_id).stdout
    # sla explain and stats give each clock of the closed ticket the same verdict.
    explain = json.loads(d.ok("sla", "explain", ticket_id, "--format", "json").stdout)
    assert [c["clock"] for c in explain] == ["ack", "response", "accept", "resolution",
                                             "followup"]  # fmt: skip
    stats = json.loads(d.ok("stats", "--format", "json").stdout)["sla"]
    for c in explain:
        assert stats[c["clock"]][c["state"]] == 1, (c, stats[c["clock"]])


def test_import_usage_errors(desk: Itdesk, tmp_path: Path) -> None:
    old = tmp_path / "records.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    cases = [
        (old, "save it as .xlsx first"),
        (fake, "not an .xlsx workbook"),
        (tmp_path / "missing.csv", "cannot read"),
        (write_csv(tmp_path / "h.csv", [ZH_HEADER]), "no rows to import"),
    ]
    before = git_state(desk.desk)
    for path, message in cases:
        result = desk("import", str(path))
        assert result.exit_code == 2, path
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert git_state(desk.desk) == before


def test_formula_text_stays_text(make_desk: Callable[..., Itdesk], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    d = make_desk()
    formula = '=HYPERLINK("http://evil.example","点我")'
    d.new(description=formula, title="Link")
    row = csv_rows(d.ok("export", "--reveal"))[1]
    assert row[4] == "'" + formula  # Excel shows it, does not run it
    out = tmp_path / "f.xlsx"
    d.ok("export", "--reveal", "-o", str(out))
    cell = load_workbook(out).worksheets[0]["E2"]
    assert (cell.value, cell.data_type) == (formula, "s")
    for sheet in (out, write_csv(tmp_path / "f.csv", csv_rows(d.ok("export", "--reveal")))):
        other = make_desk()
        other.ok("import", str(sheet))
        assert other.ticket("IT-20231025-001")["description"] == formula


def test_export_output_never_writes_through_a_symlink(tmp_path: Path, desk: Itdesk) -> None:
    """`export -o FILE` replaces FILE: a symlink there (or planted at a temporary name)
    is replaced, never followed to the file it points at."""
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n", encoding="utf-8")
    out = tmp_path / "records.csv"
    out.symlink_to(outside)
    # The name the old predictable temp file had (CliRunner runs in this process).
    (tmp_path / f".records.csv.{os.getpid()}.tmp").symlink_to(outside)
    desk.ok("export", "--output", str(out))
    assert outside.read_text(encoding="utf-8") == "precious\n"
    assert not out.is_symlink()
    assert out.read_text(encoding="utf-8-sig").startswith(("Ticket", "工单"))


def _entity_bomb(path: Path) -> None:
    """An .xlsx whose sheet declares nested entities ("billion laughs")."""
    import zipfile

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["工单编号", "提交时间"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    entities = '<!ENTITY lol1 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                body = data.decode().split("?>", 1)[-1]
                padding = "x" * 5000  # past a check of the first 4 KB only
                data = f'<?xml version="1.0"?><!-- {padding} --><!DOCTYPE w [{entities}]>'
                data = (data + body).encode()
            z.writestr(item, data)


@pytest.mark.parametrize("kind", ["entity bomb", "broken xml", "not a zip", "too many rows"])
def test_hostile_sheets_are_refused_in_one_line(
    desk: Itdesk, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / ("rows.csv" if kind == "too many rows" else "sheet.xlsx")
    if kind == "entity bomb":
        _entity_bomb(path)
    elif kind == "broken xml":
        import zipfile

        with zipfile.ZipFile(path, "w") as z:
            z.writestr("[Content_Types].xml", "<Types><unclosed></Types>")
            z.writestr("xl/workbook.xml", "<workbook><sheets")
    elif kind == "not a zip":
        path.write_bytes(b"PK\x03\x04 nothing else")
    else:
        import itdesk.channels.sheets as sheets

        monkeypatch.setattr(sheets, "MAX_ROWS", 50)
        path.write_text("工单编号,提交时间\n" + "IT001,2023-10-25 09:30\n" * 60, encoding="utf-8")
    before = git_state(desk.desk)
    result = desk("import", str(path))
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and "internal error" not in result.stderr
    assert git_state(desk.desk) == before


# ------------------------------------------------------------- round trip


def build_rich_desk(d: Itdesk, tmp_path: Path) -> None:
    """A ticket in every status, the ways a desk gets there: closed after a follow-up
    whose three answers differ, closed by force with and without a handler, resolved
    and then closed by force, cancelled, waiting on a vendor with a call after the
    hand-over, reopened...; and two tickets imported from the document's form, with
    remarks."""

    def run(*args: str, at: str) -> None:
        d.ok(*args, "--now", f"2023-10-25T{at}")

    def new(at: str, **kw: str) -> str:
        return d.new(now=f"2023-10-25T{at}", **kw)

    def working(tid: str, hour: int) -> None:
        run("ack", tid, at=f"{hour:02d}:01")
        run("classify", tid, "--priority", "P2", "--category", "network", at=f"{hour:02d}:02")
        run("assign", tid, "--to", "wang", at=f"{hour:02d}:03")
        run("accept", tid, "--as", "wang", at=f"{hour:02d}:04")
        run("log", tid, "--via", "remote", "--as", "wang", "重置网卡", at=f"{hour:02d}:05")

    a = new("08:00:27", title="WiFi 掉线", description="电脑连不上WiFi,提示认证失败",
            scope="影响代码提交", employee_id="E1001", contact="wang.xm@example.com")  # fmt: skip
    working(a, 8)
    run("log", a, "--via", "onsite", "--as", "wang", "更新证书", at="08:06")
    run("resolve", a, "--summary", "更新证书后恢复", "--verified", "--as", "wang", at="08:10")
    run("log", a, "--via", "phone", "--as", "wang", "再次确认已恢复", at="08:20")
    run("followup", a, "--speed", "neutral", "--attitude", "satisfied", "--overall",
        "unsatisfied", "--comment", "等了很久", at="08:30")  # fmt: skip
    run("close", a, at="08:31")
    b = new("09:00", title="OA 报错500", requester="陈小丽", department="市场部")
    working(b, 9)
    run("escalate", b, "--vendor", "OA厂商", "--reason", "接口问题", "--as", "wang", at="09:10")
    run("log", b, "--via", "phone", "--as", "wang", "已告知预计明天修复", at="09:20")
    c = new("10:00", title="打印机卡纸")  # closed by force, never assigned
    run("ack", c, at="10:01")
    run("close", c, "--force", "--reason", "重复提交", at="10:02")
    e = new("11:00", title="账号锁定")  # closed by force while in progress
    working(e, 11)
    run("close", e, "--force", "--reason", "员工离职", at="11:30")
    f = new("12:00", title="显示器闪烁")  # resolved, then closed by force (no follow-up)
    working(f, 12)
    run("resolve", f, "--summary", "更换线缆", "--as", "wang", at="12:10")
    run("close", f, "--force", "--reason", "联系不上员工", at="12:40")
    g = new("13:00", title="误报")
    run("cancel", g, "--reason", "测试", at="13:01")
    h = new("14:00", title="VPN 连不上")  # resolved and followed up, not closed
    working(h, 14)
    run("resolve", h, "--summary", "重装客户端", "--as", "wang", at="14:10")
    run("followup", h, "--speed", "satisfied", "--attitude", "neutral", "--overall",
        "satisfied", at="14:20")  # fmt: skip
    i = new("15:00", title="邮箱满了")  # waiting on the user
    working(i, 15)
    run("pending", i, "--on", "user", "--reason", "出差", "--as", "wang", at="15:10")
    j = new("16:00", title="鼠标坏了")  # assigned, not accepted
    run("ack", j, at="16:01")
    run("assign", j, "--to", "zhao", at="16:02")
    new("17:00", title="新来的问题")  # new
    k = new("18:00", title="网盘打不开")  # reopened
    working(k, 18)
    run("resolve", k, "--summary", "清缓存", "--as", "wang", at="18:10")
    run("reopen", k, "--reason", "又坏了", at="18:20")
    m = new("19:00", title="软件安装")  # in progress
    working(m, 19)
    n = new("20:00", title="只受理")  # acknowledged
    run("ack", n, at="20:01")
    legacy = unmasked_document()  # remarks and a follow-up comment, as an import makes them
    legacy[1][12] = "需采购新设备"
    d.ok("import", str(write_csv(tmp_path / "legacy.csv", [ZH_HEADER, *legacy])))


def called(entry: dict[str, Any]) -> bool:
    """The follow-up call's log entry: feedback, not a handling step."""
    return str(entry["text"]).startswith("follow-up call:")


def essentials(t: dict[str, Any]) -> dict[str, Any]:
    """A ticket's fields that the record form carries, as plain data."""
    res, fu = t["resolution"], t["followup"]
    work = ("phone", "remote", "onsite", "note")
    return {
        **{
            k: t[k]
            for k in (
                "id",
                "title",
                "status",
                "priority",
                "category",
                "requester",
                "description",
                "reported_at",
                "closed_at",
                "assignee",
                "team",
                "remarks",
            )
        },  # fmt: skip
        "scope": t["impact"]["scope"],
        "steps": [e["text"] for e in t["log"] if e["kind"] in work and not called(e)],
        "resolution": res and (res["summary"], res["at"]),
        "followup": fu and [fu["speed"], fu["attitude"], fu["overall"], fu["comment"]],
    }


def tickets_of(d: Itdesk) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted((d.desk / "tickets").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[data["id"]] = data
    return out


@pytest.fixture
def rich(make_desk: Callable[..., Itdesk], tmp_path: Path) -> Itdesk:
    d = make_desk()
    build_rich_desk(d, tmp_path)
    return d


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_export_reveal_then_import_gives_the_same_tickets_field_by_field(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path, suffix: str, lang: str
) -> None:
    original = tickets_of(rich)
    assert {t["status"] for t in original.values()} == {
        "new", "acknowledged", "assigned", "in_progress", "pending_vendor", "pending_user",
        "resolved", "closed", "reopened", "cancelled",
    }  # fmt: skip
    sheet = tmp_path / f"all{suffix}"
    rich.ok("export", "--reveal", "--lang", lang, "-o", str(sheet))
    empty = make_desk()
    before = commits(empty)
    result = empty.ok("import", str(sheet))
    assert result.stdout.startswith(f"import: {len(original)} tickets from all{suffix}\n")
    assert commits(empty) == before + 1
    assert empty.ok("validate").exit_code == 0
    copy = tickets_of(empty)
    assert sorted(copy) == sorted(original)  # the same numbers
    for tid, ticket in original.items():
        assert essentials(copy[tid]) == essentials(ticket), tid
        assert copy[tid] == ticket, tid  # whole: each step's kind and time, the channel...
    # and the copy exports as the original does
    again = tmp_path / f"again{suffix}"
    empty.ok("export", "--reveal", "--lang", lang, "-o", str(again))
    assert read_sheet(again) == read_sheet(sheet)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_sheet_changed_after_the_export_is_refused_naming_the_cell(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path, suffix: str
) -> None:
    sheet = tmp_path / f"all{suffix}"
    rich.ok("export", "--reveal", "-o", str(sheet))
    rows = read_sheet(sheet)
    record = rows[0].index("Record (JSON)")
    contact = rows[0].index("Contact")
    edited = [list(r) for r in rows]
    edited[3][contact] = "13800000000"  # fixed in the sheet, the record cell left as it was
    empty = make_desk()
    before = git_state(empty.desk)
    result = empty("import", str(write_sheet(tmp_path / f"edited{suffix}", edited)))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "row 4, 工单记录 (record): the column 联系方式 (contact) says '13800000000'" in (
        result.stderr
    )
    assert git_state(empty.desk) == before
    edited[3][record] = None  # cleared: the row comes from its columns, with the new contact
    empty.ok("import", str(write_sheet(tmp_path / f"cleared{suffix}", edited)))
    number = rows[3][0]
    assert empty.ticket(number)["requester"]["contact"] == "13800000000"


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        ("{not json", "not the JSON of a ticket"),
        ("[1, 2]", "not the JSON of a ticket"),
        ('{"id": "IT-20231025-001"}', "not a valid ticket"),
    ],
)
def test_a_bad_record_cell_is_one_line(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path, cell: str, says: str
) -> None:
    sheet = tmp_path / "all.csv"
    rich.ok("export", "--reveal", "-o", str(sheet))
    rows = read_sheet(sheet)
    rows[2][rows[0].index("Record (JSON)")] = cell
    result = make_desk()("import", str(write_sheet(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "row 3, 工单记录 (record)" in result.stderr and says in result.stderr


def test_a_record_whose_times_run_backwards_is_refused(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path
) -> None:
    import json

    sheet = tmp_path / "all.csv"
    rich.ok("export", "--reveal", "-o", str(sheet))
    rows = read_sheet(sheet)
    column = rows[0].index("Record (JSON)")
    data = json.loads(rows[1][column])
    data["log"][1]["at"] = "2020-01-01T00:00:00+08:00"
    rows[1][column] = json.dumps(data, ensure_ascii=False)
    result = make_desk()("import", str(write_sheet(tmp_path / "bad.csv", rows)))
    assert result.exit_code == 2 and "is earlier than the entry before it" in result.stderr


def test_a_whole_ticket_whose_number_is_taken_is_renumbered_once(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path
) -> None:
    sheet = tmp_path / "all.xlsx"
    rich.ok("export", "--reveal", "-o", str(sheet))
    original = tickets_of(rich)
    other = make_desk()
    own = other.new(now="2023-10-25T07:00", title="本台的工单")
    assert own in original
    result = other.ok("import", str(sheet))
    copy = tickets_of(other)
    assert copy[own]["title"] == "本台的工单"
    moved = next(line.split()[0] for line in result.stdout.splitlines() if f"from {own}" in line)
    assert moved != own
    assert copy[moved]["log"][:-1] == original[own]["log"]
    last = copy[moved]["log"][-1]
    assert last["kind"] == "system" and last["text"].startswith(f"imported from {own} (row ")
    before = git_state(other.desk)
    assert "already on the desk" in other.ok("import", str(sheet)).stdout
    assert git_state(other.desk) == before


def write_sheet(path: Path, rows: list[list[Any]]) -> Path:
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f).writerows([["" if c is None else c for c in r] for r in rows])
        return path
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def read_sheet(path: Path) -> list[list[Any]]:
    if path.suffix == ".csv":
        return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    from openpyxl import load_workbook

    return [list(r) for r in load_workbook(path).worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_a_masked_export_is_refused_and_says_how_to_export_one(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path, suffix: str
) -> None:
    sheet = tmp_path / f"masked{suffix}"
    rich.ok("export", "-o", str(sheet))  # the default export masks names and contacts
    empty = make_desk()
    before = git_state(empty.desk)
    result = empty("import", str(sheet))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    line = result.stderr.rstrip("\n")
    assert line.startswith("itdesk: error: rows 2, 3, 4, ")  # the rows, named
    assert "masked" in line and "itdesk export --reveal" in line
    assert line.endswith("nothing was imported")
    assert git_state(empty.desk) == before


def test_the_same_sheet_twice_makes_its_tickets_once(
    rich: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path
) -> None:
    sheet = tmp_path / "all.xlsx"
    rich.ok("export", "--reveal", "-o", str(sheet))
    # into the desk it came from: every row is there already
    before = git_state(rich.desk)
    again = rich.ok("import", str(sheet))
    assert again.stdout.startswith("import: nothing to import from all.xlsx: its 15 rows are "
                                   "already on the desk")  # fmt: skip
    assert git_state(rich.desk) == before
    # into an empty desk, twice
    empty = make_desk()
    empty.ok("import", str(sheet))
    before = git_state(empty.desk)
    second = empty.ok("import", str(sheet))
    assert "nothing to import" in second.stdout and "nothing was changed" in second.stdout
    assert git_state(empty.desk) == before
    # the document's own form (numbers IT001, IT002), twice: recognized by its numbers
    doc = write_csv(tmp_path / "doc.csv", [ZH_HEADER, *unmasked_document()])
    other = make_desk()
    other.ok("import", str(doc))
    before = git_state(other.desk)
    assert "nothing to import" in other.ok("import", str(doc)).stdout
    assert git_state(other.desk) == before
    # the same sheet with one more row: that row alone is imported, the others listed
    rows = [*unmasked_document(), ["IT003", "2023-10-26 08:00", "财务部/赵强", "", "打印机卡纸",
                                   "一般", "硬件", "", "", "待跟进", "", "", ""]]  # fmt: skip
    more = other.ok("import", str(write_csv(tmp_path / "more.csv", [ZH_HEADER, *rows])))
    assert more.stdout.splitlines() == [
        "import: 1 ticket from more.csv",
        "  IT-20231026-001  acknowledged   from IT003 (row 4)",
        "skipped 2 rows already on the desk:",
        f"  {IT001}  from IT001 (row 2)",
        f"  {IT002}  from IT002 (row 3)",
    ]


def test_rows_without_numbers_are_recognized_by_time_requester_and_description(
    desk: Itdesk, tmp_path: Path
) -> None:
    row = ["", "2023-10-26 08:00", "财务部/赵强", "", "打印机卡纸", "一般", "硬件", "", "",
           "待跟进", "", "", ""]  # fmt: skip
    sheet = write_csv(tmp_path / "plain.csv", [ZH_HEADER, row])
    desk.ok("import", str(sheet))
    before = git_state(desk.desk)
    assert "nothing to import" in desk.ok("import", str(sheet)).stdout
    assert git_state(desk.desk) == before


def test_numbers_are_kept_when_free_and_never_taken_from_another_ticket(
    desk: Itdesk, tmp_path: Path
) -> None:
    own = desk.new(now="2023-10-25T09:00", title="本台的工单")
    assert own == IT001
    rows = [
        # another desk's IT-20231025-001: not this desk's ticket of that number
        [IT001, "2023-10-25 10:00", "财务部/赵强", "", "打印机卡纸", "", "", "", "", "待跟进",
         "", "", ""],
        ["IT-20231026-007", "2023-10-26 08:00", "财务部/钱多", "", "显示器", "", "", "", "",
         "待跟进", "", "", ""],
        ["", "2023-10-26 09:00", "财务部/孙丽", "", "键盘", "", "", "", "", "待跟进", "", "", ""],
    ]  # fmt: skip
    sheet = write_csv(tmp_path / "other.csv", [ZH_HEADER, *rows])
    result = desk.ok("import", str(sheet))
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == [
        IT002, "IT-20231026-007", "IT-20231026-008"]  # fmt: skip
    assert desk.ticket(IT001)["title"] == "本台的工单"
    assert desk.ticket(IT002)["remarks"] == f"imported from {IT001}"
    before = git_state(desk.desk)
    assert "its 3 rows are already on the desk" in desk.ok("import", str(sheet)).stdout
    assert git_state(desk.desk) == before


def test_an_imported_row_never_takes_a_number_removed_from_the_desk(
    desk: Itdesk, tmp_path: Path
) -> None:
    removed = desk.new(now="2023-10-25T09:00", title="removed by hand")
    desk.new(now="2023-10-25T09:10", title="kept")
    git(desk.desk, "rm", "-q", f"tickets/{removed}.yaml")
    git(desk.desk, "commit", "-qm", "removed by hand")
    rows = [[removed, "2023-10-25 10:00", "财务部/赵强", "", "打印机卡纸", "", "", "", "",
             "待跟进", "", "", ""]]  # fmt: skip
    result = desk.ok("import", str(write_csv(tmp_path / "one.csv", [ZH_HEADER, *rows])))
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["IT-20231025-003"]


def test_import_lists_the_desks_numbers_once(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numbers are counted up from each day's highest, not looked up again for each row
    or each day (which made 10,000 rows take a minute, and 730 days a few seconds): two
    days, 40 rows, the desk's numbers listed once when planned (and under the lock only
    if the desk has another commit by then)."""
    from itdesk.store.desk import Desk

    calls: list[object] = []
    listing = Desk.numbers_by_day

    def counted(self: Desk) -> dict[str, set[str]]:
        calls.append(self)
        return listing(self)

    monkeypatch.setattr(Desk, "numbers_by_day", counted)
    monkeypatch.setattr(Desk, "ids_of_day", None)  # not asked day by day
    rows = [["", f"2023-10-{25 + i % 2} 08:{i:02d}", f"财务部/赵{i}", "", f"问题{i}", "", "", "",
             "", "待跟进", "", "", ""] for i in range(40)]  # fmt: skip
    result = desk.ok("import", str(write_csv(tmp_path / "many.csv", [ZH_HEADER, *rows])))
    ids = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert ids[:4] == [IT001, "IT-20231026-001", IT002, "IT-20231026-002"]
    assert ids[-1] == "IT-20231026-020" and len(set(ids)) == 40
    assert len(calls) == 1


def _many_rows(count: int) -> list[list[str]]:
    return [["", f"2023-10-25 08:{i % 60:02d}", f"财务部/赵{i}", "", f"问题{i}", "", "", "",
             "", "待跟进", "", "", ""] for i in range(count)]  # fmt: skip


def _packs(d: Itdesk) -> list[str]:
    return sorted(p.name for p in (d.desk / ".git" / "objects" / "pack").iterdir())


def test_an_imports_blobs_go_into_a_pack_written_as_the_rows_are_checked(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tickets' blobs are compressed as they are made and land in one pack installed
    under the lock (no git fast-import of 100,000 blobs after the files are written): the
    repository is whole and every blob is the file's bytes."""
    from itdesk.store import commit as plumbing

    left = desk.desk / ".git" / "objects" / "pack" / "tmp_pack_killed"  # a killed import's
    left.write_bytes(b"PACK")
    os.utime(left, (0, 0))
    before = set(_packs(desk)) - {left.name}
    sheet = write_csv(tmp_path / "many.csv", [ZH_HEADER, *_many_rows(150)])
    desk.ok("import", str(sheet), "--dry-run")
    assert left.exists()  # a dry run stores nothing, sweeps nothing
    assert set(_packs(desk)) - {left.name} == before  # a dry run stores nothing
    started: list[tuple[str, ...]] = []
    real = plumbing.git.pipe

    def watched(*args: str, **kw: Any) -> Any:
        started.append(args)
        return real(*args, **kw)

    monkeypatch.setattr(plumbing.git, "pipe", watched)
    desk.ok("import", str(sheet))
    assert not [a for a in started if a[0] == "fast-import"]
    new = set(_packs(desk)) - before
    assert {name.rsplit(".", 1)[1] for name in new} == {"pack", "idx"}, new
    assert not [n for n in _packs(desk) if n.startswith("tmp_")]
    assert git(desk.desk, "status", "--porcelain") == ""
    assert git(desk.desk, "fsck", "--strict", "--no-dangling").strip() == ""
    listed = git(desk.desk, "ls-tree", "-r", "HEAD", "--", "tickets/").splitlines()
    listed = [line for line in listed if line.endswith(".yaml")]
    assert len(listed) == 150
    for line in listed[::37]:
        oid, rel = line.split()[2], line.split("\t")[1]
        assert git(desk.desk, "hash-object", rel).strip() == oid
        assert git(desk.desk, "cat-file", "-p", oid) == (desk.desk / rel).read_text("utf-8")


def test_an_import_refused_under_the_lock_installs_no_pack(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from itdesk.errors import UsageError
    from itdesk.store.transaction import Transaction

    before = _packs(desk)
    sheet = write_csv(tmp_path / "many.csv", [ZH_HEADER, *_many_rows(150)])

    def refused_under_the_lock(*args: Any, **kwargs: Any) -> Any:  # planned, then refused
        raise UsageError("refused for the test")

    monkeypatch.setattr(Transaction, "put_text", refused_under_the_lock)
    result = desk("import", str(sheet))
    assert result.exit_code != 0 and "refused for the test" in result.stderr
    assert _packs(desk) == before  # nothing installed, no temporary file left
    assert ".yaml" not in git(desk.desk, "ls-tree", "-r", "HEAD", "--", "tickets/")


def test_an_import_through_a_filter_stores_gits_blobs(desk: Itdesk, tmp_path: Path) -> None:
    """A clean filter on tickets changes the bytes git stores: the pack's blobs (of the
    unfiltered text) are not what the commit names; git's own are."""
    git(desk.desk, "config", "filter.tag.clean", "sed -e 's/^title: /title: [f] /'")
    git(desk.desk, "config", "filter.tag.smudge", "cat")
    (desk.desk / ".gitattributes").write_text(
        (desk.desk / ".gitattributes").read_text() + "tickets/*.yaml filter=tag\n"
    )
    git(desk.desk, "commit", "-qam", "a filter on tickets")
    sheet = write_csv(tmp_path / "many.csv", [ZH_HEADER, *_many_rows(150)])
    desk.ok("import", str(sheet))
    shown = git(desk.desk, "show", "HEAD:tickets/IT-20231025-007.yaml")
    assert "title: [f] " in shown
    assert git(desk.desk, "fsck", "--no-dangling").strip() == ""


def test_an_import_into_a_sha256_repository_packs_sha256_blobs(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    git(tmp_path, "init", "-q", "--object-format=sha256", str(root))
    d = Itdesk(root)
    d.ok("init", str(root), "--timezone", "Asia/Shanghai", "--as", "zhang")
    before = set(_packs(d))
    d.ok("import", str(write_csv(tmp_path / "many.csv", [ZH_HEADER, *_many_rows(150)])))
    assert {n.rsplit(".", 1)[1] for n in set(_packs(d)) - before} == {"pack", "idx"}
    shown = git(root, "show", "HEAD:tickets/IT-20231025-150.yaml")
    assert shown == (root / "tickets" / "IT-20231025-150.yaml").read_text("utf-8")
    assert len(git(root, "rev-parse", "HEAD:tickets/IT-20231025-150.yaml").strip()) == 64
    assert git(root, "fsck", "--strict", "--no-dangling").strip() == ""
    assert git(root, "status", "--porcelain") == ""


def test_the_objects_of_a_linked_worktree_are_in_its_common_folder(desk: Itdesk) -> None:
    from itdesk.store import gitdir

    other = desk.desk.parent / "other"
    git(desk.desk, "worktree", "add", "-q", "--detach", str(other))
    linked = Path(git(other, "rev-parse", "--absolute-git-dir").strip())
    assert gitdir.objects_home(linked).resolve() == (desk.desk / ".git").resolve()  # type: ignore[union-attr]
    assert gitdir.objects_home(desk.desk / ".git") == desk.desk / ".git"


def test_the_desks_numbers_by_day_are_each_days_numbers(desk: Itdesk) -> None:
    """numbers_by_day gives, for every day at once, what ids_of_day gives for one: active
    and archived files, and history's highest number of a day whose file is gone."""
    from itdesk.store.desk import Desk

    for day, hour in (("2023-10-25", 9), ("2023-10-25", 10), ("2023-10-26", 9), ("2023-11-02", 8)):
        desk.new(now=f"{day}T{hour:02d}:00", title=f"t {day} {hour}")
    archived = desk.desk / "tickets" / "archive" / "2023-11"
    archived.mkdir(parents=True)
    git(desk.desk, "mv", "tickets/IT-20231026-001.yaml", "tickets/archive/2023-11/")
    git(desk.desk, "rm", "-q", "tickets/IT-20231025-002.yaml")
    git(desk.desk, "commit", "-qm", "archived and removed by hand")
    d = Desk.open(desk.desk)
    found = d.numbers_by_day()
    days = ["2023-10-25", "2023-10-26", "2023-11-02", "2023-11-03"]
    for text in days:
        day = date.fromisoformat(text)
        start = f"IT-{day:%Y%m%d}-"
        assert found.get(start, set()) == set(d.ids_of_day(day)), text
    assert found["IT-20231025-"] == {"IT-20231025-001", "IT-20231025-002"}  # 002: history's
    assert found["IT-20231026-"] == {"IT-20231026-001"}  # archived


def test_xlsx_times_are_date_cells_and_contacts_and_numbers_stay_text(
    rich: Itdesk, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "all.xlsx"
    rich.ok("export", "--reveal", "-o", str(out))
    ws = load_workbook(out).worksheets[0]
    header = [c.value for c in ws[1]]
    col = {name: header.index(name) for name in ("Submitted at", "Closed at", "Resolved at",
                                                 "Contact", "Ticket number")}  # fmt: skip
    row = list(ws[2])  # IT-20231025-001: reported 08:00:27, resolved, closed
    for name in ("Submitted at", "Closed at", "Resolved at"):
        cell = row[col[name]]
        assert cell.is_date and isinstance(cell.value, datetime), name
        assert cell.number_format.startswith("yyyy-mm-dd hh:mm"), cell.number_format
    assert row[col["Submitted at"]].value == datetime(2023, 10, 25, 8, 0, 27)
    assert row[col["Submitted at"]].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row[col["Closed at"]].value == datetime(2023, 10, 25, 8, 31)
    phone_row = next(r for r in ws.iter_rows(min_row=2) if r[col["Contact"]].value == PHONE)
    assert phone_row[col["Contact"]].data_type == "s"
    assert all(r[col["Ticket number"]].data_type == "s" for r in ws.iter_rows(min_row=2))
    open_row = next(r for r in ws.iter_rows(min_row=2) if r[col["Closed at"]].value == "-")
    assert open_row[col["Closed at"]].data_type == "s"  # the form's "-": no time yet


def test_csv_cells_with_spaces_or_tabs_before_a_formula_are_quoted(desk: Itdesk) -> None:
    tid = desk.new(title="Printer")
    path = desk.desk / "tickets" / f"{tid}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["remarks"] = '\t=HYPERLINK("http://evil.example","x")'
    data["requester"]["department"] = " @SUM(A1)"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "hand edit")
    header, row = csv_rows(desk.ok("export", "--reveal"))
    remarks = row[header.index("Remarks")]
    assert remarks == "'" + data["remarks"]
    assert row[header.index("Submitter (department/name)")].startswith("' @SUM(A1)/")


def test_a_file_name_with_a_line_break_forges_no_trailer(desk: Itdesk, tmp_path: Path) -> None:
    row = ["IT007", "2023-10-26 08:00", "财务部/赵强", "", "打印机卡纸", "", "", "", "",
           "待跟进", "", "", ""]  # fmt: skip
    sheet = write_csv(tmp_path / "x\nAction: forged.csv", [ZH_HEADER, row])
    desk.ok("import", str(sheet))
    message = git(desk.desk, "log", "-1", "--format=%B")
    assert message.startswith("import: 1 ticket from x?Action: forged.csv\n")
    assert "\nAction: forged" not in message
    assert "x?Action: forged.csv" in desk.ticket("IT-20231026-001")["log"][1]["text"]


def test_a_ticket_too_long_for_a_cell_is_exported_with_a_warning(
    desk: Itdesk, make_desk: Callable[..., Itdesk], tmp_path: Path
) -> None:
    tid = desk.new(now="2023-10-25T09:00", title="长描述")
    for i in range(20):  # a log longer than a spreadsheet cell holds
        desk.ok("log", tid, "--via", "note", "很长的记录" * 390 + str(i),
                "--now", f"2023-10-25T10:{i:02d}")  # fmt: skip
    sheet = tmp_path / "big.xlsx"
    result = desk.ok("export", "--reveal", "-o", str(sheet))
    assert f"1 ticket is too long to carry whole in one cell ({tid})" in result.stderr
    empty = make_desk()
    empty.ok("import", str(sheet))
    assert empty.ticket(tid)["title"] == "长描述"  # rebuilt from the columns


def test_import_follows_rows_and_tickets_with_progress_shown_only_on_a_terminal(
    make_desk: Callable[..., Itdesk], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sheet of 100,000 rows takes a while: the rows and then the tickets are followed
    by a progress bar on a terminal (#12); in cron or a pipe nothing is shown."""
    import itdesk.cli.import_ as import_command
    from itdesk.cli import Progress

    calls: list[tuple[str, int, int]] = []

    class Recorded(Progress):
        def __call__(self, done: int, total: int) -> None:
            calls.append((self.label, done, total))
            super().__call__(done, total)

    monkeypatch.setattr(import_command, "Progress", Recorded)
    d = make_desk(members=MEMBERS)
    sheet = write_csv(tmp_path / "records.csv", [ZH_HEADER, *unmasked_document()])
    result = d.ok("import", str(sheet), "--now", "2023-11-01T09:00")
    assert result.stderr == ""  # not a terminal
    assert calls == [
        ("checking rows", 1, 2),
        ("checking rows", 2, 2),
        ("importing tickets", 1, 2),
        ("importing tickets", 2, 2),
    ]


# ------------------------------------------------------- big sheets (#12)


def _rich_export(rich: Itdesk, tmp_path: Path, suffix: str) -> Path:
    out = tmp_path / f"all{suffix}"
    rich.ok("export", "--reveal", "--output", str(out))
    return out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("pool", [False, True])
def test_a_sheet_imported_through_the_temporary_files_makes_the_same_desk(
    rich: Itdesk,
    make_desk: Callable[..., Itdesk],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
    pool: bool,
) -> None:
    """Rows are read into a temporary file in small batches, checked and built by
    worker processes (with ``pool``) a few at a time, and the transaction keeps the
    files beyond its first few in a temporary file: the tickets, the commit and the
    output are those of an import held in memory by one process."""
    import itdesk.channels.sheets as sheets
    import itdesk.service.workers as workers
    import itdesk.store.transaction as transaction

    sheet = _rich_export(rich, tmp_path, suffix)
    plain = make_desk()
    monkeypatch.setattr(workers, "POOL_FROM", 10**9)
    expected = plain.ok("import", str(sheet), "--now", "2023-11-01T09:00")
    monkeypatch.setattr(sheets, "_BATCH", 2)
    monkeypatch.setattr(transaction, "SPILL_FROM", 1)
    if pool:
        monkeypatch.setattr(workers, "POOL_FROM", 1)
        monkeypatch.setattr(workers, "BATCH", 3)
    spilled = make_desk()
    result = spilled.ok("import", str(sheet), "--now", "2023-11-01T09:00")
    assert result.stdout == expected.stdout
    assert len(result.stdout.splitlines()) == len(tickets_of(rich)) + 1
    assert git_state(spilled.desk).files == git_state(plain.desk).files
    for args in (["rev-parse", "HEAD^{tree}"], ["log", "-1", "--format=%B"]):
        assert git(spilled.desk, *args) == git(plain.desk, *args)
    assert git(spilled.desk, "status", "--porcelain") == ""
    dry = spilled.ok("import", str(sheet), "--dry-run")
    assert "nothing to import" in dry.stdout


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_workers_read_their_rows_from_the_sheets_file_not_from_this_process(
    rich: Itdesk,
    make_desk: Callable[..., Itdesk],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
) -> None:
    """A worker is given where a batch of rows is in the sheet's temporary file, not the
    rows (#12); the batches cover every row once, in order, and the import is the one
    a single process makes."""
    import itdesk.channels.sheets as sheets
    import itdesk.service.workers as workers

    sheet = _rich_export(rich, tmp_path, suffix)
    monkeypatch.setattr(workers, "POOL_FROM", 10**9)
    plain = make_desk()
    expected = plain.ok("import", str(sheet), "--now", "2023-11-01T09:00")
    monkeypatch.setattr(sheets, "_BATCH", 3)
    with sheets.read_sheet(sheet) as read:
        spans = read.spans()
        assert [s[0] for s in spans] == list(range(0, read.count, 3))
        assert [row for s in spans for row in read.load(s)] == list(read.rows())
    given: list[object] = []
    real = workers.in_order

    def spying(func: Any, items: Any, workers: int, batch: int | None = None) -> Any:
        items = list(items)
        given.extend(items)
        return real(func, items, workers, batch)

    monkeypatch.setattr(workers, "in_order", spying)
    monkeypatch.setattr(workers, "POOL_FROM", 1)
    pooled = make_desk()
    result = pooled.ok("import", str(sheet), "--now", "2023-11-01T09:00")
    assert result.stdout == expected.stdout
    assert git_state(pooled.desk).files == git_state(plain.desk).files
    assert len(given) == len(spans) > 1
    assert all(type(g) is tuple and [type(x) for x in g] == [int] * 3 for g in given), given[:2]


def test_a_row_refused_while_the_tickets_are_written_leaves_the_desk_as_it_was(
    rich: Itdesk,
    make_desk: Callable[..., Itdesk],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tickets are built one at a time: one refused late, after others were built (some
    kept in the temporary file), and nothing is written or committed. A row keeping its
    own number is built as it is checked; one that fails there is built again with the
    rest, which says why."""
    import itdesk.service.transfer as transfer
    import itdesk.store.transaction as transaction

    sheet = _rich_export(rich, tmp_path, ".csv")
    d = make_desk()
    before = git_state(d.desk)
    build = transfer._build
    built: list[int] = []

    def refusing(rec: Any, ticket_id: str, by: str, policy: Any, source: str | None) -> Any:
        built.append(rec.row)
        if rec.row == 7:
            raise transfer.UsageError(f"row {rec.row}: refused; nothing was imported")
        return build(rec, ticket_id, by, policy, source)

    monkeypatch.setattr(transfer, "_build", refusing)
    monkeypatch.setattr(transaction, "SPILL_FROM", 2)
    result = d("import", str(sheet))
    assert result.exit_code == 2
    assert result.stderr.endswith("row 7: refused; nothing was imported\n")
    assert built.count(7) == 2 and built.index(7) == 5  # as checked, and again
    assert git_state(d.desk) == before


def test_many_bad_rows_name_the_first_and_count_the_others(desk: Itdesk, tmp_path: Path) -> None:
    rows = [["", "2023-10-25 09:30", "研发部/王小明", "", f"问题{i}", "特急", "", "", "", "待跟进",
             "", "", ""] for i in range(9)]  # fmt: skip
    result = desk("import", str(write_csv(tmp_path / "bad.csv", [ZH_HEADER, *rows])))
    assert result.exit_code == 2
    line = result.stderr.splitlines()[-1]
    assert line.startswith("itdesk: error: row 2, 问题分级 (priority): '特急'"), line
    assert line.endswith("(also bad: rows 3, 4, 5, 6, 7, …); nothing was imported"), line
    two = desk("import", str(write_csv(tmp_path / "two.csv", [ZH_HEADER, *rows[:2]])))
    assert two.stderr.splitlines()[-1].endswith("(also bad: row 3); nothing was imported")


def test_a_masked_sheet_is_refused_whole_even_after_good_and_bad_rows(
    desk: Itdesk, tmp_path: Path
) -> None:
    rows = unmasked_document()
    bad = [list(rows[0]) for _ in range(12)]
    for i, row in enumerate(bad):
        row[0], row[2], row[5] = f"IT{100 + i}", "研发部/王*明", "特急"
    sheet = write_csv(tmp_path / "masked.csv", [ZH_HEADER, *rows, *bad])
    before = git_state(desk.desk)
    result = desk("import", str(sheet))
    assert result.exit_code == 2
    line = result.stderr.splitlines()[-1]
    assert "rows 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 and 2 more hold masked names" in line, line
    assert git_state(desk.desk) == before


@pytest.mark.parametrize("pool", [False, True])
def test_bad_rows_are_found_alike_by_one_process_and_by_workers(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: bool
) -> None:
    import itdesk.service.workers as workers

    monkeypatch.setattr(workers, "POOL_FROM", 1 if pool else 10**9)
    monkeypatch.setattr(workers, "BATCH", 2)
    rows = unmasked_document()
    bad = [list(rows[0]) for _ in range(4)]
    bad[1][5] = "特急"
    bad[3][1] = "yesterday"
    for i, row in enumerate(bad):
        row[0] = f"IT{100 + i}"
    bad[2][0] = "IT001"  # the number of the first row again
    sheet = write_csv(tmp_path / "bad.csv", [ZH_HEADER, *rows, [""] * 13, *bad])
    before = git_state(desk.desk)
    result = desk("import", str(sheet))
    assert result.exit_code == 2
    line = result.stderr.splitlines()[-1]
    assert line.startswith("itdesk: error: row 6, 问题分级 (priority): '特急'"), line
    assert line.endswith("(also bad: rows 7, 8); nothing was imported"), line
    assert git_state(desk.desk) == before


def test_a_worker_that_fails_is_done_again_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import itdesk.service.workers as workers

    monkeypatch.setattr(workers, "BATCH", 2)

    def square(x: int) -> int:
        if x == 5 and os.getpid() != parent:
            raise RuntimeError("only in a worker")
        return x * x

    parent = os.getpid()
    assert list(workers.in_order(square, iter(range(9)), 2)) == [x * x for x in range(9)]
    assert workers.pool_size(workers.POOL_FROM - 1) == 1
    assert workers.pool_size(10, 2) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert workers.pool_size(100_000) == 1


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("pool", [False, True])
def test_rows_whose_own_numbers_are_taken_are_made_again_alike(
    rich: Itdesk,
    make_desk: Callable[..., Itdesk],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
    pool: bool,
) -> None:
    """A row's ticket is made with its own number as the row is checked (#12); when the
    desk has that number when the tickets are made, or takes it before the lock (another
    command), the row is read again from the sheet and renumbered: the desk, the commit
    and the output are the same as when every ticket is made after the numbering."""
    import itdesk.service.transfer as transfer
    import itdesk.service.workers as workers

    sheet = _rich_export(rich, tmp_path, suffix)
    monkeypatch.setattr(workers, "POOL_FROM", 1 if pool else 10**9)
    monkeypatch.setattr(workers, "BATCH", 2)
    prepare, checked = transfer.prepare_import, transfer._checked

    def racing(d: Itdesk) -> Callable[..., Any]:
        def prepare_then_new(*args: Any, **kw: Any) -> Any:
            made = prepare(*args, **kw)
            d.new(now="2023-10-25T07:00", title="另一个命令的工单")  # -002, before the lock
            return made

        return prepare_then_new

    def guessing(guess: bool) -> Itdesk:
        d = make_desk()
        d.new(now="2023-10-25T07:00", title="本台的工单")  # takes the sheet's IT-20231025-001
        monkeypatch.setattr(transfer, "prepare_import", racing(d))

        def never(record: Any, session: Any, source: str | None, oid_len: int) -> Any:
            key, blob, made = checked(record, session, source, oid_len)
            return (key, blob, None) if blob is not None else (key, _pickle(record), None)

        # without a guess, every ticket is made after the numbering, from its record
        monkeypatch.setattr(transfer, "_checked", checked if guess else never)
        d.result = d.ok("import", str(sheet), "--now", "2023-11-01T09:00")  # type: ignore[attr-defined]
        return d

    import itdesk.channels.recordform as recordform

    reread: list[int] = []
    again = recordform.reread_records

    def counted(rows: Any, tz: Any, wanted: Any) -> Any:
        reread.append(len(wanted))
        return again(rows, tz, wanted)

    monkeypatch.setattr(recordform, "reread_records", counted)
    guessed = guessing(True)
    assert reread == [1, 1]  # one row renumbered when planned, one under the lock
    plain = guessing(False)
    assert guessed.result.stdout == plain.result.stdout  # type: ignore[attr-defined]
    assert "from IT-20231025-002" in guessed.result.stdout  # type: ignore[attr-defined]
    assert git_state(guessed.desk).files == git_state(plain.desk).files
    for args in (["rev-parse", "HEAD^{tree}"], ["log", "-1", "--format=%B"]):
        assert git(guessed.desk, *args) == git(plain.desk, *args)
    copy, original = tickets_of(guessed), tickets_of(rich)
    assert copy["IT-20231025-001"]["title"] == "本台的工单"
    assert copy["IT-20231025-002"]["title"] == "另一个命令的工单"
    moved = [t for t in copy.values() if t["log"][-1]["text"].startswith("imported from IT-")]
    renumbered = {t["log"][-1]["text"].split()[2] for t in moved}
    assert renumbered == {"IT-20231025-001", "IT-20231025-002"}
    assert all(t["log"][:-1] == original[t["log"][-1]["text"].split()[2]]["log"] for t in moved)


def _pickle(record: Any) -> bytes:
    import pickle

    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("meanwhile", ["the same sheet", "another ticket", "nothing"])
def test_two_imports_of_one_sheet_at_the_same_time_make_its_tickets_once(
    rich: Itdesk,
    make_desk: Callable[..., Itdesk],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    meanwhile: str,
) -> None:
    """Between numbering the rows and taking the lock, another import of the sheet (or
    another write) commits: the rows are numbered again under the lock, and each ticket
    is made once. With no commit meanwhile, the desk is not read again (#12)."""
    import itdesk.service.transfer as transfer

    sheet = _rich_export(rich, tmp_path, ".csv")
    d = make_desk()
    commit = transfer.import_records
    read: list[int] = []
    index = transfer._index

    def counted(session: Any) -> Any:
        read.append(1)
        return index(session)

    def with_another_write_first(session: Any, plan: Any, *args: Any, **kw: Any) -> Any:
        with monkeypatch.context() as inner:
            inner.setattr(transfer, "import_records", commit)
            if meanwhile == "the same sheet":
                d.ok("import", str(sheet), "--now", "2023-11-01T09:00")
            elif meanwhile == "another ticket":
                d.ok("new", "--now", "2023-11-01T08:00", "--title", "打印机卡纸",
                     "--requester", "赵强", "--contact", "8021")  # fmt: skip
        read.clear()
        return commit(session, plan, *args, **kw)

    monkeypatch.setattr(transfer, "import_records", with_another_write_first)
    monkeypatch.setattr(transfer, "_index", counted)
    d("import", str(sheet), "--now", "2023-11-01T09:00")
    assert read == ([] if meanwhile == "nothing" else [1])
    made = tickets_of(d)
    expected = len(tickets_of(rich)) + (meanwhile == "another ticket")
    assert len(made) == expected
    assert len({(t["reported_at"], t["title"]) for t in made.values()}) == expected
    assert git(d.desk, "status", "--porcelain") == ""
    imports = git(d.desk, "log", "--format=%s").count("import:")
    assert imports == 1


@pytest.mark.parametrize("as_written", [True, False], ids=["as exported", "a time rewritten"])
def test_a_requester_named_with_a_slash_is_recognized_on_a_second_import(
    make_desk: Callable[..., Itdesk], tmp_path: Path, as_written: bool
) -> None:
    """`new --requester 财务部/赵强` keeps the whole as the name; the submitter column
    reads it as a department and a name. A row with a record cell is known by its
    ticket's own name and time, so the second import finds it on the desk (it made a
    second ticket before), also when a cell is written otherwise (the row read cell by
    cell)."""
    origin = make_desk()
    tid = origin.ok("new", "--title", "打印机卡纸", "--requester", "财务部/赵强",
                    "--contact", "8021", "--now", "2026-12-01T09:00").stdout.split()[0]  # fmt: skip
    sheet = tmp_path / "all.csv"
    origin.ok("export", "--reveal", "-o", str(sheet))
    if not as_written:
        with sheet.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[1][1] == "2026-12-01 09:00"
        rows[1][1] = "2026/12/01 9:00"
        write_csv(sheet, rows)
    d = make_desk()
    d.ok("import", str(sheet))
    before = git_state(d.desk)
    again = d.ok("import", str(sheet))
    assert again.stdout.startswith("import: nothing to import from all.csv")
    assert tid in again.stdout
    assert git_state(d.desk) == before
    assert list(tickets_of(d)) == [tid]
