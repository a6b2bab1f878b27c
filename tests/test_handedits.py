"""Hand edits found without `git status` (#12): a write asks git's index only when it
does not know that the index holds the last commit, and compares the files' bytes with
the commit's blobs otherwise. Whatever the path taken, a hand edit is refused with the
same message and nothing is changed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import Itdesk, git, git_state
from test_cli_errors import refused

from itdesk.store import desk as desk_module
from itdesk.store import gitdir

NOW = "2023-10-25T10:00"


@pytest.fixture
def statuses(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The paths of every `git status` a write starts (Desk.start_uncommitted)."""
    asked: list[list[str]] = []
    real = desk_module.UncommittedCheck

    def spy(root: Path, rels: list[str]) -> desk_module.UncommittedCheck:
        asked.append(list(rels))
        return real(root, rels)

    monkeypatch.setattr(desk_module, "UncommittedCheck", spy)
    return asked


@pytest.fixture
def probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commits of every `git diff-index --cached` that a write starts."""
    from itdesk.store import git as git_module

    started: list[str] = []
    real = git_module.start

    def spy(*args: str, **kw: object) -> git_module.Pending:
        if "diff-index" in args:
            started.append(args[-1])
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(git_module, "start", spy)
    return started


def ticket(d: Itdesk) -> tuple[str, Path]:
    tid = d.new()
    d.ok("ack", tid, "--now", NOW)  # itdesk's own commit: the index noted
    return tid, d.desk / "tickets" / f"{tid}.yaml"


def log(d: Itdesk, tid: str, text: str = "called back") -> tuple[str, ...]:
    return ("log", tid, "--via", "note", "--now", NOW, text)


def same_size_edit(path: Path) -> None:
    """Change one letter of the file, keeping its size and its times to the nanosecond
    (what git's stat check could not see)."""
    st = path.stat()
    data = path.read_bytes()
    at = data.index(b"Printer")
    path.write_bytes(data[:at] + b"Qrinter" + data[at + 7 :])
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns


def test_a_write_after_itdesk_s_own_asks_no_git_status(
    desk: Itdesk, statuses: list[list[str]]
) -> None:
    tid, _ = ticket(desk)
    statuses.clear()
    desk.ok(*log(desk, tid))
    desk.ok("assign", tid, "--to", "wang", "--now", NOW)
    assert statuses == []
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_write_after_a_scripted_new_asks_git_nothing(
    desk: Itdesk, statuses: list[list[str]], probes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """new's short path (itdesk/quicknew.py) keeps the note as the full path does."""
    from itdesk import quicknew

    tid, _ = ticket(desk)
    monkeypatch.delenv("GIT_COMMITTER_DATE")  # (given to git, the short path declines)
    args = ["--desk", str(desk.desk), "--now", NOW, "--as", "zhang"]
    assert quicknew.main([*args, "--title", "VPN", "--requester", "李雷"]) == 0
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    assert noted(desk) == (head, index_of(desk.desk).checksum.hex())
    statuses.clear()
    desk.ok(*log(desk, tid))
    assert statuses == [] and probes == []
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_hand_edit_keeping_size_and_mtime_is_refused(
    desk: Itdesk, statuses: list[list[str]]
) -> None:
    tid, path = ticket(desk)
    same_size_edit(path)
    edited = path.read_bytes()
    message = refused(desk, *log(desk, tid))
    assert f"tickets/{tid}.yaml has uncommitted changes" in message
    assert path.read_bytes() == edited
    assert statuses  # the bytes differ from the commit's: git had the last word


def test_a_racy_edit_right_after_a_write_is_refused(desk: Itdesk) -> None:
    """Edited within the same clock tick as itdesk's write and its index update."""
    tid, path = ticket(desk)
    desk.ok(*log(desk, tid, "first"))
    path.write_bytes(path.read_bytes().replace(b"first", b"fir5t"))
    message = refused(desk, *log(desk, tid, "second"))
    assert "has uncommitted changes" in message


def test_a_staged_change_with_the_file_put_back_is_refused(desk: Itdesk) -> None:
    """The file is the commit's again, but the index holds a hand edit: only git's
    index knows, and it is asked (the note no longer matches the index)."""
    tid, path = ticket(desk)
    committed = path.read_bytes()
    path.write_bytes(committed.replace(b"Printer", b"Scanner"))
    git(desk.desk, "add", path.relative_to(desk.desk).as_posix())
    path.write_bytes(committed)
    staged = git(desk.desk, "ls-files", "-s", path.relative_to(desk.desk).as_posix())
    assert "has uncommitted changes" in refused(desk, *log(desk, tid))
    assert git(desk.desk, "ls-files", "-s", path.relative_to(desk.desk).as_posix()) == staged


def test_an_executable_bit_is_refused(desk: Itdesk) -> None:
    tid, path = ticket(desk)
    path.chmod(0o755)
    assert "has uncommitted changes" in refused(desk, *log(desk, tid))


def test_a_commit_made_by_git_meanwhile_keeps_the_fast_path(
    desk: Itdesk, statuses: list[list[str]]
) -> None:
    """git commit leaves a valid cache-tree: the index is known to hold HEAD again."""
    tid, _ = ticket(desk)
    (desk.desk / "kb" / "notes.md").write_text("notes\n")
    git(desk.desk, "add", "kb/notes.md")
    git(desk.desk, "commit", "-qm", "notes")
    statuses.clear()
    desk.ok(*log(desk, tid))
    assert statuses == []
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_desk_committed_without_itdesk(tmp_path: Path, statuses: list[list[str]]) -> None:
    """A desk whose files a script wrote and committed (no `itdesk init` on this clone):
    the first write finds the index holding HEAD through git's cache-tree, and a hand
    edit is still refused."""
    source = tmp_path / "made"
    Itdesk(source).ok("init", str(source), "--timezone", "Asia/Shanghai", "--as", "zhang",
                      "--now", "2023-10-25T08:00")  # fmt: skip
    d = Itdesk(source)
    tid = d.new()
    d.ok("ack", tid, "--now", NOW)
    root = tmp_path / "scripted"
    root.mkdir()
    git(root, "init", "-q")
    for rel in ("itdesk.yaml", f"tickets/{tid}.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes((source / rel).read_bytes())
    git(root, "add", "-A")
    git(root, "commit", "-qm", "desk")
    scripted = Itdesk(root)
    statuses.clear()
    scripted.ok(*log(scripted, tid, "first"), "--as", "zhang")
    assert statuses == []
    path = root / "tickets" / f"{tid}.yaml"
    same_size_edit(path)
    assert "has uncommitted changes" in refused(scripted, *log(scripted, tid), "--as", "zhang")


def test_a_stale_note_is_not_trusted(
    desk: Itdesk, statuses: list[list[str]], probes: list[str]
) -> None:
    """The note names the index by its checksum: after any change of the index (here
    git's own update of a file's stat data) git is asked again, once: `diff-index
    --cached` finds the index still holds the commit, and the note follows."""
    tid, path = ticket(desk)
    before = index_of(desk.desk).checksum
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**10))
    git(desk.desk, "update-index", "--refresh")
    assert index_of(desk.desk).checksum != before
    probes.clear()
    desk.ok(*log(desk, tid, "first"))
    assert probes == [git(desk.desk, "rev-parse", "HEAD~1").strip()] and statuses == []
    assert noted(desk) == (git(desk.desk, "rev-parse", "HEAD").strip(),
                           index_of(desk.desk).checksum.hex())  # fmt: skip
    desk.ok(*log(desk, tid, "second"))
    assert len(probes) == 1 and statuses == []
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_staged_change_elsewhere_makes_git_status_answer(
    desk: Itdesk, statuses: list[list[str]], probes: list[str]
) -> None:
    """The index differs from the commit (a file staged by hand): `diff-index` says so,
    and `git status` of the ticket's path answers, which finds it clean."""
    tid, _ = ticket(desk)
    (desk.desk / "kb" / "draft.md").write_text("draft\n")
    git(desk.desk, "add", "kb/draft.md")
    desk.ok(*log(desk, tid))
    assert len(probes) == 1 and statuses == [[f"tickets/{tid}.yaml"]]
    assert git(desk.desk, "status", "--porcelain") == "A  kb/draft.md\n"


# ------------------------------------------------------ the index, read without git


def index_of(root: Path) -> gitdir.IndexState:
    found = gitdir.index_state(root / ".git", 40)
    assert found is not None
    return found


def head_tree(root: Path) -> str:
    return git(root, "rev-parse", "HEAD^{tree}").strip()


def repo(tmp_path: Path, names: list[str]) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "files")
    return root


