"""lifecycle.py and routing.py: each step of a ticket's life as a pure function."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from conftest import T0, make_ticket

from itdesk.core import lifecycle as lc
from itdesk.core.lifecycle import Action, Change
from itdesk.core.model import (
    Category,
    Channel,
    Impact,
    LogKind,
    Priority,
    Requester,
    Satisfaction,
    Status,
    Ticket,
)
from itdesk.core.policy import Policy, Team
from itdesk.core.routing import choose_assignee, load_by_member, team_for_member
from itdesk.errors import InvalidTransition, ItdeskError, UsageError

SAT = Satisfaction.SATISFIED


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def grows(old: Ticket, change: Change, by: int = 1) -> Ticket:
    """The new ticket, after checking that its log is the old log plus ``by`` entries."""
    new = change.ticket
    assert new.log[: len(old.log)] == old.log
    assert len(new.log) == len(old.log) + by
    assert new.id == old.id
    return new


def acked() -> Ticket:
    return lc.acknowledge(make_ticket(), now=at(5), by="desk").ticket


def assigned(category: Category | None = Category.NETWORK) -> Ticket:
    t = acked()
    if category is not None:
        t = lc.classify(t, now=at(6), by="desk", category=category).ticket
    return lc.assign(t, now=at(10), by="desk", to="wang", team="network").ticket


def in_progress() -> Ticket:
    return lc.accept(assigned(), now=at(15), by="wang").ticket


def resolved() -> Ticket:
    return lc.resolve(in_progress(), now=at(90), by="wang", summary="new certificate").ticket


def followed_up() -> Ticket:
    return lc.followup(resolved(), now=at(100), by="desk", speed=SAT, attitude=SAT,
                       overall=SAT).ticket  # fmt: skip


def closed() -> Ticket:
    return lc.close(followed_up(), now=at(110), by="desk").ticket


# ---------------------------------------------------------------------- open


def test_open_ticket() -> None:
    req = Requester("王小明", "E1001", "研发部", "13956785678")
    change = lc.open_ticket(
        "IT-20231025-001", title="  WiFi fails ", requester=req, now=at(2), by="desk",
        reported_at=T0, description=" 认证失败 \n", impact=Impact(True, "本人", ("X1",)),
        channel=Channel.CHAT, expected_by=at(240),
    )  # fmt: skip
    t = change.ticket
    assert change.action is Action.NEW
    assert change.subject == "IT-20231025-001: new: WiFi fails"
    assert (t.status, t.title, t.description) == (Status.NEW, "WiFi fails", "认证失败")
    assert t.reported_at == T0 and t.expected_by == at(240)
    assert t.requester == req and t.channel is Channel.CHAT
    assert len(t.log) == 1
    first = t.log[0]
    assert (first.at, first.by, first.kind) == (T0, "desk", LogKind.STATUS)
    assert first.status is Status.NEW
    assert "chat" in first.text
    assert t.priority is None and t.category is None and t.assignee is None


def test_open_ticket_reported_at_defaults_to_now() -> None:
    assert make_ticket(now=at(3)).reported_at == at(3)


@pytest.mark.parametrize(("title", "name"), [("  ", "王小明"), ("WiFi", " ")])
def test_open_ticket_needs_a_title_and_a_requester(title: str, name: str) -> None:
    with pytest.raises(UsageError, match="must not be empty"):
        lc.open_ticket("IT-20231025-001", title=title, requester=Requester(name), now=T0,
                       by="desk")  # fmt: skip


# ----------------------------------------------------------------- acknowledge


def test_acknowledge() -> None:
    old = make_ticket()
    change = lc.acknowledge(old, now=at(5), by="desk")
    t = grows(old, change)
    assert change.action is Action.ACK and change.summary == "acknowledge"
    assert t.status is Status.ACKNOWLEDGED and t.acknowledged_at == at(5)
    assert t.log[-1].status is Status.ACKNOWLEDGED and t.log[-1].by == "desk"
    assert old.status is Status.NEW  # the old value is untouched


def test_acknowledge_twice_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="is acknowledged: cannot acknowledge"):
        lc.acknowledge(acked(), now=at(6), by="desk")


# -------------------------------------------------------------------- classify


def test_classify_sets_priority_and_category() -> None:
    old = acked()
    change = lc.classify(old, now=at(6), by="desk", priority=Priority.P2,
                         category=Category.NETWORK)  # fmt: skip
    t = grows(old, change)
    assert (t.priority, t.category) == (Priority.P2, Category.NETWORK)
    assert t.status is Status.ACKNOWLEDGED  # classifying moves no status
    assert t.log[-1].kind is LogKind.SYSTEM and t.log[-1].priority is Priority.P2
    assert t.log[-1].status is None
    assert change.summary == "classify P2 network"
    assert t.escalations == ()


def test_classify_category_only_keeps_the_priority() -> None:
    t = lc.classify(acked(), now=at(6), by="desk", priority=Priority.P3).ticket
    t2 = lc.classify(t, now=at(7), by="desk", category=Category.HARDWARE).ticket
    assert (t2.priority, t2.category) == (Priority.P3, Category.HARDWARE)
    assert t2.log[-1].priority is None


def test_classify_p1_informs_the_supervisor_at_once() -> None:
    old = acked()
    change = lc.classify(old, now=at(6), by="desk", priority=Priority.P1, supervisor="chief")
    t = grows(old, change, by=2)
    assert len(t.escalations) == 1
    esc = t.escalations[0]
    assert (esc.at, esc.by, esc.level, esc.to) == (at(6), "desk", "supervisor", "chief")
    assert "P1" in esc.reason
    assert t.log[-1].kind is LogKind.ESCALATE and "chief" in t.log[-1].text
    assert change.summary == "classify P1, inform chief"


def test_classify_p1_again_does_not_escalate_twice() -> None:
    t = lc.classify(acked(), now=at(6), by="desk", priority=Priority.P1, supervisor="chief").ticket
    t2 = lc.classify(t, now=at(7), by="desk", category=Category.SOFTWARE, supervisor="chief").ticket
    assert len(t2.escalations) == 1


def test_classify_nothing_or_the_same_is_refused() -> None:
    t = lc.classify(acked(), now=at(6), by="desk", priority=Priority.P2).ticket
    with pytest.raises(UsageError, match="give --priority and/or --category"):
        lc.classify(t, now=at(7), by="desk")
    with pytest.raises(UsageError, match="already P2 unclassified; nothing to change"):
        lc.classify(t, now=at(7), by="desk", priority=Priority.P2)


def test_classify_a_closed_ticket_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="reopen it first"):
        lc.classify(closed(), now=at(200), by="desk", priority=Priority.P3)


# ---------------------------------------------------------------------- assign


def test_assign() -> None:
    old = acked()
    change = lc.assign(old, now=at(10), by="desk", to="wang", team="network")
    t = grows(old, change)
    assert (t.status, t.assignee, t.team, t.assigned_at) == (
        Status.ASSIGNED, "wang", "network", at(10))  # fmt: skip
    assert t.accepted_at is None
    assert t.log[-1].kind is LogKind.ASSIGN and t.log[-1].assignee == "wang"
    assert t.log[-1].status is Status.ASSIGNED
    assert change.subject == "IT-20231025-001: assign to wang (network)"


def test_reassign_resets_acceptance() -> None:
    t = lc.assign(in_progress(), now=at(20), by="desk", to="zhang", team="network").ticket
    assert (t.status, t.assignee, t.assigned_at, t.accepted_at) == (
        Status.ASSIGNED, "zhang", at(20), None)  # fmt: skip


def test_assign_to_the_same_person_again_is_refused() -> None:
    with pytest.raises(UsageError, match="already assigned to wang"):
        lc.assign(assigned(), now=at(11), by="desk", to="wang", team="network")


def test_assign_before_acknowledge_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="is new: cannot assign to wang"):
        lc.assign(make_ticket(), now=at(1), by="desk", to="wang", team=None)


# ---------------------------------------------------------------------- accept


def test_accept() -> None:
    old = assigned()
    change = lc.accept(old, now=at(15), by="wang")
    t = grows(old, change)
    assert (t.status, t.accepted_at) == (Status.IN_PROGRESS, at(15))
    assert change.summary == "accept (wang)"
    assert t.log[-1].status is Status.IN_PROGRESS


def test_accept_for_someone_else_says_so() -> None:
    t = lc.accept(assigned(), now=at(15), by="desk").ticket
    assert t.log[-1].text == "accepted by desk for wang"


@pytest.mark.parametrize("on", ["user", "vendor"])
def test_accept_resumes_from_pending(on: str) -> None:
    waiting = lc.pending(in_progress(), now=at(20), by="wang", on=on).ticket
    change = lc.accept(waiting, now=at(40), by="wang")
    t = grows(waiting, change)
    assert t.status is Status.IN_PROGRESS
    assert t.accepted_at == at(15)  # the first acceptance stands
    assert change.summary == "resume work"
    assert f"pending_{on} -> in_progress" in t.log[-1].text


def test_accept_twice_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="is in_progress: cannot accept"):
        lc.accept(in_progress(), now=at(16), by="wang")


@pytest.mark.parametrize("make", [make_ticket, acked])
def test_accept_before_assignment_is_refused(make: object) -> None:
    with pytest.raises(InvalidTransition):
        lc.accept(make(), now=at(16), by="wang")  # type: ignore[operator]


# ------------------------------------------------------------------------- log


@pytest.mark.parametrize(("via", "kind"), [("phone", LogKind.PHONE), ("remote", LogKind.REMOTE),
                                           ("onsite", LogKind.ONSITE), ("note", LogKind.NOTE)])
def test_log_work(via: str, kind: LogKind) -> None:
    old = in_progress()
    change = lc.log_work(old, now=at(30), by="wang", via=via, text=" reset the adapter \n")
    t = grows(old, change)
    assert (t.log[-1].kind, t.log[-1].text, t.log[-1].status) == (kind, "reset the adapter", None)
    assert t.status is old.status
    assert change.summary == f"log {via}: reset the adapter"


def test_log_summary_is_the_first_line_shortened() -> None:
    change = lc.log_work(in_progress(), now=at(30), by="wang", via="note",
                         text="x" * 100 + "\nsecond line")  # fmt: skip
    assert change.summary == "log note: " + "x" * 57 + "..."


def test_log_refuses_empty_text_unknown_via_and_closed_tickets() -> None:
    with pytest.raises(UsageError, match="the log text must not be empty"):
        lc.log_work(in_progress(), now=at(30), by="wang", via="note", text="  ")
    with pytest.raises(UsageError, match="unknown --via 'fax'; accepted: phone, remote"):
        lc.log_work(in_progress(), now=at(30), by="wang", via="fax", text="sent")
    with pytest.raises(InvalidTransition, match="is closed: cannot log work"):
        lc.log_work(closed(), now=at(200), by="wang", via="note", text="late note")


# -------------------------------------------------------------------- escalate


def test_escalate_to_the_supervisor_keeps_the_status() -> None:
    old = in_progress()
    change = lc.escalate(old, now=at(40), by="wang", reason="needs approval",
                         supervisor="chief", eta=at(120))  # fmt: skip
    t = grows(old, change)
    assert t.status is Status.IN_PROGRESS
    esc = t.escalations[-1]
    assert (esc.level, esc.to, esc.reason, esc.eta) == ("supervisor", "chief", "needs approval",
                                                        at(120))  # fmt: skip
    assert t.log[-1].kind is LogKind.ESCALATE and t.log[-1].status is None
    assert change.summary == "escalate to supervisor chief"


def test_escalate_to_a_vendor_waits_on_the_vendor() -> None:
    old = in_progress()
    change = lc.escalate(old, now=at(40), by="wang", reason="接口报错", vendor="OA vendor",
                         eta=at(24 * 60))  # fmt: skip
    t = grows(old, change)
    assert t.status is Status.PENDING_VENDOR
    esc = t.escalations[-1]
    assert (esc.level, esc.to, esc.eta) == ("vendor", "OA vendor", at(24 * 60))
    assert t.log[-1].status is Status.PENDING_VENDOR
    assert "OA vendor" in t.log[-1].text and "ETA 2023-10-26T09:30" in t.log[-1].text
    # a second vendor while waiting: recorded, status unchanged
    t2 = lc.escalate(t, now=at(50), by="wang", reason="second opinion", vendor="B").ticket
    assert t2.status is Status.PENDING_VENDOR and len(t2.escalations) == 2
    assert t2.log[-1].status is None


def test_escalate_to_a_vendor_before_work_starts_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="cannot escalate to vendor V"):
        lc.escalate(assigned(), now=at(40), by="wang", reason="r", vendor="V")


def test_escalate_needs_a_reason_and_one_target() -> None:
    with pytest.raises(UsageError, match="the reason must not be empty"):
        lc.escalate(in_progress(), now=at(40), by="wang", reason=" ", supervisor="chief")
    with pytest.raises(UsageError, match="either --supervisor or --vendor"):
        lc.escalate(in_progress(), now=at(40), by="wang", reason="r")
    with pytest.raises(UsageError, match="either --supervisor or --vendor"):
        lc.escalate(in_progress(), now=at(40), by="wang", reason="r", supervisor="c", vendor="v")
    with pytest.raises(InvalidTransition):
        lc.escalate(closed(), now=at(200), by="wang", reason="r", supervisor="chief")


# --------------------------------------------------------------------- pending


@pytest.mark.parametrize(("on", "status"), [("user", Status.PENDING_USER),
                                            ("vendor", Status.PENDING_VENDOR)])
def test_pending(on: str, status: Status) -> None:
    old = in_progress()
    change = lc.pending(old, now=at(20), by="wang", on=on, reason="in a meeting")
    t = grows(old, change)
    assert t.status is status and t.log[-1].status is status
    assert t.log[-1].text == f"waiting on the {on}: in a meeting"


def test_pending_refuses_unknown_parties_and_early_tickets() -> None:
    with pytest.raises(UsageError, match="unknown --on 'boss'"):
        lc.pending(in_progress(), now=at(20), by="wang", on="boss")
    with pytest.raises(InvalidTransition):
        lc.pending(assigned(), now=at(20), by="wang", on="user")


# --------------------------------------------------------------------- resolve


def test_resolve() -> None:
    old = in_progress()
    change = lc.resolve(old, now=at(90), by="wang", summary=" new certificate ", verified=True)
    t = grows(old, change)
    assert t.status is Status.RESOLVED
    assert t.resolution is not None
    assert (t.resolution.summary, t.resolution.at, t.resolution.by) == (
        "new certificate", at(90), "wang")  # fmt: skip
    assert t.resolution.verified_by_requester is True
    assert change.summary == "resolve (verified)"


def test_resolve_from_pending_vendor() -> None:
    t = lc.pending(in_progress(), now=at(20), by="wang", on="vendor").ticket
    assert lc.resolve(t, now=at(90), by="wang", summary="vendor fixed it").ticket.status is (
        Status.RESOLVED)  # fmt: skip


def test_resolve_refuses_empty_summary_and_unaccepted_tickets() -> None:
    with pytest.raises(UsageError, match="the summary must not be empty"):
        lc.resolve(in_progress(), now=at(90), by="wang", summary="")
    with pytest.raises(InvalidTransition, match="is assigned: cannot resolve"):
        lc.resolve(assigned(), now=at(90), by="wang", summary="done")


# -------------------------------------------------------------------- followup


def test_followup_on_a_resolved_ticket() -> None:
    old = resolved()
    change = lc.followup(old, now=at(100), by="desk", speed=SAT, attitude=Satisfaction.NEUTRAL,
                         overall=SAT, comment=" 很快 ")  # fmt: skip
    t = grows(old, change)
    assert t.status is Status.RESOLVED
    assert t.followup is not None
    assert (t.followup.speed, t.followup.attitude, t.followup.overall, t.followup.comment) == (
        SAT, Satisfaction.NEUTRAL, SAT, "很快")  # fmt: skip
    assert t.log[-1].kind is LogKind.PHONE
    assert change.summary == "follow-up: satisfied"


@pytest.mark.parametrize("make", [make_ticket, assigned, in_progress, closed])
def test_followup_only_when_resolved(make: object) -> None:
    with pytest.raises(InvalidTransition, match="cannot record a follow-up"):
        lc.followup(make(), now=at(200), by="desk", speed=SAT, attitude=SAT,  # type: ignore[operator]
                    overall=SAT)  # fmt: skip


# ----------------------------------------------------------------------- close


def test_close_after_followup() -> None:
    old = followed_up()
    change = lc.close(old, now=at(110), by="desk")
    t = grows(old, change)
    assert (t.status, t.closed_at) == (Status.CLOSED, at(110))
    assert t.resolution == old.resolution and t.followup == old.followup
    assert change.summary == "close"


def test_close_without_followup_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="has no follow-up") as info:
        lc.close(resolved(), now=at(110), by="desk")
    assert "--force --reason" in str(info.value)


def test_close_before_resolution_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="cannot close before it is resolved"):
        lc.close(in_progress(), now=at(110), by="desk")


@pytest.mark.parametrize("make", [make_ticket, acked, assigned, in_progress, resolved])
def test_forced_close_with_a_reason(make: object) -> None:
    old: Ticket = make()  # type: ignore[operator]
    change = lc.close(old, now=at(110), by="desk", force=True, reason="duplicate of 002")
    t = grows(old, change)
    assert (t.status, t.closed_at) == (Status.CLOSED, at(110))
    assert "duplicate of 002" in t.log[-1].text
    assert change.summary == "close (forced)"


def test_forced_close_needs_a_reason_and_an_open_ticket() -> None:
    with pytest.raises(UsageError, match="--force needs --reason"):
        lc.close(in_progress(), now=at(110), by="desk", force=True)
    with pytest.raises(InvalidTransition):
        lc.close(closed(), now=at(200), by="desk", force=True, reason="again")


# ---------------------------------------------------------------------- reopen


@pytest.mark.parametrize("make", [resolved, followed_up, closed])
def test_reopen_clears_resolution_followup_and_closed_at(make: object) -> None:
    old: Ticket = make()  # type: ignore[operator]
    change = lc.reopen(old, now=at(300), by="desk", reason="WiFi drops again")
    t = grows(old, change)
    assert t.status is Status.REOPENED
    assert (t.resolution, t.followup, t.closed_at) == (None, None, None)
    assert t.assignee == "wang"  # the same technician picks it up again
    assert t.log[-1].text == "reopened: WiFi drops again"


def test_reopened_goes_back_to_in_progress() -> None:
    t = lc.reopen(closed(), now=at(300), by="desk", reason="again").ticket
    t = lc.accept(t, now=at(310), by="wang").ticket
    assert t.status is Status.IN_PROGRESS


def test_reopen_an_open_ticket_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="is in_progress: cannot reopen"):
        lc.reopen(in_progress(), now=at(300), by="desk", reason="r")
    with pytest.raises(UsageError, match="the reason must not be empty"):
        lc.reopen(closed(), now=at(300), by="desk", reason="")


# ---------------------------------------------------------------------- cancel


@pytest.mark.parametrize("make", [make_ticket, acked, assigned, in_progress])
def test_cancel(make: object) -> None:
    old: Ticket = make()  # type: ignore[operator]
    change = lc.cancel(old, now=at(50), by="desk", reason="duplicate")
    t = grows(old, change)
    assert (t.status, t.closed_at) == (Status.CANCELLED, at(50))
    assert change.summary == "cancel"


def test_cancelled_is_final() -> None:
    t = lc.cancel(make_ticket(), now=at(50), by="desk", reason="duplicate").ticket
    for step in (
        lambda: lc.reopen(t, now=at(60), by="desk", reason="r"),
        lambda: lc.acknowledge(t, now=at(60), by="desk"),
        lambda: lc.cancel(t, now=at(60), by="desk", reason="r"),
        lambda: lc.log_work(t, now=at(60), by="desk", via="note", text="x"),
    ):
        with pytest.raises(InvalidTransition):
            step()


def test_cancel_a_resolved_ticket_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="is resolved: cannot cancel"):
        lc.cancel(resolved(), now=at(100), by="desk", reason="r")


def test_every_refusal_is_an_itdesk_error_with_one_line() -> None:
    for step in (
        lambda: lc.accept(make_ticket(), now=at(1), by="x"),
        lambda: lc.close(resolved(), now=at(1), by="x"),
        lambda: lc.reopen(in_progress(), now=at(1), by="x", reason="r"),
    ):
        with pytest.raises(ItdeskError) as info:
            step()
        assert "\n" not in str(info.value)
        assert info.value.exit_code == 2


# --------------------------------------------------------------------- routing


def policy() -> Policy:
    return Policy(
        teams=(
            Team("hardware", (Category.HARDWARE,), ("zhang", "zhao")),
            Team("network", (Category.NETWORK,), ("zhang", "wang")),
            Team("desk", (Category.SOFTWARE, Category.ACCOUNT, Category.OTHER), ("li",)),
            Team("empty", (), ()),
        ),
        supervisors=("chief",),
    )


def data_of(assignee: str | None, status: Status = Status.IN_PROGRESS) -> dict[str, object]:
    """Ticket data (the YAML's keys), as routing reads the desk's other tickets."""
    return {"assignee": assignee, "status": status.value}


def test_load_by_member_counts_open_tickets_per_assignee() -> None:
    load = load_by_member([
        data_of("zhang"), data_of("zhang", Status.PENDING_USER), data_of("wang", Status.ASSIGNED),
        data_of("wang", Status.REOPENED), data_of("li", Status.PENDING_VENDOR), data_of(None),
        data_of("li", Status.CLOSED), data_of("li", Status.RESOLVED),
        data_of("li", Status.CANCELLED), data_of("zhao", Status.NEW),
    ])  # fmt: skip
    assert load == {"zhang": 2, "wang": 2, "li": 1}


def test_choose_assignee_picks_the_least_loaded_member_of_the_category_team() -> None:
    t = replace(acked(), category=Category.NETWORK)
    assert choose_assignee(policy(), t, {"zhang": 2, "wang": 1}) == ("network", "wang")
    assert choose_assignee(policy(), t, {"zhang": 0, "wang": 1, "li": 0}) == ("network", "zhang")
    hw = replace(acked(), category=Category.HARDWARE)
    assert choose_assignee(policy(), hw, {"zhang": 3, "zhao": 2, "wang": 0}) == (
        "hardware", "zhao")  # fmt: skip


def test_choose_assignee_breaks_ties_by_team_order() -> None:
    t = replace(acked(), category=Category.NETWORK)
    assert choose_assignee(policy(), t, {}) == ("network", "zhang")
    assert choose_assignee(policy(), t, {"zhang": 1, "wang": 1}) == ("network", "zhang")


def test_the_ticket_itself_does_not_count_against_its_assignee() -> None:
    # Reassigning wang's ticket: wang's load of 2 includes this very ticket.
    mine = replace(in_progress(), category=Category.NETWORK)
    assert mine.assignee == "wang"
    assert choose_assignee(policy(), mine, {"zhang": 1, "wang": 2}) == ("network", "zhang")
    assert choose_assignee(policy(), mine, {"zhang": 2, "wang": 2}) == ("network", "wang")


def test_choose_assignee_uses_the_load_from_the_desk_data() -> None:
    t = replace(acked(), category=Category.NETWORK)
    desk_data = [data_of("zhang"), data_of("zhang"), data_of("wang"),
                 data_of("wang", Status.CLOSED), data_of("wang", Status.CLOSED)]  # fmt: skip
    assert choose_assignee(policy(), t, load_by_member(desk_data)) == ("network", "wang")


def test_choose_assignee_refuses_an_unclassified_ticket() -> None:
    with pytest.raises(UsageError, match="has no category to route by; classify it first"):
        choose_assignee(policy(), acked(), {})


def test_choose_assignee_refuses_a_category_no_team_handles_or_an_empty_team() -> None:
    only_hw = Policy(teams=(Team("hardware", (Category.HARDWARE,), ("zhang",)),))
    with pytest.raises(UsageError, match="no team handles network"):
        choose_assignee(only_hw, replace(acked(), category=Category.NETWORK), {})
    empty = Policy(teams=(Team("net", (Category.NETWORK,), ()),))
    with pytest.raises(UsageError, match="team net has no members"):
        choose_assignee(empty, replace(acked(), category=Category.NETWORK), {})


def test_team_for_member() -> None:
    p = policy()
    assert team_for_member(p, "zhang", replace(acked(), category=Category.NETWORK)) == "network"
    assert team_for_member(p, "zhang", replace(acked(), category=Category.HARDWARE)) == "hardware"
    assert team_for_member(p, "zhang", acked()) == "hardware"  # unclassified: first team
    assert team_for_member(p, "li", replace(acked(), category=Category.NETWORK)) == "desk"


def test_team_for_member_refuses_an_unknown_name_listing_members() -> None:
    with pytest.raises(UsageError) as info:
        team_for_member(policy(), "nobody", acked())
    message = str(info.value)
    assert message == "'nobody' is not a member of any team; members: zhang, zhao, wang, li"


def test_accept_a_reopened_ticket_that_was_never_assigned() -> None:
    # closed by force before assignment, then reopened: nobody is assigned. Accepting
    # must be refused (assign it first) or leave a consistent ticket; an in_progress
    # ticket without an assignee is what history_problems (itdesk validate) rejects.
    t = lc.close(acked(), now=at(20), by="desk", force=True, reason="mistake").ticket
    t = lc.reopen(t, now=at(30), by="desk", reason="it was real").ticket
    assert t.assignee is None
    try:
        accepted = lc.accept(t, now=at(40), by="zhang").ticket
    except ItdeskError:
        return
    from itdesk.core.status import history_problems

    assert accepted.assignee is not None
    assert history_problems(accepted) == []
