"""``itdesk archive`` end to end on real desks in tmp_path: the monthly move (one commit
per month, renames only), what still reads the archive, numbering, refusals, dry runs,
the purge after retention, rollback on a failing hook; and the retention rules of
:mod:`itdesk.core.archiving`.

The tests that write run twice (``paths_mode``): committed as a few paths are
(``git commit -- paths``) and through the store's temporary index, the way a month of
thousands of tickets goes (``MANY_PATHS`` set to 0).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHANGHAI, Itdesk, git, git_state

import itdesk
from itdesk.core.archiving import Month, purge_from, to_archive
from itdesk.core.policy import Retention, parse_retention
from itdesk.errors import InvalidPolicy
from itdesk.store import desk as store

SEP = "IT-20230910-001"  # closed 2023-09-10
OCT = "IT-20231025-001"  # closed 2023-10-25
CANCELLED = "IT-20231025-002"  # cancelled 2023-10-26
OPEN = "IT-20231026-001"  # acknowledged, never closed
NOV = "IT-20231101-001"  # closed 2023-11-02: the current month at NOW
NOW = "2023-11-05T09:00"


@pytest.fixture(params=["few", "many"])
def paths_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "many":
        monkeypatch.setattr(store, "MANY_PATHS", 0)
    return str(request.param)


_BUILT: dict[str, Path] = {}


@pytest.fixture
def desk(make_desk: Callable[..., Itdesk], tmp_path: Path) -> Itdesk:
    """Tickets closed in September and October, one cancelled, one open, and one closed
    in November (the current month at NOW). Built once by the commands themselves (35
    runs), then copied for each test."""
    if "desk" not in _BUILT:
        _BUILT["desk"] = _build(make_desk()).desk
    root = tmp_path / "copy"
    shutil.copytree(_BUILT["desk"], root, symlinks=True)
    return Itdesk(root)


def _build(d: Itdesk) -> Itdesk:
    assert d.new(now="2023-09-10T09:30", title="VPN times out") == SEP
    d.walk(SEP, "close", start=datetime(2023, 9, 10, 9, 30, tzinfo=SHANGHAI))
    assert d.new(now="2023-10-25T09:30", title="WiFi authentication fails") == OCT
    d.walk(OCT, "close")
    assert d.new(now="2023-10-25T10:00", title="Printer jams") == CANCELLED
    d.ok("cancel", CANCELLED, "--reason", f"duplicate of {OCT}", "--now", "2023-10-26T08:00")
    assert d.new(now="2023-10-26T09:00", title="Outlook stuck") == OPEN
    d.ok("ack", OPEN, "--now", "2023-10-26T09:05")
    assert d.new(now="2023-11-01T09:00", title="Monitor flickers") == NOV
    d.walk(NOV, "close", start=datetime(2023, 11, 2, 9, 0, tzinfo=SHANGHAI))
    return d


def active(d: Itdesk, tid: str) -> Path:
    return d.desk / "tickets" / f"{tid}.yaml"


def archived(d: Itdesk, month: str, tid: str) -> Path:
    return d.desk / "tickets" / "archive" / month / f"{tid}.yaml"


def commits(d: Itdesk, since: str) -> list[str]:
    """The full messages of the commits after ``since``, oldest first."""
    out = git(d.desk, "log", "--reverse", "--format=%B%x00", f"{since}..HEAD")
    return [m.strip() for m in out.split("\0") if m.strip()]


def head(d: Itdesk) -> str:
    return git(d.desk, "rev-parse", "HEAD").strip()


def install_failing_hook(d: Itdesk) -> Path:
    hook = d.desk / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    return hook


def set_policy(d: Itdesk, **keys: object) -> None:
    path = d.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(keys)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(d.desk, "commit", "-qam", "policy")


# ------------------------------------------------------------------ archive


def test_archive_moves_each_past_month_in_one_commit(desk: Itdesk, paths_mode: str) -> None:
    before = head(desk)
    texts = {tid: active(desk, tid).read_bytes() for tid in (SEP, OCT, CANCELLED)}

    result = desk.ok("archive", "--now", NOW)
    assert result.stdout.splitlines() == [
        "archive: 2023-09, 1 ticket",
        "archive: 2023-10, 2 tickets",
    ]
    assert result.stderr == ""

    sep, oct_ = commits(desk, before)
    assert sep.splitlines()[0] == "archive: 2023-09, 1 ticket"
    assert oct_.splitlines()[0] == "archive: 2023-10, 2 tickets"
    assert oct_.splitlines()[-2:] == ["Action: archive", "Tickets: 2"]
    assert f"\n{OCT}\n{CANCELLED}\n" in oct_  # few tickets: named in the body
    # every ticket it moves is a trailer: `git log --format=%(trailers:key=Ticket)` (#11)
    assert f"Ticket: {OCT}\nTicket: {CANCELLED}\n" in oct_
    author = git(desk.desk, "log", "-1", "--format=%an %ad", "--date=iso-strict")
    assert author.strip() == "Test Tech 2023-11-05T09:00:00+08:00"

    # renamed, bytes unchanged; the open ticket and November's stay
    for tid, month in ((SEP, "2023-09"), (OCT, "2023-10"), (CANCELLED, "2023-10")):
        assert not active(desk, tid).exists()
        assert archived(desk, month, tid).read_bytes() == texts[tid]
    assert active(desk, OPEN).exists() and active(desk, NOV).exists()
    changes = git(desk.desk, "show", "-M", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(c for c in changes if c) == [
        f"R100\ttickets/{tid}.yaml\ttickets/archive/2023-10/{tid}.yaml" for tid in (OCT, CANCELLED)
    ]
    assert git(desk.desk, "status", "--porcelain", "--untracked-files=all") == ""

    # nothing left to do: no commit
    again = desk.ok("archive", "--now", NOW)
    assert (
        again.stdout == "nothing to archive: no closed or cancelled ticket from before this month\n"
    )
    assert commits(desk, before) == [sep, oct_]


def test_archived_tickets_stay_readable(desk: Itdesk) -> None:
    closed_list = desk.ok("list", "--status", "closed,cancelled", "--format", "json").stdout
    assert {t["id"] for t in json.loads(closed_list)} == {SEP, OCT, CANCELLED, NOV}
    shown = json.loads(desk.ok("show", OCT, "--format", "json").stdout)

    desk.ok("archive", "--now", NOW)
    assert json.loads(desk.ok("show", OCT, "--format", "json").stdout) == shown
    table = desk.ok("show", OCT).stdout
    assert f"{OCT}: close" in table  # its history from before the move
    assert OCT in desk.ok("report", OCT).stdout
    history = desk.ok("history", OCT).stdout.splitlines()
    assert " close " in history[-2] and " archive " in history[-1]

    everything = json.loads(desk.ok("list", "--all", "--format", "json").stdout)
    assert {t["id"] for t in everything} == {SEP, OCT, CANCELLED, OPEN, NOV}
    # without --all only the active folder is read: the archived ones are gone from it
    closed_list = desk.ok("list", "--status", "closed,cancelled", "--format", "json").stdout
    assert {t["id"] for t in json.loads(closed_list)} == {NOV}
    assert [t["id"] for t in json.loads(desk.ok("list", "--format", "json").stdout)] == [OPEN]

    rows = list(csv.reader(io.StringIO(desk.ok("export", "--reveal").stdout)))
    assert {r[0] for r in rows[1:]} == {SEP, OCT, CANCELLED, OPEN, NOV}
    assert desk("validate").exit_code == 0


def test_numbers_continue_after_archiving(desk: Itdesk) -> None:
    desk.ok("archive", "--now", NOW)
    # both of 25 October's numbers are in the archive now: the next one is 003
    assert desk.new(now="2023-10-25T15:00", title="late report") == "IT-20231025-003"
    assert desk.new(now="2023-09-10T15:00", title="later still") == "IT-20230910-002"


def test_only_one_month(desk: Itdesk) -> None:
    before = head(desk)
    result = desk.ok("archive", "--month", "2023-09", "--now", NOW, "--format", "json")
    assert json.loads(result.stdout) == {
        "action": "archive",
        "dry_run": False,
        "months": [
            {"month": "2023-09", "folder": "tickets/archive/2023-09", "count": 1, "tickets": [SEP]}
        ],
    }
    assert len(commits(desk, before)) == 1
    assert archived(desk, "2023-09", SEP).exists() and active(desk, OCT).exists()
    empty = desk.ok("archive", "--month", "2023-08", "--now", NOW)
    assert empty.stdout == "nothing to archive: no closed or cancelled ticket from 2023-08\n"
    assert len(commits(desk, before)) == 1


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2023-11", "--month 2023-11 is not over yet (it is 2023-11 now)"),
        ("2024-01", "--month 2024-01 is not over yet (it is 2023-11 now)"),
        ("2023-13", "bad --month '2023-13'; expected YYYY-MM"),
        ("Oct", "bad --month 'Oct'; expected YYYY-MM"),
    ],
)
def test_current_future_and_bad_months_are_refused(desk: Itdesk, month: str, message: str) -> None:
    before = git_state(desk.desk)
    result = desk("archive", "--month", month, "--now", NOW)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert git_state(desk.desk) == before


def test_dry_run_changes_nothing(desk: Itdesk) -> None:
    before = git_state(desk.desk)
    result = desk.ok("archive", "--dry-run", "--now", NOW)
    assert result.stdout.splitlines() == [
        "archive: 2023-09, 1 ticket (dry run: nothing changed)",
        f"  {SEP}",
        "archive: 2023-10, 2 tickets (dry run: nothing changed)",
        f"  {OCT}",
        f"  {CANCELLED}",
    ]
    as_json = json.loads(desk.ok("archive", "--dry-run", "--now", NOW, "--format", "json").stdout)
    assert as_json["dry_run"] is True
    assert [m["tickets"] for m in as_json["months"]] == [[SEP], [OCT, CANCELLED]]
    assert git_state(desk.desk) == before


def test_a_failing_hook_leaves_the_desk_as_it_was(desk: Itdesk, paths_mode: str) -> None:
    # a change the technician has staged must stay staged, and out of the archive's commit
    (desk.desk / "kb" / "draft.md").write_text("# VPN\n", encoding="utf-8")
    git(desk.desk, "add", "kb/draft.md")
    hook = install_failing_hook(desk)
    before = git_state(desk.desk)

    result = desk("archive", "--now", NOW)
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith("itdesk: error: git commit")
    assert result.stderr.endswith("failed: hook says no\n") and result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before
    assert not (desk.desk / "tickets" / "archive").exists()  # no empty folder left behind
    assert git(desk.desk, "diff", "--cached", "--name-only").split() == ["kb/draft.md"]

    hook.unlink()
    desk.ok("archive", "--now", NOW)
    assert "kb/draft.md" not in git(desk.desk, "show", "--name-only", "--format=", "HEAD")
    assert git(desk.desk, "diff", "--cached", "--name-only").split() == ["kb/draft.md"]


def test_a_hand_edited_ticket_is_not_swept_into_the_archive(desk: Itdesk, paths_mode: str) -> None:
    path = active(desk, OCT)
    path.write_text(path.read_text(encoding="utf-8") + "# note\n", encoding="utf-8")
    before = git_state(desk.desk)
    result = desk("archive", "--month", "2023-10", "--now", NOW)
    assert result.exit_code == 2
    assert f"tickets/{OCT}.yaml has uncommitted changes" in result.stderr
    assert git_state(desk.desk) == before


def test_who_archives(desk: Itdesk, hermetic: Path) -> None:
    (hermetic / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")  # cron: no identity
    before = git_state(desk.desk)
    result = desk("archive", "--now", NOW)
    assert result.exit_code == 2
    assert "pass --as NAME" in result.stderr and result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before
    desk.ok("archive", "--now", NOW, "--as", "li")
    assert git(desk.desk, "log", "-1", "--format=%an <%ae>").strip() == "li <li@example.com>"


# -------------------------------------------------------------------- purge


def test_purge_removes_only_months_past_the_retention(desk: Itdesk, paths_mode: str) -> None:
    desk.ok("archive", "--now", NOW)
    start = head(desk)
    # September may go from 2025-10-01 (its end plus 2 years), October from 2025-11-01
    before = git_state(desk.desk)
    young = desk("archive", "--purge", "--month", "2023-10", "--now", "2025-10-15")
    assert young.exit_code == 2
    assert young.stderr == (
        "itdesk: error: --month 2023-10 is younger than the retention (2y): it may be purged "
        "from 2025-11-01; nothing was removed\n"
    )
    assert git_state(desk.desk) == before

    result = desk.ok("archive", "--purge", "--now", "2025-10-15")
    assert result.stdout == "archive: purge 2023-09, 1 ticket\n"
    (message,) = commits(desk, start)
    assert message.splitlines()[0] == "archive: purge 2023-09, 1 ticket"
    assert message.splitlines()[-3:] == [f"Ticket: {SEP}", "Action: purge", "Tickets: 1"]
    assert not (desk.desk / "tickets" / "archive" / "2023-09").exists()
    assert archived(desk, "2023-10", OCT).exists()
    assert git(desk.desk, "status", "--porcelain", "--untracked-files=all") == ""
    # history keeps it: created, archived, purged
    log = git(desk.desk, "log", "--all", "--format=%s", "--", f"tickets/archive/2023-09/{SEP}.yaml")
    assert log.splitlines() == ["archive: purge 2023-09, 1 ticket", "archive: 2023-09, 1 ticket"]
    assert desk("show", SEP).exit_code == 2

    assert desk.ok("archive", "--purge", "--now", "2025-10-15").stdout == (
        "nothing to purge: no archived month older than the retention (2y)\n"
    )
    far = desk.ok("archive", "--purge", "--month", "2023-10", "--now", "2030-01-01")
    assert far.stdout == "archive: purge 2023-10, 2 tickets\n"
    assert len(commits(desk, start)) == 2
    assert desk.new(now="2023-09-10T10:00") == "IT-20230910-002"  # purged: never given again
    assert not (desk.desk / "tickets" / "archive" / "2023-10").exists()
    assert desk.ok("archive", "--purge", "--month", "2023-10", "--now", "2030-01-01").stdout == (
        "nothing to purge: no archive for 2023-10\n"
    )
    # numbers of purged tickets are gone from the desk, but not from git
    assert OCT in git(desk.desk, "log", "--all", "--format=%B")


def test_purge_follows_the_desks_retention(desk: Itdesk) -> None:
    desk.ok("archive", "--now", NOW)
    set_policy(desk, retention="13m")
    before = git_state(desk.desk)
    dry = desk.ok("archive", "--purge", "--dry-run", "--now", "2024-11-01", "--format", "json")
    assert json.loads(dry.stdout)["retention"] == "1y1m"
    assert [m["month"] for m in json.loads(dry.stdout)["months"]] == ["2023-09"]
    assert git_state(desk.desk) == before
    # a ticket closed later than its folder's month keeps the month
    late = archived(desk, "2023-09", SEP)
    data = yaml.safe_load(late.read_text(encoding="utf-8"))
    data["closed_at"] = "2023-10-20T10:00:00+08:00"
    late.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "hand edit")
    refused = desk("archive", "--purge", "--month", "2023-09", "--now", "2024-11-01")
    assert refused.exit_code == 2 and "purged from 2024-11-20" in refused.stderr

    set_policy(desk, retention="3 weeks")
    bad = desk("archive", "--purge", "--now", "2024-11-01")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("itdesk: error: itdesk.yaml: retention: '3 weeks' is not")


def test_purge_stops_at_a_ticket_without_closed_at(desk: Itdesk) -> None:
    desk.ok("archive", "--now", NOW)
    path = archived(desk, "2023-09", SEP)
    path.write_text(path.read_text(encoding="utf-8").replace("closed_at: '", "closed_at: 'x"))
    git(desk.desk, "commit", "-qam", "hand edit")
    before = git_state(desk.desk)
    result = desk("archive", "--purge", "--now", "2030-01-01")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"itdesk: error: tickets/archive/2023-09/{SEP}.yaml: closed_at")
    assert result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before


def test_a_failing_hook_leaves_a_purge_undone(desk: Itdesk, paths_mode: str) -> None:
    desk.ok("archive", "--now", NOW)
    install_failing_hook(desk)
    before = git_state(desk.desk)
    result = desk("archive", "--purge", "--now", "2030-01-01")
    assert result.exit_code == 3
    assert git_state(desk.desk) == before


# ------------------------------------------------------------ the pure rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2y", Retention(24)),
        ("24m", Retention(24)),
        ("730d", Retention(0, 730)),
        ("1y6m", Retention(18)),
        ("2 years", Retention(24)),
        ("18 months", Retention(18)),
    ],
)
def test_retention_forms(text: str, expected: Retention) -> None:
    assert parse_retention(text) == expected


@pytest.mark.parametrize(
    "value", ["3w", "2", 2, "", "0d", "-1y", "2y and more", "101y", "40000d", True, None, [2]]
)
def test_bad_retention_names_the_key(value: object) -> None:
    with pytest.raises(InvalidPolicy, match=r"^itdesk\.yaml: retention: .*2y, 24m or 730d"):
        parse_retention(value)


def test_retention_counts_calendar_months_from_closed_at() -> None:
    tz = timezone(timedelta(hours=8))
    leap = datetime(2024, 2, 29, 18, 0, tzinfo=tz)
    assert Retention(12).expires(leap) == datetime(2025, 2, 28, 18, 0, tzinfo=tz)
    assert Retention(0, 730).expires(leap) == datetime(2026, 2, 28, 18, 0, tzinfo=tz)
    assert purge_from(Month(2023, 12), [], Retention(24), tz) == datetime(2026, 1, 1, tzinfo=tz)


def test_to_archive_reads_closed_at_in_the_desks_zone() -> None:
    tz = timezone(timedelta(hours=8))
    tickets: list[dict[str, Any]] = [
        # 31 October 20:00 in UTC is 1 November in Shanghai: November's
        {"id": "IT-20231031-001", "status": "closed", "closed_at": "2023-10-31T20:00:00+00:00"},
        {"id": "IT-20231030-001", "status": "cancelled", "closed_at": "2023-10-30T10:00:00+08:00"},
        {"id": "IT-20231029-001", "status": "resolved", "closed_at": None},
        {"id": "IT-20231028-001", "status": "closed", "closed_at": None},
    ]
    assert to_archive(tickets, Month(2023, 12), tz) == {
        Month(2023, 10): ["IT-20231030-001"],
        Month(2023, 11): ["IT-20231031-001"],
    }
    assert to_archive(tickets, Month(2023, 11), tz) == {Month(2023, 10): ["IT-20231030-001"]}


def test_a_killed_archive_is_undone_by_the_next_run(desk: Itdesk) -> None:
    """The pre-commit hook kills the itdesk process (no cleanup runs), then fails."""
    before = git_state(desk.desk)
    hook = desk.desk / ".git" / "hooks" / "pre-commit"
    hook.write_text('#!/bin/sh\nkill -9 "$(ps -o ppid= -p "$PPID" | tr -d " ")"\nexit 1\n')
    hook.chmod(0o755)
    package = Path(itdesk.__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "itdesk", "archive", "--desk", str(desk.desk), "--now", NOW],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(package)},
    )
    assert proc.returncode == -signal.SIGKILL
    assert not active(desk, SEP).exists()  # left half-done
    hook.unlink()
    assert git_state(desk.desk) != before

    result = desk.ok("archive", "--now", NOW)
    assert "interrupted" in result.stderr
    assert result.stdout.splitlines() == [
        "archive: 2023-09, 1 ticket",
        "archive: 2023-10, 2 tickets",
    ]
    assert git(desk.desk, "rev-list", "--count", f"{before.head}..HEAD").strip() == "2"
    assert git(desk.desk, "status", "--porcelain", "--untracked-files=all") == ""


def test_an_archived_ticket_can_be_reopened_logged_and_promoted(desk: Itdesk) -> None:
    """Reopening brings it back to tickets/ in one commit (its history follows it);
    promoting it to the KB writes it where it is; logging on a closed one says what to do."""
    desk.ok("archive", "--now", NOW)
    assert archived(desk, "2023-10", OCT).is_file()
    result = desk("log", OCT, "--now", "2023-11-06T09:00", "called back")
    assert result.exit_code == 2 and "reopen it first" in result.stderr
    promoted = desk.ok("kb", "promote", OCT, "--no-edit", "--now", "2023-11-06T09:00")
    assert "promote to kb/" in promoted.stdout
    assert "kb:" in archived(desk, "2023-10", OCT).read_text(encoding="utf-8")
    assert not active(desk, OCT).exists()

    before = head(desk)
    desk.ok("reopen", OCT, "--reason", "WiFi drops again", "--now", "2023-11-06T10:00")
    assert active(desk, OCT).is_file() and not archived(desk, "2023-10", OCT).exists()
    assert len(commits(desk, before)) == 1
    assert desk.ticket(OCT)["status"] == "reopened"
    desk.ok("log", OCT, "--now", "2023-11-06T10:05", "checking the access point")
    follow = git(desk.desk, "log", "--follow", "--format=%s", "--", f"tickets/{OCT}.yaml")
    assert f"{OCT}: new: WiFi authentication fails" in follow  # one story across the moves
    assert desk("validate").exit_code == 0
    assert git(desk.desk, "status", "--porcelain") == ""
