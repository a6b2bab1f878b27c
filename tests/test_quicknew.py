"""itdesk/quicknew.py: `new` without click writes what the full command writes, or
leaves the desk untouched and lets the full command run.

Twin desks: one gets `itdesk new` through the real entry point (python -m itdesk, where
the short path is tried first), the other the same arguments through click only. The
ticket file, the commit (tree, parent, author, message, committer's name), git's index,
the numbers cache, stdout, stderr and the exit status must be the same, whichever path
took the command.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Itdesk, git, git_state
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from itdesk import quicknew
from itdesk.store import gitdir
from itdesk.store.init import GITATTRIBUTES

NOW = "2023-10-25T10:00"


def entry(
    desk: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`itdesk new ...` as a user runs it: a new process through itdesk.__main__."""
    return subprocess.run(
        [sys.executable, "-m", "itdesk", "new", "--desk", str(desk), *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def commit_without_committer_date(desk: Path) -> str:
    """HEAD's commit, the parent named by its tree (the committer dates differ, and so
    the parents' ids), the committer without the date."""
    raw = git(desk, "cat-file", "-p", "HEAD")
    parent_tree = git(desk, "rev-parse", "HEAD^^{tree}").strip()
    return "\n".join(
        line.rsplit(" ", 2)[0] if line.startswith("committer ")
        else f"parent with tree {parent_tree}" if line.startswith("parent ")
        else line
        for line in raw.splitlines()
    )  # fmt: skip


def same_desks(a: Path, b: Path) -> None:
    for name in ("tickets",):
        files_a = sorted(p.name for p in (a / name).iterdir())
        assert files_a == sorted(p.name for p in (b / name).iterdir())
        for file in files_a:
            assert (a / name / file).read_bytes() == (b / name / file).read_bytes(), file
    assert commit_without_committer_date(a) == commit_without_committer_date(b)
    assert git(a, "ls-files", "-s") == git(b, "ls-files", "-s")
    assert git(a, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(b, "status", "--porcelain", "--untracked-files=all") == ""
    numbers = Path(".git/itdesk/numbers.json")
    text_a, text_b = (a / numbers).read_text(), (b / numbers).read_text()
    head_a, head_b = (git(d, "rev-parse", "HEAD").strip() for d in (a, b))
    assert text_a.replace(head_a, "HEAD") == text_b.replace(head_b, "HEAD")
    assert not (a / ".git/itdesk/journal.json").exists()
    assert not [p.name for p in (a / ".git/itdesk").iterdir() if p.name.startswith(".index")]
    assert notes_index(a) == notes_index(b)  # the next write trusts the index alike
    for ref in ("main", "HEAD"):  # git's reflogs too
        reflog = ("reflog", "-1", "--format=%gs %gn <%ge>", ref)
        assert git(a, *reflog) == git(b, *reflog)


def notes_index(desk: Path) -> bool:
    """Whether itdesk's note says the index holds HEAD, and that is true of this index."""
    noted = gitdir.index_noted(desk / ".git")
    state = gitdir.index_state(desk / ".git", 40)
    if noted is None or state is None:
        return False
    head = git(desk, "rev-parse", "HEAD").strip()
    assert git(desk, "diff-index", "--cached", "HEAD") == ""
    return noted == (head, state.checksum.hex())


@pytest.fixture
def twins(make_desk: Callable[..., Itdesk], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Itdesk]:
    """Two desks made alike; a first ticket through the full path on each (which keeps
    what the short path needs); no fixed committer date (the short path leaves a date
    given in the environment to git)."""
    a, b = make_desk(), make_desk()
    for d in (a, b):
        d.ok("new", "--now", NOW, "--title", "first", "--requester", "李雷", "--as", "zhang")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    assert git(a.desk, "rev-parse", "HEAD^{tree}") == git(b.desk, "rev-parse", "HEAD^{tree}")
    return a.desk, b


def both(twins: tuple[Path, Itdesk], capfd: pytest.CaptureFixture[str], *args: str) -> bool:
    """``new args`` on both desks: the short path (else the full command) on the first,
    the full command on the second; compare everything. Whether the short path took it."""
    a, b = twins
    capfd.readouterr()
    status = quicknew.main(["--desk", str(a), *args])
    if status is None:
        result = Itdesk(a)("new", *args)
        got = (result.exit_code, result.stdout, result.stderr)
    else:
        out, err = capfd.readouterr()
        got = (status, out, err)
    full = b("new", *args)
    assert got == (full.exit_code, full.stdout, full.stderr)
    same_desks(a, b.desk)
    return status is not None


BASIC = ("--as", "zhang", "--now", NOW, "--title", "WiFi 认证失败", "--requester", "王小明")


def test_a_scripted_report_takes_the_short_path_and_writes_the_same(twins, capfd) -> None:
    a, _ = twins
    assert both(twins, capfd, *BASIC, "--channel", "chat", "--contact", "13956785678",
                "--department", "研发部", "--employee-id", "E1024", "--blocks-work",
                "--scope", "整个三楼", "--devices", "ThinkPad X1, iPhone 15",
                "--description", "连接 WiFi 时提示“认证失败”。\n手机可以正常连接。")  # fmt: skip
    assert both(
        twins, capfd, *BASIC, "--lang", "zh", "--no-blocks-work", "--contact=li@example.com"
    )
    assert git(a, "log", "-1", "--format=%s").strip().endswith(": new: WiFi 认证失败")


def test_the_entry_point_takes_it_without_now_and_as_the_technician(twins, tmp_path) -> None:
    """`python -m itdesk new`: the short path (no git commit-tree; a git on the PATH
    that notes what it is asked: its config and the commit's trees, and no update of
    the index, which itdesk's note says holds the commit: Python adds the entry), the
    clock (no --now), itdesk.technician (no --as)."""
    a, _ = twins
    git(a, "config", "itdesk.technician", "zhang")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    noted = tmp_path / "git-calls"
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True)
    script = f'#!/bin/sh\necho "$@" >> {noted}\nexec {real.stdout.strip()} "$@"\n'
    (bin_dir / "git").write_text(script)
    (bin_dir / "git").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = entry(a, "--title", "打印机卡纸", "--requester", "韩梅梅", env=env)
    assert result.returncode == 0, result.stderr
    calls = noted.read_text().splitlines()
    assert sorted(c.split()[2] for c in calls) == ["cat-file", "config"], calls
    ticket_id = result.stdout.strip()
    text = (a / "tickets" / f"{ticket_id}.yaml").read_text()
    assert "by: zhang" in text and "reported_at: '20" in text
    assert git(a, "status", "--porcelain") == ""
    assert git(a, "log", "-1", "--format=%an <%ae>").strip() == "zhang <zhang@example.com>"


TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019-:#'\"“”，。王小明认证失败?&*!|>%@`.,~\t\n\u3000😭é")),
    min_size=0,
    max_size=40,
)


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    title=TEXT,
    requester=TEXT,
    department=st.one_of(st.none(), TEXT),
    contact=st.one_of(
        st.none(),
        st.sampled_from(
            ["13956785678", "wang@example.com", "138****", "8021", "010-6543 2100", "x", ""]
        ),
    ),  # fmt: skip
    description=st.one_of(st.none(), TEXT),
    channel=st.one_of(st.none(), st.sampled_from(["chat", "walk-in", "电话", "Mail", "fax"])),
    devices=st.one_of(st.none(), TEXT),
)
def test_any_report_gives_what_the_full_command_gives(
    twins, capfd, title, requester, department, contact, description, channel, devices
) -> None:
    args = ["--as", "zhang", "--now", NOW, "--title", title, "--requester", requester]
    for flag, value in (("--department", department), ("--contact", contact),
                        ("--description", description), ("--channel", channel),
                        ("--devices", devices)):  # fmt: skip
        if value is not None:
            args += [flag, value]
    both(twins, capfd, *args)


