"""model.py: the words people type for priorities, categories, ... and the ticket's plain data."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from conftest import SHANGHAI, T0, make_ticket
from hypothesis import given
from hypothesis import strategies as st

from itdesk.core.model import (
    Category,
    Channel,
    Escalation,
    Followup,
    Impact,
    LogEntry,
    LogKind,
    Priority,
    Requester,
    Resolution,
    Satisfaction,
    Status,
    evolve,
    parse_category,
    parse_channel,
    parse_priority,
    parse_satisfaction,
    parse_status,
    ticket_from_dict,
    ticket_to_dict,
)
from itdesk.errors import InvalidTicket, InvalidValue

# ------------------------------------------------------------------ aliases


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("P1", Priority.P1), ("p1", Priority.P1), ("1", Priority.P1), ("urgent", Priority.P1),
        ("URGENT", Priority.P1), ("紧急", Priority.P1), ("一级", Priority.P1),
        (" P1 ", Priority.P1), ("一级(紧急)", Priority.P1),
        ("P2", Priority.P2), ("2", Priority.P2), ("important", Priority.P2),
        ("重要", Priority.P2), ("二级", Priority.P2),
        ("P3", Priority.P3), ("3", Priority.P3), ("normal", Priority.P3),
        ("一般", Priority.P3), ("三级", Priority.P3),
    ],
)  # fmt: skip
def test_parse_priority(word: str, expected: Priority) -> None:
    assert parse_priority(word) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("hardware", Category.HARDWARE), ("硬件", Category.HARDWARE),
        ("software", Category.SOFTWARE), ("软件", Category.SOFTWARE),
        ("network", Category.NETWORK), ("Network", Category.NETWORK), ("网络", Category.NETWORK),
        ("account", Category.ACCOUNT), ("账号", Category.ACCOUNT),
        ("other", Category.OTHER), ("其他", Category.OTHER),
    ],
)  # fmt: skip
def test_parse_category(word: str, expected: Category) -> None:
    assert parse_category(word) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("satisfied", Satisfaction.SATISFIED), ("满意", Satisfaction.SATISFIED),
        ("neutral", Satisfaction.NEUTRAL), ("一般", Satisfaction.NEUTRAL),
        ("unsatisfied", Satisfaction.UNSATISFIED), ("不满意", Satisfaction.UNSATISFIED),
    ],
)  # fmt: skip
def test_parse_satisfaction(word: str, expected: Satisfaction) -> None:
    assert parse_satisfaction(word) is expected


def test_the_same_chinese_word_means_p3_as_a_priority_and_neutral_as_a_verdict() -> None:
    assert parse_priority("一般") is Priority.P3
    assert parse_satisfaction("一般") is Satisfaction.NEUTRAL


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("portal", Channel.PORTAL), ("chat", Channel.CHAT), ("phone", Channel.PHONE),
        ("电话", Channel.PHONE), ("mail", Channel.MAIL), ("email", Channel.MAIL),
        ("walk-in", Channel.WALK_IN), ("walkin", Channel.WALK_IN),
    ],
)  # fmt: skip
def test_parse_channel(word: str, expected: Channel) -> None:
    assert parse_channel(word) is expected


@pytest.mark.parametrize("status", list(Status))
def test_parse_status_takes_every_value(status: Status) -> None:
    assert parse_status(status.value) is status
    assert parse_status(status.value.upper()) is status


def test_parse_status_takes_dashes_and_chinese_labels() -> None:
    assert parse_status("in-progress") is Status.IN_PROGRESS
    assert parse_status("pending-vendor") is Status.PENDING_VENDOR
    assert parse_status("处理中") is Status.IN_PROGRESS
    assert parse_status("处理完成") is Status.RESOLVED


@pytest.mark.parametrize(
    ("parse", "word", "members"),
    [
        (parse_priority, "P9", Priority),
        (parse_priority, "", Priority),
        (parse_category, "printer", Category),
        (parse_satisfaction, "meh", Satisfaction),
        (parse_channel, "pigeon", Channel),
        (parse_status, "done", Status),
    ],
)
def test_a_bad_word_gets_one_line_naming_it_and_the_accepted_values(
    parse: object, word: str, members: type
) -> None:
    with pytest.raises(InvalidValue) as info:
        parse(word)  # type: ignore[operator]
    message = str(info.value)
    assert "\n" not in message
    assert repr(word) in message
    assert "accepted" in message
    for member in members:  # type: ignore[attr-defined]
        assert member.value in message


# ---------------------------------------------------------------- plain data

SPEC_KEYS = (
    "id, title, status, priority, category, requester, impact, description, channel, "
    "expected_by, reported_at, acknowledged_at, team, assignee, assigned_at, accepted_at, "
    "escalations, log, resolution, followup, closed_at, kb, attachments, remarks"
).split(", ")


def full_ticket() -> object:
    """A ticket with every field set, as after a vendor escalation, resolve and follow-up."""
    t = make_ticket(description="WiFi 认证失败\n错误: 802.1X", channel=Channel.CHAT,
                    expected_by=T0 + timedelta(hours=4))  # fmt: skip
    at = T0 + timedelta(minutes=5)
    return replace(
        t,
        status=Status.CLOSED,
        priority=Priority.P2,
        category=Category.NETWORK,
        acknowledged_at=at,
        team="network",
        assignee="wang",
        assigned_at=at,
        accepted_at=at,
        escalations=(
            Escalation(at, "wang", "vendor", "OA vendor", "needs the vendor", at, None),
            Escalation(at, "check", "supervisor", "zhang", "late", None, "accept"),
        ),
        log=t.log
        + (
            LogEntry(
                at, "wang", LogKind.ASSIGN, "assigned", status=Status.ASSIGNED, assignee="wang"
            ),
            LogEntry(at, "wang", LogKind.SYSTEM, "classified P2", priority=Priority.P2),
            LogEntry(at, "wang", LogKind.REMOTE, "reset the adapter"),
        ),  # fmt: skip
        resolution=Resolution(
            "new certificate", T0 + timedelta(hours=1, minutes=30), "wang", True
        ),  # fmt: skip
        followup=Followup(
            T0 + timedelta(hours=2),
            "desk",
            Satisfaction.SATISFIED,
            Satisfaction.NEUTRAL,
            Satisfaction.SATISFIED,
            "快",
        ),  # fmt: skip
        closed_at=T0 + timedelta(hours=3),
        kb=("wifi-certificate",),
        attachments=("screenshot.png",),
        remarks="备注",
    )


def test_ticket_to_dict_keys_follow_spec_section_3() -> None:
    d = ticket_to_dict(full_ticket())  # type: ignore[arg-type]
    assert list(d) == SPEC_KEYS
    assert list(d["requester"]) == ["name", "employee_id", "department", "contact"]
    assert list(d["impact"]) == ["blocks_work", "scope", "devices"]
    assert list(d["resolution"]) == ["summary", "at", "by", "verified_by_requester"]
    assert list(d["followup"]) == ["at", "by", "speed", "attitude", "overall", "comment"]
    for entry in d["log"]:
        assert list(entry)[:4] == ["at", "by", "kind", "text"]


def test_ticket_to_dict_of_a_new_ticket_keeps_every_key() -> None:
    d = ticket_to_dict(make_ticket())
    assert list(d) == SPEC_KEYS
    assert d["status"] == "new"
    assert d["priority"] is None and d["resolution"] is None and d["followup"] is None
    assert d["reported_at"] == "2023-10-25T09:30:00+08:00"
    assert len(d["log"]) == 1
    entry = d["log"][0]
    assert list(entry) == ["at", "by", "kind", "text", "status"]
    assert (entry["at"], entry["by"], entry["kind"], entry["status"]) == (
        "2023-10-25T09:30:00+08:00", "desk", "status", "new")  # fmt: skip


def test_to_dict_from_dict_round_trip() -> None:
    t = full_ticket()
    d = ticket_to_dict(t)  # type: ignore[arg-type]
    back = ticket_from_dict(d)
    assert back == t
    assert ticket_to_dict(back) == d


def test_round_trip_keeps_the_instant_and_the_offset() -> None:
    utc_time = datetime(2023, 10, 25, 1, 30, tzinfo=UTC)
    t = make_ticket(now=utc_time)
    back = ticket_from_dict(ticket_to_dict(t))
    assert back.reported_at == utc_time
    assert back.reported_at.utcoffset() == timedelta(0)
    t8 = make_ticket()
    assert ticket_from_dict(ticket_to_dict(t8)).reported_at.utcoffset() == timedelta(hours=8)


def test_from_dict_refuses_a_bad_status_in_one_line() -> None:
    d = ticket_to_dict(make_ticket())
    d["status"] = "done"
    with pytest.raises(InvalidTicket, match=r"status: 'done' is not one of new, ") as info:
        ticket_from_dict(d)
    assert "\n" not in str(info.value)


def test_from_dict_refuses_a_time_without_offset() -> None:
    d = ticket_to_dict(make_ticket())
    d["reported_at"] = "2023-10-25T09:30:00"
    with pytest.raises(InvalidTicket, match="reported_at: .* has no UTC offset"):
        ticket_from_dict(d)


def test_from_dict_refuses_missing_fields_without_a_traceback() -> None:
    d = ticket_to_dict(make_ticket())
    del d["requester"]
    with pytest.raises(InvalidTicket, match="missing or malformed field"):
        ticket_from_dict(d)


def test_status_is_open() -> None:
    assert {s for s in Status if not s.is_open} == {Status.CLOSED, Status.CANCELLED}


def test_tickets_are_immutable() -> None:
    t = make_ticket()
    with pytest.raises(AttributeError):
        t.status = Status.CLOSED  # type: ignore[misc]
    assert isinstance(t.log, tuple)
    assert isinstance(t.impact, Impact) and isinstance(t.requester, Requester)
    assert re.fullmatch(r"IT-\d{8}-\d{3}", t.id)
    assert t.reported_at.tzinfo is SHANGHAI


_BERLIN = __import__("zoneinfo").ZoneInfo("Europe/Berlin")


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2024, 3, 30), max_value=datetime(2024, 11, 1)),
            st.sampled_from(["berlin", "fold", "+01:00", "+02:00", "utc", "shared"]),
        ),
        min_size=2,
        max_size=2,
    )
)
def test_instant_orders_times_by_the_instant_whatever_their_zones(
    pairs: list[tuple[datetime, str]],
) -> None:
    """instant() returns fixed-offset times as they are (the import's fast path) and
    converts zones with rules: either way, times compare as their instants do, also
    across Berlin's changes of the clocks and for two times sharing one tzinfo."""
    from datetime import timezone

    from itdesk.core.model import instant

    shared = timezone(timedelta(hours=1))
    zones = {"+01:00": timezone(timedelta(hours=1)), "+02:00": timezone(timedelta(hours=2)),
             "utc": UTC, "shared": shared}  # fmt: skip
    times = []
    for wall, kind in pairs:
        if kind in ("berlin", "fold"):
            times.append(wall.replace(tzinfo=_BERLIN, fold=int(kind == "fold")))
        else:
            times.append(wall.replace(tzinfo=zones[kind]))
    a, b = times
    assert (instant(a) < instant(b)) == (a.timestamp() < b.timestamp())
    assert (instant(a) == instant(b)) == (a.timestamp() == b.timestamp())


_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "title": st.sampled_from(["打印机卡纸", "a\nb", "x" * 201, ""]),
        "status": st.sampled_from(list(Status)),
        "assignee": st.sampled_from([None, "张伟", "a\tb"]),
        "remarks": st.sampled_from([None, "备注", "\x00"]),
        "closed_at": st.sampled_from([None, T0]),
        "kb": st.sampled_from([(), ("KB-0001",)]),
    },
)


@given(_CHANGES, st.sampled_from([None, "colour"]))
def test_evolve_is_dataclasses_replace(changes: dict, unknown: str | None) -> None:
    """A lifecycle step's new ticket (#12: evolve, not dataclasses.replace): the same
    ticket, the same refusal of a bad field, of a field a ticket has not."""
    t = make_ticket()
    if unknown is not None:
        changes = {**changes, unknown: 1}
    try:
        expected: object = replace(t, **changes)
    except (InvalidTicket, TypeError) as exc:
        expected = type(exc)
    try:
        got: object = evolve(t, **dict(changes))
    except (InvalidTicket, TypeError) as exc:
        got = type(exc)
    assert got == expected
    assert t == make_ticket()  # the ticket evolved from is as it was
