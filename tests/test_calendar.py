"""calendar.py: working time across lunch breaks, weekends, holidays, 调休 and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itdesk.core.calendar import (
    ALWAYS,
    AlwaysOpen,
    BusinessHours,
    calendar_from_dict,
    holidays_from_ics,
)
from itdesk.errors import InvalidPolicy

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)
H = timedelta(hours=1)

CHINA: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "hours": {"mon-fri": ["09:00-12:00", "13:30-18:00"], "sat": []},
    "holidays": [
        "01-01",
        "2024-02-12",
        "2024-02-13..2024-02-16",
        {"date": "2024-12-24", "hours": ["09:00-12:00"]},
    ],
    "workdays": ["2024-02-04", {"date": "2024-02-18", "hours": ["09:00-17:00"]}],
}
CLASH = ("09:00-12:00", "09:00-17:00")  # two different hours for one date
GERMANY: dict[str, Any] = {"timezone": "Europe/Berlin", "hours": {"mon-fri": "09:00-17:00"}}


def business(data: Any, where: str = "calendars.business") -> BusinessHours:
    cal = calendar_from_dict(data, where=where)
    assert isinstance(cal, BusinessHours)
    return cal


CAL = business(CHINA)
DE = business(GERMANY)


def sh(day: str, clock: str = "00:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SH)


def de(day: str, clock: str = "00:00:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=BERLIN)


# 2024-01-08 is a Monday, 2024-01-12 a Friday.
MON, FRI, SAT = "2024-01-08", "2024-01-12", "2024-01-13"


# -- windows and their edges -------------------------------------------------------


@pytest.mark.parametrize(
    ("clock", "open_"),
    [
        ("08:59:59", False),
        ("09:00:00", True),
        ("11:59:59", True),
        ("12:00:00", False),
        ("13:29:59", False),
        ("13:30:00", True),
        ("17:59:59", True),
        ("18:00:00", False),
    ],
)
def test_open_from_window_start_until_just_before_its_end(clock: str, open_: bool) -> None:
    assert CAL.is_open(sh(MON, clock)) is open_


def test_next_open() -> None:
    assert CAL.next_open(sh(MON, "10:15")) == sh(MON, "10:15")
    assert CAL.next_open(sh(MON, "08:59:59")) == sh(MON, "09:00")
    assert CAL.next_open(sh(MON, "12:00")) == sh(MON, "13:30")
    assert CAL.next_open(sh(MON, "18:00")) == sh("2024-01-09", "09:00")
    assert CAL.next_open(sh(FRI, "18:00")) == sh("2024-01-15", "09:00")


def test_one_hour_at_the_second_before_and_after_its_limit() -> None:
    start = sh(MON, "09:00")
    due = CAL.add(start, H)
    assert due == sh(MON, "10:00")
    assert CAL.elapsed(start, due - SECOND) == H - SECOND
    assert CAL.elapsed(start, due) == H
    assert CAL.elapsed(start, due + SECOND) == H + SECOND


def test_due_exactly_at_window_end_is_that_end_not_the_next_opening() -> None:
    assert CAL.add(sh(MON, "17:00"), H) == sh(MON, "18:00")
    assert CAL.add(sh(MON, "17:00"), H - SECOND) == sh(MON, "17:59:59")
    assert CAL.add(sh(MON, "17:00"), H + SECOND) == sh("2024-01-09", "09:00:01")
    assert CAL.add(sh(MON, "11:00"), H) == sh(MON, "12:00")


def test_lunch_break_is_a_gap() -> None:
    assert CAL.add(sh(MON, "11:00"), 2 * H) == sh(MON, "14:30")
    assert CAL.elapsed(sh(MON, "11:30"), sh(MON, "14:00")) == H
    assert not CAL.is_open(sh(MON, "12:45"))
    assert CAL.elapsed(sh(MON, "12:00"), sh(MON, "13:30")) == timedelta(0)


def test_start_outside_working_hours_counts_from_the_next_opening() -> None:
    assert CAL.add(sh(MON, "08:00"), H) == sh(MON, "10:00")
    assert CAL.add(sh(MON, "12:15"), timedelta(minutes=30)) == sh(MON, "14:00")
    assert CAL.add(sh(MON, "20:00"), H) == sh("2024-01-09", "10:00")
    assert CAL.add(sh(MON, "20:00"), timedelta(0)) == sh("2024-01-09", "09:00")


def test_start_on_saturday_night() -> None:
    start = sh(SAT, "22:00")
    assert not CAL.is_open(start)
    assert CAL.next_open(start) == sh("2024-01-15", "09:00")
    assert CAL.add(start, H) == sh("2024-01-15", "10:00")
    assert CAL.elapsed(start, sh("2024-01-15", "09:59:59")) == H - SECOND


def test_target_crossing_a_weekend() -> None:
    start = sh(FRI, "17:00")
    assert CAL.add(start, H) == sh(FRI, "18:00")
    assert CAL.add(start, 2 * H) == sh("2024-01-15", "10:00")
    assert CAL.elapsed(start, sh("2024-01-15", "10:00")) == 2 * H
    assert CAL.elapsed(sh(FRI, "18:00"), sh("2024-01-15", "09:00")) == timedelta(0)


def test_results_are_in_the_calendar_zone() -> None:
    due = CAL.add(datetime(2024, 1, 8, 1, 0, tzinfo=UTC), H)  # 09:00 in Shanghai
    assert due == sh(MON, "10:00")
    assert due.tzinfo is SH
    assert CAL.next_open(datetime(2024, 1, 8, 0, 0, tzinfo=UTC)).tzinfo is SH


def test_windows_lists_the_open_time_used() -> None:
    assert CAL.windows(sh(FRI, "11:00"), sh("2024-01-15", "10:00")) == [
        (sh(FRI, "11:00"), sh(FRI, "12:00")),
        (sh(FRI, "13:30"), sh(FRI, "18:00")),
        (sh("2024-01-15", "09:00"), sh("2024-01-15", "10:00")),
    ]
    assert CAL.windows(sh(MON, "12:00"), sh(MON, "13:30")) == []
    assert CAL.windows(sh(MON, "10:00"), sh(MON, "09:00")) == []


# -- holidays, part days, make-up days ---------------------------------------------


def test_yearly_holiday_falls_on_the_local_date_in_shanghai() -> None:
    for year in (2024, 2025):  # a Monday and a Wednesday
        assert not CAL.is_open(sh(f"{year}-01-01", "10:00"))
        assert CAL.is_open(sh(f"{year}-01-02", "10:00"))
    assert not CAL.is_open(datetime(2025, 1, 1, 1, 30, tzinfo=UTC))  # 09:30 local
    assert CAL.is_open(datetime(2024, 12, 31, 9, 59, 59, tzinfo=UTC))  # 17:59:59 local
    assert CAL.add(sh("2024-12-31", "17:00"), 2 * H) == sh("2025-01-02", "10:00")
    assert CAL.elapsed(sh("2024-12-31", "18:00"), sh("2025-01-02", "09:00")) == timedelta(0)


def test_holiday_dates_are_local_around_midnight() -> None:
    # Open around the clock, so a holiday shifted by the UTC date would show at once.
    cal = business({"timezone": "Asia/Shanghai", "hours": "24x7", "holidays": ["01-01"]})
    assert cal.is_open(sh("2024-12-31", "23:59:59"))
    assert not cal.is_open(sh("2025-01-01", "00:00"))
    assert not cal.is_open(datetime(2024, 12, 31, 23, 0, tzinfo=UTC))  # 07:00 on the 1st
    assert not cal.is_open(sh("2025-01-01", "23:59:59"))
    assert cal.is_open(sh("2025-01-02", "00:00"))
    assert cal.is_open(datetime(2025, 1, 1, 16, 30, tzinfo=UTC))  # 00:30 on the 2nd
    assert cal.elapsed(sh("2024-12-31"), sh("2025-01-03")) == timedelta(days=2)


def test_dated_holiday_is_once() -> None:
    assert not CAL.is_open(sh("2024-02-12", "10:00"))
    assert CAL.is_open(sh("2025-02-12", "10:00"))
    for day in range(13, 17):  # the range 2024-02-13..2024-02-16
        assert not CAL.is_open(sh(f"2024-02-{day}", "10:00"))
    assert CAL.is_open(sh("2024-02-19", "09:00"))
    assert CAL.add(sh("2024-02-09", "17:00"), 2 * H) == sh("2024-02-18", "10:00")


def test_part_day_holiday() -> None:
    eve = "2024-12-24"  # a Tuesday, open only in the morning
    assert CAL.is_open(sh(eve, "11:59:59"))
    assert not CAL.is_open(sh(eve, "12:00"))
    assert not CAL.is_open(sh(eve, "14:00"))
    assert CAL.add(sh(eve, "11:00"), H) == sh(eve, "12:00")
    assert CAL.add(sh(eve, "11:00"), 2 * H) == sh("2024-12-25", "10:00")
    assert CAL.elapsed(sh(eve), sh("2024-12-25")) == 3 * H


def test_make_up_sunday_uses_the_standard_windows() -> None:
    sunday = "2024-02-04"
    assert CAL.is_open(sh(sunday, "09:00"))
    assert not CAL.is_open(sh(sunday, "12:30"))
    assert CAL.is_open(sh(sunday, "17:59:59"))
    assert not CAL.is_open(sh(sunday, "18:00"))
    assert not CAL.is_open(sh("2024-02-25", "10:00"))  # an ordinary Sunday
    assert CAL.add(sh("2024-02-03", "12:00"), H) == sh(sunday, "10:00")


def test_make_up_sunday_with_its_own_hours() -> None:
    sunday = "2024-02-18"
    assert CAL.is_open(sh(sunday, "16:59:59"))
    assert not CAL.is_open(sh(sunday, "17:00"))
    assert CAL.add(sh(sunday, "16:00"), H) == sh(sunday, "17:00")
    assert CAL.add(sh(sunday, "16:00"), H + SECOND) == sh("2024-02-19", "09:00:01")


def test_dated_rules_beat_yearly_ones_and_workdays_beat_holidays() -> None:
    cal = business(
        {
            "timezone": "Asia/Shanghai",
            "holidays": ["01-01", "2028-01-03", {"date": "12-24", "hours": "09:00-12:00"}],
            "workdays": ["2028-01-01", "2028-01-03"],
        }
    )
    assert cal.is_open(sh("2028-01-01", "10:00"))  # a Saturday made a working day
    assert cal.is_open(sh("2028-01-03", "10:00"))
    assert not cal.is_open(sh("2027-12-24", "13:00"))  # the yearly part day
    assert cal.is_open(sh("2027-12-24", "11:00"))


def test_hours_given_for_a_date_win_over_the_same_bare_date() -> None:
    # As when an include file's dates are appended to the desk's own entries.
    cal = business(
        {
            "timezone": "Asia/Shanghai",
            "holidays": [{"date": "2024-12-24", "hours": "09:00-12:00"}, "2024-12-24"],
            "workdays": [{"date": "2024-02-18", "hours": "09:00-17:00"}, "2024-02-18"],
        }
    )
    assert cal.is_open(sh("2024-12-24", "11:00"))
    assert not cal.is_open(sh("2024-12-24", "14:00"))
    assert cal.is_open(sh("2024-02-18", "16:59:59"))
    assert not cal.is_open(sh("2024-02-18", "17:00"))


def test_day_names_ranges_lists_and_24_00() -> None:
    cal = business(
        {"timezone": "UTC", "hours": {"周一-周三": ["00:00-24:00"], "thu,sat": "10:00-11:00"}}
    )
    assert cal.elapsed(datetime(2024, 1, 8, tzinfo=UTC), datetime(2024, 1, 15, tzinfo=UTC)) == (
        timedelta(days=3, hours=2)
    )
    assert cal.is_open(datetime(2024, 1, 10, 23, 59, 59, tzinfo=UTC))
    assert not cal.is_open(datetime(2024, 1, 12, 10, 30, tzinfo=UTC))  # Friday


# -- daylight saving ---------------------------------------------------------------


def test_berlin_windows_stay_at_local_nine_across_spring_forward() -> None:
    due = DE.add(de("2024-03-29", "16:00"), 2 * H)  # a Friday in CET
    assert due == de("2024-04-01", "10:00")
    assert (due.hour, due.utcoffset()) == (10, 2 * H)
    assert DE.elapsed(de("2024-03-29", "09:00"), de("2024-04-01", "09:00")) == 8 * H
    assert DE.windows(de("2024-04-01"), de("2024-04-01", "10:00")) == [
        (de("2024-04-01", "09:00"), de("2024-04-01", "10:00"))
    ]


def test_berlin_windows_stay_at_local_nine_across_fall_back() -> None:
    due = DE.add(de("2024-10-25", "16:00"), 2 * H)  # a Friday in CEST
    assert due == de("2024-10-28", "10:00")
    assert (due.hour, due.utcoffset()) == (10, H)
    assert DE.elapsed(de("2024-10-25", "09:00"), de("2024-10-28", "09:00")) == 8 * H


def test_a_day_open_around_the_clock_has_23_or_25_real_hours_on_dst_nights() -> None:
    cal = business({"timezone": "Europe/Berlin", "hours": {"daily": "00:00-24:00"}})
    assert cal.elapsed(de("2024-03-31"), de("2024-04-01")) == 23 * H
    assert cal.elapsed(de("2024-10-27"), de("2024-10-28")) == 25 * H
    assert cal.add(de("2024-03-31", "01:00"), 2 * H) == de("2024-03-31", "04:00")


def test_always_open_adds_real_hours_across_dst() -> None:
    spring = de("2024-03-31", "00:30")
    due = ALWAYS.add(spring, 4 * H)
    assert (due.hour, due.minute, due.utcoffset()) == (5, 30, 2 * H)
    assert due.astimezone(UTC) - spring.astimezone(UTC) == 4 * H
    autumn = de("2024-10-27", "00:30")
    due = ALWAYS.add(autumn, 4 * H)
    assert (due.hour, due.minute, due.utcoffset()) == (3, 30, H)
    assert ALWAYS.elapsed(autumn, due) == 4 * H


def test_always_open() -> None:
    t = sh(SAT, "03:00")
    assert ALWAYS.is_open(t)
    assert ALWAYS.next_open(t) == t
    assert ALWAYS.elapsed(t, t - H) == timedelta(0)
    assert ALWAYS.windows(t, t + H) == [(t, t + H)]
    assert ALWAYS.windows(t, t) == []
    assert calendar_from_dict("24x7") is ALWAYS
    assert isinstance(calendar_from_dict("Always"), AlwaysOpen)


# -- guards ------------------------------------------------------------------------


def test_a_calendar_with_no_working_hours_is_refused() -> None:
    with pytest.raises(InvalidPolicy, match="has no working hours"):
        BusinessHours(SH, {})
    with pytest.raises(InvalidPolicy, match="has no working hours"):
        BusinessHours(SH, {0: []}, part_days={date(2024, 1, 1): []})


def test_add_stops_when_the_calendar_never_opens_again() -> None:
    cal = business(
        {
            "timezone": "Asia/Shanghai",
            "hours": {},
            "workdays": [{"date": "2024-02-04", "hours": "09:00-18:00"}],
        }
    )
    assert cal.add(sh("2024-01-01"), H) == sh("2024-02-04", "10:00")
    with pytest.raises(InvalidPolicy, match="within 10 years"):
        cal.add(sh("2024-03-01"), H)
    with pytest.raises(InvalidPolicy, match="within 10 years"):
        cal.next_open(sh("2024-03-01"))
    with pytest.raises(InvalidPolicy, match="within 10 years"):
        CAL.add(sh(MON), timedelta(days=3660))  # more working time than 10 years hold


def test_naive_times_and_negative_durations_are_bugs() -> None:
    with pytest.raises(ValueError, match="naive"):
        CAL.add(datetime(2024, 1, 8, 9), H)
    with pytest.raises(ValueError, match="naive"):
        ALWAYS.elapsed(datetime(2024, 1, 8, 9), sh(MON))
    with pytest.raises(ValueError, match="negative"):
        CAL.add(sh(MON, "10:00"), -H)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"hours": {"mon-fri": ["09:00-12:00", "13:30-12:00"]}},
            "calendars.business.hours.mon-fri[1]: '13:30-12:00' ends before it starts",
        ),
        (
            {"hours": {"mon-fri": ["09:00-12:00", "11:00-13:00"]}},
            "calendars.business.hours.mon-fri[1]: '11:00-13:00' overlaps '09:00-12:00'",
        ),
        ({"hours": {"mon": ["9-12"]}}, "calendars.business.hours.mon[0]: '9-12': expected"),
        ({"hours": {"mon": ["24:00-09:00"]}}, "calendars.business.hours.mon[0]: '24:00-09:00'"),
        ({"hours": {"mon-fry": []}}, "calendars.business.hours.mon-fry: unknown day 'mon-fry'"),
        ({"hours": {"fri-mon": []}}, "calendars.business.hours.fri-mon: 'fri-mon' runs backwards"),
        (
            {"hours": {"mon-fri": "09:00-17:00", "fri": []}},
            "calendars.business.hours.fri: fri is already given by 'mon-fri'",
        ),
        ({"hours": ["09:00-17:00"]}, "calendars.business.hours: expected a mapping"),
        ({"hours": {"mon-sun": []}}, "calendars.business: calendar has no working hours"),
        ({"timezone": "Mars/Olympus"}, "calendars.business.timezone: unknown time zone"),
        ({"hollidays": []}, "calendars.business.hollidays: unknown key; known keys:"),
        ({"holidays": "01-01"}, "calendars.business.holidays: expected a list"),
        ({"holidays": ["2024-02-30"]}, "calendars.business.holidays[0]: '2024-02-30': expected"),
        ({"holidays": ["13-01"]}, "calendars.business.holidays[0]: 13-01 is not a day of"),
        ({"holidays": ["2024-02-17..2024-02-10"]}, "calendars.business.holidays[0]: '2024-02-1"),
        (
            {"holidays": [{"date": "2024-12-24", "hours": ["12:00-09:00"]}]},
            "calendars.business.holidays[0].hours[0]: '12:00-09:00' ends before it starts",
        ),
        ({"holidays": [{"day": "2024-12-24"}]}, "calendars.business.holidays[0]: unknown key"),
        (
            {"workdays": ["02-04"]},
            "calendars.business.workdays[0]: 02-04: a make-up working day needs a full date",
        ),
        (
            {"workdays": [{"date": "2024-02-04", "hours": h} for h in CLASH]},
            "calendars.business.workdays[1].date: 2024-02-04 already has other hours at "
            "calendars.business.workdays[0].date",
        ),
        (
            {"holidays": [{"date": "12-24", "hours": h} for h in CLASH]},
            "calendars.business.holidays[1].date: 12-24 already has other hours at "
            "calendars.business.holidays[0].date",
        ),
        (
            {
                "hours": {},
                "workdays": ["2024-02-04"],
                "holidays": [{"date": "01-02", "hours": "9:00-10:00"}],
            },
            "calendars.business.workdays[0]: 2024-02-04: no weekday has hours to copy",
        ),
        ("sometimes", "calendars.business: 'sometimes': expected 24x7 or a mapping"),
    ],
)
def test_bad_calendar_is_one_line_naming_the_key(data: Any, message: str) -> None:
    with pytest.raises(InvalidPolicy) as info:
        calendar_from_dict(data, where="calendars.business")
    text = str(info.value)
    assert text.startswith(message)
    assert "\n" not in text


# -- iCalendar ---------------------------------------------------------------------

ICS = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//holidays//CN",
        "BEGIN:VEVENT",
        "UID:spring-2024",
        "DTSTART;VALUE=DATE:20240210",
        "DTEND;VALUE=DATE:20240218",
        "SUMMARY:Spring Festival (春节) public",
        "  holiday",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        "SUMMARY:back to work day reminder",
        "TRIGGER:-P1D",
        "END:VALARM",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:makeup-1",
        "DTSTART;VALUE=DATE:20240204",
        "SUMMARY:春节",
        " 补班",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:makeup-2",
        "DTSTART;VALUE=DATE:2024",
        " 0218",
        "DTEND;VALUE=DATE:20240219",
        "SUMMARY:Spring Festival",
        "CATEGORIES:Working Day",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:may-day",
        "DTSTART;VALUE=DATE:20240501",
        "DURATION:P3D",
        "SUMMARY:Labour Day\\, non-working day",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:bridge",
        "DTSTART;VALUE=DATE:20240506",
        "SUMMARY:Non-working day",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:gone",
        "DTSTART;VALUE=DATE:20240701",
        "SUMMARY:Cancelled holiday",
        "STATUS:CANCELLED",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
)


def test_ics_holidays_and_make_up_days() -> None:
    holidays, workdays = holidays_from_ics(ICS)
    spring = [date(2024, 2, d) for d in range(10, 18)]  # DTEND 18th is exclusive
    may = [date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3), date(2024, 5, 6)]
    assert holidays == spring + may
    assert workdays == [date(2024, 2, 4), date(2024, 2, 18)]


def test_ics_dates_merge_into_a_calendar() -> None:
    holidays, workdays = holidays_from_ics(ICS.replace("\r\n", "\n"))
    base = business(
        {
            "timezone": "Asia/Shanghai",
            "hours": {"mon-fri": ["09:00-12:00", "13:30-18:00"]},
            "holidays": [{"date": "2024-02-16", "hours": "09:00-12:00"}],
        }
    )
    cal = base.with_dates(holidays, workdays)
    assert not cal.is_open(sh("2024-02-14", "10:00"))
    assert cal.is_open(sh("2024-02-16", "10:00"))  # the desk's own part day wins
    assert cal.is_open(sh("2024-02-04", "10:00"))
    assert not base.is_open(sh("2024-02-04", "10:00"))
    # The same dates as ISO strings in the plain data, as an include file gives them.
    plain = business(
        {
            "timezone": "Asia/Shanghai",
            "holidays": [d.isoformat() for d in holidays],
            "workdays": [d.isoformat() for d in workdays],
        }
    )
    assert plain.add(sh("2024-02-09", "17:00"), 2 * H) == sh("2024-02-18", "10:00")


def test_bad_ics_date_is_one_line() -> None:
    text = "BEGIN:VEVENT\nSUMMARY:Oops\nDTSTART;VALUE=DATE:2024-02-10\nEND:VEVENT\n"
    with pytest.raises(InvalidPolicy, match="event 'Oops': DTSTART '2024-02-10'") as info:
        holidays_from_ics(text)
    assert "\n" not in str(info.value)


# -- properties --------------------------------------------------------------------

calendars = st.sampled_from([CAL, DE])
moments = st.datetimes(
    min_value=datetime(2023, 12, 1),
    max_value=datetime(2025, 12, 31),
    timezones=st.sampled_from([SH, BERLIN, UTC]),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@given(calendars, moments, durations)
def test_elapsed_undoes_add(cal: BusinessHours, start: datetime, d: timedelta) -> None:
    assert cal.elapsed(start, cal.add(start, d)) == d


@given(calendars, moments, durations, durations)
def test_add_is_monotonic(
    cal: BusinessHours, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    d1, d2 = sorted((d1, d2))
    assert cal.add(start, d1) <= cal.add(start, d2)


@given(calendars, moments, moments, moments)
def test_elapsed_is_additive(cal: BusinessHours, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)
    assert cal.elapsed(a, c) == sum((y - x for x, y in cal.windows(a, c)), timedelta(0))


@given(calendars, moments, durations)
def test_due_is_open_or_at_a_window_end(cal: BusinessHours, start: datetime, d: timedelta) -> None:
    due = cal.add(start, d)
    assert due >= start
    assert due.tzinfo is cal.tz
    assert cal.is_open(due) or (d and cal.is_open(due - MICRO))


def test_asking_about_an_earlier_day_after_a_later_one() -> None:
    cal = business(CHINA)
    june = sh("2024-06-03", "10:00")  # a Monday
    assert cal.elapsed(june, june + H) == H
    # Running totals now start in June; January moves them back.
    assert cal.elapsed(sh(MON, "17:00"), june) == business(CHINA).elapsed(sh(MON, "17:00"), june)
    assert cal.elapsed(sh(FRI, "17:00"), sh("2024-01-15", "10:00")) == 2 * H
    assert cal.elapsed(june, june + H) == H


@given(moments, moments)
def test_a_fresh_calendar_agrees_with_a_well_used_one(a: datetime, b: datetime) -> None:
    # The shared calendar's running totals were grown by every test before this one.
    fresh = business(CHINA)
    assert fresh.elapsed(a, b) == CAL.elapsed(a, b)
    d = max(b - a, timedelta(0))
    assert fresh.add(a, d) == CAL.add(a, d)
