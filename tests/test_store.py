"""The store's promises (spec section 7): nothing is lost, processes serialise, numbers
are never reused, and archived tickets stay readable.

A failed commit is provoked with a real git hook, so the whole write path runs: the
working tree, the index and HEAD must be exactly as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from conftest import Itdesk, git, git_state

IT001 = "IT-20231025-001"


def install_failing_hook(root: Path, name: str) -> Path:
    hook = root / ".git" / "hooks" / name
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho 'hook says no' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    return hook


def assert_failed_cleanly(result: Result, args: object) -> None:
    """A failure of the environment (git refused): not 0, 1 or 2, and one line."""
    assert result.exit_code not in (0, 1, 2), (args, result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("itdesk: error:"), result.stderr
    assert "Traceback" not in result.output


# --------------------------------------------------------------- rollback


@pytest.mark.parametrize("hook", ["pre-commit", "commit-msg"])
def test_failed_commit_of_new_leaves_the_desk_as_it_was(desk: Itdesk, hook: str) -> None:
    desk.new(now="2023-10-25T09:00", title="first")
    # an unrelated change the technician has staged must survive, staged and uncommitted
    (desk.desk / "kb" / "draft.md").write_text("# VPN\n", encoding="utf-8")
    git(desk.desk, "add", "kb/draft.md")
    hook_path = install_failing_hook(desk.desk, hook)
    before = git_state(desk.desk)

    args = ("new", "--title", "second", "--requester", "r", "--now", "2023-10-25T09:30")
    result = desk(*args)
    assert_failed_cleanly(result, args)
    assert result.stdout == ""  # no number was given out
    assert git_state(desk.desk) == before
    assert not (desk.desk / "tickets" / "IT-20231025-002.yaml").exists()
    assert git(desk.desk, "diff", "--cached", "--name-only").splitlines() == ["kb/draft.md"]

    hook_path.unlink()
    assert desk.new(title="second") == "IT-20231025-002"
    # and that commit holds the ticket only, not the staged draft
    files = git(desk.desk, "show", "--name-only", "--format=", "HEAD").split()
    assert files == ["tickets/IT-20231025-002.yaml"]
    assert git(desk.desk, "diff", "--cached", "--name-only").splitlines() == ["kb/draft.md"]


@pytest.mark.parametrize("hook", ["pre-commit", "commit-msg"])
def test_failed_commit_of_an_update_puts_the_old_bytes_back(desk: Itdesk, hook: str) -> None:
    tid = desk.new()
    desk.walk(tid, "accept")
    path = desk.desk / "tickets" / f"{tid}.yaml"
    old = path.read_bytes()
    hook_path = install_failing_hook(desk.desk, hook)
    before = git_state(desk.desk)

    args = ("log", tid, "--via", "remote", "--as", "wang", "reset", "--now", "2023-10-25T10:00")
    result = desk(*args)
    assert_failed_cleanly(result, args)
    assert path.read_bytes() == old
    assert git_state(desk.desk) == before
    assert git(desk.desk, "diff", "--cached", "--name-only") == ""

    hook_path.unlink()
    desk.ok(*args)
    assert desk.ticket(tid)["log"][-1]["text"] == "reset"


def test_failed_replace_leaves_no_temp_file(desk: Itdesk, monkeypatch: pytest.MonkeyPatch) -> None:
    tid = desk.new()
    before = git_state(desk.desk)

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("itdesk.store.desk.os.replace", boom)
    result = desk("ack", tid, "--now", "2023-10-25T09:35")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert git_state(desk.desk) == before  # includes: no stray .tmp file in tickets/


# ------------------------------------------------------------------- lock


def _itdesk(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "itdesk", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),  # the hermetic HOME and git config
    )


def test_concurrent_new_processes_get_distinct_sequential_numbers(desk: Itdesk) -> None:
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    procs = [
        _itdesk("new", "--desk", str(desk.desk), "--now", "2023-10-25T09:30",
                "--title", f"problem {i}", "--requester", f"user{i}", "--channel", "chat")
        for i in range(6)
    ]  # fmt: skip
    results = [(p, *p.communicate(timeout=60)) for p in procs]
    for p, _, err in results:
        assert p.returncode == 0, err
    printed = [out.strip() for _, out, _ in results]
    assert sorted(printed) == [f"IT-20231025-{n:03d}" for n in range(1, 7)]

    # each process's number holds its own ticket
    for i, tid in enumerate(printed):
        data = yaml.safe_load((desk.desk / "tickets" / f"{tid}.yaml").read_text("utf-8"))
        assert data["id"] == tid
        assert data["title"] == f"problem {i}"

    commits = git(desk.desk, "rev-list", f"{head}..HEAD").split()
    assert len(commits) == 6
    for sha in commits:  # one ticket per commit
        files = git(desk.desk, "show", "--name-only", "--format=", sha).split()
        assert len(files) == 1 and files[0].startswith("tickets/IT-20231025-")
    assert git(desk.desk, "status", "--porcelain", "--untracked-files=all") == ""


TECHS = ("zhang", "zhao", "wang", "li")  # the members of the test desk's teams


def test_concurrent_updates_of_one_ticket_lose_nothing(desk: Itdesk) -> None:
    tid = desk.new()
    desk.walk(tid, "accept")
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    procs = [
        _itdesk("log", tid, "--desk", str(desk.desk), "--via", "note", "--as", TECHS[i % 4],
                "--now", "2023-10-25T10:00", f"step {i}")
        for i in range(6)
    ]  # fmt: skip
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    log = desk.ticket(tid)["log"]
    notes = sorted(e["text"] for e in log if e["kind"] == "note")
    assert notes == [f"step {i}" for i in range(6)]
    assert len(git(desk.desk, "rev-list", f"{head}..HEAD").split()) == 6
    assert git(desk.desk, "status", "--porcelain", "--untracked-files=all") == ""


# ------------------------------------------------------- numbers and archive


def archive(d: Itdesk, ticket_id: str, month: str = "2023-10") -> Path:
    folder = d.desk / "tickets" / "archive" / month
    folder.mkdir(parents=True, exist_ok=True)
    git(d.desk, "mv", f"tickets/{ticket_id}.yaml", f"tickets/archive/{month}/")
    git(d.desk, "commit", "-qm", f"archive {ticket_id}")
    return folder / f"{ticket_id}.yaml"


def test_numbers_are_never_reused_after_archiving(desk: Itdesk) -> None:
    ids = [desk.new(now=f"2023-10-25T09:0{i}", title=f"p{i}") for i in range(3)]
    assert ids == ["IT-20231025-001", "IT-20231025-002", "IT-20231025-003"]
    desk.walk(ids[2], "close")
    desk.walk(ids[1], "close")
    archive(desk, ids[2])
    assert desk.new(now="2023-10-25T15:00") == "IT-20231025-004"
    archive(desk, ids[1])
    archive(desk, "IT-20231025-004")
    # the highest number of the day is archived; the next one still goes up
    assert desk.new(now="2023-10-25T16:00") == "IT-20231025-005"
    # archives of other months count too
    archive(desk, "IT-20231025-005", month="2023-11")
    assert desk.new(now="2023-10-25T17:00") == "IT-20231025-006"
    # another day starts again at 001
    assert desk.new(now="2023-10-26T09:00") == "IT-20231026-001"


def test_archived_ticket_is_still_readable(desk: Itdesk) -> None:
    tid = desk.new(title="WiFi authentication fails")
    desk.walk(tid, "close")
    closed = desk.ticket(tid)
    archived_path = archive(desk, tid)
    assert not (desk.desk / "tickets" / f"{tid}.yaml").exists()
    before = git_state(desk.desk)

    table = desk.ok("show", tid).stdout
    assert tid in table and "WiFi authentication fails" in table
    assert f"{tid}: close" in table  # its history from before the move is still shown
    as_json = desk.ok("show", tid, "--format", "json", "--reveal").stdout
    assert json.loads(as_json) == closed == yaml.safe_load(archived_path.read_text("utf-8"))
    report = desk.ok("report", tid).stdout
    assert tid in report
    history = desk.ok("history", tid).stdout.splitlines()
    assert any(" new " in line for line in history)
    assert any(" close " in line for line in history)

    assert tid not in desk.ok("list").stdout
    assert tid in desk.ok("list", "--all").stdout
    assert desk("validate").exit_code == 0
    assert git_state(desk.desk) == before


def test_a_killed_write_is_undone_by_the_next_command(desk: Itdesk) -> None:
    """itdesk dies (os._exit: no cleanup runs) after writing the ticket and building its
    commit, just before the branch moves; the next command puts the file back and goes
    on."""
    tid = desk.new(now="2023-10-25T09:30")
    state = git_state(desk.desk)
    script = (
        "import os, sys\n"
        "import itdesk.store.git as g\n"
        "real = g.run\n"
        "def run(*args, **kw):\n"
        "    if args[0] == 'update-ref':\n"
        "        os._exit(9)\n"
        "    return real(*args, **kw)\n"
        "g.run = run\n"
        "from itdesk.cli import main\n"
        "sys.argv = ['itdesk'] + sys.argv[1:]\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, "ack", tid, "--desk", str(desk.desk),
         "--now", "2023-10-25T09:35"],
        capture_output=True, text=True, env=os.environ.copy(),
    )  # fmt: skip
    assert proc.returncode == 9, proc.stderr
    assert git(desk.desk, "status", "--porcelain") != ""  # left half-done
    result = desk("ack", tid, "--now", "2023-10-25T09:36")
    assert result.exit_code == 0, result.output
    assert "interrupted" in result.stderr
    assert git(desk.desk, "status", "--porcelain") == ""
    assert desk.ticket(tid)["acknowledged_at"] == "2023-10-25T09:36:00+08:00"
    assert git(desk.desk, "rev-list", "--count", f"{state.head}..HEAD").strip() == "1"


def test_a_killed_new_leaves_no_ticket_behind(desk: Itdesk) -> None:
    script = (
        "import os, sys\n"
        "import itdesk.store.git as g\n"
        "real = g.run\n"
        "g.run = lambda *a, **k: os._exit(9) if a[0] == 'update-ref' else real(*a, **k)\n"
        "from itdesk.cli import main\n"
        "sys.argv = ['itdesk'] + sys.argv[1:]\n"
        "main()\n"
    )
    argv = ["new", "--desk", str(desk.desk), "--now", "2023-10-25T09:30", "--title", "x",
            "--requester", "y"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True)
    assert proc.returncode == 9
    assert (desk.desk / "tickets" / "IT-20231025-001.yaml").exists()  # written, not committed
    assert desk.new(now="2023-10-25T09:31") == "IT-20231025-001"  # the number is free again
    assert git(desk.desk, "status", "--porcelain") == ""
