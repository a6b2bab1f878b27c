"""``itdesk kb`` end to end, on real desks in tmp_path: promote, link, edit, list, show,
search, and the helpers ``new`` (suggest) and ``validate`` (kb_problems) use."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Itdesk, git, git_state

from itdesk.core.lifecycle import (
    accept,
    acknowledge,
    assign,
    classify,
    log_work,
    open_ticket,
    resolve,
)
from itdesk.core.model import Priority, Requester, parse_category
from itdesk.service.kb import kb_problems, suggest
from itdesk.store.desk import Desk

WIFI_STEPS = ("1.检查电脑无线网卡驱动", "2.重置网络配置", "3.更新公司WiFi证书")


def resolved(
    d: Itdesk,
    title: str,
    summary: str,
    *,
    steps: tuple[str, ...] = ("reset the adapter",),
    category: str = "network",
    start: str = "2023-10-25T09:30:00+08:00",
    description: str = "",
    requester: str = "王小明",
    contact: str | None = "13956785678",
    employee_id: str | None = None,
) -> str:
    """A ticket taken through the lifecycle up to resolved, committed at once (the
    commands themselves are tested elsewhere; nine CLI runs per ticket are slow)."""
    desk = Desk(d.desk)
    t0 = datetime.fromisoformat(start)
    clock = iter(t0 + timedelta(minutes=5 * i) for i in range(1, 100))
    with desk.transaction(desk.actor("zhang"), t0) as tx:
        tid = tx.allocate_id(t0.date())
        who = Requester(requester, employee_id, "研发部", contact)
        t = open_ticket(
            tid, title=title, requester=who, now=t0, by="desk", description=description
        ).ticket
        t = acknowledge(t, now=next(clock), by="desk").ticket
        t = classify(
            t, now=next(clock), by="desk", priority=Priority.P2, category=parse_category(category)
        ).ticket
        t = assign(t, now=next(clock), by="desk", to="zhang", team=None).ticket
        t = accept(t, now=next(clock), by="zhang").ticket
        for step in steps:
            t = log_work(t, now=next(clock), by="zhang", via="remote", text=step).ticket
        change = resolve(t, now=next(clock), by="zhang", summary=summary, verified=True)
        tx.put(change)
    return tid


def wifi(d: Itdesk, **fields: Any) -> str:
    fields.setdefault("description", "电脑无法连接公司WiFi，提示“网络身份验证失败”")
    return resolved(
        d, "电脑无法连接公司WiFi", "更新公司WiFi证书后恢复连接", steps=WIFI_STEPS, **fields
    )


def head(d: Itdesk) -> tuple[str, list[str]]:
    """The last commit's message and the files it touched."""
    message = git(d.desk, "log", "-1", "--format=%B")
    files = git(d.desk, "show", "--name-only", "--format=", "HEAD").split()
    return message, sorted(files)


def articles(d: Itdesk) -> list[str]:
    return sorted(p.name for p in (d.desk / "kb").glob("*.md") if p.name != "README.md")


def front(d: Itdesk, slug: str) -> dict[str, object]:
    text = (d.desk / "kb" / f"{slug}.md").read_text(encoding="utf-8")
    data: dict[str, object] = yaml.safe_load(text.split("---\n")[1])
    return data


def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str) -> None:
    path = tmp_path / "editor.sh"
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(path))


# ------------------------------------------------------------------ promote


def test_kb_alone_prints_its_help(desk: Itdesk) -> None:
    result = desk("kb", desk=False)
    assert result.exit_code == 0
    for sub in ("promote", "list", "show", "search"):
        assert f"  {sub} " in result.stdout