def test_index_state_reads_the_cache_tree(tmp_path: Path) -> None:
    root = repo(tmp_path, ["a.txt", "TREE/TREE.yaml", "b/TREE"])
    found = index_of(root)
    assert found.tree == head_tree(root)
    assert found.checksum == (root / ".git" / "index").read_bytes()[-20:]
    (root / "a.txt").write_text("changed\n")
    git(root, "add", "a.txt")
    changed = index_of(root)
    assert changed.tree is None  # the root of the cache-tree is invalid now
    assert changed.checksum != found.checksum


def test_index_state_of_a_split_index(tmp_path: Path) -> None:
    root = repo(tmp_path, [f"d/{i:03d}.txt" for i in range(200)])
    git(root, "update-index", "--split-index")
    assert list((root / ".git").glob("sharedindex.*"))
    assert index_of(root).tree == head_tree(root)
    (root / "d" / "007.txt").write_text("changed\n")
    git(root, "commit", "-qam", "one more")
    assert index_of(root).tree == head_tree(root)


def test_index_state_of_a_big_index_reads_its_tail(tmp_path: Path) -> None:
    """More than 64 KiB of entries: the extensions are found from the end."""
    root = repo(tmp_path, [f"TREE{i:04d}/TREE{i:04d}.yaml" for i in range(1500)])
    assert (root / ".git" / "index").stat().st_size > 1 << 16
    assert index_of(root).tree == head_tree(root)


