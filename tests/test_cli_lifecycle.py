"""End to end through the real commands: the process document's two sample tickets.

The seed's record form (section 三) has two rows: IT001, a P2 network ticket reported
at 09:30 and closed at 11:00 after three steps, and IT002, a P1 software ticket
escalated to the OA vendor and still awaiting the vendor. They are re-created here with
the document's own times (``--now``) and checked in the files, in git and in the output.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from conftest import Itdesk, git, git_state

from itdesk import __version__
from itdesk.cli import cli

IT001 = "IT-20231025-001"
IT002 = "IT-20231025-002"
ID_RE = re.compile(r"IT-\d{8}-\d{3}")

# Section 3 of the spec, in its order.
TICKET_KEYS = [
    "id", "title", "status", "priority", "category", "requester", "impact", "description",
    "channel", "expected_by", "reported_at", "acknowledged_at", "team", "assignee",
    "assigned_at", "accepted_at", "escalations", "log", "resolution", "followup",
    "closed_at", "kb", "attachments", "remarks",
]  # fmt: skip
IT001_STEPS = ["1.检查电脑无线网卡驱动", "2.重置网络配置", "3.更新公司WiFi证书"]
IT002_STEPS = ["1.检查OA服务器日志", "2.重启应用服务", "3.联系系统厂商排查接口问题"]


# ------------------------------------------------------------------ helpers


def commit_count(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD").strip())


def ticket_commits(root: Path, ticket_id: str) -> list[dict[str, Any]]:
    """The commits of a ticket's file, oldest first: author, date, subject, trailers."""
    out = git(root, "log", "--reverse", "--format=%x00%H%x1f%an%x1f%ae%x1f%aI%x1f%B",
              "--", f"tickets/{ticket_id}.yaml")  # fmt: skip
    commits = []
    for chunk in out.split("\0")[1:]:
        sha, name, email, date, body = chunk.split("\x1f", 4)
        lines = body.strip().splitlines()
        trailers = dict(
            line.split(": ", 1) for line in lines if re.match(r"^(Ticket|Action): ", line)
        )
        commits.append({"sha": sha, "author": name, "email": email, "date": date,
                        "subject": lines[0], "trailers": trailers})  # fmt: skip
    return commits


def run_counted(d: Itdesk, *args: str) -> Result:
    """Run a command that must succeed and make exactly one commit."""
    before = commit_count(d.desk)
    result = d.ok(*args)
    assert commit_count(d.desk) == before + 1, (args, result.output)
    assert git(d.desk, "status", "--porcelain") == ""
    return result


def ids_in(text: str) -> list[str]:
    return sorted(set(ID_RE.findall(text)))


def top_level_keys(path: Path) -> list[str]:
    return [
        line.split(":", 1)[0]
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"^[a-z_]+:", line)
    ]


def make_it001(d: Itdesk) -> str:
    """IT001 of the record form: P2 network, 研发部, handled by 张 (zhang), closed 11:00."""
    tid = run_counted(
        d, "new", "--now", "2023-10-25T09:30", "--title", "电脑无法连接公司WiFi",
        "--requester", "王小明", "--employee-id", "E1001", "--department", "研发部",
        "--contact", "13956785678",
        "--description", "电脑无法连接公司WiFi,提示“网络身份验证失败”",
        "--blocks-work", "--scope", "影响代码提交", "--devices", "ThinkPad X1",
        "--channel", "chat",
    ).stdout.strip()  # fmt: skip
    run_counted(d, "ack", tid, "--now", "2023-10-25T09:35")
    run_counted(d, "classify", tid, "--priority", "重要", "--category", "网络",
                "--now", "2023-10-25T09:36")  # fmt: skip
    run_counted(d, "assign", tid, "--to", "zhang", "--now", "2023-10-25T09:40")
    run_counted(d, "accept", tid, "--as", "zhang", "--now", "2023-10-25T09:45")
    for step, when in zip(IT001_STEPS, ["09:50", "10:10", "10:40"], strict=True):
        run_counted(d, "log", tid, "--via", "remote", "--as", "zhang", step,
                    "--now", f"2023-10-25T{when}")  # fmt: skip
    run_counted(d, "resolve", tid, "--summary", "更新公司WiFi证书后恢复连接", "--verified",
                "--as", "zhang", "--now", "2023-10-25T11:00")  # fmt: skip
    run_counted(d, "followup", tid, "--speed", "满意", "--attitude", "满意", "--overall", "满意",
                "--comment", "员工对处理效率认可", "--now", "2023-10-25T11:00")  # fmt: skip
    return tid