def test_promote_writes_the_article_and_the_ticket_in_one_commit(desk: Itdesk) -> None:
    tid = wifi(desk)
    before = int(git(desk.desk, "rev-list", "--count", "HEAD"))
    result = desk.ok("kb", "promote", tid, "--now", "2023-10-25T12:00")
    slug = "network-wifi-it-20231025-001"
    assert result.stdout == f"{tid}: promote to kb/{slug}\n"
    assert int(git(desk.desk, "rev-list", "--count", "HEAD")) == before + 1
    message, files = head(desk)
    assert message.splitlines()[0] == f"{tid}: promote to kb/{slug}"
    assert f"Ticket: {tid}" in message and "Action: kb" in message
    assert files == [f"kb/{slug}.md", f"tickets/{tid}.yaml"]
    assert git(desk.desk, "status", "--porcelain") == ""
    assert desk.ticket(tid)["kb"] == [slug]
    meta = front(desk, slug)
    assert meta == {
        "title": "电脑无法连接公司WiFi",
        "category": "network",
        "tags": ["network", "网络", "wifi"],
        "tickets": [tid],
        "created": "2023-10-25T12:00:00+08:00",
        "updated": "2023-10-25T12:00:00+08:00",
    }
    body = (desk.desk / "kb" / f"{slug}.md").read_text(encoding="utf-8")
    assert "1. 检查电脑无线网卡驱动\n2. 重置网络配置\n3. 更新公司WiFi证书" in body
    assert "## Self-help" in body


def test_promote_an_english_title_and_a_closed_ticket(desk: Itdesk) -> None:
    tid = desk.new(title="VPN cannot connect from home")
    desk.walk(tid, "close")
    desk.ok("kb", "promote", tid, "--now", "2023-10-25T12:00")
    assert articles(desk) == ["vpn-cannot-connect-from-home.md"]


