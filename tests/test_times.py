"""times.py: the times and durations people type, as aware datetimes in the desk's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from itdesk.core.times import format_duration, parse_duration, parse_time, zone
from itdesk.errors import InvalidValue

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2023, 10, 25, 9, 30, 15, tzinfo=SH)


def at(hour: int, minute: int = 0, day: int = 25) -> datetime:
    return datetime(2023, 10, day, hour, minute, tzinfo=SH)


def test_iso_without_offset_is_in_the_desk_zone() -> None:
    t = parse_time("2023-10-25T09:30", SH)
    assert t == at(9, 30)
    assert t.utcoffset() == timedelta(hours=8)


def test_iso_with_a_space_and_seconds() -> None:
    assert parse_time("2023-10-25 09:30:00", SH) == at(9, 30)


def test_iso_with_offset_is_converted_to_the_desk_zone() -> None:
    t = parse_time("2023-10-25T01:30+00:00", SH)
    assert t == at(9, 30)
    assert (t.hour, t.minute) == (9, 30)
    assert t.utcoffset() == timedelta(hours=8)


def test_z_suffix_means_utc() -> None:
    t = parse_time("2023-10-25T01:30:00Z", SH)
    assert t == at(9, 30)
    assert t.isoformat() == "2023-10-25T09:30:00+08:00"
    assert parse_time("2023-10-25T01:30z", SH) == t  # RFC 3339 allows a lowercase z
    with pytest.raises(InvalidValue):
        parse_time("2023-10-25T01:30+00:00Z", SH)


def test_iso_needs_no_now() -> None:
    assert parse_time("2023-10-25T09:30", SH, now=None) == at(9, 30)


@pytest.mark.parametrize("word", ["now", "NOW", "立即解决", "立即", "asap"])
def test_now_words(word: str) -> None:
    assert parse_time(word, SH, NOW) == NOW


@pytest.mark.parametrize(
    ("text", "delta"),
    [("+2h", timedelta(hours=2)), ("30m", timedelta(minutes=30)),
     ("+1h30m", timedelta(hours=1, minutes=30)), ("1d", timedelta(days=1))],
)  # fmt: skip
def test_durations_from_now(text: str, delta: timedelta) -> None:
    assert parse_time(text, SH, NOW) == NOW + delta


def test_today_and_tomorrow_at_a_clock_time() -> None:
    assert parse_time("today 18:00", SH, NOW) == at(18)
    assert parse_time("tomorrow 9:00", SH, NOW) == at(9, day=26)
    assert parse_time("tomorrow 9", SH, NOW) == at(9, day=26)
    assert parse_time("明天 10:30", SH, NOW) == at(10, 30, day=26)


@pytest.mark.parametrize("word", ["eod", "今日下班前", "今天下班前", "today"])
def test_end_of_day(word: str) -> None:
    assert parse_time(word, SH, NOW) == at(18)


def test_tomorrow_alone_is_the_end_of_tomorrow() -> None:
    assert parse_time("tomorrow", SH, NOW) == at(18, day=26)


def test_relative_forms_count_from_now_in_the_desk_zone() -> None:
    # now given in UTC: "today" is the desk's today (already 26 Oct in Shanghai).
    late = datetime(2023, 10, 25, 20, 0, tzinfo=UTC)  # 04:00 on the 26th in Shanghai
    assert parse_time("today 18:00", SH, late) == at(18, day=26)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "yesterday-ish", "2023-13-45T25:00", "today 25:00", "tomorrow 9:75", "+2x"],
)  # fmt: skip
def test_malformed_times_raise_one_line(text: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_time(text, SH, NOW)
    message = str(info.value)
    assert "\n" not in message
    assert "ISO 8601" in message


def test_relative_forms_need_now() -> None:
    with pytest.raises(InvalidValue):
        parse_time("+2h", SH, None)
    with pytest.raises(InvalidValue):
        parse_time("now", SH, None)


# ------------------------------------------------------------ daylight saving


def test_iso_on_a_dst_day_gets_the_right_offset() -> None:
    assert parse_time("2023-03-26T01:30", BERLIN).isoformat() == "2023-03-26T01:30:00+01:00"
    assert parse_time("2023-03-26T03:30", BERLIN).isoformat() == "2023-03-26T03:30:00+02:00"


def test_a_utc_time_across_the_change_is_converted() -> None:
    assert parse_time("2023-03-26T00:30Z", BERLIN).isoformat() == "2023-03-26T01:30:00+01:00"
    assert parse_time("2023-03-26T01:30Z", BERLIN).isoformat() == "2023-03-26T03:30:00+02:00"


def test_a_skipped_wall_time_is_normalised() -> None:
    # 02:30 does not exist in Berlin on 2023-03-26 (clocks go 02:00 -> 03:00). The
    # module promises to normalise it: the stored value must be a real Berlin time
    # whose offset is Berlin's offset at that instant.
    t = parse_time("2023-03-26T02:30", BERLIN)
    real = t.astimezone(UTC).astimezone(BERLIN)
    assert t.isoformat() == real.isoformat()
    assert t.isoformat() == "2023-03-26T03:30:00+02:00"


def test_a_repeated_wall_time_takes_the_first_occurrence() -> None:
    t = parse_time("2023-10-29T02:30", BERLIN)
    assert t.isoformat() == "2023-10-29T02:30:00+02:00"


def test_plus_hours_across_the_change_is_elapsed_time() -> None:
    # "+2h" at 01:30 CET on the night the clocks spring forward: two real hours later
    # is 04:30 CEST, not 03:30 (which is only one hour later).
    now = datetime(2023, 3, 26, 1, 30, tzinfo=BERLIN)
    t = parse_time("+2h", BERLIN, now)
    assert t.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=2)
    assert t.isoformat() == "2023-03-26T04:30:00+02:00"


def test_tomorrow_across_the_change_keeps_the_wall_time() -> None:
    now = datetime(2023, 3, 25, 10, 0, tzinfo=BERLIN)
    t = parse_time("tomorrow 9:00", BERLIN, now)
    assert t.isoformat() == "2023-03-26T09:00:00+02:00"


def test_zone() -> None:
    assert zone("Asia/Shanghai") == SH
    with pytest.raises(InvalidValue, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
    with pytest.raises(InvalidValue):
        zone("../../etc/passwd")


# ----------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "delta"),
    [("10m", timedelta(minutes=10)), ("10min", timedelta(minutes=10)),
     ("2h", timedelta(hours=2)), ("1d", timedelta(days=1)),
     ("1h30m", timedelta(hours=1, minutes=30)), ("1d2h", timedelta(days=1, hours=2)),
     ("90", timedelta(minutes=90)), (" 2H ", timedelta(hours=2)), ("+15m", timedelta(minutes=15))],
)  # fmt: skip
def test_parse_duration(text: str, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["", "h", "2x", "1.5h", "-2h", "two hours", "m30"])
def test_parse_duration_refuses_junk_in_one_line(text: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_duration(text)
    assert "\n" not in str(info.value)
    assert "1h30m" in str(info.value)


@pytest.mark.parametrize(
    ("delta", "text"),
    [(timedelta(hours=1, minutes=30), "1h30m"), (timedelta(0), "0m"),
     (timedelta(minutes=5), "5m"), (timedelta(hours=2), "2h"),
     (timedelta(days=1, hours=2, minutes=3), "1d2h3m"), (timedelta(days=2), "2d"),
     (-timedelta(minutes=90), "-1h30m"), (timedelta(seconds=59), "0m")],
)  # fmt: skip
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@pytest.mark.parametrize("minutes", [1, 59, 60, 61, 1439, 1440, 1441, 10000])
def test_format_then_parse_duration_round_trips(minutes: int) -> None:
    delta = timedelta(minutes=minutes)
    assert parse_duration(format_duration(delta)) == delta


def test_other_human_dates_are_read_when_now_anchors_them() -> None:
    assert parse_time("2023/10/26 18:00", SH, NOW) == at(18, day=26)
    assert parse_time("Oct 26 6pm", SH, NOW) == at(18, day=26)
    with pytest.raises(InvalidValue):
        parse_time("2023/10/26 18:00", SH)  # --now itself is ISO 8601 only
