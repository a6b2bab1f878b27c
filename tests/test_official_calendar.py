"""`official: CN`: China's holidays and make-up working days (调休) from chinesecalendar's
data, compared with the State Council's notices for 2024 and 2025 typed in by hand; the
dates written in itdesk.yaml override them; a due time past the data is reported."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from conftest import Itdesk, git

from itdesk.core.calendar import BusinessHours, beyond_coverage, calendar_from_dict

SH = ZoneInfo("Asia/Shanghai")
HOURS = {"mon-fri": ["09:00-12:00", "13:30-18:00"]}

# 国务院办公厅关于2024年/2025年部分节假日安排的通知: days off on weekdays, and make-up days.
NOTICE_OFF = [
    "2024-01-01", "2024-02-12..2024-02-16", "2024-04-04..2024-04-05", "2024-05-01..2024-05-03",
    "2024-06-10", "2024-09-16..2024-09-17", "2024-10-01..2024-10-04", "2024-10-07",
    "2025-01-01", "2025-01-28..2025-01-31", "2025-02-03..2025-02-04", "2025-04-04",
    "2025-05-01..2025-05-02", "2025-05-05", "2025-06-02", "2025-10-01..2025-10-03",
    "2025-10-06..2025-10-08",
]  # fmt: skip
NOTICE_WORK = [
    "2024-02-04", "2024-02-18", "2024-04-07", "2024-04-28", "2024-05-11", "2024-09-14",
    "2024-09-29", "2024-10-12", "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28",
    "2025-10-11",
]  # fmt: skip


def _official(**more: object) -> BusinessHours:
    cal = calendar_from_dict({"timezone": "Asia/Shanghai", "hours": HOURS, "official": "CN",
                              **more})  # fmt: skip
    assert isinstance(cal, BusinessHours)
    return cal


def test_every_day_of_2024_and_2025_is_as_the_notices_say() -> None:
    official = _official()
    by_hand = calendar_from_dict({"timezone": "Asia/Shanghai", "hours": HOURS,
                                  "holidays": NOTICE_OFF, "workdays": NOTICE_WORK})  # fmt: skip
    day = date(2024, 1, 1)
    while day <= date(2025, 12, 31):
        at = datetime(day.year, day.month, day.day, 10, tzinfo=SH)
        assert official.is_open(at) == by_hand.is_open(at), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Spring festival 2024: Friday 2-9 17:00 + 8 working hours -> the make-up Sunday 2-18
        ("2024-02-09T17:00", 8, "2024-02-18T17:30"),
        # National day 2025 (10-01..10-08), the make-up Sunday 9-28 works
        ("2025-09-26T17:00", 2, "2025-09-28T10:00"),
        ("2025-09-30T17:00", 2, "2025-10-09T10:00"),
    ],
)
def test_due_times_skip_holidays_and_use_make_up_days(start: str, hours: int, due: str) -> None:
    begin = datetime.fromisoformat(start).replace(tzinfo=SH)
    assert _official().add(begin, timedelta(hours=hours)) == datetime.fromisoformat(
        due
    ).replace(tzinfo=SH)


def test_dates_written_by_hand_override_the_data() -> None:
    cal = _official(holidays=["2024-09-14"], workdays=["2024-10-07"])
    assert not cal.is_open(datetime(2024, 9, 14, 10, tzinfo=SH))  # official make-up day
    assert cal.is_open(datetime(2024, 10, 7, 10, tzinfo=SH))  # official day off
    assert not cal.is_open(datetime(2024, 10, 4, 10, tzinfo=SH))  # the rest stays


def test_the_data_says_how_far_it_reaches() -> None:
    cal = _official()
    assert cal.covered_until is not None and cal.covered_until.year >= 2025
    after = cal.covered_until + timedelta(days=3)
    due = datetime(after.year, after.month, after.day, 10, tzinfo=SH)
    assert beyond_coverage(cal, due) == cal.covered_until
    assert beyond_coverage(cal, datetime(2025, 3, 3, 10, tzinfo=SH)) is None


def test_unknown_official_calendar_is_one_line() -> None:
    with pytest.raises(Exception, match=r"calendars.business.official: 'US'; accepted: CN"):
        calendar_from_dict({"official": "US"}, where="calendars.business")


def _calendar(desk: Itdesk, definition: dict[str, object]) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["calendars"] = {"business": definition}
    data["sla"]["calendars"] = {"P3": "business"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "business hours")


def test_check_and_validate_warn_when_a_due_time_is_past_the_known_holidays(
    desk: Itdesk,
) -> None:
    # holidays written by hand for 2023 only: a P3 of 29 December is due in 2024
    _calendar(desk, {"hours": HOURS, "holidays": ["2023-10-01..2023-10-06"]})
    tid = desk.new(now="2023-12-29T10:00")
    check = desk("check", "--now", "2023-12-29T11:00", "--all-clocks")
    assert "calendar business: holidays are known until 2023-12-31" in check.stderr
    assert f"{tid} resolution" in check.stderr
    validate = desk("validate", "--now", "2023-12-29T11:00")
    assert validate.exit_code == 0, validate.output
    assert "holidays are known until 2023-12-31" in validate.stderr
    # earlier in the year nothing is due past it
    quiet = desk("check", "--now", "2023-12-29T11:00", "--status", "closed")
    assert "holidays are known" not in quiet.stderr


def test_official_cn_in_a_desk(desk: Itdesk) -> None:
    _calendar(desk, {"hours": HOURS, "official": "CN"})
    tid = desk.new(now="2024-09-30T17:00")
    desk.ok("classify", tid, "--priority", "P3", "--now", "2024-09-30T17:01")
    out = desk.ok("sla", "explain", tid, "--format", "json", "--now", "2024-09-30T17:05").stdout
    import json

    due = {c["clock"]: c["due"] for c in json.loads(out)}
    # 48 working hours from 9-30 17:00: 1h, then 7.5h a day from 10-08 (10-12 a make-up day)
    assert due["resolution"].startswith("2024-10-15T11:00")
    assert "holidays are known" not in desk("check", "--now", "2024-09-30T17:05").stderr
