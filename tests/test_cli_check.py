"""itdesk check and check --escalate as cron runs them: exit codes, JSON, one commit
per run, idempotence, a killed run, and notifications through a real HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Itdesk, git, git_state

KEYS = {"ticket", "clock", "state", "due", "late_seconds", "assignee", "escalated"}


def commits(desk: Itdesk) -> int:
    return int(git(desk.desk, "rev-list", "--count", "HEAD"))


def check(desk: Itdesk, now: str, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    result = desk("check", "--now", now, "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_nothing_due_exits_zero(desk: Itdesk) -> None:
    desk.new(now="2023-10-25T09:30")
    code, rows = check(desk, "2023-10-25T09:35")
    assert code == 0 and rows == []


def test_breach_exits_one_with_the_spec_keys(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:30")
    code, rows = check(desk, "2023-10-25T09:40:01")
    assert code == 1
    ack = next(r for r in rows if r["clock"] == "ack")
    assert set(ack) == KEYS
    assert ack == {
        "ticket": tid,
        "clock": "ack",
        "state": "breached",
        "due": "2023-10-25T09:40:00+08:00",
        "late_seconds": 1,
        "assignee": None,
        "escalated": False,
    }
    code, rows = check(desk, "2023-10-25T09:39:59")
    assert code == 0 and [r["state"] for r in rows if r["clock"] == "ack"] == ["at_risk"]


def test_all_clocks_shows_running_and_met(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:30")
    desk.ok("ack", tid, "--now", "2023-10-25T09:32")
    _, rows = check(desk, "2023-10-25T09:33", "--all-clocks")
    states = {r["clock"]: r["state"] for r in rows}
    assert states == {"ack": "met", "response": "running", "resolution": "running"}


def test_escalate_records_once_and_commits_once_per_run(desk: Itdesk) -> None:
    a = desk.new(now="2023-10-25T09:30")
    b = desk.new(now="2023-10-25T09:31")
    before = commits(desk)
    code, rows = check(desk, "2023-10-25T09:45", "--escalate")
    assert code == 1
    assert commits(desk) == before + 1
    message = git(desk.desk, "log", "-1", "--format=%B")
    assert message.startswith("check: escalate 2 tickets\n")
    assert f"Ticket: {a}" in message and f"Ticket: {b}" in message
    assert "Action: escalate" in message
    assert all(r["escalated"] for r in rows if r["clock"] == "ack")
    esc = desk.ticket(a)["escalations"]
    assert [(e["clock"], e["level"], e["to"]) for e in esc] == [("ack", "supervisor", "zhang")]
    assert desk.ticket(a)["log"][-1]["kind"] == "system"
    # Again, at the same time and later: nothing new, no commit.
    for now in ("2023-10-25T09:45", "2023-10-25T09:50"):
        code, _ = check(desk, now, "--escalate")
        assert code == 1 and commits(desk) == before + 1
    assert git(desk.desk, "status", "--porcelain") == ""


def test_at_risk_warns_the_assignee_once(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:30")
    desk.ok("ack", tid, "--now", "2023-10-25T09:31")
    desk.ok("classify", tid, "-p", "P2", "-c", "network", "--now", "2023-10-25T09:32")
    desk.ok("assign", tid, "--to", "wang", "--now", "2023-10-25T09:33")
    before = commits(desk)
    check(desk, "2023-10-25T11:05", "--escalate")  # accept: 92 of 120 minutes used
    esc = desk.ticket(tid)["escalations"]
    assert [(e["clock"], e["level"], e["to"]) for e in esc] == [
        ("response", "assignee", "wang"),
        ("accept", "assignee", "wang"),
    ]
    assert commits(desk) == before + 1
    check(desk, "2023-10-25T11:10", "--escalate")
    assert commits(desk) == before + 1


def test_breach_lasting_goes_to_the_manager(desk: Itdesk) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text())
    data["managers"] = ["boss"]
    data["sla"]["manager_after"] = "1h"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    git(desk.desk, "commit", "-qam", "ladder")
    tid = desk.new(now="2023-10-25T09:30")
    check(desk, "2023-10-25T09:41", "--escalate")
    check(desk, "2023-10-25T10:39", "--escalate")
    levels = [e["level"] for e in desk.ticket(tid)["escalations"] if e["clock"] == "ack"]
    assert levels == ["supervisor"]
    check(desk, "2023-10-25T10:41", "--escalate")
    levels = [e["level"] for e in desk.ticket(tid)["escalations"] if e["clock"] == "ack"]
    assert levels == ["supervisor", "manager"]


def test_a_failed_run_records_nothing_and_the_next_one_does(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:30")
    hook = desk.desk / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(0o755)
    state = git_state(desk.desk)
    result = desk("check", "--escalate", "--now", "2023-10-25T09:45")
    assert result.exit_code == 3
    assert git_state(desk.desk) == state
    hook.unlink()
    check(desk, "2023-10-25T09:46", "--escalate")
    assert [e["clock"] for e in desk.ticket(tid)["escalations"]] == ["ack"]


def test_closed_and_cancelled_tickets_are_not_checked(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:30")
    desk.ok("cancel", tid, "--reason", "duplicate", "--now", "2023-10-25T09:31")
    code, rows = check(desk, "2023-10-26T09:00", "--escalate")
    assert code == 0 and rows == []


def test_check_filters_like_list(desk: Itdesk) -> None:
    a = desk.new(now="2023-10-25T09:30")
    desk.new(now="2023-10-25T09:30")
    desk.ok("ack", a, "--now", "2023-10-25T09:31")
    desk.ok("classify", a, "-p", "P1", "--now", "2023-10-25T09:32")
    _, rows = check(desk, "2023-10-25T10:00", "--priority", "P1")
    assert {r["ticket"] for r in rows} == {a}


def test_list_breached_uses_the_same_clocks(desk: Itdesk) -> None:
    a = desk.new(now="2023-10-25T09:30")
    b = desk.new(now="2023-10-25T09:35")
    desk.ok("ack", b, "--now", "2023-10-25T09:36")
    result = desk.ok("list", "--breached", "--now", "2023-10-25T09:41", "--format", "json")
    assert [t["id"] for t in json.loads(result.stdout)] == [a]


def test_sla_explain(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:30")
    out = desk.ok("sla", "explain", tid, "--now", "2023-10-25T09:45").stdout
    assert "ack: breached" in out and "due       2023-10-25 09:40" in out
    rows = json.loads(desk.ok("sla", "explain", tid, "--now", "2023-10-25T09:45",
                              "--format", "json").stdout)  # fmt: skip
    assert {r["clock"] for r in rows} == {"ack", "response", "resolution"}


# ---------------------------------------------------------------- notifications


class Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    fail = False

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail:
            self.send_response(500)
            self.end_headers()
            return
        type(self).received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[tuple[str, type[Hook]]]:
    handler = type("H", (Hook,), {"received": [], "fail": False})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def _notify(desk: Path, url: str) -> None:
    path = desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text())
    data["notify"] = {"webhooks": [{"url": url, "style": "generic", "events": ["escalated"]}]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    git(desk, "commit", "-qam", "notify")


def test_escalation_is_notified_once_and_retried_when_the_server_was_down(
    desk: Itdesk, hook_server: tuple[str, type[Hook]]
) -> None:
    url, handler = hook_server
    _notify(desk.desk, url)
    tid = desk.new(now="2023-10-25T09:30")
    handler.fail = True
    result = desk("check", "--escalate", "--now", "2023-10-25T09:45")
    assert result.exit_code == 1
    assert "will retry" in result.stderr
    assert [e["clock"] for e in desk.ticket(tid)["escalations"]] == ["ack"]  # recorded anyway
    assert handler.received == []
    handler.fail = False
    check(desk, "2023-10-25T09:50", "--escalate")
    assert len(handler.received) == 1
    body = handler.received[0]
    assert body["event"] == "escalated" and body["ticket"] == tid and "ack" in body["text"]
    check(desk, "2023-10-25T09:55", "--escalate")
    assert len(handler.received) == 1  # never twice


def test_validate_reports_a_bad_calendar(desk: Itdesk) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text())
    data["calendars"] = {"office": {"hours": {"mon-fri": ["13:30-12:00"]}}}
    data["sla"]["calendars"] = {"P3": "office"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    git(desk.desk, "commit", "-qam", "bad calendar")
    result = desk("validate")
    assert result.exit_code == 1
    assert "calendars.office.hours" in result.stdout
    result = desk("check", "--now", "2023-10-25T10:00")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


@pytest.mark.parametrize("problem", ["dirty", "untracked", "corrupt"])
def test_the_cron_job_keeps_going_past_a_bad_ticket_file(
    make_desk: Callable[..., Itdesk], problem: str
) -> None:
    """One hand-edited, untracked or corrupt ticket is reported with its path; the other
    tickets are still checked and escalated, and the exit status says so."""
    d = make_desk()
    good = d.new(now="2023-10-25T09:30")
    bad = d.new(now="2023-10-25T09:31")
    path = d.desk / "tickets" / f"{bad}.yaml"
    if problem == "dirty":
        path.write_text(path.read_text(encoding="utf-8") + "remarks: hand edit\n", "utf-8")
    elif problem == "untracked":
        git(d.desk, "rm", "-q", "--cached", f"tickets/{bad}.yaml")
        git(d.desk, "commit", "-qm", "untrack")
    else:
        path.write_text("id: [unclosed\n", encoding="utf-8")
        git(d.desk, "commit", "-qam", "corrupt")
    result = d("check", "--escalate", "--now", "2023-10-25T12:00")
    assert result.exit_code == 1, result.output
    assert f"tickets/{bad}.yaml" in result.stderr
    assert "supervisor" in str(d.ticket(good).get("escalations"))
    assert git(d.desk, "log", "-1", "--format=%s").startswith("check: escalate 1 ticket")


def test_escalate_leaves_out_a_hand_edited_ticket_and_records_the_others(desk: Itdesk) -> None:
    """The tickets to escalate are read under the lock with one git status for all
    (#12); a hand edit is a finding, the others are still escalated."""
    a = desk.new(now="2023-10-25T09:30")
    b = desk.new(now="2023-10-25T09:31")
    c = desk.new(now="2023-10-25T09:32")
    edited = desk.desk / "tickets" / f"{b}.yaml"
    edited.write_text(edited.read_text().replace("title:", "title: (edited)", 1))
    before = commits(desk)
    result = desk("check", "--now", "2023-10-25T09:45", "--escalate", "--format", "json")
    assert result.exit_code == 1, result.output
    assert f"tickets/{b}.yaml has uncommitted changes" in result.stderr
    assert "not escalated, the other tickets are" in result.stderr
    assert commits(desk) == before + 1
    message = git(desk.desk, "log", "-1", "--format=%B")
    assert f"Ticket: {a}" in message and f"Ticket: {c}" in message
    assert f"Ticket: {b}" not in message
    assert "(edited)" in edited.read_text() and "escalations: []" in edited.read_text()
    assert desk.ticket(c)["escalations"] and git(desk.desk, "status", "--porcelain") != ""
