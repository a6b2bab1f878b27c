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
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
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


OFFSET_TIMES = ["2023-10-25T02:00Z", "2023-10-25T10:00:30+08:00", "2023-10-24T22:00-04:00",
                "2023-10-24T20:15:00+00:00", "2023-10-25T01:00z"]  # fmt: skip


@pytest.mark.parametrize("now", OFFSET_TIMES)
def test_a_time_given_with_its_offset_takes_the_short_path(twins, capfd, now: str) -> None:
    assert both(twins, capfd, "--as", "zhang", "--now", now, "--title", "t", "--requester", "r")


@settings(max_examples=400, deadline=None)
@given(
    st.datetimes(min_value=datetime(1969, 12, 30), max_value=datetime(2099, 12, 31)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59) | st.none(),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata"]),
    st.sampled_from(["Z", "z", "+00:00", "-00:00"]),
)
@example(datetime(2023, 10, 25, 10), 0, "Asia/Shanghai", "z")
def test_a_time_is_read_as_the_full_command_reads_it(
    wall: datetime, minutes: int | None, zone: str, utc: str
) -> None:
    """--now as the short path reads it: the moment and the desk's wall time of
    core.times.parse_time, or left to the full command."""
    from zoneinfo import ZoneInfo

    from itdesk.core.times import parse_time

    text = wall.strftime("%Y-%m-%dT%H:%M:%S")
    if minutes is not None:
        sign, (hh, mm) = "-" if minutes < 0 else "+", divmod(abs(minutes), 60)
        text += utc if minutes == 0 else f"{sign}{hh:02d}:{mm:02d}"
    try:
        now, _ = quicknew._moments(zone, quicknew._wall_time(text))
    except quicknew.Declined:
        return
    full = parse_time(text, ZoneInfo(zone))
    assert now.iso == full.isoformat()
    assert now.epoch == int(full.timestamp())


def run_short(desk: Path, *args: str) -> int | None:
    return quicknew.main(["--desk", str(desk), *BASIC, *args])


def test_what_the_short_path_leaves_to_the_full_command(twins, monkeypatch) -> None:
    a, _ = twins
    before = git_state(a)
    for args in (["--from", "x.yaml"], ["--expected-by", "+2h"], ["-i"], ["--help"],
                 ["--title", "again"], ["--bogus", "1"], ["stray"], ["--contact"],
                 ["--channel", "电话"], ["--lang", "ZH"], ["--now", "2023-10-25 10:00"],
                 ["--now", "2023-02-30T10:00"], ["--now", "2099-01-01T00:00"],
                 ["--now", "2023-10-25T10:00+0800"], ["--now", "2023-10-25T10:00+08"],
                 ["--now", "2023-02-30T10:00Z"], ["--now", "2023-10-25T10:00+24:00"],
                 ["--as", "nobody"], ["--description", " padded "],
                 ["--department", "研发部\t二组"]):  # fmt: skip
        assert quicknew.main(["--desk", str(a), *_in_place(args)]) is None, args
    assert quicknew.main(["--desk", str(a), "--requester", "x"]) is None  # no title
    assert git_state(a) == before
    # (the same arguments with a good --now, --as are taken: the cases are not declined
    # for being given twice)
    assert quicknew.main(["--desk", str(a), *_in_place(["--now", "2023-10-25T10:05Z"])]) == 0
    assert quicknew.main(["--desk", str(a), *_in_place(["--as", "li"])]) == 0


