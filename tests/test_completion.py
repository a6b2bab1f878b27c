"""Shell completion through click's own protocol (_ITDESK_COMPLETE): commands, ticket
numbers, statuses, priorities, categories, technicians, teams and KB slugs (#14)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import Itdesk

from itdesk.cli import cli


def complete(desk: Itdesk, line: str) -> list[str]:
    words = line.split(" ")
    env = {
        "_ITDESK_COMPLETE": "bash_complete",
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
        "ITDESK_DESK": str(desk.desk),
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="itdesk")
    assert result.exit_code == 0, result.output
    return [item.split(",", 1)[1] for item in result.output.splitlines() if item]


def test_commands_and_ticket_numbers(desk: Itdesk) -> None:
    first, second = desk.new(), desk.new()
    assert {"edit", "attach", "completion", "list"} <= set(complete(desk, "itdesk "))
    assert complete(desk, "itdesk show ") == [first, second]
    assert complete(desk, f"itdesk show {second}") == [second]
    assert complete(desk, "itdesk ack it-") == [first.lower(), second.lower()]
    assert complete(desk, "itdesk sla explain ") == [first, second]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("itdesk list --status pend", ["pending_vendor", "pending_user"]),
        ("itdesk list --priority P", ["P1", "P2", "P3"]),
        ("itdesk classify IT-1 --category net", ["network"]),
        ("itdesk check --assignee zh", ["zhang", "zhao"]),
        ("itdesk assign IT-1 --to w", ["wang"]),
        ("itdesk --as l", ["li"]),
        ("itdesk list --team ne", ["network"]),
        ("itdesk log IT-1 --via 电", ["电话"]),
        ("itdesk followup IT-1 --speed 满", ["满意"]),
    ],
)
def test_the_desk_s_words(desk: Itdesk, line: str, expected: list[str]) -> None:
    assert complete(desk, line) == expected


def test_kb_slugs(desk: Itdesk) -> None:
    (desk.desk / "kb" / "wifi-certificate.md").write_text("---\ntitle: WiFi\n---\nbody\n")
    assert complete(desk, "itdesk kb show wi") == ["wifi-certificate"]
    assert complete(desk, "itdesk resolve IT-1 --kb ") == ["wifi-certificate"]


def test_no_desk_completes_nothing(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"_ITDESK_COMPLETE": "bash_complete", "COMP_WORDS": "itdesk show ", "COMP_CWORD": "2",
           "ITDESK_DESK": "/nonexistent"}  # fmt: skip
    result = CliRunner().invoke(cli, [], env=env, prog_name="itdesk")
    assert result.exit_code == 0 and result.output.strip() == ""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_command_prints_the_script(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert "_ITDESK_COMPLETE" in result.output
