"""The commit as a compare-and-swap (issue 8): built with git plumbing on the branch's
commit, the branch moved with ``update-ref <new> <old>``.

Real git in tmp_path, no mock of git: where a test needs something to happen at an
exact moment (a Ctrl-C just after the branch moved, a plain ``git commit`` between the
tree and the ref update), it wraps one of the store's own steps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from conftest import SHANGHAI, Itdesk, git, git_state, make_ticket

from itdesk.core import lifecycle as lc
from itdesk.core.model import ticket_to_dict
from itdesk.store import commit as plumbing
from itdesk.store import transaction
from itdesk.store.yamlio import dump_yaml

NOW = "2023-10-25T10:00"


def one_error_line(result: Result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("itdesk: error:"), result.stderr
    return lines[0]


def status(d: Itdesk) -> str:
    return git(d.desk, "status", "--porcelain", "--untracked-files=all")


def head(d: Itdesk) -> str:
    return git(d.desk, "rev-parse", "HEAD").strip()


def notes(d: Itdesk, tid: str) -> list[str]:
    return [e["text"] for e in d.ticket(tid)["log"] if e["kind"] == "note"]


@pytest.fixture
def accepted(desk: Itdesk) -> tuple[Itdesk, str]:
    tid = desk.new()
    desk.walk(tid, "accept")
    return desk, tid


def log_args(tid: str, text: str, now: str = NOW) -> tuple[str, ...]:
    return ("log", tid, "--via", "note", "--as", "wang", "--now", now, text)


# -------------------------------------------------- what the commit looks like


def test_the_commit_is_what_git_commit_made(accepted: tuple[Itdesk, str]) -> None:
    d, tid = accepted
    before = head(d)
    d.ok(*log_args(tid, "called back"))
    assert git(d.desk, "rev-parse", "HEAD^").strip() == before
    assert git(d.desk, "log", "-1", "--format=%an <%ae>|%aI|%cn <%ce>|%cI").strip() == (
        "wang <wang@example.com>|2023-10-25T10:00:00+08:00|"
        "Test Tech <tech@example.com>|2023-10-25T12:00:00+08:00"
    )
    assert git(d.desk, "log", "-1", "--format=%B") == (
        f"{tid}: log note: called back\n\nTicket: {tid}\nAction: log\n\n"
    )
    assert git(d.desk, "show", "--name-only", "--format=", "HEAD").split() == [
        f"tickets/{tid}.yaml"
    ]
    assert git(d.desk, "reflog", "-1", "--format=%gs").strip() == (
        f"commit: {tid}: log note: called back"
    )
    assert status(d) == ""
    assert not (d.desk / ".git" / "itdesk" / "journal.json").exists()


# ------------------------------------------------------------------- bug 1


def test_an_interrupt_after_the_branch_moved_keeps_the_commit(
    accepted: tuple[Itdesk, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C arrives just as ``update-ref`` returns: the change is committed, so the
    files stay and the index follows; nothing says "uncommitted changes"."""
    d, tid = accepted
    before = head(d)
    real = transaction._sync_index
    calls: list[list[str]] = []

    def interrupted(desk: Any, paths: list[str]) -> None:
        calls.append(paths)
        if len(calls) == 1:
            raise KeyboardInterrupt
        real(desk, paths)

    monkeypatch.setattr(transaction, "_sync_index", interrupted)
    result = d(*log_args(tid, "called back"))
    assert result.exit_code == 130, result.output
    assert git(d.desk, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert notes(d, tid) == ["called back"]
    assert status(d) == ""
    monkeypatch.undo()
    d.ok(*log_args(tid, "second call", "2023-10-25T10:05"))
    assert notes(d, tid) == ["called back", "second call"]
    assert status(d) == ""


def test_a_failure_after_the_branch_moved_is_finished_by_the_next_command(
    accepted: tuple[Itdesk, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, tid = accepted
    before = head(d)

    def broken(desk: Any, paths: list[str]) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(transaction, "_sync_index", broken)
    result = d(*log_args(tid, "called back"))
    assert result.exit_code == 3 and "disk on fire" in result.stderr
    assert git(d.desk, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    assert notes(d, tid) == ["called back"]  # the committed bytes were kept
    monkeypatch.undo()

    result = d.ok(*log_args(tid, "second call", "2023-10-25T10:05"))
    assert "interrupted after its commit" in result.stderr
    assert notes(d, tid) == ["called back", "second call"]
    assert git(d.desk, "rev-list", "--count", f"{before}..HEAD").strip() == "2"
    assert status(d) == ""


KILL_AFTER = """
import os, sys
import itdesk.store.git as g
real = g.run
def run(*args, **kw):
    out = real(*args, **kw)
    if args[0] == {step!r}:
        os._exit(9)
    return out
g.run = run
from itdesk.cli import main
sys.argv = ["itdesk"] + sys.argv[1:]
main()
"""


@pytest.mark.parametrize("step", ["update-ref", "update-index"])
def test_a_run_killed_after_the_branch_moved_is_finished(
    accepted: tuple[Itdesk, str], step: str
) -> None:
    d, tid = accepted
    before = head(d)
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER.format(step=step), *log_args(tid, "called back"),
         "--desk", str(d.desk)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 9, proc.stderr
    assert git(d.desk, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    result = d.ok(*log_args(tid, "second call", "2023-10-25T10:05"))
    assert "interrupted" in result.stderr
    assert notes(d, tid) == ["called back", "second call"]
    assert status(d) == ""


# ------------------------------------------------------------------- bug 2


def commit_policy_meanwhile(d: Itdesk, monkeypatch: pytest.MonkeyPatch, once: bool = True) -> None:
    """Between the tree build and the ref update, someone commits itdesk.yaml with git."""
    real = plumbing.commit_tree
    done: list[str] = []

    def then_git_commit(*args: Any, **kw: Any) -> str:
        if not done or not once:
            policy = d.desk / "itdesk.yaml"
            policy.write_text(policy.read_text("utf-8") + f"# edited by hand {len(done)}\n")
            git(d.desk, "commit", "-q", "-m", "policy: a comment", "--", "itdesk.yaml")
            done.append(head(d))
        return real(*args, **kw)

    monkeypatch.setattr(plumbing, "commit_tree", then_git_commit)


def test_a_commit_made_meanwhile_is_kept(
    accepted: tuple[Itdesk, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, tid = accepted
    commit_policy_meanwhile(d, monkeypatch)
    d.ok(*log_args(tid, "called back"))
    assert git(d.desk, "log", "-2", "--format=%s").splitlines() == [
        f"{tid}: log note: called back",
        "policy: a comment",
    ]
    assert "# edited by hand 0" in git(d.desk, "show", "HEAD:itdesk.yaml")
    assert notes(d, tid) == ["called back"]
    assert status(d) == ""


def test_a_branch_that_keeps_moving_is_given_up(
    accepted: tuple[Itdesk, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, tid = accepted
    path = d.desk / "tickets" / f"{tid}.yaml"
    old = path.read_bytes()
    commit_policy_meanwhile(d, monkeypatch, once=False)
    line = one_error_line(d(*log_args(tid, "called back")), 2)
    assert "kept moving" in line
    assert path.read_bytes() == old
    assert status(d) == ""


def test_a_commit_of_the_same_ticket_meanwhile_refuses(
    accepted: tuple[Itdesk, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, tid = accepted
    rel = f"tickets/{tid}.yaml"
    real = plumbing.commit_tree
    theirs: list[str] = []

    def then_commit_the_ticket(*args: Any, **kw: Any) -> str:
        if not theirs:  # another technician's change to the same ticket, fetched and
            # merged by plumbing (the working tree is not touched, as for a pull)
            text = git(d.desk, "show", f"HEAD:{rel}").replace("title: ", "title: Re: ", 1)
            env = {**os.environ, "GIT_INDEX_FILE": str(d.desk / ".git" / "their-index")}

            def plumb(*args: str, input: str | None = None) -> str:
                proc = subprocess.run(["git", *args], cwd=d.desk, env=env, input=input,
                                      capture_output=True, text=True, check=True)  # fmt: skip
                return proc.stdout.strip()

            plumb("read-tree", "HEAD")
            blob = plumb("hash-object", "-w", "--stdin", input=text)
            plumb("update-index", "--cacheinfo", f"100644,{blob},{rel}")
            new = plumb("commit-tree", plumb("write-tree"), "-p", "HEAD", "-m", "theirs")
            plumb("update-ref", "refs/heads/main", new)
            theirs.append(new)
        return real(*args, **kw)

    monkeypatch.setattr(plumbing, "commit_tree", then_commit_the_ticket)
    mine = (d.desk / rel).read_bytes()
    line = one_error_line(d(*log_args(tid, "called back")), 2)
    assert f"{rel} was changed by a commit made meanwhile" in line
    assert head(d) == theirs[0]  # theirs stays, nothing of mine was committed
    assert (d.desk / rel).read_bytes() == mine  # the file is as before my command
    assert not (d.desk / ".git" / "itdesk" / "journal.json").exists()


def closed_tickets(d: Itdesk, n: int, day: datetime) -> list[str]:
    """``n`` tickets cancelled on ``day``, written and committed directly (fast)."""
    ids = []
    for i in range(1, n + 1):
        tid = f"IT-{day:%Y%m%d}-{i:03d}"
        t = make_ticket(tid, now=day)
        t = lc.cancel(t, now=day + timedelta(minutes=5), by="zhang", reason="duplicate").ticket
        path = d.desk / "tickets" / f"{tid}.yaml"
        path.write_text(dump_yaml(ticket_to_dict(t)), encoding="utf-8")
        ids.append(tid)
    git(d.desk, "add", "tickets")
    git(d.desk, "commit", "-q", "-m", f"{n} tickets")
    return ids


def test_an_archive_of_many_paths_keeps_a_commit_made_meanwhile(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old temporary-index branch (over 100 paths) built its tree from HEAD as it was
    and committed it on the newer HEAD, reverting what was committed meanwhile."""
    ids = closed_tickets(desk, 120, datetime(2023, 9, 10, 9, 0, tzinfo=SHANGHAI))
    commit_policy_meanwhile(desk, monkeypatch)
    desk.ok("archive", "--now", "2023-11-05T09:00")
    assert git(desk.desk, "log", "-2", "--format=%s").splitlines()[1] == "policy: a comment"
    assert "# edited by hand 0" in git(desk.desk, "show", "HEAD:itdesk.yaml")
    moved = git(desk.desk, "show", "--name-status", "--format=", "HEAD").splitlines()
    assert len(moved) == 120 and all(line.startswith("R100") for line in moved)
    assert all((desk.desk / "tickets" / "archive" / "2023-09" / f"{t}.yaml").is_file()
               for t in ids)  # fmt: skip
    assert status(desk) == ""


# ---------------------------------------------------- refusals that keep work


def conflict(d: Itdesk, operation: Callable[[Path], None]) -> None:
    """Two branches that change kb/notes.md differently; ``operation`` stops on it."""
    notes_md = d.desk / "kb" / "notes.md"
    notes_md.write_text("base\n")
    git(d.desk, "add", "kb/notes.md")
    git(d.desk, "commit", "-qm", "notes")
    git(d.desk, "branch", "other")
    notes_md.write_text("ours\n")
    git(d.desk, "commit", "-qam", "ours")
    git(d.desk, "checkout", "-q", "other")
    notes_md.write_text("theirs\n")
    git(d.desk, "commit", "-qam", "theirs")
    git(d.desk, "checkout", "-q", "main")
    operation(d.desk)


def _fails(*args: str) -> Callable[[Path], None]:
    def run(root: Path) -> None:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        assert proc.returncode != 0, proc  # stopped on the conflict

    return run


def _revert(root: Path) -> None:
    # reverting "notes" (base) conflicts with "ours", which changed the same line
    _fails("revert", "--no-edit", "HEAD~1")(root)


STATES = {
    "merge": (_fails("merge", "other"), "git merge --abort"),
    "rebase": (_fails("rebase", "other"), "git rebase --abort"),
    "rebase --apply": (_fails("rebase", "--apply", "other"), "git rebase --abort"),
    "cherry-pick": (_fails("cherry-pick", "other"), "git cherry-pick --abort"),
    "revert": (_revert, "git revert --abort"),
}


@pytest.mark.parametrize("state", list(STATES))
def test_writes_and_reads_are_refused_in_the_middle_of_an_operation(
    accepted: tuple[Itdesk, str], state: str
) -> None:
    d, tid = accepted
    operation, abort = STATES[state]
    conflict(d, operation)
    before = git_state(d.desk)
    name = state.split()[0]
    for args in (log_args(tid, "lost?"), ("new", "--title", "x", "--requester", "y")):
        line = one_error_line(d(*args), 2)
        assert f"in the middle of a {name}" in line and abort in line, line
        assert git_state(d.desk) == before
    # reads: never "no tickets", never a clean check
    for args in (("list",), ("check", "--now", NOW), ("show", tid)):
        line = one_error_line(d(*args), 2)
        assert f"in the middle of a {name}" in line, line
    assert git_state(d.desk) == before


def test_writes_are_refused_on_a_detached_head(accepted: tuple[Itdesk, str]) -> None:
    d, tid = accepted
    git(d.desk, "checkout", "-q", "--detach")
    before = git_state(d.desk)
    line = one_error_line(d(*log_args(tid, "lost?")), 2)
    assert "HEAD is detached" in line and "git switch" in line
    assert git_state(d.desk) == before
    assert tid in d.ok("list").stdout  # reading is fine


def test_writes_are_refused_during_a_bisect(accepted: tuple[Itdesk, str]) -> None:
    d, tid = accepted
    git(d.desk, "bisect", "start")
    before = git_state(d.desk)
    line = one_error_line(d(*log_args(tid, "lost?")), 2)
    assert "in the middle of a bisect" in line and "git bisect reset" in line
    assert git_state(d.desk) == before
    assert tid in d.ok("list").stdout
    git(d.desk, "bisect", "reset")
    d.ok(*log_args(tid, "after the bisect"))


# ----------------------------------------------------------------------- hooks


def hook(root: Path, name: str, body: str, folder: str = ".git/hooks") -> Path:
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def test_the_desks_hooks_run_where_git_commit_runs_them(accepted: tuple[Itdesk, str]) -> None:
    d, tid = accepted
    git_dir = d.desk / ".git"
    hook(d.desk, "pre-commit", "git diff --cached --name-only > .git/pre-commit-saw")
    hook(d.desk, "prepare-commit-msg", 'echo "$2" > .git/prepare-saw')
    hook(d.desk, "commit-msg", 'printf "\\nReviewed-by: the hook\\n" >> "$1"')
    hook(d.desk, "post-commit", "git rev-parse HEAD > .git/post-commit-saw")
    d.ok(*log_args(tid, "called back"))
    assert (git_dir / "pre-commit-saw").read_text().split() == [f"tickets/{tid}.yaml"]
    assert (git_dir / "prepare-saw").read_text().strip() == "message"
    message = git(d.desk, "log", "-1", "--format=%B")
    assert message == (
        f"{tid}: log note: called back\n\nTicket: {tid}\nAction: log\n\nReviewed-by: the hook\n\n"
    )
    assert (git_dir / "post-commit-saw").read_text().strip() == head(d)
    assert status(d) == ""
    assert not list(git_dir.glob("itdesk-index*"))


@pytest.mark.parametrize("name", ["pre-commit", "commit-msg", "prepare-commit-msg"])
def test_a_refusing_hook_is_named_and_nothing_changes(
    accepted: tuple[Itdesk, str], name: str
) -> None:
    d, tid = accepted
    git(d.desk, "config", "core.hooksPath", ".githooks")
    hook(d.desk, name, "echo 'ticket looks wrong' >&2\nexit 1", folder=".githooks")
    before = git_state(d.desk)
    line = one_error_line(d(*log_args(tid, "called back")), 3)
    assert line == f"itdesk: error: git commit: the desk's {name} hook failed: ticket looks wrong"
    assert git_state(d.desk) == before


def test_a_hook_that_is_not_executable_is_skipped(accepted: tuple[Itdesk, str]) -> None:
    d, tid = accepted
    hook(d.desk, "pre-commit", "exit 1").chmod(0o644)
    d.ok(*log_args(tid, "called back"))


# ----------------------------------------------------- locks and leftovers


@pytest.mark.parametrize("lock", [".git/index.lock", ".git/HEAD.lock", ".git/refs/heads/main.lock"])
def test_a_stale_git_lock_is_named(accepted: tuple[Itdesk, str], lock: str) -> None:
    d, tid = accepted
    path = d.desk / lock
    path.write_text("")
    os.utime(path, (1e9, 1e9))  # long ago: no git is running
    before = git_state(d.desk)
    line = one_error_line(d(*log_args(tid, "called back")), 3)
    assert f"{lock} exists" in line and f"remove {lock}" in line, line
    assert git_state(d.desk) == before
    path.unlink()
    d.ok(*log_args(tid, "called back"))


def test_a_lock_taken_during_the_write_is_named_and_nothing_changes(
    accepted: tuple[Itdesk, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    d, tid = accepted
    real = plumbing.update_ref

    def locked_meanwhile(*args: Any, **kw: Any) -> None:
        (d.desk / ".git" / "HEAD.lock").write_text("")  # another git, just now
        real(*args, **kw)

    monkeypatch.setattr(plumbing, "update_ref", locked_meanwhile)
    path = d.desk / "tickets" / f"{tid}.yaml"
    old, before = path.read_bytes(), head(d)
    line = one_error_line(d(*log_args(tid, "called back")), 3)
    assert ".git/HEAD.lock exists" in line
    assert path.read_bytes() == old and head(d) == before
    assert not (d.desk / ".git" / "itdesk" / "journal.json").exists()


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_lock_left_by_a_killed_itdesk_is_cleared(accepted: tuple[Itdesk, str]) -> None:
    """The journal says which step (and lock) a run that died was in; a lock of that step,
    made after it began and untouched since, is that run's and goes."""
    import json
    import time

    d, tid = accepted
    git_dir = d.desk / ".git"
    began = time.time() - 10
    (git_dir / "itdesk").mkdir(exist_ok=True)
    (git_dir / "itdesk" / "journal.json").write_text(json.dumps({
        "pid": dead_pid(), "ref": "refs/heads/main", "paths": [f"tickets/{tid}.yaml"],
        "step": "update-ref", "locks": ["HEAD.lock", "refs/heads/main.lock", "index.lock"],
        "at": int(began * 1e9),
    }))  # fmt: skip
    lock = git_dir / "index.lock"
    lock.write_text("")
    os.utime(lock, (began + 1, began + 1))
    result = d.ok(*log_args(tid, "called back"))
    assert "removed .git/index.lock, left by an interrupted itdesk run" in result.stderr
    assert not lock.exists()
    assert notes(d, tid) == ["called back"]
    assert status(d) == ""


def test_leftover_temporary_files_are_removed_by_the_next_write(
    accepted: tuple[Itdesk, str],
) -> None:
    d, tid = accepted
    git_dir, pid = d.desk / ".git", dead_pid()
    (git_dir / "itdesk" / "cache").mkdir(parents=True, exist_ok=True)
    left = [
        d.desk / "tickets" / f".{tid}.yaml.{pid}.0123456789abcdef.tmp",
        d.desk / "kb" / f".vpn.md.{pid}.0123abcd.tmp",
        git_dir / f"itdesk-index.{pid}",
        git_dir / "itdesk" / "cache" / f".tickets.{pid}.0123456789abcdef.tmp",
        git_dir / "itdesk" / f"outbox.json.{pid}.tmp",  # as the outbox named them before
    ]
    alive = git_dir / "itdesk" / "cache" / f".tickets.{os.getpid()}.0123456789abcdef.tmp"
    for path in [*left, alive]:
        path.write_text("half")
    mine = d.desk / "tickets" / "notes.2023.tmp"  # not itdesk's: kept
    mine.write_text("mine")
    d.ok(*log_args(tid, "called back"))
    assert [p for p in left if p.exists()] == []
    assert alive.exists() and mine.exists()


# ------------------------------------------------------------------ kill -9


def test_runs_killed_at_random_moments_leave_a_working_desk(accepted: tuple[Itdesk, str]) -> None:
    """``kill -9`` of ``itdesk log`` at seeded random moments: mostly in the second half
    of a run, where it writes (a run's own length is measured first); every fifth run
    the moment its journal appears (on a machine whose speed drifts, the random moments
    may all miss the write)."""
    import random
    import time

    d, tid = accepted
    rng = random.Random(20231025)
    start = datetime(2023, 10, 25, 11, 0, tzinfo=SHANGHAI)

    def run(i: int) -> subprocess.Popen[bytes]:
        now = (start + timedelta(minutes=i)).isoformat()
        return subprocess.Popen(
            [sys.executable, "-m", "itdesk", *log_args(tid, f"step {i}", now),
             "--desk", str(d.desk)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(os.environ),
        )  # fmt: skip

    began = time.monotonic()
    assert run(0).wait() == 0
    length = time.monotonic() - began
    killed = halfway = 0
    journal = d.desk / ".git" / "itdesk" / "journal.json"
    for i in range(1, 31):
        proc = run(i)
        if i % 5 == 0:  # killed the moment its journal is written: in the middle, for sure
            while proc.poll() is None and not journal.exists():
                time.sleep(0.0005)
            if proc.poll() is None:
                proc.kill()
                killed += 1
        else:
            try:
                proc.wait(timeout=length * rng.uniform(0.4, 1.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                killed += 1
        proc.wait()
        err = proc.stderr.read().decode() if proc.stderr else ""
        assert proc.returncode in (0, -9), err
        if journal.exists():
            halfway += 1
    assert killed >= 10 and halfway >= 1  # some died in the middle of their write
    final = (start + timedelta(hours=1)).isoformat()
    d.ok(*log_args(tid, "after the storm", final))
    fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=d.desk, capture_output=True,
                          text=True)  # fmt: skip
    assert fsck.returncode == 0 and fsck.stdout == "", fsck
    assert d("validate").exit_code == 0
    assert status(d) == ""
    # every note on the ticket came with its own commit, and no commit lost its note
    written = notes(d, tid)
    commits = git(d.desk, "log", "--format=%s", "--", f"tickets/{tid}.yaml").splitlines()
    assert sorted(written) == sorted(
        s.split("log note: ", 1)[1] for s in commits if "log note: " in s
    )
    assert written[-1] == "after the storm"
    assert yaml.safe_load(git(d.desk, "show", f"HEAD:tickets/{tid}.yaml"))["log"][-1]["text"] == (
        "after the storm"
    )
