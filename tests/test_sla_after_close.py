"""A closed ticket's clocks after the fact: `sla explain` shows them as they stood at the
close (a clock still running then stopped there), in valid JSON with --format json;
stats counts a force-closed ticket's clocks as stopped, never running for ever; and
立即解决 ("immediately") gives the expected clock a due time at the report."""

from __future__ import annotations

import json

from conftest import Itdesk


def test_sla_explain_of_a_force_closed_ticket(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:00", expected_by="立即解决")
    desk.ok("ack", tid, "--now", "2023-10-25T09:05")
    desk.ok("close", tid, "--force", "--reason", "dup", "--now", "2023-10-28T12:00")
    states = json.loads(desk.ok("sla", "explain", tid, "--format", "json").stdout)
    by_clock = {s["clock"]: s for s in states}
    assert set(by_clock) == {"ack", "response", "resolution", "expected"}
    assert by_clock["ack"]["state"] == "met"
    for clock in ("response", "resolution", "expected"):  # P3: 24 h and 48 h
        assert by_clock[clock]["stopped"] == "2023-10-28T12:00:00+08:00"
        assert by_clock[clock]["state"] == "breached"
    text = desk.ok("sla", "explain", tid).stdout
    assert "closed 2023-10-28 12:00" in text and "running" not in text


def test_a_cancelled_tickets_explain_is_valid_json(desk: Itdesk) -> None:
    tid = desk.new()
    desk.ok("cancel", tid, "--reason", "mistake", "--now", "2023-10-25T09:40")
    assert json.loads(desk.ok("sla", "explain", tid, "--format", "json").stdout) == []
    assert "no clock runs" in desk.ok("sla", "explain", tid).stdout


def test_stats_stops_a_force_closed_tickets_clocks_at_the_close(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:00")
    desk.ok("close", tid, "--force", "--reason", "gone", "--now", "2023-10-25T09:03")
    st = json.loads(desk.ok("stats", "--format", "json", "--now", "2023-12-01T09:00").stdout)
    assert all(st["sla"][c]["running"] == 0 for c in st["sla"]), st["sla"]
    assert st["sla"]["ack"]["met"] == 1  # closed within the 10 minutes
    assert st["sla"]["resolution"]["met"] == 1


def test_immediately_has_an_expected_clock(desk: Itdesk) -> None:
    tid = desk.new(now="2023-10-25T09:00", expected_by="立即解决")
    result = desk("check", "--format", "json", "--now", "2023-10-25T09:01")
    assert result.exit_code == 1  # breached: the requester wanted it at once
    found = json.loads(result.stdout)
    assert {"ticket": tid, "clock": "expected", "state": "breached"}.items() <= next(
        s for s in found if s["clock"] == "expected"
    ).items()