def make_it002(d: Itdesk) -> str:
    """IT002: 市场部, contact 1395678, P1 software, handled by 李 (li), escalated to the vendor."""
    tid = run_counted(
        d, "new", "--now", "2023-10-25T10:15", "--title", "OA系统登录报错500",
        "--requester", "李丽", "--department", "市场部", "--contact", "1395678",
        "--description", "OA系统登录时弹出“未知错误代码500”,无法进入审批流程",
        "--blocks-work", "--channel", "portal",
    ).stdout.strip()  # fmt: skip
    run_counted(d, "ack", tid, "--now", "2023-10-25T10:18")
    run_counted(d, "classify", tid, "--priority", "紧急", "--category", "软件",
                "--now", "2023-10-25T10:20")  # fmt: skip
    run_counted(d, "assign", tid, "--to", "li", "--now", "2023-10-25T10:22")
    run_counted(d, "accept", tid, "--as", "li", "--now", "2023-10-25T10:25")
    for step, via, when in zip(IT002_STEPS, ["remote", "remote", "phone"],
                               ["10:30", "10:45", "11:05"], strict=True):  # fmt: skip
        run_counted(d, "log", tid, "--via", via, "--as", "li", step,
                    "--now", f"2023-10-25T{when}")  # fmt: skip
    run_counted(d, "escalate", tid, "--vendor", "OA系统厂商",
                "--reason", "接口问题超出处理权限,需厂商排查", "--eta", "2023-10-26T18:00",
                "--as", "li", "--now", "2023-10-25T11:10")  # fmt: skip
    return tid


# ------------------------------------------------------- the two sample rows


def test_it001_network_ticket_closed_in_one_and_a_half_hours(desk: Itdesk) -> None:
    tid = make_it001(desk)
    assert tid == IT001
    closed = run_counted(desk, "close", tid, "--now", "2023-10-25T11:00")
    assert closed.stdout.startswith(f"{tid}: close")
    report = closed.stdout
    assert "Problem-handling report" in report
    assert re.search(r"Handling time \| 1h30m \|", report), report

    path = desk.desk / "tickets" / f"{tid}.yaml"
    assert top_level_keys(path) == TICKET_KEYS
    t = desk.ticket(tid)
    assert list(t) == TICKET_KEYS
    assert t["id"] == tid
    assert t["status"] == "closed"
    assert t["priority"] == "P2"
    assert t["category"] == "network"
    assert t["team"] == "network"
    assert t["assignee"] == "zhang"
    assert t["requester"] == {"name": "王小明", "employee_id": "E1001", "department": "研发部",
                              "contact": "13956785678"}  # fmt: skip
    assert t["impact"] == {"blocks_work": True, "scope": "影响代码提交",
                           "devices": ["ThinkPad X1"]}  # fmt: skip
    assert t["channel"] == "chat"
    assert t["reported_at"] == "2023-10-25T09:30:00+08:00"
    assert t["acknowledged_at"] == "2023-10-25T09:35:00+08:00"
    assert t["assigned_at"] == "2023-10-25T09:40:00+08:00"
    assert t["accepted_at"] == "2023-10-25T09:45:00+08:00"
    assert t["closed_at"] == "2023-10-25T11:00:00+08:00"
    assert t["resolution"] == {"summary": "更新公司WiFi证书后恢复连接",
                               "at": "2023-10-25T11:00:00+08:00", "by": "zhang",
                               "verified_by_requester": True}  # fmt: skip
    fu = t["followup"]
    assert (fu["speed"], fu["attitude"], fu["overall"]) == ("satisfied",) * 3
    assert fu["comment"] == "员工对处理效率认可"
    assert fu["at"] == "2023-10-25T11:00:00+08:00"
    for entry in t["log"]:
        assert {"at", "by", "kind", "text"} <= set(entry)
    steps = [e for e in t["log"] if e["kind"] == "remote"]
    assert [e["text"] for e in steps] == IT001_STEPS
    assert {e["by"] for e in steps} == {"zhang"}
    assert [e["at"][11:16] for e in steps] == ["09:50", "10:10", "10:40"]

    # git log -- tickets/ID.yaml is the story: one commit per command, in order.
    commits = ticket_commits(desk.desk, tid)
    actions = [c["trailers"].get("Action") for c in commits]
    assert actions == ["new", "ack", "classify", "assign", "accept", "log", "log", "log",
                       "resolve", "followup", "close"]  # fmt: skip
    assert all(c["trailers"].get("Ticket") == tid for c in commits)
    assert all(c["subject"].startswith(f"{tid}: ") for c in commits)
    assert commits[3]["subject"] == f"{tid}: assign to zhang (network)"
    for c, step in zip(commits[5:8], IT001_STEPS, strict=True):
        assert step in c["subject"]
    assert [c["date"][11:16] for c in commits] == [
        "09:30", "09:35", "09:36", "09:40", "09:45", "09:50", "10:10", "10:40", "11:00",
        "11:00", "11:00",
    ]  # fmt: skip
    assert all(c["date"].startswith("2023-10-25T") and c["date"].endswith("+08:00")
               for c in commits)  # fmt: skip
    # The acting technician: --as for the handler's steps, git's identity for the desk's.
    authors = [c["author"] for c in commits]
    assert authors == ["Test Tech"] * 4 + ["zhang"] * 5 + ["Test Tech"] * 2
    assert {c["email"] for c in commits if c["author"] == "zhang"} == {"zhang@example.com"}
    assert {c["email"] for c in commits if c["author"] == "Test Tech"} == {"tech@example.com"}

    # The log is append-only: each commit's log starts with the previous commit's log.
    previous: list[Any] = []
    for c in commits:
        data = yaml.safe_load(git(desk.desk, "show", f"{c['sha']}:tickets/{tid}.yaml"))
        assert data["log"][: len(previous)] == previous
        assert len(data["log"]) > len(previous)
        previous = data["log"]


