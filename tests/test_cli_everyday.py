"""What technicians reach for dozens of times a day (issue #14): desk options before the
command, ticket numbers and names in any letter case, list --mine, list --text over
工号 and contact, edit and attach."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import Itdesk, git

from itdesk.cli import cli


def test_desk_options_before_the_command(desk: Itdesk) -> None:
    tid = desk.new()
    argv = ["--desk", str(desk.desk), "--now", "2023-10-25T10:00", "--as", "li", "ack", tid]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert git(desk.desk, "log", "-1", "--format=%an %ad", "--date=iso").startswith(
        "li 2023-10-25 10:00"
    )
    listed = CliRunner().invoke(cli, ["--desk", str(desk.desk), "list", "--format", "json"])
    assert listed.exit_code == 0
    assert [d["id"] for d in json.loads(listed.output)] == [tid]


def test_option_after_the_command_wins(desk: Itdesk, tmp_path: Path) -> None:
    tid = desk.new()
    argv = ["--desk", str(tmp_path / "nowhere"), "show", tid, "--desk", str(desk.desk)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output


def test_ticket_numbers_in_any_letter_case(desk: Itdesk) -> None:
    tid = desk.new()
    desk.ok("ack", tid.lower(), "--now", "2023-10-25T09:35")
    assert desk.ticket(tid)["status"] == "acknowledged"
    assert tid in desk.ok("show", f"  {tid.lower()} ").stdout
    assert desk.ok("history", tid.lower()).stdout.count("\n") == 2


def test_names_in_any_letter_case(desk: Itdesk) -> None:
    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:35")
    desk.ok("assign", tid, "--to", "Wang", "--now", "2023-10-25T09:40")
    assert desk.ticket(tid)["assignee"] == "wang"
    desk.ok("accept", tid, "--as", "WANG", "--now", "2023-10-25T09:45")
    assert git(desk.desk, "log", "-1", "--format=%an").strip() == "wang"
    out = desk.ok("list", "--assignee", "WaNg", "--format", "json").stdout
    assert [d["id"] for d in json.loads(out)] == [tid]


def test_list_mine(desk: Itdesk) -> None:
    first, second = desk.new(), desk.new(title="VPN down")
    for tid, who in ((first, "wang"), (second, "zhao")):
        desk.ok("ack", tid, "--now", "2023-10-25T09:35")
        desk.ok("assign", tid, "--to", who, "--now", "2023-10-25T09:40")
    out = desk.ok("list", "--mine", "--as", "zhao", "--format", "json").stdout
    assert [d["id"] for d in json.loads(out)] == [second]
    refused = desk("list", "--mine", "--assignee", "wang")
    assert refused.exit_code == 2 and "not both" in refused.stderr


def test_list_text_searches_employee_number_and_contact(desk: Itdesk) -> None:
    tid = desk.new(employee_id="E20417", contact="13912345678")
    desk.new(title="VPN down", employee_id="E1", contact="wang@example.com")
    for query in ("e20417", "13912345678", tid.lower()):
        out = desk.ok("list", "-t", query, "--format", "json", "--reveal").stdout
        assert [d["id"] for d in json.loads(out)] == [tid], query


def test_edit_changes_the_fields_given_in_one_commit(desk: Itdesk) -> None:
    tid = desk.new()
    before = git(desk.desk, "rev-parse", "HEAD").strip()
    out = desk.ok(
        "edit", tid.lower(), "--title", "WiFi drops", "--contact", "13912345678",
        "--devices", "X1, T14", "--expected-by", "2023-10-25T18:00",
        "--now", "2023-10-25T09:40",
    ).stdout  # fmt: skip
    assert out.strip() == f"{tid}: edit title, contact, devices, expected_by"
    data = desk.ticket(tid)
    assert data["title"] == "WiFi drops"
    assert data["requester"]["contact"] == "13912345678"
    assert data["requester"]["name"] == "王小明"  # untouched
    assert data["impact"]["devices"] == ["X1", "T14"]
    assert data["expected_by"].startswith("2023-10-25T18:00")
    assert data["log"][-1]["text"] == "edited title, contact, devices, expected_by"
    assert git(desk.desk, "rev-list", f"{before}..HEAD").count("\n") == 1
    message = git(desk.desk, "log", "-1", "--format=%B")
    assert "Action: edit" in message and "13912345678" not in message


def test_edit_refusals_change_nothing(desk: Itdesk) -> None:
    tid = desk.new()
    head = git(desk.desk, "rev-parse", "HEAD")
    for argv, words in (
        ([], "at least one field"),
        (["--title", "Printer jams"], "nothing to change"),
        (["--title", " "], "must not be empty"),
        (["--title", "a\nb"], "title"),
        (["--expected-by", "2023-10-24T09:00"], "before the report"),
    ):
        result = desk("edit", tid, *argv, "--now", "2023-10-25T09:40")
        assert result.exit_code == 2, (argv, result.output)
        assert words in result.stderr and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
    assert git(desk.desk, "rev-parse", "HEAD") == head
    assert desk("edit", "IT-20231025-009", "--title", "x").exit_code == 2


def test_attach_stores_the_file_under_the_ticket(desk: Itdesk, tmp_path: Path) -> None:
    tid = desk.new()
    shot = tmp_path / "wifi error.png"
    shot.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    out = desk.ok("attach", tid, str(shot), "--now", "2023-10-25T09:40").stdout
    assert out.strip() == f"{tid}: attach wifi error.png"
    rel = f"attachments/{tid}/wifi error.png"
    assert (desk.desk / rel).read_bytes() == shot.read_bytes()
    assert desk.ticket(tid)["attachments"] == [rel]
    changed = git(desk.desk, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert sorted(changed) == [rel, f"tickets/{tid}.yaml"]
    assert git(desk.desk, "status", "--porcelain") == ""
    desk.ok("attach", tid, str(shot), "--name", "报错截图.png", "--now", "2023-10-25T09:41")
    shown = desk.ok("show", tid).stdout
    assert rel in shown and f"attachments/{tid}/报错截图.png" in shown


def test_attach_refusals_change_nothing(desk: Itdesk, tmp_path: Path) -> None:
    tid = desk.new()
    (desk.desk / "itdesk.yaml").write_text(
        (desk.desk / "itdesk.yaml").read_text() + "attachments: {max_bytes: 100}\n"
    )
    git(desk.desk, "commit", "-qam", "small attachments")
    small, big = tmp_path / "a.txt", tmp_path / "big.log"
    small.write_text("hello")
    big.write_bytes(b"x" * 101)
    link = tmp_path / "link.txt"
    link.symlink_to(small)
    head = git(desk.desk, "rev-parse", "HEAD")
    for argv, words in (
        ([str(big)], "up to 100"),
        ([str(link)], "symbolic link"),
        ([str(tmp_path / "none.txt")], "no such file"),
        ([str(small), "--name", "../x.txt"], "not a usable attachment name"),
        ([str(small), "--name", ".hidden"], "not a usable attachment name"),
    ):
        result = desk("attach", tid, *argv, "--now", "2023-10-25T09:40")
        assert result.exit_code == 2, (argv, result.output)
        assert words in result.stderr and result.stderr.count("\n") == 1
    desk.ok("attach", tid, str(small), "--now", "2023-10-25T09:40")
    again = desk("attach", tid, str(small), "--now", "2023-10-25T09:41")
    assert again.exit_code == 2 and "another --name" in again.stderr
    assert git(desk.desk, "rev-list", "--count", f"{head.strip()}..HEAD").strip() == "1"


def test_new_never_prompts_when_its_output_is_captured(desk: Itdesk) -> None:
    """ID=$(itdesk new ...) at a terminal: stdin is the terminal, stdout a pipe."""
    import os
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    try:
        itdesk = Path(sys.executable).parent / "itdesk"
        result = subprocess.run(
            [str(itdesk), "new", "--desk", str(desk.desk), "--requester", "王小明",
             "--now", "2023-10-25T09:30"],  # no title: prompted for only at a terminal
            stdin=secondary, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(primary)
        os.close(secondary)
    assert result.returncode == 2, result.stderr
    assert "missing --title" in result.stderr and "工号" not in result.stderr


def test_init_as_makes_the_technician_of_this_clone(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    result = CliRunner().invoke(cli, ["init", str(root), "--as", "zhang", "--timezone",
                                      "Asia/Shanghai", "--now", "2023-10-25T08:00"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert git(root, "config", "itdesk.technician").strip() == "zhang"
    desk = Itdesk(root)
    tid = desk.new()  # no --as: zhang, not git's user name (Test Tech)
    assert git(root, "log", "-1", "--format=%an").strip() == "zhang"
    assert desk.ticket(tid)["log"][0]["by"] == "zhang"
    desk.ok("ack", tid, "--as", "itdesk-bot", "--now", "2023-10-25T09:35")  # --as wins
    assert git(root, "log", "-1", "--format=%an").strip() == "itdesk-bot"


def test_validate_finds_a_listed_attachment_that_is_gone(desk: Itdesk, tmp_path: Path) -> None:
    tid = desk.new()
    shot = tmp_path / "x.png"
    shot.write_bytes(b"png")
    desk.ok("attach", tid, str(shot), "--now", "2023-10-25T09:40")
    assert desk("validate").exit_code == 0
    git(desk.desk, "rm", "-q", f"attachments/{tid}/x.png")
    git(desk.desk, "commit", "-qm", "oops")
    result = desk("validate")
    assert result.exit_code == 1
    assert f"attachments/{tid}/x.png: no such file in the desk" in result.stdout


def test_purge_removes_the_attachments_too(make_desk: object, tmp_path: Path) -> None:
    from datetime import datetime

    from conftest import SHANGHAI

    desk: Itdesk = make_desk()  # type: ignore[operator]
    tid = desk.new(now="2023-09-10T09:30")
    shot = tmp_path / "screen.png"
    shot.write_bytes(b"png")
    desk.ok("attach", tid, str(shot), "--now", "2023-09-10T09:31")
    desk.walk(tid, "close", start=datetime(2023, 9, 10, 9, 35, tzinfo=SHANGHAI))
    desk.ok("archive", "--now", "2023-11-05T09:00")
    assert (desk.desk / "attachments" / tid / "screen.png").is_file()  # archived: kept
    desk.ok("archive", "--purge", "--now", "2025-10-15T09:00")
    assert not (desk.desk / "attachments" / tid).exists()
    assert git(desk.desk, "status", "--porcelain", "--untracked-files=all") == ""
    changed = git(desk.desk, "show", "--name-only", "--format=", "HEAD").split()
    assert f"attachments/{tid}/screen.png" in changed


def test_validate_counts_in_words(desk: Itdesk) -> None:
    assert desk.ok("validate").stderr == "0 tickets checked, 0 problems\n"
    desk.new()
    assert desk.ok("validate").stderr == "1 ticket checked, 0 problems\n"
    desk.new()
    assert desk.ok("validate", "--lang", "zh").stderr == "已检查 2 张工单，发现 0 个问题\n"