def test_index_state_without_an_index(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    assert gitdir.index_state(root / ".git", 40) is None


def test_refused_write_changes_nothing_on_the_fast_path(desk: Itdesk) -> None:
    tid, path = ticket(desk)
    same_size_edit(path)
    before = git_state(desk.desk)
    desk(*log(desk, tid))
    assert git_state(desk.desk) == before


# ------------------------------------------------------------- the note itself


def noted(d: Itdesk) -> tuple[str, str] | None:
    return gitdir.index_noted(d.desk / ".git")


def test_the_note_names_the_commit_and_the_index_after_a_write(desk: Itdesk) -> None:
    tid, _ = ticket(desk)
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    assert noted(desk) == (head, index_of(desk.desk).checksum.hex())
    assert git(desk.desk, "diff-index", "--cached", "HEAD") == ""  # it is true


def test_a_sync_without_the_commit_leaves_no_note(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch, statuses: list[list[str]], probes: list[str]
) -> None:
    """A caller that syncs the index without naming the commit (transaction._sync_index
    alone) leaves the note stale: the next write asks git, and is right."""
    from itdesk.store import transaction

    tid, path = ticket(desk)
    real = transaction.sync_index
    monkeypatch.setattr(transaction, "sync_index", lambda d, paths, *a, **k: real(d, paths))
    desk.ok(*log(desk, tid, "first"))
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    assert noted(desk) is not None and noted(desk)[0] != head
    monkeypatch.setattr(transaction, "sync_index", real)
    probes.clear()
    desk.ok(*log(desk, tid, "second"))
    assert probes == [head] and statuses == []
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_commit_made_meanwhile_by_git_is_built_on_and_noted(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The branch moved between the tree and the ref update: the commit is built on the
    new one, whose tree git's index holds (git commit's cache-tree), so the note follows."""
    from itdesk.store import commit as plumbing

    tid, _ = ticket(desk)
    real = plumbing.commit_tree
    done: list[bool] = []

    def then_git_commit(*args: object, **kw: object) -> str:
        if not done:
            policy = desk.desk / "itdesk.yaml"
            policy.write_text(policy.read_text("utf-8") + "# by hand\n")
            git(desk.desk, "commit", "-q", "-m", "policy: a comment", "--", "itdesk.yaml")
            done.append(True)
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(plumbing, "commit_tree", then_git_commit)
    desk.ok(*log(desk, tid))
    head = git(desk.desk, "rev-parse", "HEAD").strip()
    assert git(desk.desk, "log", "-2", "--format=%s").splitlines()[1] == "policy: a comment"
    assert noted(desk) == (head, index_of(desk.desk).checksum.hex())
    assert git(desk.desk, "status", "--porcelain") == ""