def test_the_short_path_is_taken_for_everyday_reports(twins, capfd) -> None:
    taken = [
        both(twins, capfd, "--as", "zhang", "--now", NOW, "--requester", "王小明", "--title", title,
             "--contact", contact)
        for title, contact in [("Outlook 打不开", "13800001111"), ("VPN: 超时 #3", "li@corp.cn"),
                               ("'yes' 按钮无反应", "8021"), ("2 台打印机", "13800001111")]
    ]  # fmt: skip
    assert all(taken)
    git(twins[0], "fsck", "--strict", "--no-dangling")  # the objects and refs as git's own


def run_short(desk: Path, *args: str) -> int | None:
    return quicknew.main(["--desk", str(desk), *BASIC, *args])


def test_what_the_short_path_leaves_to_the_full_command(twins, monkeypatch) -> None:
    a, _ = twins
    before = git_state(a)
    for args in (["--from", "x.yaml"], ["--expected-by", "+2h"], ["-i"], ["--help"],
                 ["--title", "again"], ["--bogus", "1"], ["stray"], ["--contact"],
                 ["--channel", "电话"], ["--lang", "ZH"], ["--now", "2023-10-25 10:00"],
                 ["--now", "2023-02-30T10:00"], ["--now", "2099-01-01T00:00"],
                 ["--as", "nobody"], ["--description", " padded "],
                 ["--department", "研发部\t二组"]):  # fmt: skip
        assert run_short(a, *args) is None, args
    assert quicknew.main(["--desk", str(a), "--requester", "x"]) is None  # no title
    assert git_state(a) == before