def test_it001_report_in_chinese(desk: Itdesk) -> None:
    tid = make_it001(desk)
    desk.ok("close", tid, "--now", "2023-10-25T11:00")
    before = git_state(desk.desk)
    report = desk.ok("report", tid, "--lang", "zh").stdout
    assert git_state(desk.desk) == before  # reading changes nothing
    assert "问题处理报告" in report
    assert re.search(rf"\| 工单编号 \| {tid} \|", report)
    assert re.search(r"\| 处理时长 \| 1小时30分 \|", report)
    assert re.search(r"\| 问题分级 \| 二级\(重要\) \|", report)
    assert re.search(r"\| 问题类型 \| 网络 \|", report)
    assert re.search(r"\| 涉及人员 \|[^\n]*zhang", report)
    assert "更新公司WiFi证书后恢复连接" in report
    for step in IT001_STEPS:
        assert step in report
    assert "满意" in report
    assert "关闭时间 | 2023-10-25 11:00" in report
    revealed = desk.ok("report", tid, "--lang", "zh", "--reveal").stdout
    assert "王小明" in revealed and "13956785678" in revealed
    # Personal data is masked when it leaves the desk, unless revealed: the handling
    # steps included, not only the requester row.
    assert "13956785678" not in report
    assert "王*明" in report
    assert "王小明" not in report


def test_it002_p1_software_ticket_escalated_to_vendor(desk: Itdesk) -> None:
    make_it001(desk)
    tid = make_it002(desk)
    assert tid == IT002
    t = desk.ticket(tid)
    assert list(t) == TICKET_KEYS
    assert t["status"] == "pending_vendor"
    assert t["priority"] == "P1"
    assert t["category"] == "software"
    assert t["assignee"] == "li"
    assert t["team"] == "desk"
    assert t["requester"]["department"] == "市场部"
    assert t["requester"]["contact"] == "1395678"  # a string, not a number
    assert t["reported_at"] == "2023-10-25T10:15:00+08:00"
    assert t["closed_at"] is None
    assert t["resolution"] is None and t["followup"] is None
    # P1: the supervisor hears of it at once; then the vendor, with reason and ETA.
    levels = [e["level"] for e in t["escalations"]]
    assert "supervisor" in levels
    vendor = t["escalations"][-1]
    assert vendor["level"] == "vendor"
    assert vendor["to"] == "OA系统厂商"
    assert vendor["reason"] == "接口问题超出处理权限,需厂商排查"
    assert vendor["eta"] == "2023-10-26T18:00:00+08:00"
    assert vendor["by"] == "li"
    texts = [e["text"] for e in t["log"]]
    for step in IT002_STEPS:
        assert step in texts

    commits = ticket_commits(desk.desk, tid)
    assert [c["trailers"]["Action"] for c in commits] == [
        "new", "ack", "classify", "assign", "accept", "log", "log", "log", "escalate"
    ]  # fmt: skip
    assert commits[3]["subject"] == f"{tid}: assign to li (desk)"
    assert "OA系统厂商" in commits[-1]["subject"]
    assert commits[-1]["author"] == "li"
    assert commits[-1]["date"] == "2023-10-25T11:10:00+08:00"

    report = desk.ok("report", tid, "--lang", "zh").stdout
    assert "OA系统厂商" in report
    assert "2023-10-26 18:00" in report
    assert re.search(r"\| 处理时长 \| - \|", report)  # not resolved yet


# ------------------------------------------------------------- show, history


def test_show_table_and_json(desk: Itdesk) -> None:
    make_it001(desk)
    tid = make_it002(desk)
    before = git_state(desk.desk)
    table = desk.ok("show", tid).stdout
    assert tid in table
    assert "OA系统登录报错500" in table
    assert "pending_vendor" in table
    assert "OA系统厂商" in table
    for step in IT002_STEPS:
        assert step in table
    # its git history is part of show
    assert f"{tid}: assign to li (desk)" in table

    data = json.loads(desk.ok("show", tid, "--format", "json", "--reveal").stdout)
    assert list(data) == TICKET_KEYS
    assert data == desk.ticket(tid)  # the YAML file's key names and values
    assert git_state(desk.desk) == before

    revealed = desk.ok("show", tid, "--reveal").stdout
    assert "李丽" in revealed and "1395678" in revealed
    # Names and phone numbers are masked wherever they leave the desk (spec section 1),
    # the log lines included.
    assert "李丽" not in table and "1395678" not in table


