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