def test_promote_refuses_an_open_ticket_and_changes_nothing(desk: Itdesk) -> None:
    tid = desk.new(title="VPN down")
    desk.walk(tid, "accept")
    before = git_state(desk.desk)
    result = desk("kb", "promote", tid)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "is in_progress: only a resolved or closed ticket" in result.stderr
    assert git_state(desk.desk) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["IT-20231025-999"], "no ticket IT-20231025-999"),
        (["../../etc"], "not a ticket number"),
        (["IT-20231025-001", "--slug", "../evil"], "not a valid article name"),
        (["IT-20231025-001", "--into", "Bad Slug"], "not a valid article name"),
        (["IT-20231025-001", "--into", "nope"], "no article kb/nope.md"),
        (["IT-20231025-001", "--into", "a", "--slug", "b"], "goes without --slug"),
    ],
)
def test_promote_bad_input_is_one_line(desk: Itdesk, args: list[str], message: str) -> None:
    if args[0] == "IT-20231025-001":
        wifi(desk)
    before = git_state(desk.desk)
    result = desk("kb", "promote", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before


def test_same_fix_is_linked_not_duplicated(desk: Itdesk) -> None:
    first = wifi(desk)
    desk.ok("kb", "promote", first, "--now", "2023-10-25T12:00")
    slug = "network-wifi-it-20231025-001"
    second = resolved(
        desk, "WiFi身份验证失败", "更新WiFi证书后恢复", start="2023-10-26T09:00+08:00"
    )
    result = desk.ok("kb", "promote", second, "--now", "2023-10-26T12:00")
    assert result.stdout.splitlines()[0] == f"{second}: link to kb/{slug}"
    assert f"Same fix as kb/{slug}.md" in result.stdout
    assert articles(desk) == [f"{slug}.md"]
    meta = front(desk, slug)
    assert meta["tickets"] == [first, second]
    assert meta["updated"] == "2023-10-26T12:00:00+08:00"
    assert meta["created"] == "2023-10-25T12:00:00+08:00"
    assert desk.ticket(second)["kb"] == [slug]
    message, files = head(desk)
    assert f"Ticket: {second}" in message and "Action: kb" in message
    assert files == [f"kb/{slug}.md", f"tickets/{second}.yaml"]
    # Promoting it again changes nothing.
    before = git_state(desk.desk)
    again = desk.ok("kb", "promote", second)
    assert "already linked" in again.stdout and "nothing changed" in again.stdout
    assert git_state(desk.desk) == before


def test_a_different_fix_gets_its_own_article_and_new_forces_one(desk: Itdesk) -> None:
    desk.ok("kb", "promote", wifi(desk), "--now", "2023-10-25T12:00")
    vpn = resolved(desk, "VPN无法连接", "重新安装VPN客户端", start="2023-10-26T09:00+08:00")
    desk.ok("kb", "promote", vpn, "--now", "2023-10-26T12:00")
    copy = resolved(desk, "WiFi身份验证失败", "更新WiFi证书后恢复", start="2023-10-27T09:00+08:00")
    desk.ok("kb", "promote", copy, "--new", "--slug", "wifi-auth", "--now", "2023-10-27T12:00")
    assert articles(desk) == [
        "network-vpn-it-20231026-001.md",
        "network-wifi-it-20231025-001.md",
        "wifi-auth.md",
    ]


def test_into_links_a_chosen_article(desk: Itdesk) -> None:
    first = wifi(desk)
    desk.ok("kb", "promote", first, "--slug", "wifi-certificate", "--now", "2023-10-25T12:00")
    other = resolved(
        desk,
        "Laptop fan noise",
        "cleaned the fan",
        category="hardware",
        start="2023-10-26T09:00+08:00",
    )
    result = desk.ok("kb", "promote", other, "--into", "wifi-certificate", "--now", "2023-10-26T12")
    assert result.stdout == f"{other}: link to kb/wifi-certificate\n"
    assert front(desk, "wifi-certificate")["tickets"] == [first, other]
    assert desk.ticket(other)["kb"] == ["wifi-certificate"]
    assert head(desk)[1] == ["kb/wifi-certificate.md", f"tickets/{other}.yaml"]


def test_slug_taken_is_refused(desk: Itdesk) -> None:
    desk.ok("kb", "promote", wifi(desk), "--slug", "wifi")
    other = resolved(desk, "Laptop fan noise", "cleaned the fan", category="hardware")
    result = desk("kb", "promote", other, "--slug", "wifi")
    assert result.exit_code == 2 and "kb/wifi.md exists" in result.stderr


def test_personal_data_never_reaches_the_article(desk: Itdesk) -> None:
    tid = resolved(
        desk,
        "王小明 cannot print",
        "reinstalled the driver for 王小明",
        steps=("called 王小明 on 13956785678", "mailed wang.xm@example.com"),
        description="王小明 (E1001, 13956785678, wang.xm@example.com) cannot print",
        requester="王小明",
        contact="13956785678",
        employee_id="E1001",
        category="hardware",
    )
    desk.ok("kb", "promote", tid)
    (name,) = articles(desk)
    text = (desk.desk / "kb" / name).read_text(encoding="utf-8")
    for secret in ("王小明", "13956785678", "wang.xm@example.com", "E1001"):
        assert secret not in text
    assert "王*明" in text and "139****5678" in text


# ------------------------------------------------------------------ editing


def test_edit_in_editor_before_commit(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = wifi(desk)
    editor(
        tmp_path,
        monkeypatch,
        "sed -i 's/^title: .*/title: WiFi certificate expired/' \"$1\"\n"
        "sed -i 's/^Not recorded in the source ticket.*/The certificate had expired./' \"$1\"\n"
        "echo 'Ask 王小明 at 13956785678.' >> \"$1\"",
    )
    result = desk.ok("kb", "promote", tid, "--edit")
    assert result.stdout == f"{tid}: promote to kb/wifi-certificate-expired\n"
    text = (desk.desk / "kb" / "wifi-certificate-expired.md").read_text(encoding="utf-8")
    assert "title: WiFi certificate expired" in text
    assert "The certificate had expired." in text
    assert "王*明" in text and "139****5678" in text and "13956785678" not in text
    assert desk.ticket(tid)["kb"] == ["wifi-certificate-expired"]
    assert head(desk)[1] == ["kb/wifi-certificate-expired.md", f"tickets/{tid}.yaml"]


def test_editor_that_saves_nothing_keeps_the_draft(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = wifi(desk)
    editor(tmp_path, monkeypatch, "true")
    desk.ok("kb", "promote", tid, "--edit")
    assert articles(desk) == ["network-wifi-it-20231025-001.md"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (': > "$1"', "the edited article is empty: promotion aborted"),
        ("sed -i 's/^category: .*/category: printers/' \"$1\"", "kb/network-wifi-it-20231025-001"),
        ("exit 3", "Editing failed"),
    ],
    ids=["emptied", "invalid", "editor-fails"],
)
def test_failed_edit_changes_nothing(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, message: str
) -> None:
    tid = wifi(desk)
    editor(tmp_path, monkeypatch, script)
    before = git_state(desk.desk)
    result = desk("kb", "promote", tid, "--edit")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before


# ------------------------------------------------------- list, show, search


@pytest.fixture
def kb_desk(desk: Itdesk) -> Itdesk:
    desk.ok("kb", "promote", wifi(desk), "--slug", "wifi-certificate")
    vpn = resolved(
        desk,
        "VPN cannot connect from home",
        "Reinstalled the VPN client",
        steps=("checked the VPN log", "reinstalled the client"),
        start="2023-10-26T09:00+08:00",
    )
    desk.ok("kb", "promote", vpn)
    printer = resolved(
        desk,
        "打印机共享设置",
        "在控制面板中重新添加共享打印机",
        steps=("检查打印机共享权限",),
        category="hardware",
        start="2023-10-27T09:00+08:00",
    )
    desk.ok("kb", "promote", printer)
    outlook = resolved(
        desk,
        "Outlook asks for the password again",
        "Cleared saved credentials",
        steps=("the user was on VPN at the time",),
        category="software",
        start="2023-10-28T09:00+08:00",
    )
    desk.ok("kb", "promote", outlook, "--slug", "outlook-password")
    return desk


def test_search_english(kb_desk: Itdesk) -> None:
    result = kb_desk.ok("kb", "search", "VPN", "--format", "json")
    hits = json.loads(result.stdout)
    assert hits[0]["slug"] == "vpn-cannot-connect-from-home"
    assert hits[0]["title"] == "VPN cannot connect from home"
    assert [h["slug"] for h in hits] == ["vpn-cannot-connect-from-home", "outlook-password"]
    assert hits[0]["score"] > hits[1]["score"]
    table = kb_desk.ok("kb", "search", "vpn").stdout.splitlines()
    assert table[0].split() == ["Score", "Slug", "Category", "Title"]
    assert table[2].split()[1] == "vpn-cannot-connect-from-home"


def test_search_chinese(kb_desk: Itdesk) -> None:
    hits = json.loads(kb_desk.ok("kb", "search", "打印机共享", "--format", "json").stdout)
    assert hits[0]["slug"] == "hardware-it-20231027-001"
    assert hits[0]["title"] == "打印机共享设置"
    hits = json.loads(kb_desk.ok("kb", "search", "WiFi 身份验证", "--format", "json").stdout)
    assert hits[0]["slug"] == "wifi-certificate"
    table = kb_desk.ok("kb", "search", "打印机", "--lang", "zh").stdout
    assert "打印机共享设置" in table and "硬件" in table


def test_search_without_match(kb_desk: Itdesk) -> None:
    result = kb_desk.ok("kb", "search", "bluescreen")
    assert result.stdout == "No articles match 'bluescreen'.\n"
    assert json.loads(kb_desk.ok("kb", "search", "蓝屏", "--format", "json").stdout) == []


def test_search_limit(kb_desk: Itdesk) -> None:
    hits = json.loads(kb_desk.ok("kb", "search", "vpn", "-n", "1", "--format", "json").stdout)
    assert len(hits) == 1


def test_list(kb_desk: Itdesk) -> None:
    data = json.loads(kb_desk.ok("kb", "list", "--format", "json").stdout)
    assert [a["slug"] for a in data] == [
        "hardware-it-20231027-001",
        "outlook-password",
        "vpn-cannot-connect-from-home",
        "wifi-certificate",
    ]
    assert set(data[0]) == {"slug", "title", "category", "tags", "tickets", "created", "updated"}
    net = json.loads(kb_desk.ok("kb", "list", "-c", "网络", "--format", "json").stdout)
    assert [a["slug"] for a in net] == ["vpn-cannot-connect-from-home", "wifi-certificate"]
    table = kb_desk.ok("kb", "list").stdout.splitlines()
    assert table[0].split() == ["Slug", "Category", "Tickets", "Updated", "Title"]
    assert len(table) == 6


def test_list_empty_and_bad_category(desk: Itdesk) -> None:
    assert desk.ok("kb", "list").stdout == "No articles.\n"
    assert json.loads(desk.ok("kb", "list", "--format", "json").stdout) == []
    result = desk("kb", "list", "--category", "printers")
    assert result.exit_code == 2 and "unknown category 'printers'" in result.stderr


def test_show(kb_desk: Itdesk) -> None:
    path = kb_desk.desk / "kb" / "wifi-certificate.md"
    assert kb_desk.ok("kb", "show", "wifi-certificate").stdout == path.read_text(encoding="utf-8")
    data = json.loads(kb_desk.ok("kb", "show", "wifi-certificate", "--format", "json").stdout)
    assert data["slug"] == "wifi-certificate" and data["category"] == "network"
    assert data["tickets"] == ["IT-20231025-001"]
    assert data["body"].startswith("# 电脑无法连接公司WiFi\n")


@pytest.mark.parametrize(
    ("slug", "message"),
    [("nope", "no article kb/nope.md"), ("../tickets/x", "not a valid article name")],
)
def test_show_unknown(desk: Itdesk, slug: str, message: str) -> None:
    result = desk("kb", "show", slug)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_a_broken_article_is_skipped_with_a_warning(kb_desk: Itdesk) -> None:
    (kb_desk.desk / "kb" / "broken.md").write_text("no front matter\n", encoding="utf-8")
    result = kb_desk.ok("kb", "list", "--format", "json")
    assert len(json.loads(result.stdout)) == 4
    assert "kb/broken.md:1: no front matter" in result.stderr


# ------------------------------------------------------- helpers for the lead


def test_suggest(kb_desk: Itdesk) -> None:
    desk = Desk(kb_desk.desk)
    found = suggest(desk, "VPN连不上, cannot connect")
    assert found[0][:2] == ("vpn-cannot-connect-from-home", "VPN cannot connect from home")
    assert found[0][2] > 0 and len(found) <= 3
    assert suggest(desk, "打印机共享不能用")[0][0] == "hardware-it-20231027-001"
    assert suggest(desk, "monitor flickers") == []
    assert suggest(desk, "") == []


def test_kb_problems(kb_desk: Itdesk, make_desk: Callable[..., Itdesk]) -> None:
    root = kb_desk.desk
    desk = Desk(root)
    assert kb_problems(desk) == []
    assert kb_problems(Desk(make_desk().desk)) == []
    # An archived ticket counts as existing.
    archived = root / "tickets" / "archive" / "2023-09"
    archived.mkdir(parents=True)
    (archived / "IT-20230901-001.yaml").write_text("id: IT-20230901-001\n", encoding="utf-8")
    (root / "kb" / "Bad_Name.md").write_text("---\ntitle: x\ncategory: other\n---\n")
    (root / "kb" / "broken.md").write_text("---\ntitle: x\ncategory: [other\n---\nbody\n")
    (root / "kb" / "ghost.md").write_text(
        "---\ntitle: Ghost\ncategory: other\ntickets:\n- IT-20230901-001\n- IT-20990101-001\n"
        "---\nbody\n"
    )
    git(root, "rm", "-q", "kb/outlook-password.md")
    problems = kb_problems(desk)
    assert problems[0].startswith("kb/Bad_Name.md: 'Bad_Name.md' is not a valid article file name")
    assert problems[1].startswith("kb/broken.md:4: front matter: not valid YAML")
    assert problems[2] == (
        "kb/ghost.md:6: tickets: no ticket IT-20990101-001 on this desk "
        "(neither active nor archived)"
    )
    ticket = (root / "tickets" / "IT-20231028-001.yaml").read_text(encoding="utf-8").splitlines()
    line = ticket.index("- outlook-password") + 1
    assert problems[3] == (
        f"tickets/IT-20231028-001.yaml:{line}: kb: no article kb/outlook-password.md"
    )
    assert len(problems) == 4