@pytest.mark.parametrize("marker", [state[0].split("/")[0] for state in gitdir._STATES])
def test_unfinished_git_operations_are_the_full_commands(twins, marker) -> None:
    a, _ = twins
    assert marker in quicknew.UNFINISHED
    target = a / ".git" / marker
    target.mkdir() if marker.startswith("rebase") else target.write_text("x\n")
    before = git_state(a)
    assert run_short(a) is None
    assert git_state(a) == before


def hook(path: Path) -> None:
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_the_desk_as_init_makes_it_is_taken_other_setups_are_not(twins, monkeypatch) -> None:
    a, _ = twins
    assert (a / ".gitattributes").read_text() == GITATTRIBUTES == quicknew.GITATTRIBUTES
    before = git_state(a)
    cases: list[Callable[[], object]] = [
        lambda: (a / ".gitattributes").write_text(GITATTRIBUTES + "*.yaml filter=crypt\n"),
        lambda: hook(a / ".git/hooks/pre-commit"),
        lambda: git(a, "config", "commit.gpgsign", "true"),
        lambda: git(a, "config", "user.email", "") ,
        lambda: (a / ".git/itdesk/journal.json").write_text("{}"),
        lambda: (a / ".git/index.lock").write_text(""),
        lambda: (a / "kb").mkdir(exist_ok=True) or (a / "kb/wifi.md").write_text("---\n"),
        lambda: (a / ".git/itdesk/numbers.json").write_text('{"head": "0", "highest": {}}'),
        lambda: os.utime(a / "itdesk.yaml", ns=(1, 1)),  # the policy edited since
        lambda: (a / ".git/itdesk/cache/new.marshal").write_bytes(b"\x00junk"),
        lambda: monkeypatch.setenv("GIT_COMMITTER_DATE", "2023-10-25T12:00:00+08:00"),
        lambda: monkeypatch.setenv("TZDIR", "/nowhere"),
    ]  # fmt: skip
    saved = {p: (a / p).read_bytes() for p in ("itdesk.yaml", ".gitattributes",
                                               ".git/config", ".git/itdesk/numbers.json",
                                               ".git/itdesk/cache/new.marshal")}  # fmt: skip
    for i, case in enumerate(cases):
        case()
        assert run_short(a) is None, i
        # undo the case
        for rel, data in saved.items():
            (a / rel).write_bytes(data)
        for rel in (".git/hooks/pre-commit", ".git/itdesk/journal.json", ".git/index.lock",
                    "kb/wifi.md"):  # fmt: skip
            (a / rel).unlink(missing_ok=True)
        monkeypatch.delenv("GIT_COMMITTER_DATE", raising=False)
        monkeypatch.delenv("TZDIR", raising=False)
    stat = (a / "itdesk.yaml").stat()
    assert git_state(a).files == before.files
    # the saved policy bytes came back with new times: the kept facts no longer apply
    assert stat.st_mtime_ns != 1
    assert run_short(a) is None


