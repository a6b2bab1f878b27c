"""A ticket's times never run backwards (SPEC section 7): a step dated before the
ticket's last recorded event is refused at every command, nothing changes, and
``validate`` reports a file whose times go back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import Itdesk, git, git_state

ID = "IT-20231025-001"

# Every step that takes --now, on a ticket whose last event is at 10:10 (walked to
# `log`, five minutes a step from 09:30), dated an hour before that.
EARLY = "2023-10-25T09:10"
STEPS = [
    ["ack", ID],
    ["classify", ID, "--priority", "P1"],
    ["assign", ID, "--to", "zhang"],
    ["accept", ID, "--as", "wang"],
    ["log", ID, "--via", "phone", "called"],
    ["escalate", ID, "--supervisor", "--reason", "slow"],
    ["pending", ID, "--on", "user"],
    ["resolve", ID, "--summary", "fixed"],
    ["reopen", ID, "--reason", "again"],
    ["cancel", ID, "--reason", "dup"],
    ["close", ID, "--force", "--reason", "gone"],
]


@pytest.mark.parametrize("argv", STEPS, ids=[s[0] for s in STEPS])
def test_a_step_before_the_last_event_is_refused(desk: Itdesk, argv: list[str]) -> None:
    desk.new()
    desk.walk(ID, "log")
    before = git_state(desk.desk)
    result = desk(*argv, "--now", EARLY)
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "never run backwards" in message and "\n" not in message
    assert git_state(desk.desk) == before


def test_followup_and_close_before_the_resolution_are_refused(desk: Itdesk) -> None:
    desk.new()
    desk.walk(ID, "resolve")  # resolved at 10:00
    result = desk("followup", ID, "--speed", "满意", "--attitude", "满意", "--overall", "满意",
                  "--now", "2023-10-25T09:00")  # fmt: skip
    assert result.exit_code == 2 and "never run backwards" in result.stderr
    desk.ok("followup", ID, "--speed", "满意", "--attitude", "满意", "--overall", "满意",
            "--now", "2023-10-25T10:30")  # fmt: skip
    result = desk("close", ID, "--now", "2023-10-24T12:00")
    assert result.exit_code == 2 and "never run backwards" in result.stderr
    assert desk.ticket(ID)["status"] == "resolved"


def test_the_same_minute_is_not_backwards(desk: Itdesk) -> None:
    desk.new(now="2023-10-25T09:30")
    desk.ok("ack", ID, "--now", "2023-10-25T09:30")


def test_reported_at_after_now_is_refused(desk: Itdesk, tmp_path: Path) -> None:
    intake = tmp_path / "in.yaml"
    intake.write_text(
        "title: x\nrequester: {name: y}\nreported_at: 2023-10-26T09:00\n", encoding="utf-8"
    )
    result = desk("new", "--from", str(intake), "--now", "2023-10-25T09:00")
    assert result.exit_code == 2 and "later than now" in result.stderr


def test_validate_reports_a_file_whose_times_go_back(desk: Itdesk) -> None:
    desk.new()
    desk.walk(ID, "assign")
    path = desk.desk / "tickets" / f"{ID}.yaml"
    text = path.read_text(encoding="utf-8")
    # The assignment (09:45) dated a day before the report.
    path.write_text(text.replace("2023-10-25T09:45:00+08:00", "2023-10-24T09:45:00+08:00"),
                    encoding="utf-8")  # fmt: skip
    git(desk.desk, "commit", "-qam", "hand edit")
    result = desk("validate")
    assert result.exit_code == 1
    assert "is earlier than" in result.output
    assert f"tickets/{ID}.yaml:" in result.output


def test_new_from_a_file_is_numbered_by_the_day_it_was_reported(
    desk: Itdesk, tmp_path: Path
) -> None:
    intake = tmp_path / "in.yaml"
    intake.write_text(
        "title: VPN\nrequester: {name: 王小明}\nreported_at: 2024-05-06T09:00\n", encoding="utf-8"
    )
    tid = desk.ok("new", "--from", str(intake), "--now", "2024-06-01T10:00").stdout.strip()
    assert tid == "IT-20240506-001"
    assert desk.ticket(tid)["reported_at"] == "2024-05-06T09:00:00+08:00"
    again = desk.ok("new", "--from", str(intake), "--now", "2024-06-01T10:00").stdout.strip()
    assert again == "IT-20240506-002"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("今日下班前", "2023-10-26T18:00:00+08:00"),  # typed after 18:00: tomorrow's end
        ("+2h", "2023-10-25T20:06:00+08:00"),
        ("tomorrow 9:00", "2023-10-26T09:00:00+08:00"),
        ("立即解决", "2023-10-25T18:06:00+08:00"),
    ],
)
def test_expected_times_as_people_type_them(desk: Itdesk, typed: str, expected: str) -> None:
    tid = desk.new(now="2023-10-25T18:06", expected_by=typed)
    assert desk.ticket(tid)["expected_by"] == expected


@pytest.mark.parametrize(
    ("now", "typed", "expected"),
    [
        ("2023-10-25T10:00", "今日下班前", "2023-10-25T17:30:00+08:00"),  # the office's end
        ("2023-10-25T07:30", "eod", "2023-10-25T17:30:00+08:00"),  # before it opens
        ("2023-10-27T18:06", "今日下班前", "2023-10-31T17:30:00+08:00"),  # Fri late; Mon off
        ("2023-10-28T11:00", "今天下班前", "2023-10-31T17:30:00+08:00"),  # Saturday
        ("2023-10-26T12:00", "明天", "2023-10-27T17:30:00+08:00"),
        ("2023-10-27T09:00", "明天下班前", "2023-10-31T17:30:00+08:00"),
        ("2023-10-27T09:00", "tomorrow 9:00", "2023-10-28T09:00:00+08:00"),  # a clock is kept
    ],
)
def test_end_of_the_working_day_follows_the_business_calendar(
    desk: Itdesk, now: str, typed: str, expected: str
) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calendars"] = {
        "office": {"hours": {"mon-fri": ["09:00-12:00", "13:00-17:30"]}, "holidays": ["2023-10-30"]}
    }
    data["sla"]["calendars"] = {"P3": "office"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "office hours")
    tid = desk.new(now=now, expected_by=typed)
    assert desk.ticket(tid)["expected_by"] == expected
    if typed == "tomorrow 9:00":  # a Saturday: said, but nobody works then
        result = desk("new", "--title", "x", "--requester", "y", "--expected-by", typed,
                      "--now", now)  # fmt: skip
        assert result.exit_code == 0
        assert "2023-10-28T09:00+08:00 is outside the desk's working hours" in result.stderr
        assert "next works from 2023-10-31T09:00+08:00" in result.stderr


def test_an_expected_time_before_the_report_is_refused(desk: Itdesk) -> None:
    before = git_state(desk.desk)
    for typed in ("today 17:00", "2023-10-24T12:00"):
        result = desk("new", "--title", "x", "--requester", "y", "--expected-by", typed,
                      "--now", "2023-10-25T18:06")  # fmt: skip
        assert result.exit_code == 2 and "before the report" in result.stderr
    assert git_state(desk.desk) == before


def test_now_takes_every_time_form_the_readme_lists(desk: Itdesk) -> None:
    """`--now +2h` counts from the clock; the recorded time is then in the future."""
    from datetime import datetime, timedelta

    tid = desk.ok("new", "--title", "x", "--requester", "y", "--now", "+2h").stdout.strip()
    recorded = datetime.fromisoformat(desk.ticket(tid)["reported_at"])
    assert recorded > datetime.now(recorded.tzinfo) + timedelta(hours=1, minutes=50)


@pytest.mark.parametrize(
    "now", ["2100-01-01T00:00", "1900-01-01T00:00", "0001-01-01T00:00", "+999999999h"]
)
def test_times_out_of_range_are_one_line_exit_2(desk: Itdesk, now: str) -> None:
    desk.new()
    before = git_state(desk.desk)
    result = desk("log", ID, "x", "--now", now)
    assert result.exit_code == 2, result.output
    assert "out of range" in result.stderr and result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before


def test_a_step_dated_in_the_future_is_refused(desk: Itdesk) -> None:
    """A typo such as 2062 would lock the ticket: every later step would be 'before its
    last event'. Reads may look ahead."""
    tid = desk.new()
    result = desk("log", tid, "x", "--now", "2062-12-03T10:00")
    assert result.exit_code == 2 and "ahead of this machine's clock" in result.stderr
    assert desk("list", "--now", "2062-12-03T10:00").exit_code == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("closed_at", "2023-10-25T10:01:00+08:00", "earlier than resolution.at"),
        ("accepted_at", "2023-10-25T09:40:00+08:00", "earlier than assigned_at"),
    ],
)
def test_validate_reports_fields_out_of_order(
    desk: Itdesk, field: str, value: str, message: str
) -> None:
    desk.new()
    desk.walk(ID, "close")  # assigned 09:45, accepted 09:50, resolved 10:00, closed 10:10
    path = desk.desk / "tickets" / f"{ID}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if field == "closed_at":
        data["resolution"]["at"] = "2023-10-25T10:05:00+08:00"
        data[field] = value
    else:
        data[field] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    git(desk.desk, "commit", "-qam", "hand edit")
    result = desk("validate")
    assert result.exit_code == 1 and message in result.output, result.output
