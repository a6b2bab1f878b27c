"""Shared fixtures: a hermetic git environment, desks in tmp_path, and a CLI runner.

Every test runs with its own HOME and global git config (git-revise's hermetic seal),
so the machine's git identity and config never leak in. Desks are real git
repositories made by ``itdesk init``; nothing touches the project's sample desk.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from itdesk.cli import cli
from itdesk.core.lifecycle import open_ticket
from itdesk.core.model import Impact, Requester, Ticket

TZ = "Asia/Shanghai"
SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2023, 10, 25, 9, 30, tzinfo=SHANGHAI)
MEMBERS = {
    "hardware": ["zhang", "zhao"],
    "network": ["zhang", "wang"],
    "desk": ["li", "zhang"],
}


@pytest.fixture(autouse=True)
def hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test Tech\n\temail = tech@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    monkeypatch.setenv("HOME", str(home))
    # The project's repository is itself a sample desk: never let a test find it.
    monkeypatch.chdir(home)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2023-10-25T12:00:00+08:00")
    for var in (
        "ITDESK_DESK",
        "ITDESK_DEBUG",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EDITOR",
        "VISUAL",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def no_identity(hermetic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git with no user.name or user.email anywhere."""
    (hermetic / ".gitconfig").write_text("[init]\n\tdefaultBranch = main\n")


def git(desk: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=desk, check=True, capture_output=True, text=True
    ).stdout


@dataclass(frozen=True)
class GitState:
    head: str
    status: str
    files: dict[str, bytes]


def git_state(desk: Path) -> GitState:
    """HEAD, `git status`, and every file's bytes: what a failed command must not change."""
    files = {
        p.relative_to(desk).as_posix(): p.read_bytes()
        for p in sorted(desk.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(desk).parts
    }
    return GitState(
        git(desk, "rev-parse", "HEAD").strip(),
        git(desk, "status", "--porcelain", "--untracked-files=all"),
        files,
    )


GROUPS = ("kb", "sla", "outbox")  # commands whose options follow a subcommand


class Itdesk:
    """Runs the real CLI in-process against one desk (``--desk`` is added for you)."""

    def __init__(self, desk: Path):
        self.desk = desk
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, desk: bool = True) -> Result:
        argv = list(args)
        if desk and argv and argv[0] != "init":
            # Options go after the command's name (and the kb subcommand's).
            at = 2 if argv[0] in GROUPS and len(argv) > 1 else 1
            argv[at:at] = ["--desk", str(self.desk)]
        return self.runner.invoke(cli, argv, input=input, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None) -> Result:
        result = self(*args, input=input)
        assert result.exit_code == 0, (args, result.output, result.stderr)
        return result

    def new(self, now: str = "2023-10-25T09:30", **fields: Any) -> str:
        defaults = {
            "title": "Printer jams",
            "requester": "王小明",
            "department": "研发部",
            "contact": "13956785678",
            "channel": "chat",
        }
        defaults.update(fields)
        argv = ["new", "--now", now]
        for key, value in defaults.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif value is False:
                argv.append("--no-" + key.replace("_", "-"))
            elif value is not None:
                argv += [flag, str(value)]
        return self.ok(*argv).stdout.strip()

    def walk(self, ticket_id: str, until: str, start: datetime = T0) -> None:
        """Take a ticket through the normal steps up to ``until`` (ack ... close)."""
        steps: list[tuple[str, Sequence[str]]] = [
            ("ack", ["ack", ticket_id]),
            ("classify", ["classify", ticket_id, "--priority", "P2", "--category", "network"]),
            ("assign", ["assign", ticket_id, "--to", "wang"]),
            ("accept", ["accept", ticket_id, "--as", "wang"]),
            ("log", ["log", ticket_id, "--via", "remote", "--as", "wang", "reset the adapter"]),
            (
                "resolve",
                ["resolve", ticket_id, "--summary", "new driver", "--verified", "--as", "wang"],
            ),
            (
                "followup",
                [
                    "followup",
                    ticket_id,
                    "--speed",
                    "satisfied",
                    "--attitude",
                    "satisfied",
                    "--overall",
                    "satisfied",
                ],
            ),
            ("close", ["close", ticket_id]),
        ]
        for i, (name, argv) in enumerate(steps, 1):
            when = (start + timedelta(minutes=5 * i)).isoformat()
            self.ok(*argv, "--now", when)
            if name == until:
                return
        raise AssertionError(f"unknown step {until}")

    def ticket(self, ticket_id: str) -> dict[str, Any]:
        path = self.desk / "tickets" / f"{ticket_id}.yaml"
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return data


def _set_members(desk: Path, members: dict[str, list[str]]) -> None:
    path = desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for team in data["teams"]:
        if team["name"] in members:
            team["members"] = members[team["name"]]
    data["people"] = {
        name: {"email": f"{name}@example.com"} for names in members.values() for name in names
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    git(desk, "commit", "-qam", "add the team")


@pytest.fixture
def make_desk(tmp_path: Path) -> Callable[..., Itdesk]:
    """Factory: ``make_desk()`` -> an :class:`Itdesk` bound to a new desk in tmp_path.

    Teams get the members of ``MEMBERS`` (zhang, zhao, wang, li) unless ``members`` says
    otherwise; ``members=None`` keeps ``init``'s one-person desk.
    """
    counter = iter(range(1000))

    def factory(
        members: dict[str, list[str]] | None = MEMBERS, tz: str = TZ, as_name: str = "zhang"
    ) -> Itdesk:
        root = tmp_path / f"desk{next(counter)}"
        runner = Itdesk(root)
        runner.ok("init", str(root), "--timezone", tz, "--as", as_name, "--now", "2023-10-25T08:00")
        # Steps act as git's identity (Test Tech) unless --as, as on a clone of the desk.
        git(root, "config", "--unset", "itdesk.technician")
        if members is not None:
            _set_members(root, members)
        return runner

    return factory


@pytest.fixture
def desk(make_desk: Callable[..., Itdesk]) -> Itdesk:
    return make_desk()


def make_ticket(ticket_id: str = "IT-20231025-001", now: datetime = T0, **kw: Any) -> Ticket:
    """A new ticket as ``itdesk new`` would make it (core tests, no desk needed)."""
    change = open_ticket(
        ticket_id,
        title=kw.pop("title", "WiFi authentication fails"),
        requester=kw.pop("requester", Requester("王小明", "E1001", "研发部", "13956785678")),
        now=now,
        by=kw.pop("by", "desk"),
        impact=kw.pop("impact", Impact(True, "本人", ("ThinkPad X1",))),
        **kw,
    )
    return change.ticket


def rewrite_in_place(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (of the same length in bytes) in the file itself, then
    set its modification time back, as ``touch -r`` or ``rsync -t`` would: the same
    size, modification time and inode; only the change time (ctime) tells."""
    import os

    st = path.stat()
    text = path.read_text(encoding="utf-8")
    assert old in text and len(old.encode()) == len(new.encode())
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(text.replace(old, new))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        st.st_size,
        st.st_mtime_ns,
        st.st_ino,
    )