def test_history_one_line_per_commit(desk: Itdesk) -> None:
    tid = make_it001(desk)
    desk.ok("close", tid, "--now", "2023-10-25T11:00")
    lines = desk.ok("history", tid).stdout.splitlines()
    assert len(lines) == len(ticket_commits(desk.desk, tid)) == 11
    assign = lines[3]
    assert "2023-10-25 09:40" in assign
    assert "Test Tech" in assign
    assert "assign" in assign
    assert "assignee" in assign  # the fields it changed
    accept = lines[4]
    assert "zhang" in accept and "09:45" in accept and "accepted_at" in accept
    assert "close" in lines[-1] and "closed_at" in lines[-1]

    entries = json.loads(desk.ok("history", tid, "--format", "json").stdout)
    assert [e["action"] for e in entries] == [
        "new", "ack", "classify", "assign", "accept", "log", "log", "log", "resolve",
        "followup", "close",
    ]  # fmt: skip
    assert entries[3]["who"] == "Test Tech"
    assert "assignee" in entries[3]["changed"]
    assert entries[0]["when"].startswith("2023-10-25T09:30")


# ------------------------------------------------------------------- list


@pytest.fixture
def four(desk: Itdesk) -> Itdesk:
    """IT001 closed, IT002 pending the vendor, IT003 a hardware P3 with zhao, IT004 cancelled."""
    make_it001(desk)
    desk.ok("close", IT001, "--now", "2023-10-25T11:00")
    make_it002(desk)
    t3 = desk.new(now="2023-10-25T11:20", title="打印机卡纸", requester="赵强",
                  department="财务部")  # fmt: skip
    desk.ok("ack", t3, "--now", "2023-10-25T11:25")
    desk.ok("classify", t3, "--priority", "一般", "--category", "硬件", "--now", "2023-10-25T11:26")
    desk.ok("assign", t3, "--to", "zhao", "--now", "2023-10-25T11:27")
    t4 = desk.new(now="2023-10-25T11:30", title="重复: WiFi 连不上", requester="王小明")
    desk.ok("cancel", t4, "--reason", f"duplicate of {IT001}", "--now", "2023-10-25T11:31")
    assert (t3, t4) == ("IT-20231025-003", "IT-20231025-004")
    return desk


def listed(d: Itdesk, *args: str) -> list[str]:
    return ids_in(d.ok("list", *args).stdout)


LIST_CASES: list[tuple[list[str], list[str]]] = [
    (["--status", "closed,cancelled"], [IT001, "IT-20231025-004"]),
    (["--status", "pending_vendor", "--status", "assigned"], [IT002, "IT-20231025-003"]),
    (["--status", "closed"], [IT001]),
    (["--priority", "紧急"], [IT002]),
    (["--priority", "P1,3"], [IT002, "IT-20231025-003"]),
    (["--priority", "重要", "--all"], [IT001]),
    (["--category", "硬件"], ["IT-20231025-003"]),
    (["--category", "网络", "--all"], [IT001]),
    (["--category", "software,hardware"], [IT002, "IT-20231025-003"]),
    (["--team", "desk"], [IT002]),
    (["--team", "network", "--all"], [IT001]),
    (["--assignee", "zhao"], ["IT-20231025-003"]),
    (["--assignee", "li,zhao"], [IT002, "IT-20231025-003"]),
    (["--assignee", "zhang", "--all"], [IT001]),
    (["--text", "500"], [IT002]),
    (["--text", "wifi", "--all"], [IT001, "IT-20231025-004"]),
    (["--text", "打印机"], ["IT-20231025-003"]),
    (["--status", "new"], []),
]


def test_list_defaults_and_filters(four: Itdesk) -> None:
    before = git_state(four.desk)
    assert listed(four) == [IT002, "IT-20231025-003"]  # not closed or cancelled
    assert listed(four, "--all") == [IT001, IT002, "IT-20231025-003", "IT-20231025-004"]
    # One desk for every case (building it is the slow part).
    wrong = {
        " ".join(args): (got, expected)
        for args, expected in LIST_CASES
        if (got := listed(four, *args)) != expected
    }
    assert wrong == {}
    assert git_state(four.desk) == before


