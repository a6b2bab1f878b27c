"""status.py: the table of legal moves, the refusal message, and checking a recorded history."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import T0, make_ticket

from itdesk.core.model import LogEntry, LogKind, Resolution, Status, Ticket
from itdesk.core.status import TRANSITIONS, allowed_next, history_problems, transition
from itdesk.errors import InvalidTransition

S = Status


def test_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(Status)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW, S.ACKNOWLEDGED),
        (S.ACKNOWLEDGED, S.ASSIGNED),
        (S.ASSIGNED, S.IN_PROGRESS),
        (S.ASSIGNED, S.ASSIGNED),  # reassignment
        (S.IN_PROGRESS, S.PENDING_USER),
        (S.IN_PROGRESS, S.PENDING_VENDOR),
        (S.IN_PROGRESS, S.RESOLVED),
        (S.PENDING_USER, S.IN_PROGRESS),
        (S.PENDING_VENDOR, S.IN_PROGRESS),
        (S.PENDING_VENDOR, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
        (S.RESOLVED, S.REOPENED),
        (S.CLOSED, S.REOPENED),
        (S.REOPENED, S.IN_PROGRESS),
        (S.REOPENED, S.ASSIGNED),
    ],
)
def test_legal_moves(current: Status, target: Status) -> None:
    assert target in TRANSITIONS[current]
    assert transition("IT-20231025-001", current, target, "go") is target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW, S.ASSIGNED),
        (S.NEW, S.IN_PROGRESS),
        (S.NEW, S.RESOLVED),
        (S.ACKNOWLEDGED, S.IN_PROGRESS),
        (S.ASSIGNED, S.RESOLVED),
        (S.IN_PROGRESS, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.REOPENED),
        (S.RESOLVED, S.IN_PROGRESS),
        (S.RESOLVED, S.CANCELLED),
        (S.CLOSED, S.IN_PROGRESS),
        (S.CLOSED, S.CANCELLED),
        (S.REOPENED, S.REOPENED),
    ],
)
def test_illegal_moves(current: Status, target: Status) -> None:
    assert target not in TRANSITIONS[current]
    with pytest.raises(InvalidTransition):
        transition("IT-20231025-001", current, target, "go")


def test_cancelled_is_terminal_and_closed_only_reopens() -> None:
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    assert TRANSITIONS[S.CLOSED] == frozenset({S.REOPENED})
    assert TRANSITIONS[S.RESOLVED] == frozenset({S.CLOSED, S.REOPENED})


def test_every_open_unresolved_status_can_be_cancelled_or_closed_by_force() -> None:
    for s in Status:
        if s.is_open and s is not S.RESOLVED:
            assert {S.CANCELLED, S.CLOSED} <= TRANSITIONS[s], s


def test_nothing_goes_back_to_new() -> None:
    assert all(S.NEW not in nexts for nexts in TRANSITIONS.values())


def test_every_status_is_reachable_from_new() -> None:
    seen, todo = {S.NEW}, [S.NEW]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(Status)


def test_allowed_next_is_in_enum_order() -> None:
    assert allowed_next(S.RESOLVED) == [S.CLOSED, S.REOPENED]
    assert allowed_next(S.CANCELLED) == []


def test_refusal_names_the_status_and_the_next_steps_with_their_commands() -> None:
    with pytest.raises(InvalidTransition) as info:
        transition("IT-20231025-001", S.NEW, S.IN_PROGRESS, "accept")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("IT-20231025-001 is new: cannot accept")
    assert "acknowledged (ack)" in message
    assert "cancelled (cancel)" in message
    assert "closed (close --force --reason)" in message


def test_refusal_from_resolved_offers_a_plain_close_and_reopen() -> None:
    with pytest.raises(InvalidTransition) as info:
        transition("IT-20231025-001", S.RESOLVED, S.IN_PROGRESS, "accept")
    message = str(info.value)
    assert "is resolved" in message
    assert "closed (close)" in message and "--force" not in message
    assert "reopened (reopen)" in message


def test_refusal_from_in_progress_lists_pending_commands() -> None:
    with pytest.raises(InvalidTransition) as info:
        transition("IT-20231025-001", S.IN_PROGRESS, S.IN_PROGRESS, "accept")
    message = str(info.value)
    assert "pending_user (pending --on user)" in message
    assert "pending_vendor (pending --on vendor)" in message
    assert "resolved (resolve)" in message


def test_refusal_from_cancelled_says_it_is_final() -> None:
    with pytest.raises(InvalidTransition, match="cancelled is final"):
        transition("IT-20231025-001", S.CANCELLED, S.REOPENED, "reopen")


# ------------------------------------------------------------ history_problems


def _with_statuses(statuses: list[Status], final: Status | None = None, **kw: object) -> Ticket:
    t = make_ticket()
    log = tuple(
        LogEntry(T0 + timedelta(minutes=i), "desk", LogKind.STATUS, s.value, status=s)
        for i, s in enumerate(statuses)
    )
    return replace(t, status=final or statuses[-1], log=log, **kw)  # type: ignore[arg-type]


def test_a_new_ticket_has_no_problems() -> None:
    assert history_problems(make_ticket()) == []


def test_a_consistent_history_has_no_problems() -> None:
    t = _with_statuses(
        [S.NEW, S.ACKNOWLEDGED, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED],
        assignee="wang",
        resolution=Resolution("fixed", T0 + timedelta(hours=1), "wang"),
    )
    assert history_problems(t) == []


def test_an_illegal_log_sequence_is_found_at_its_entry() -> None:
    t = _with_statuses([S.NEW, S.IN_PROGRESS], assignee="wang")
    problems = history_problems(t)
    assert (["log", 1], "new -> in_progress is not a legal transition") in problems


def test_a_first_status_other_than_new_is_found() -> None:
    t = _with_statuses([S.ACKNOWLEDGED])
    assert (["log", 0], "the first status is acknowledged, not new") in history_problems(t)


def test_log_entries_without_status_are_skipped() -> None:
    t = make_ticket()
    note = LogEntry(T0, "wang", LogKind.NOTE, "called")
    assert history_problems(replace(t, log=t.log + (note,))) == []


def test_a_status_that_disagrees_with_the_log_is_found() -> None:
    t = _with_statuses([S.NEW, S.ACKNOWLEDGED], final=S.ASSIGNED, assignee="wang")
    problems = history_problems(t)
    assert problems == [(["status"], "assigned, but the log's last status is acknowledged")]


def test_resolved_without_resolution_is_found() -> None:
    t = _with_statuses([S.NEW, S.ACKNOWLEDGED, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED],
                       assignee="wang")  # fmt: skip
    assert history_problems(t) == [(["resolution"], "a resolved ticket needs a resolution")]


def test_closed_without_closed_at_is_found() -> None:
    t = _with_statuses([S.NEW, S.CLOSED])
    assert history_problems(t) == [(["closed_at"], "a closed ticket needs closed_at")]


def test_cancelled_without_closed_at_is_found() -> None:
    t = _with_statuses([S.NEW, S.CANCELLED])
    assert history_problems(t) == [(["closed_at"], "a cancelled ticket needs closed_at")]


def test_closed_at_on_an_open_ticket_is_found() -> None:
    t = _with_statuses([S.NEW, S.ACKNOWLEDGED], closed_at=T0)
    assert history_problems(t) == [(["closed_at"], "set on a ticket that is acknowledged")]


def test_in_progress_without_assignee_is_found() -> None:
    t = _with_statuses([S.NEW, S.ACKNOWLEDGED, S.ASSIGNED, S.IN_PROGRESS])
    assert history_problems(t) == [(["assignee"], "a ticket that is in_progress needs an assignee")]
