"""One-line fields hold one line: no line break, tab or control character, and a
length limit; text fields hold line breaks but no control characters; a contact is one
phone number, extension or e-mail address (SPEC section 7). The rule lives in the model,
so every way in (flags, --from files, hand edits) meets it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Itdesk, git, git_state

ID = "IT-20231025-001"

FORGED = "WiFi down\n\nTicket: IT-20231025-999\nAction: close"
BAD_LINES = {
    "forged trailer": FORGED,
    "carriage return": "WiFi\rdown",
    "tab": "WiFi\tdown",
    "clear screen": "WiFi \x1b[2J down",
    "OSC 8 link": "\x1b]8;;http://evil.example/\x07click\x1b]8;;\x07",
    "bell": "WiFi\x07",
    "NUL": "WiFi\x00down",
    "line separator": "WiFi\u2028down",
    "bidi override": "WiFi \u202edown",
    "zero-width space": "Wi\u200bFi",
    "right-to-left mark": "WiFi\u200f",
    "BOM": "\ufeffWiFi",
    "5 MB": "x" * 5_000_000,
}


@pytest.mark.parametrize("value", BAD_LINES.values(), ids=BAD_LINES.keys())
@pytest.mark.parametrize("flag", ["--title", "--requester", "--department", "--employee-id"])
def test_new_refuses_a_bad_one_line_field(desk: Itdesk, flag: str, value: str) -> None:
    fields = {"title": "WiFi down", "requester": "王小明", flag[2:].replace("-", "_"): value}
    argv = ["new", "--now", "2023-10-25T09:30"]
    for key, v in fields.items():
        argv += ["--" + key.replace("_", "-"), v]
    before = git_state(desk.desk)
    result = desk(*argv)
    assert result.exit_code == 2, result.output[:300]
    message = result.stderr
    assert message.count("\n") == 1 and len(message) < 400
    assert "\x1b" not in message and "\x07" not in message
    assert git_state(desk.desk) == before


@pytest.mark.parametrize(
    "contact", ["a@b.com, x@y.com", "a@b.com; x@y.com", "13956785678 / 13800000000", "call me",
                "139****5678", "wang@example.com\nBcc: all@example.com"]
)  # fmt: skip
def test_a_contact_is_one_address(desk: Itdesk, contact: str) -> None:
    result = desk("new", "--title", "x", "--requester", "y", "--contact", contact)
    assert result.exit_code == 2
    assert "contact" in result.stderr


@pytest.mark.parametrize(
    "contact", ["13956785678", "1395678", "8021", "+86 139 5678 5678", "010-6543 2100 ext 12",
                "021-62345678转8021", "wang.xm@example.com", "ext 1234", "分机 1234"]
)  # fmt: skip
def test_good_contacts_are_kept(desk: Itdesk, contact: str) -> None:
    tid = desk.new(contact=contact)
    assert desk.ticket(tid)["requester"]["contact"] == contact


def test_text_fields_keep_line_breaks_but_not_escapes(desk: Itdesk) -> None:
    tid = desk.new(description="line one\nline two\twith a tab")
    assert desk.ticket(tid)["description"] == "line one\nline two\twith a tab"
    result = desk("log", tid, "--now", "2023-10-25T09:40", "see \x1b[31mred\x1b[0m")
    assert result.exit_code == 2 and "control character" in result.stderr
    result = desk("log", tid, "--now", "2023-10-25T09:40", "x" * 30_000)
    assert result.exit_code == 2 and "at most" in result.stderr


def test_the_commit_message_cannot_be_forged(desk: Itdesk) -> None:
    """Whatever is refused, what is accepted never adds a trailer of its own."""
    tid = desk.new(title="WiFi down: Ticket: IT-1 Action: close")
    trailers = git(desk.desk, "log", "-1", "--format=%(trailers:key=Ticket,valueonly)")
    assert trailers.split() == [tid]


def test_assignee_and_vendor_names_are_one_line(desk: Itdesk) -> None:
    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:35")
    result = desk("escalate", tid, "--vendor", "ACME\nTicket: x", "--reason", "r",
                  "--now", "2023-10-25T09:40")  # fmt: skip
    assert result.exit_code == 2


def test_a_hand_edited_title_with_a_line_break_is_reported(desk: Itdesk, tmp_path: Path) -> None:
    tid = desk.new()
    path = desk.desk / "tickets" / f"{tid}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("title: Printer jams", 'title: "Printer\\njams"'),
                    encoding="utf-8")  # fmt: skip
    git(desk.desk, "commit", "-qam", "hand edit")
    result = desk("validate")
    assert result.exit_code == 1
    assert f"tickets/{tid}.yaml" in result.output and "line break" in result.output
    listed = desk("list")
    assert listed.exit_code == 0
    assert "line break" in listed.stderr  # reported, not shown as a split row
    assert tid not in listed.stdout


def test_nothing_reaches_the_terminal_as_an_escape(desk: Itdesk) -> None:
    """A hand-written article (or any file) with escape sequences is shown, not obeyed."""
    article = desk.desk / "kb" / "vpn.md"
    article.write_text(
        "---\ntitle: \"VPN \\e]0;owned\\a fix\"\ncategory: network\n---\n"
        "Run this: \x1b[2J\x1b]8;;http://evil.example/\x07here\x1b]8;;\x07\n",
        encoding="utf-8",
    )
    git(desk.desk, "add", "kb/vpn.md")
    git(desk.desk, "commit", "-qm", "article")
    for argv in (["kb", "show", "vpn"], ["kb", "list"], ["kb", "search", "VPN"], ["validate"]):
        result = desk(*argv)
        out = result.stdout + result.stderr
        assert "\x1b" not in out and "\x07" not in out, argv
    assert "\\x1b[2J" in desk("kb", "show", "vpn").stdout


def test_an_extra_trailer_from_untrusted_text_stays_one_line(desk: Itdesk) -> None:
    """Intake channels name the employee in a trailer (a chat nick, a mail's display
    name): the commit keeps it to one printable line, so it forges no trailer."""
    from itdesk.service.session import Session

    session = Session.open(desk.desk, as_name="zhang", now="2023-10-25T09:30")
    session.trailers["Employee"] = "王小明\nTicket: IT-20000101-001\x1b[2J"
    tid = session.new({"title": "x", "requester": "王小明"}).ticket.id
    body = git(desk.desk, "log", "-1", "--format=%B")
    assert f"Ticket: {tid}" in body and "IT-20000101-001\n" not in body
    trailers = git(desk.desk, "log", "-1", "--format=%(trailers:key=Ticket,valueonly)")
    assert trailers.split() == [tid]
    assert "Employee: 王小明Ticket: IT-20000101-001[2J" in body