def test_list_formats_and_chinese_headers(four: Itdesk) -> None:
    rows = json.loads(four.ok("list", "--all", "--format", "json", "--reveal").stdout)
    assert isinstance(rows, list)
    assert [r["id"] for r in rows] == [IT001, IT002, "IT-20231025-003", "IT-20231025-004"]
    for row in rows:
        assert list(row) == TICKET_KEYS
        assert row == four.ticket(row["id"])
    open_rows = json.loads(four.ok("list", "--format", "json").stdout)
    assert [r["id"] for r in open_rows] == [IT002, "IT-20231025-003"]
    empty = json.loads(four.ok("list", "--status", "new", "--format", "json").stdout)
    assert empty == []

    text = four.ok("list", "--all", "--format", "csv").stdout
    records = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in records] == [IT001, IT002, "IT-20231025-003", "IT-20231025-004"]
    by_id = {r["id"]: r for r in records}
    assert by_id[IT002]["status"] == "pending_vendor"
    assert by_id[IT002]["priority"] == "P1"
    assert by_id[IT001]["title"] == "电脑无法连接公司WiFi"

    out = four.ok("list", "--lang", "zh").stdout
    assert "工单编号" in out and "状态" in out and "处理人" in out
    assert "Status" not in out and "Assignee" not in out
    assert "待厂商" in out  # pending_vendor
    assert "一级(紧急)" in out
    en = four.ok("list").stdout
    assert "ID" in en and "Status" in en


# ------------------------------------------------------------------ assign


def test_assign_auto_picks_least_loaded_member_of_routed_team(desk: Itdesk) -> None:
    # wang has two closed tickets (no load), zhang one open ticket.
    for i in range(2):
        tid = desk.new(now=f"2023-10-25T09:0{i}", title=f"old {i}")
        desk.walk(tid, "close")
    busy = desk.new(title="zhang's open one")
    desk.ok("ack", busy, "--now", "2023-10-25T09:35")
    desk.ok("assign", busy, "--to", "zhang", "--now", "2023-10-25T09:36")

    net = desk.new(title="VPN 连接失败")
    desk.ok("ack", net, "--now", "2023-10-25T09:40")
    desk.ok("classify", net, "--category", "network", "--now", "2023-10-25T09:41")
    out = run_counted(desk, "assign", net, "--auto", "--now", "2023-10-25T09:42").stdout
    assert out.strip() == f"{net}: assign to wang (network)"
    t = desk.ticket(net)
    assert (t["team"], t["assignee"], t["status"]) == ("network", "wang", "assigned")

    # hardware routes to the hardware team (zhang, zhao): zhang is busy, zhao is not.
    hw = desk.new(title="显示器黑屏")
    desk.ok("ack", hw, "--now", "2023-10-25T09:45")
    desk.ok("classify", hw, "--category", "硬件", "--now", "2023-10-25T09:46")
    desk.ok("assign", hw, "--auto", "--now", "2023-10-25T09:47")
    assert (desk.ticket(hw)["team"], desk.ticket(hw)["assignee"]) == ("hardware", "zhao")

    # Now wang carries one open network ticket more than zhang does -> zhang.
    for title in ("共享打印机", "无线掉线"):
        extra = desk.new(title=title)
        desk.ok("ack", extra, "--now", "2023-10-25T09:50")
        desk.ok("classify", extra, "--category", "network", "--now", "2023-10-25T09:51")
        desk.ok("assign", extra, "--to", "wang", "--now", "2023-10-25T09:52")
    third = desk.new(title="网口无信号")
    desk.ok("ack", third, "--now", "2023-10-25T09:55")
    desk.ok("classify", third, "--category", "网络", "--now", "2023-10-25T09:56")
    desk.ok("assign", third, "--auto", "--now", "2023-10-25T09:57")
    assert desk.ticket(third)["assignee"] == "zhang"


def test_assign_to_unknown_member_is_refused_with_the_members(desk: Itdesk) -> None:
    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:35")
    before = git_state(desk.desk)
    result = desk("assign", tid, "--to", "nobody", "--now", "2023-10-25T09:36")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("itdesk: error:")
    for name in ("nobody", "zhang", "zhao", "wang", "li"):
        assert name in lines[0]
    assert git_state(desk.desk) == before


def test_as_names_anyone_the_desk_knows(desk: Itdesk) -> None:
    tid = desk.new()
    before = git_state(desk.desk)
    result = desk("log", tid, "--as", "外包小刘", "called", "--now", "2023-10-25T09:33")
    assert result.exit_code == 2
    assert "--as 外包小刘: not someone this desk knows" in result.stderr
    assert "robots:" in result.stderr and "\n" not in result.stderr.strip()
    assert git_state(desk.desk) == before
    policy = desk.desk / "itdesk.yaml"
    text = policy.read_text(encoding="utf-8").replace("people:\n", "people:\n  外包小刘: {}\n", 1)
    policy.write_text(text, encoding="utf-8")
    git(desk.desk, "commit", "-qam", "an outsourced technician")
    run_counted(desk, "log", tid, "--via", "phone", "--as", "外包小刘", "called the user",
                "--now", "2023-10-25T09:33")  # fmt: skip
    assert desk.ticket(tid)["log"][-1]["by"] == "外包小刘"
    assert ticket_commits(desk.desk, tid)[-1]["author"] == "外包小刘"


# --------------------------------------------------------------------- new