def test_the_desk_lock_held_leaves_it_to_the_full_command(twins) -> None:
    a, _ = twins
    with open(a / ".git/itdesk.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        assert run_short(a) is None
    assert run_short(a) == 0


def test_an_interrupt_before_the_commit_leaves_nothing(twins, monkeypatch) -> None:
    a, _ = twins
    before = git_state(a)

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(quicknew, "_move_branch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_short(a)
    assert git_state(a) == before
    assert not (a / ".git/itdesk/journal.json").exists()


def test_a_kill_after_the_commit_is_finished_by_the_next_command(twins, monkeypatch) -> None:
    a, b = twins

    def killed(*args: object) -> None:
        raise KeyboardInterrupt  # killed after the commit, before the index: the journal stays

    monkeypatch.setattr(quicknew._Run, "_finish", killed)
    with pytest.raises(KeyboardInterrupt):
        run_short(a)
    assert (a / ".git/itdesk/journal.json").exists()
    assert git(a, "status", "--porcelain") != ""
    result = Itdesk(a)("list")
    assert result.exit_code == 0
    assert "interrupted" in result.stderr
    assert git(a, "status", "--porcelain") == ""
    assert not (a / ".git/itdesk/journal.json").exists()


def test_a_branch_moved_by_someone_else_is_left_to_the_full_command(twins, monkeypatch) -> None:
    a, _ = twins
    real = quicknew._move_branch

    def racing(*args: str) -> None:  # someone commits just before
        (a / "notes.txt").write_text("x\n")
        git(a, "add", "notes.txt")
        git(a, "commit", "-qm", "notes")
        real(*args)

    monkeypatch.setattr(quicknew, "_move_branch", racing)
    moved = git(a, "rev-parse", "HEAD")
    assert run_short(a) is None
    assert git(a, "rev-parse", "HEAD^") == moved  # their commit, not ours
    assert git(a, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (a / ".git/itdesk/journal.json").exists()


@pytest.mark.parametrize("noted", [True, False])
def test_an_index_changed_meanwhile_is_updated_after_the_commit(twins, monkeypatch, noted) -> None:
    """git's index, made by Python (itdesk's note vouches for it) or by git on a copy
    (no note), is not put in place over a change of someone's: the entry is added to
    the index as it is then, and no note vouches for it."""
    a, _ = twins
    if not noted:
        (a / ".git" / gitdir.INDEX_NOTE).unlink()
    real = quicknew._move_branch

    def staging(*args: str) -> None:  # the technician stages a file meanwhile
        (a / "notes.txt").write_text("x\n")
        git(a, "add", "notes.txt")
        real(*args)

    monkeypatch.setattr(quicknew, "_move_branch", staging)
    assert run_short(a) == 0
    tid = git(a, "log", "-1", "--format=%s").split(":")[0]
    assert git(a, "status", "--porcelain", "--untracked-files=all") == "A  notes.txt\n"
    assert f"tickets/{tid}.yaml" in git(a, "ls-files", "--stage", "tickets")
    noted = gitdir.index_noted(a / ".git")
    assert noted is None or noted[0] != git(a, "rev-parse", "HEAD").strip()
    assert not [p.name for p in (a / ".git/itdesk").iterdir() if p.name.startswith(".index")]


def test_a_declined_report_leaves_no_copy_of_the_index(twins) -> None:
    a, _ = twins
    before = git_state(a)
    assert run_short(a, "--as", "nobody") is None
    assert git_state(a) == before
    assert sorted(p.name for p in (a / ".git/itdesk").iterdir() if p.name.startswith(".")) == []


def test_a_killed_run_s_copy_of_the_index_is_removed_by_the_next_write(twins) -> None:
    """Killed while git updated the index's copy: the copy and git's lock of it, named
    by a process that is gone, go with the next write's sweep of itdesk's temporaries."""
    a, _ = twins
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    left = [a / ".git/itdesk" / f".index.{gone}.{'ab' * 8}.tmp{end}" for end in ("", ".lock")]
    for path in left:
        path.write_bytes(b"DIRC")
    Itdesk(a).ok("new", "--now", NOW, "--title", "after", "--requester", "李雷", "--as", "zhang")
    assert not any(path.exists() for path in left)


def _commit_elsewhere(desk: Path, seq: str) -> None:
    """A ticket of the day added by a commit itdesk did not make (a pull of another
    technician's): numbers.json is left behind it."""
    first = sorted((desk / "tickets").glob("IT-*.yaml"))[0]
    rel = f"tickets/IT-20231025-{seq}.yaml"
    text = first.read_text(encoding="utf-8").replace(first.stem, rel[8:-5])
    (desk / rel).write_text(text, encoding="utf-8")
    git(desk, "add", rel)
    git(desk, "commit", "-q", "-m", f"IT-20231025-{seq}: from another clone")


@pytest.mark.parametrize("moved", ["ahead", "back", "apart"])
def test_the_numbers_follow_the_branch_where_it_moved(twins, capfd, moved: str) -> None:
    """numbers.json noted another commit than the branch's: a commit made elsewhere is
    read (its number not given again), a reset back keeps every number given (none given
    again), a branch that went apart is the full path's. Both paths alike."""
    a, b = twins
    for d in (a, b.desk):
        if moved == "ahead":
            _commit_elsewhere(d, "007")
        elif moved == "back":
            Itdesk(d).ok("new", *BASIC)
            git(d, "reset", "-q", "--hard", "HEAD~1")
        else:
            Itdesk(d).ok("new", *BASIC)
            git(d, "reset", "-q", "--hard", "HEAD~1")
            _commit_elsewhere(d, "004")
    assert both(twins, capfd, *BASIC) == (moved != "apart")
    made = git(a, "log", "-1", "--format=%s").split(":")[0]
    expected = {"ahead": "IT-20231025-008", "back": "IT-20231025-003", "apart": "IT-20231025-005"}
    assert made == expected[moved]


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[A-Z0-9a]{0,17}-[0-9]{7,9}-[0-9]{0,11}", fullmatch=True)
       | st.text("AZ09a-x", max_size=30))  # fmt: skip
@example("ABCDEFGHIJKLMNOP-20231025-123456789")  # the longest of each part
@example("ABCDEFGHIJKLMNOPQ-20231025-001")  # one more letter
def test_a_ticket_number_is_read_as_core_reads_it(name: str) -> None:
    """quicknew reads numbers without regular expressions (their import costs `new`):
    the same names as core.ids.ID_PATTERN, split alike."""
    from itdesk.core.ids import ID_PATTERN

    m = ID_PATTERN.fullmatch(name)
    expected = None if m is None else (name[: -len(m.group("seq"))], int(m.group("seq")))
    assert quicknew._id_split(name) == expected