def _in_place(args: list[str]) -> list[str]:
    """BASIC with ``args`` added, or, for --now and --as, in place of BASIC's own."""
    given = dict(zip(BASIC[::2], BASIC[1::2], strict=True))
    if len(args) == 2 and args[0] in ("--now", "--as"):
        given[args[0]] = args[1]
        return [part for pair in given.items() for part in pair]
    return [*BASIC, *args]


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
    again), a branch that went apart has the other side's read (the numbers of the
    commit left behind stay given). Both paths alike."""
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
    assert both(twins, capfd, *BASIC)
    made = git(a, "log", "-1", "--format=%s").split(":")[0]
    expected = {"ahead": "IT-20231025-008", "back": "IT-20231025-003", "apart": "IT-20231025-005"}
    assert made == expected[moved]


def test_numbers_noted_at_a_commit_gone_are_read_again_from_history(twins, capfd) -> None:
    """numbers.json names a commit the repository does not hold (a hand edit, a gc after
    a reset): the short path leaves it to the full one, which reads the whole history."""
    a, b = twins
    for d in (a, b.desk):
        _commit_elsewhere(d, "007")
        path = d / ".git/itdesk/numbers.json"
        path.write_text(path.read_text().replace(git(d, "rev-parse", "HEAD~1").strip(), "e" * 40))
    assert not both(twins, capfd, *BASIC)
    assert git(a, "log", "-1", "--format=%s").startswith("IT-20231025-008:")


@pytest.mark.parametrize("where", ["under the lock", "packed branch", "no numbers"])
def test_a_declined_report_leaves_no_git_running_or_unwaited(twins, where: str) -> None:
    """git runs started early (config, the trees, the numbers) are waited for also when
    the report is left to the full command, wherever it declines: no zombie process is
    left behind."""
    a, _ = twins
    _commit_elsewhere(a, "007")  # so that the numbers' git runs too
    if where == "under the lock":
        (a / ".git/MERGE_HEAD").write_text(git(a, "rev-parse", "HEAD"))
    elif where == "packed branch":
        git(a, "pack-refs", "--all")  # read by the full path (right after git config)
    else:
        (a / ".git/itdesk/numbers.json").unlink()  # (after config and the trees)
    assert run_short(a) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_no_git_on_the_path_is_one_line_from_the_full_command(twins) -> None:
    a, _ = twins
    before = git_state(a)
    done = entry(a, *BASIC, env={**os.environ, "PATH": "/nonexistent"})
    assert done.returncode != 0 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "git is not installed" in done.stderr
    assert git_state(a) == before


def test_numbers_noted_by_hand_are_read_alike_or_again(twins, capfd) -> None:
    """numbers.json edited by hand: a head in capitals, a number json.dumps never writes
    (Infinity): the short path leaves it to the full one, which reads history again."""
    a, b = twins
    for d in (a, b.desk):
        path = d / ".git/itdesk/numbers.json"
        head = git(d, "rev-parse", "HEAD").strip()
        path.write_text(path.read_text().replace(head, head.upper()))
    assert not both(twins, capfd, *BASIC)
    for d in (a, b.desk):
        head = git(d, "rev-parse", "HEAD").strip()
        (d / ".git/itdesk/numbers.json").write_text(
            f'{{"head": "{head}", "highest": {{"IT-20231025-": Infinity}}}}'
        )
    assert not both(twins, capfd, *BASIC)
    assert git(a, "log", "-1", "--format=%s").startswith("IT-20231025-003:")


def test_the_archive_month_of_the_day_is_listed_or_read_from_what_is_kept(
    twins, monkeypatch
) -> None:
    """A ticket file of the day in the archive's month that history does not hold
    (copied back by hand) still takes its number. The month's listing is kept by the
    folder's stat, and listed again once the folder changes or the kept file is broken;
    a folder changed within the racy window is not kept."""
    a, _ = twins
    month = a / "tickets/archive/2023-10"
    month.mkdir(parents=True)
    (month / "IT-20231025-009.yaml").write_text("x\n")
    kept = a / ".git" / quicknew.MONTHS

    def made() -> str:
        assert run_short(a) == 0
        return git(a, "log", "-1", "--format=%s").split(":")[0]

    assert made() == "IT-20231025-010"
    assert not kept.exists()  # the folder had just changed: nothing kept
    monkeypatch.setattr(quicknew, "RACY_NS", 0)
    assert made() == "IT-20231025-011"
    assert kept.exists()
    (month / "IT-20231025-030.yaml").write_text("x\n")  # the folder changes
    assert made() == "IT-20231025-031"
    (month / "IT-20231025-040.yaml").write_text("x\n")
    kept.write_bytes(b"\x00broken")
    assert made() == "IT-20231025-041"
    assert git(a, "status", "--porcelain") == "?? tickets/archive/\n"


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


def _raw_tree(entries: dict[str, bool], oids: dict[str, str] | None = None) -> bytes:
    """A tree's bytes in git's order: ``entries`` maps a name to whether it is a folder
    (which sorts as ``name/``); each entry's object id is made from its name unless
    ``oids`` gives it."""
    order = sorted(entries, key=lambda n: n.encode() + (b"/" if entries[n] else b""))
    return b"".join(
        (b"40000 " if entries[n] else b"100644 ") + n.encode() + b"\0"
        + (bytes.fromhex(oids[n]) if oids and n in oids else hashlib.sha1(n.encode()).digest())
        for n in order
    )  # fmt: skip


_NAMES = st.text("ab.-_0", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_NAMES, st.booleans(), max_size=12), _NAMES, st.booleans())
@example({"a": True, "a.b": False}, "a", False)  # the folder sorts after a file "a.b"
@example({"a": True, "a.b": False}, "a", True)
@example({"a.b": False, "a0": False}, "a", False)
def test_an_entry_is_placed_in_a_tree_as_git_orders_it(
    entries: dict[str, bool], name: str, folder: bool
) -> None:
    """The new ticket's entry goes where git's order puts it (a folder sorts as
    ``name/``: the file ``a.b`` before the folder ``a``, ``a0`` after it); a folder's
    entry is pointed at a new tree in place; anything else is the full path's."""
    oid = "ab" * 20
    raw = _raw_tree(entries)
    if folder and not entries.get(name, False) or not folder and name in entries:
        with pytest.raises(quicknew.Declined):
            quicknew._tree_with(raw, name, oid, replace=folder)
        return
    want = _raw_tree({**entries, name: folder}, {name: oid})
    assert quicknew._tree_with(raw, name, oid, replace=folder) == want


def test_a_tree_made_with_an_entry_is_the_tree_git_makes(tmp_path: Path) -> None:
    """The same bytes as ``git mktree`` of the entries, the new one among them."""
    git(tmp_path, "init", "-q", ".")
    empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbc2536e"  # git's ids of the empty tree
    empty_blob = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # and of the empty file
    lines = [
        f"040000 tree {empty_tree}\t{name}" if folder else f"100644 blob {empty_blob}\t{name}"
        for name, folder in (("a.b", False), ("a", True), ("a0", False), ("IT-1.yaml", False),
                             ("archive", True), (".gitkeep", False))
    ]  # fmt: skip

    def mktree(entries: list[str]) -> bytes:
        made = subprocess.run(["git", "mktree", "--missing"], cwd=tmp_path, check=True,
                              input="\n".join(entries) + "\n", capture_output=True,
                              text=True)  # fmt: skip
        return subprocess.run(["git", "cat-file", "tree", made.stdout.strip()], cwd=tmp_path,
                              capture_output=True, check=True).stdout  # fmt: skip

    new = mktree([*lines, f"100644 blob {empty_blob}\tIT-2.yaml"])
    assert quicknew._tree_with(mktree(lines), "IT-2.yaml", empty_blob) == new