def test_new_prints_only_the_id_on_stdout(desk: Itdesk) -> None:
    result = desk("new", "--now", "2023-10-25T09:30", "--title", "t", "--requester", "r")
    assert result.exit_code == 0
    assert result.stdout == f"{IT001}\n"
    assert IT001 in result.stderr  # the human message goes to stderr
    second = desk("new", "--now", "2023-10-25T09:31", "--title", "t2", "--requester", "r")
    assert second.stdout == "IT-20231025-002\n"
    t = desk.ticket(IT001)
    assert t["status"] == "new"
    assert t["reported_at"] == "2023-10-25T09:30:00+08:00"
    commits = ticket_commits(desk.desk, IT001)
    assert len(commits) == 1
    assert commits[0]["trailers"] == {"Ticket": IT001, "Action": "new"}
    assert commits[0]["date"] == "2023-10-25T09:30:00+08:00"


def test_new_from_file_with_intake_keys(desk: Itdesk, tmp_path: Path) -> None:
    intake = tmp_path / "intake.yaml"
    intake.write_text(
        "title: 电脑无法连接公司WiFi\n"
        "description: |\n"
        "  提示“网络身份验证失败”\n"
        "  影响代码提交\n"
        "channel: portal\n"
        "expected_by: 2023-10-25T18:00\n"
        "reported_at: 2023-10-25T09:25\n"
        "requester:\n"
        "  name: 王小明\n"
        "  employee_id: E1001\n"
        "  department: 研发部\n"
        "  contact: 13956785678\n"
        "impact:\n"
        "  blocks_work: true\n"
        "  scope: 本人\n"
        "  devices: [ThinkPad X1, Dell U2720Q]\n",
        encoding="utf-8",
    )
    result = run_counted(desk, "new", "--from", str(intake), "--now", "2023-10-25T09:30")
    assert result.stdout == f"{IT001}\n"
    t = desk.ticket(IT001)
    assert t["title"] == "电脑无法连接公司WiFi"
    assert t["description"] == "提示“网络身份验证失败”\n影响代码提交"
    assert t["channel"] == "portal"
    assert t["expected_by"] == "2023-10-25T18:00:00+08:00"
    assert t["reported_at"] == "2023-10-25T09:25:00+08:00"
    assert t["requester"] == {"name": "王小明", "employee_id": "E1001", "department": "研发部",
                              "contact": "13956785678"}  # fmt: skip
    assert t["impact"] == {"blocks_work": True, "scope": "本人",
                           "devices": ["ThinkPad X1", "Dell U2720Q"]}  # fmt: skip

    # reported_at defaults to --now
    bare = tmp_path / "bare.yaml"
    bare.write_text("title: 打印机卡纸\nrequester: {name: 赵强}\n", encoding="utf-8")
    tid = desk.ok("new", "--from", str(bare), "--now", "2023-10-25T10:00").stdout.strip()
    assert desk.ticket(tid)["reported_at"] == "2023-10-25T10:00:00+08:00"


