"""The SLA engine: each clock at the second before and after its limit, pauses,
priority changes, reopenings, business hours and daylight saving."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from conftest import SHANGHAI, T0, make_ticket

from itdesk.core import lifecycle as lc
from itdesk.core.model import Category, Priority, Ticket
from itdesk.core.policy import policy_from_dict
from itdesk.core.sla import ClockState, build_calendars, evaluate

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def policy(**sla: Any) -> Any:
    data: dict[str, Any] = {"timezone": "Asia/Shanghai", "supervisors": ["chen"]}
    if sla:
        data["sla"] = sla
    calendars = sla.pop("_calendars", None)
    if calendars:
        data["calendars"] = calendars
    return policy_from_dict(data)


def clocks(t: Ticket, now: datetime, pol: Any = None) -> dict[str, ClockState]:
    pol = pol or policy()
    return {s.clock: s for s in evaluate(t, pol, now, build_calendars(pol.calendars, pol.timezone))}


def assigned(at: datetime = T0 + 5 * M, priority: Priority = Priority.P2) -> Ticket:
    t = make_ticket()
    t = lc.acknowledge(t, now=T0 + M, by="desk").ticket
    t = lc.classify(t, now=T0 + 2 * M, by="desk", priority=priority,
                    category=Category.NETWORK, supervisor="chen").ticket  # fmt: skip
    return lc.assign(t, now=at, by="desk", to="wang", team="network").ticket


def test_ack_second_before_and_after_the_limit() -> None:
    t = make_ticket()
    assert clocks(t, T0 + 10 * M - S)["ack"].state == "at_risk"
    assert clocks(t, T0 + 10 * M)["ack"].state == "at_risk"  # due now: still in time
    late = clocks(t, T0 + 10 * M + S)["ack"]
    assert late.state == "breached" and late.late_seconds == 1
    assert late.due == T0 + 10 * M
    assert clocks(t, T0 + 7 * M)["ack"].state == "running"
    assert clocks(t, T0 + 8 * M)["ack"].state == "at_risk"  # 75 % used


def test_ack_met_and_met_late() -> None:
    t = make_ticket()
    on_time = lc.acknowledge(t, now=T0 + 10 * M, by="desk").ticket
    assert clocks(on_time, T0 + H)["ack"].state == "met"
    late = lc.acknowledge(t, now=T0 + 10 * M + S, by="desk").ticket
    c = clocks(late, T0 + H)["ack"]
    assert c.state == "breached" and not c.open and c.late_seconds == 1


def test_unclassified_ticket_runs_at_the_default_priority() -> None:
    c = clocks(make_ticket(), T0)
    assert c["response"].due == T0 + 24 * H and c["resolution"].due == T0 + 48 * H
    assert c["response"].priority == "P3"


def test_response_by_priority_and_a_priority_change() -> None:
    t = assigned(priority=Priority.P2)
    assert clocks(t, T0 + 2 * H - S)["response"].state == "at_risk"
    assert clocks(t, T0 + 2 * H + S)["response"].state == "breached"
    p1 = lc.classify(t, now=T0 + 6 * M, by="desk", priority=Priority.P1, supervisor="chen").ticket
    c = clocks(p1, T0 + 16 * M)["response"]
    assert c.due == T0 + 15 * M and c.state == "breached"


def test_response_is_met_by_a_phone_call_or_accept() -> None:
    t = assigned()
    called = lc.log_work(t, now=T0 + H, by="wang", via="phone", text="called back").ticket
    assert clocks(called, T0 + 5 * H)["response"].state == "met"
    note = lc.log_work(t, now=T0 + H, by="wang", via="note", text="looked at logs").ticket
    assert clocks(note, T0 + 3 * H)["response"].state == "breached"
    accepted = lc.accept(t, now=T0 + H, by="wang").ticket
    assert clocks(accepted, T0 + 5 * H)["response"].stopped == T0 + H


def test_accept_clock_runs_two_hours_from_each_assignment() -> None:
    t = assigned(at=T0 + 5 * M)
    assert clocks(t, T0 + 5 * M + 2 * H)["accept"].state == "at_risk"
    assert clocks(t, T0 + 5 * M + 2 * H + S)["accept"].state == "breached"
    again = lc.assign(t, now=T0 + 3 * H, by="desk", to="zhang", team="network").ticket
    c = clocks(again, T0 + 3 * H + M)["accept"]
    assert c.start == T0 + 3 * H and c.state == "running" and c.assignee == "zhang"
    done = lc.accept(again, now=T0 + 4 * H, by="zhang").ticket
    assert clocks(done, T0 + 9 * H)["accept"].state == "met"


def test_resolution_without_and_with_a_pause() -> None:
    t = lc.accept(assigned(), now=T0 + 10 * M, by="wang").ticket
    waiting = lc.pending(t, now=T0 + H, by="wang", on="user").ticket
    # No pause by default (the process document counts calendar time).
    assert clocks(waiting, T0 + 4 * H + S)["resolution"].state == "breached"
    paused = policy(pause_on=["pending_user", "pending_vendor"])
    c = clocks(waiting, T0 + 10 * H, paused)["resolution"]
    assert c.state == "running" and c.paused  # 1 h of 4 used, then waiting: not breached
    assert c.used == H
    resumed = lc.accept(waiting, now=T0 + 10 * H, by="wang").ticket
    c = clocks(resumed, T0 + 13 * H, paused)["resolution"]
    assert c.due == T0 + 13 * H and c.state == "at_risk"
    assert clocks(resumed, T0 + 13 * H + S, paused)["resolution"].state == "breached"


def test_pause_spanning_the_limit() -> None:
    t = lc.accept(assigned(), now=T0 + 10 * M, by="wang").ticket
    waiting = lc.pending(t, now=T0 + 3 * H, by="wang", on="vendor").ticket
    pol = policy(pause_on=["pending_vendor"])
    for later in (T0 + 4 * H + S, T0 + 30 * H):  # the plain due time, and long after it
        c = clocks(waiting, later, pol)["resolution"]
        assert c.state == "at_risk" and c.used == 3 * H


def test_followup_one_hour_after_resolved() -> None:
    t = lc.accept(assigned(), now=T0 + 10 * M, by="wang").ticket
    r = lc.resolve(t, now=T0 + 2 * H, by="wang", summary="fixed").ticket
    assert clocks(r, T0 + 3 * H)["followup"].state == "at_risk"
    assert clocks(r, T0 + 3 * H + S)["followup"].state == "breached"
    assert clocks(r, T0 + 3 * H)["resolution"].state == "met"


def test_expected_time_of_the_requester() -> None:
    t = replace(assigned(), expected_by=T0 + 3 * H)
    assert clocks(t, T0 + 3 * H)["expected"].state == "at_risk"
    assert clocks(t, T0 + 3 * H + S)["expected"].state == "breached"


def test_closed_and_cancelled_tickets_have_no_clocks() -> None:
    t = lc.cancel(make_ticket(), now=T0 + M, by="desk", reason="duplicate").ticket
    assert clocks(t, T0 + 99 * H) == {}


def test_reopened_old_ticket_gets_a_grace_period() -> None:
    t = lc.accept(assigned(), now=T0 + 10 * M, by="wang").ticket
    t = lc.resolve(t, now=T0 + H, by="wang", summary="fixed").ticket
    reopened = lc.reopen(t, now=T0 + 30 * 24 * H, by="desk", reason="again").ticket
    c = clocks(reopened, T0 + 30 * 24 * H + M)["resolution"]
    assert c.state == "running" and c.due == T0 + 30 * 24 * H + 4 * H
    grace = policy(reopen_grace="1h")
    assert clocks(reopened, T0 + 30 * 24 * H + H + S, grace)["resolution"].state == "breached"


BUSINESS = {
    "business": {
        "timezone": "Asia/Shanghai",
        "hours": {"mon-fri": ["09:00-12:00", "13:30-18:00"]},
        "holidays": ["10-01", "2023-10-02"],
    }
}


def test_business_hours_across_a_weekend() -> None:
    pol = policy(_calendars=BUSINESS, calendars={"P2": "business"})
    friday = datetime(2023, 10, 27, 17, 0, tzinfo=SHANGHAI)
    t = assigned(at=friday)
    t = replace(t, reported_at=friday)
    c = clocks(t, friday + H, pol)["response"]
    # 2 h of working time from Friday 17:00: 1 h on Friday, 1 h on Monday from 09:00.
    assert c.due == datetime(2023, 10, 30, 10, 0, tzinfo=SHANGHAI)
    assert clocks(t, datetime(2023, 10, 29, 23, 0, tzinfo=SHANGHAI), pol)["response"].state in (
        "running",
        "at_risk",
    )


def test_business_hours_skip_a_holiday_and_lunch() -> None:
    pol = policy(_calendars=BUSINESS, calendars={"P3": "business"})
    t = replace(make_ticket(), reported_at=datetime(2023, 9, 29, 11, 0, tzinfo=SHANGHAI))
    c = clocks(t, t.reported_at, pol)["resolution"]  # 48 working hours
    # Fri 29 Sep: 11-12 and 13:30-18 (5.5 h); Oct 1 (Sun) and Oct 2 (holiday) skipped.
    assert c.due.date() > datetime(2023, 10, 6).date()
    assert c.due.tzinfo is not None


def test_pending_time_over_a_weekend_does_not_count() -> None:
    pol = policy(_calendars=BUSINESS, calendars={"P2": "business"}, pause_on=["pending_user"])
    friday = datetime(2023, 10, 27, 9, 0, tzinfo=SHANGHAI)
    t = replace(make_ticket(), reported_at=friday)
    t = lc.acknowledge(t, now=friday, by="desk").ticket
    t = lc.classify(t, now=friday, by="desk", priority=Priority.P2, supervisor="chen").ticket
    t = lc.assign(t, now=friday, by="desk", to="wang", team=None).ticket
    t = lc.accept(t, now=friday, by="wang").ticket
    t = lc.pending(t, now=friday + 2 * H, by="wang", on="user").ticket  # 11:00 Friday
    monday = datetime(2023, 10, 30, 9, 0, tzinfo=SHANGHAI)
    t = lc.accept(t, now=monday, by="wang").ticket
    c = clocks(t, monday, pol)["resolution"]
    assert c.used == 2 * H
    assert c.due == datetime(2023, 10, 30, 11, 0, tzinfo=SHANGHAI)


def test_daylight_saving_desk_zone() -> None:
    berlin_cal = {"office": {"timezone": "Europe/Berlin", "hours": {"mon-fri": ["09:00-17:00"]}}}
    pol = policy_from_dict(
        {
            "timezone": "Europe/Berlin",
            "calendars": berlin_cal,
            "sla": {"calendars": {"P3": "office"}},
        }
    )
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    friday = datetime(2024, 3, 29, 16, 0, tzinfo=berlin)  # DST starts on Sunday 31 March
    t = replace(make_ticket(), reported_at=friday)
    cals = build_calendars(pol.calendars, pol.timezone)
    c = {s.clock: s for s in evaluate(t, pol, friday, cals)}["response"]
    # 24 working hours: 1 on Friday, then Monday to Wednesday 8 h a day, ending 16:00 local.
    assert c.due == datetime(2024, 4, 3, 16, 0, tzinfo=berlin)
    assert c.due.utcoffset() == timedelta(hours=2)
    always = policy_from_dict({"timezone": "Europe/Berlin"})
    saturday = datetime(2024, 3, 30, 12, 0, tzinfo=berlin)
    t = replace(make_ticket(), reported_at=saturday)
    c = {s.clock: s for s in evaluate(t, always, saturday, cals)}["response"]
    # 24 real hours across the change: 13:00 on Sunday by the clock on the wall.
    assert c.due == datetime(2024, 3, 31, 13, 0, tzinfo=berlin)