def test_new_interactive_prompts_and_reasks_a_bad_time(desk: Itdesk) -> None:
    answers = [
        "李丽",  # requester
        "E2002",  # employee number
        "市场部",  # department
        "1395678",  # contact
        "OA系统登录报错500",  # title
        "弹出“未知错误代码500”,无法进入审批流程",  # description
        "y",  # blocks work
        "审批流程",  # scope
        "Dell OptiPlex 7090",  # devices
        "下周某天",  # expected time: not a time -> asked again
        "today 18:00",  # expected time
        "portal",  # channel
    ]
    result = desk("new", "-i", "--now", "2023-10-25T10:15", input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == IT001 + "\n"  # prompts go to stderr: ID=$(itdesk new) works
    assert "下周某天" in result.stderr  # the complaint names the bad answer
    assert result.stderr.count("期望解决时间") == 2  # the question was asked again
    t = desk.ticket(IT001)
    assert t["requester"] == {"name": "李丽", "employee_id": "E2002", "department": "市场部",
                              "contact": "1395678"}  # fmt: skip
    assert t["title"] == "OA系统登录报错500"
    assert t["description"] == "弹出“未知错误代码500”,无法进入审批流程"
    assert t["impact"] == {"blocks_work": True, "scope": "审批流程",
                           "devices": ["Dell OptiPlex 7090"]}  # fmt: skip
    assert t["expected_by"] == "2023-10-25T18:00:00+08:00"
    assert t["channel"] == "portal"
    assert t["reported_at"] == "2023-10-25T10:15:00+08:00"
    assert commit_count(desk.desk) == 3  # init, team, this ticket


def test_new_interactive_asks_only_for_what_is_missing(desk: Itdesk) -> None:
    result = desk("new", "-i", "--now", "2023-10-25T10:15", "--requester", "李丽",
                  "--title", "OA报错", "--department", "市场部", "--contact", "1395678",
                  "--description", "500", "--no-blocks-work", "--scope", "本人",
                  "--devices", "PC", "--channel", "phone",
                  input="E2002\n+2h\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "姓名" not in result.stderr
    assert "工号" in result.stderr
    t = desk.ticket(result.stdout.strip())
    assert t["requester"]["employee_id"] == "E2002"
    assert t["expected_by"] == "2023-10-25T12:15:00+08:00"
    assert t["impact"]["blocks_work"] is False


def test_time_without_offset_is_in_the_desk_zone(make_desk: Callable[..., Itdesk]) -> None:
    berlin = make_desk(tz="Europe/Berlin")
    tid = berlin.new(now="2023-10-25T09:30")
    assert berlin.ticket(tid)["reported_at"] == "2023-10-25T09:30:00+02:00"
    shanghai = make_desk()
    # 23:30 UTC is already the 26th in Shanghai: the number follows the desk's day.
    tid = shanghai.new(now="2023-10-25T23:30:00+00:00")
    assert tid == "IT-20231026-001"
    assert shanghai.ticket(tid)["reported_at"] == "2023-10-26T07:30:00+08:00"


# ------------------------------------------------- close, reopen, accept, cancel


def test_close_needs_followup_unless_forced(desk: Itdesk) -> None:
    tid = desk.new()
    desk.walk(tid, "resolve")
    before = git_state(desk.desk)
    refused = desk("close", tid, "--now", "2023-10-25T10:30")
    assert refused.exit_code == 2
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("itdesk: error:")
    assert "follow" in lines[0]
    assert git_state(desk.desk) == before

    no_reason = desk("close", tid, "--force", "--now", "2023-10-25T10:30")
    assert no_reason.exit_code == 2
    assert git_state(desk.desk) == before

    run_counted(desk, "close", tid, "--force", "--reason", "requester left the company",
                "--now", "2023-10-25T10:31")  # fmt: skip
    t = desk.ticket(tid)
    assert t["status"] == "closed"
    assert t["closed_at"] == "2023-10-25T10:31:00+08:00"
    assert t["followup"] is None
    assert "requester left the company" in t["log"][-1]["text"]
    assert ticket_commits(desk.desk, tid)[-1]["trailers"]["Action"] == "close"


def test_reopen_accept_and_cancel(desk: Itdesk) -> None:
    tid = desk.new()
    desk.walk(tid, "close")
    run_counted(desk, "reopen", tid, "--reason", "WiFi drops again", "--now", "2023-10-25T13:00")
    t = desk.ticket(tid)
    assert t["status"] == "reopened"
    assert t["closed_at"] is None
    assert listed(desk) == [tid]  # open again
    run_counted(desk, "accept", tid, "--as", "wang", "--now", "2023-10-25T13:05")
    assert desk.ticket(tid)["status"] == "in_progress"
    run_counted(desk, "resolve", tid, "--summary", "replaced the access point", "--as", "wang",
                "--now", "2023-10-25T13:30")  # fmt: skip
    run_counted(desk, "followup", tid, "--speed", "一般", "--attitude", "满意",
                "--overall", "不满意", "--now", "2023-10-25T13:40")  # fmt: skip
    fu = desk.ticket(tid)["followup"]
    assert (fu["speed"], fu["attitude"], fu["overall"]) == ("neutral", "satisfied", "unsatisfied")
    run_counted(desk, "close", tid, "--now", "2023-10-25T13:45")
    assert desk.ticket(tid)["status"] == "closed"
    actions = [c["trailers"]["Action"] for c in ticket_commits(desk.desk, tid)]
    assert actions[-5:] == ["reopen", "accept", "resolve", "followup", "close"]

    dup = desk.new(now="2023-10-25T14:00", title="same WiFi problem")
    run_counted(desk, "cancel", dup, "--reason", f"duplicate of {tid}", "--now", "2023-10-25T14:01")
    assert desk.ticket(dup)["status"] == "cancelled"
    assert listed(desk) == []
    assert listed(desk, "--status", "cancelled") == [dup]
    before = git_state(desk.desk)
    for argv in (["cancel", dup, "--reason", "again"], ["reopen", dup, "--reason", "oops"],
                 ["accept", dup]):  # fmt: skip
        result = desk(*argv, "--now", "2023-10-25T14:02")
        assert result.exit_code == 2, argv
        assert len(result.stderr.splitlines()) == 1
        assert "cancelled" in result.stderr
    assert git_state(desk.desk) == before


# ---------------------------------------------------------------- validate


def test_validate_good_desk_and_hand_corrupted_ticket(desk: Itdesk) -> None:
    make_it001(desk)
    make_it002(desk)
    good = desk("validate")
    assert good.exit_code == 0, good.output
    assert good.stdout.strip() == ""

    path = desk.desk / "tickets" / f"{IT002}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    line_no = lines.index("status: pending_vendor") + 1
    lines[line_no - 1] = "status: banana"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = git_state(desk.desk)
    bad = desk("validate")
    assert bad.exit_code == 1
    assert f"tickets/{IT002}.yaml:{line_no}:" in bad.stdout
    assert "banana" in bad.stdout
    assert IT001 not in bad.stdout
    assert "Traceback" not in bad.output
    assert git_state(desk.desk) == before

    # A YAML syntax error is reported the same way.
    lines[line_no - 1] = "status: pending: vendor"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    syntax = desk("validate")
    assert syntax.exit_code == 1
    assert f"tickets/{IT002}.yaml:{line_no}:" in syntax.stdout


def test_validate_finds_a_status_that_contradicts_the_log(desk: Itdesk) -> None:
    tid = desk.new()
    path = desk.desk / "tickets" / f"{tid}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: new\npriority", "status: closed\npriority"), "utf-8")
    result = desk("validate")
    assert result.exit_code == 1
    assert f"tickets/{tid}.yaml:3:" in result.stdout


# ------------------------------------------------------------ finding the desk


def test_desk_from_env_and_from_a_subfolder(
    make_desk: Callable[..., Itdesk], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = make_desk()
    b = make_desk()
    ta = a.new(title="in desk a")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("ITDESK_DESK", str(a.desk))
    assert ids_in(a("list", desk=False).stdout) == [ta]
    tid = a("new", "--title", "via env", "--requester", "r", "--now", "2023-10-25T10:00",
            desk=False).stdout.strip()  # fmt: skip
    assert tid == "IT-20231025-002"
    assert (a.desk / "tickets" / f"{tid}.yaml").is_file()

    # --desk wins over ITDESK_DESK
    assert b("list", "--format", "json").stdout.strip() == "[]"

    # walking up: from a folder inside desk b, with no ITDESK_DESK
    monkeypatch.delenv("ITDESK_DESK")
    deep = b.desk / "kb" / "drafts" / "2023"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = b("new", "--title", "from a subfolder", "--requester", "r",
               "--now", "2023-10-25T10:00", desk=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (b.desk / "tickets" / "IT-20231025-001.yaml").is_file()
    assert not (deep / "tickets").exists()
    assert ids_in(b("list", desk=False).stdout) == ["IT-20231025-001"]

    # ITDESK_DESK wins over the folder we stand in
    monkeypatch.setenv("ITDESK_DESK", str(a.desk))
    assert ids_in(b("list", desk=False).stdout) == [ta, "IT-20231025-002"]


# --------------------------------------------------------------------- init


def test_init_refuses_an_existing_desk(desk: Itdesk) -> None:
    before = git_state(desk.desk)
    result = desk("init", str(desk.desk), "--timezone", "UTC", "--as", "someone")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("itdesk: error:")
    assert git_state(desk.desk) == before


def test_init_writes_timezone_and_makes_the_technician_everything(
    make_desk: Callable[..., Itdesk],
) -> None:
    d = make_desk(members=None, tz="Europe/Berlin", as_name="zhang")
    policy = yaml.safe_load((d.desk / "itdesk.yaml").read_text(encoding="utf-8"))
    assert policy["timezone"] == "Europe/Berlin"
    assert policy["teams"], "init writes teams"
    for team in policy["teams"]:
        assert team["members"] == ["zhang"]
    assert "zhang" in policy["supervisors"]
    assert git(d.desk, "status", "--porcelain") == ""
    log = git(d.desk, "log", "--format=%an|%aI").splitlines()
    assert log == ["zhang|2023-10-25T08:00:00+02:00"]
    # a one-person desk works at once: assign --auto finds zhang
    tid = d.new(now="2023-10-25T09:30")
    d.ok("ack", tid, "--now", "2023-10-25T09:31")
    d.ok("classify", tid, "--category", "account", "--now", "2023-10-25T09:32")
    d.ok("assign", tid, "--auto", "--now", "2023-10-25T09:33")
    assert d.ticket(tid)["assignee"] == "zhang"


def test_init_without_as_uses_git_identity(tmp_path: Path) -> None:
    root = tmp_path / "mydesk"
    d = Itdesk(root)
    d.ok("init", str(root), "--timezone", "Asia/Shanghai", "--now", "2023-10-25T08:00")
    policy = yaml.safe_load((root / "itdesk.yaml").read_text(encoding="utf-8"))
    assert policy["timezone"] == "Asia/Shanghai"
    assert all("Test Tech" in team["members"] for team in policy["teams"])
    assert "Test Tech" in policy["supervisors"]
    assert (root / "tickets").is_dir() and (root / "kb").is_dir()


# ---------------------------------------------------------- --version, --help


def test_version_and_help() -> None:
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0
    assert "itdesk" in version.stdout
    assert __version__ in version.stdout
    top = CliRunner().invoke(cli, ["--help"])
    assert top.exit_code == 0
    for command in ("init", "new", "assign", "close", "list", "validate"):
        assert command in top.stdout


@pytest.mark.parametrize(
    "command",
    ["init", "new", "ack", "classify", "assign", "accept", "log", "escalate", "pending",
     "resolve", "followup", "close", "reopen", "cancel", "show", "history", "list", "report",
     "validate"],
)  # fmt: skip
def test_command_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
