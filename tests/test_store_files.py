"""The store's smaller promises (issue 8): the one atomic-write helper, nothing printed,
the git processes a write and a read start, refs read without git, and the plumbing's
agreement with git (blob ids, message cleanup, filters, SHA-256 repositories)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from conftest import SHANGHAI, Itdesk, git

from itdesk.store import Actor, Desk, files, write_atomic
from itdesk.store import commit as plumbing

STORE = Path(__file__).resolve().parent.parent / "itdesk" / "store"


# --------------------------------------------------------------- write_atomic


def test_write_atomic_writes_text_and_bytes(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "t.txt", "王小明\n")
    write_atomic(tmp_path / "b.bin", b"\x00\x01", fsync=False)
    assert (tmp_path / "a" / "t.txt").read_bytes() == "王小明\n".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.bin", "t.txt"]


def test_write_atomic_never_follows_a_symlink_planted_at_its_temporary_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    monkeypatch.setattr(files.os, "urandom", lambda n: b"\x01" * n)  # a guessed name
    planted = tmp_path / files.temp_name("out.yaml")
    planted.symlink_to(victim)
    with pytest.raises(FileExistsError):
        write_atomic(tmp_path / "out.yaml", "data")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "out.yaml").exists()


def test_write_atomic_replaces_a_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "out.csv").symlink_to(victim)
    write_atomic(tmp_path / "out.csv", "new")
    assert victim.read_text() == "precious"
    assert not (tmp_path / "out.csv").is_symlink()
    assert (tmp_path / "out.csv").read_text() == "new"


def test_write_many_writes_each_file_as_write_atomic_does(tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "b.yaml").write_text("before")
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "old" / "link.yaml").symlink_to(victim)  # replaced, never written through
    items = [("new/deep/a.yaml", "王小明\n".encode()), ("old/b.yaml", b"after"),
             ("old/link.yaml", b"mine"), ("top.yaml", b"")]  # fmt: skip
    files.write_many(tmp_path, iter(items))
    for rel, data in items:
        assert (tmp_path / rel).read_bytes() == data and not (tmp_path / rel).is_symlink()
    assert victim.read_text() == "precious"
    assert not [p for p in tmp_path.rglob(".*.tmp")]


def test_write_many_stops_at_an_error_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where a folder should be")
    items = [("ok/a.yaml", b"a"), ("ok/sub", b"folder below"), ("ok/sub/b.yaml", b"b")]
    with pytest.raises(OSError):
        files.write_many(tmp_path, iter([*items, ("taken/c.yaml", b"c")]))
    assert (tmp_path / "ok" / "a.yaml").read_bytes() == b"a"  # written before: the caller's
    assert not [p for p in tmp_path.rglob(".*.tmp")]
    assert (tmp_path / "taken").read_text() == "a file where a folder should be"


def test_write_many_temporary_names_are_swept_when_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed between writing and renaming leaves a name remove_stale_temps knows."""
    monkeypatch.setattr(
        files.os, "replace", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    monkeypatch.setattr(files.os, "unlink", lambda *a, **k: None)  # as if killed there
    with pytest.raises(KeyboardInterrupt):
        files.write_many(tmp_path, iter([("a.yaml", b"a")]))
    monkeypatch.undo()
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".a.yaml.")
    match = files._patterns()[0].match(left[0])  # the sweep's own pattern, this pid's
    assert match is not None and match["name"] == "a.yaml" and int(match["pid"]) == os.getpid()


def test_stale_temporary_files_of_dead_processes_only(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = tmp_path / f".t.yaml.{dead.pid}.00112233aabbccdd.tmp"
    alive = tmp_path / f".t.yaml.{os.getppid()}.00112233aabbccdd.tmp"
    other = tmp_path / f"notes.{dead.pid}.tmp"  # not write_atomic's name
    for p in (gone, alive, other):
        p.write_text("x")
    assert files.remove_stale_temps(tmp_path) == [gone]
    assert alive.exists() and other.exists()
    assert files.remove_stale_temps(tmp_path, older_names=True) == [other]


# ------------------------------------------------------------ nothing printed


def test_nothing_in_the_store_prints() -> None:
    found = []
    for path in sorted(STORE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                found.append(f"{path.name}:{node.lineno} print")
            if isinstance(node, ast.Attribute) and node.attr in ("stderr", "stdout"):
                if getattr(node.value, "id", None) == "sys":
                    found.append(f"{path.name}:{node.lineno} sys.{node.attr}")
    assert found == []


def test_recovery_is_told_through_desk_warnings(
    desk: Itdesk, capsys: pytest.CaptureFixture[str]
) -> None:
    tid = desk.new()
    script = (
        "import os, sys\nimport itdesk.store.git as g\nreal = g.run\n"
        "g.run = lambda *a, **k: os._exit(9) if a[0] == 'update-ref' else real(*a, **k)\n"
        "from itdesk.cli import main\nsys.argv = ['itdesk'] + sys.argv[1:]\nmain()\n"
    )
    argv = ["ack", tid, "--desk", str(desk.desk), "--now", "2023-10-25T09:35"]
    assert subprocess.run([sys.executable, "-c", script, *argv]).returncode == 9
    capsys.readouterr()
    d = Desk.open(desk.desk)
    assert d.warnings == []
    with d.transaction(Actor("zhang", "z@example.com"), datetime.now(SHANGHAI)):
        pass
    assert capsys.readouterr() == ("", "")
    assert len(d.warnings) == 1 and "interrupted" in d.warnings[0]
    assert git(desk.desk, "status", "--porcelain") == ""


# ------------------------------------------------------------- git processes


def git_processes(d: Itdesk, tmp_path: Path, *args: str) -> list[str]:
    """The git subcommands ``itdesk args`` starts (GIT_TRACE2)."""
    trace = tmp_path / "trace2.txt"
    trace.unlink(missing_ok=True)
    env = {**os.environ, "GIT_TRACE2": str(trace)}
    proc = subprocess.run([sys.executable, "-m", "itdesk", *args, "--desk", str(d.desk)],
                          capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    if not trace.exists():
        return []
    starts = [line.split(" start ", 1)[1].split() for line in trace.read_text().splitlines()
              if " start " in line]  # fmt: skip
    return [argv[2] if argv[1].startswith("--") else argv[1] for argv in starts]


def test_the_git_processes_of_a_write_and_of_a_read(desk: Itdesk, tmp_path: Path) -> None:
    tid = desk.new()
    desk.walk(tid, "accept")
    write = git_processes(desk, tmp_path, "log", tid, "--via", "note", "--as", "wang",
                          "--now", "2023-10-25T10:00", "called back")  # fmt: skip
    # no `git status`: the index is known to hold the last commit, itdesk's own (#12)
    assert sorted(write) == sorted(["config", "cat-file", "hash-object", "mktree",
                                    "commit-tree", "update-ref", "update-index"])  # fmt: skip
    new = git_processes(desk, tmp_path, "new", "--title", "x", "--requester", "y",
                        "--now", "2023-10-25T10:01")  # fmt: skip
    assert "status" not in new and len(new) == 7  # a new file is checked against HEAD
    for read in (["list"], ["check", "--now", "2023-10-25T10:02"]):
        assert git_processes(desk, tmp_path, *read) == []


# --------------------------------------------------------- refs and plumbing


def test_a_branch_in_packed_refs_is_moved_as_well(desk: Itdesk) -> None:
    git(desk.desk, "pack-refs", "--all")
    assert not (desk.desk / ".git" / "refs" / "heads" / "main").exists()
    tid = desk.new()
    assert git(desk.desk, "log", "-1", "--format=%s").startswith(f"{tid}: new")
    assert git(desk.desk, "status", "--porcelain") == ""


@pytest.mark.parametrize("text", [b"", b"a\n", "王小明\r\n".encode(), bytes(range(256))])
def test_blob_ids_are_gits(tmp_path: Path, text: bytes) -> None:
    out = subprocess.run(["git", "hash-object", "--stdin"], input=text, capture_output=True,
                         check=True, cwd=tmp_path).stdout.decode().strip()  # fmt: skip
    assert plumbing.blob_id(text, 40) == out


@pytest.mark.parametrize(
    "text",
    ["subject\n\nbody\n", "\n\nsubject  \n\n\n\nbody\t\n\n", "one line", "a\n \n\t\nb\n\n", ""],
)
def test_messages_are_cleaned_up_as_git_commit_does(text: str) -> None:
    out = subprocess.run(["git", "stripspace"], input=text, capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert plumbing.stripspace(text) == out


def test_a_filter_that_changes_the_bytes_gets_gits_blob(desk: Itdesk) -> None:
    git(desk.desk, "config", "filter.upper.clean", "tr a-z A-Z")
    (desk.desk / ".gitattributes").write_text(
        (desk.desk / ".gitattributes").read_text() + "kb/*.txt filter=upper\n"
    )
    git(desk.desk, "commit", "-qam", "an upper-case filter")
    d = Desk.open(desk.desk)
    with d.transaction(Actor("zhang", "z@example.com"), datetime.now(SHANGHAI)) as tx:
        tx.put_file("kb/shout.txt", "hello\n")
        tx.subject, tx.action = "kb: shout", "kb"
    assert git(desk.desk, "show", "HEAD:kb/shout.txt") == "HELLO\n"
    assert git(desk.desk, "status", "--porcelain") == ""


@pytest.mark.parametrize("group", [None, 40], ids=["one group", "groups of 40"])
def test_many_files_go_into_one_pack_and_a_filter_still_gets_gits_blobs(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch, group: int | None
) -> None:
    """Also when git hashes the files a group at a time, written while it hashes the
    group before (#12): the filter applies to files of some groups only."""
    from itdesk.store import transaction

    if group is not None:
        monkeypatch.setattr(transaction, "HASH_GROUP", group)
    git(desk.desk, "config", "filter.upper.clean", "tr a-z A-Z")
    (desk.desk / ".gitattributes").write_text(
        (desk.desk / ".gitattributes").read_text() + "kb/loud/*.txt filter=upper\n"
        "kb/mix/1*.txt filter=upper\n"
    )
    git(desk.desk, "commit", "-qam", "an upper-case filter")
    d = Desk.open(desk.desk)
    with d.transaction(Actor("zhang", "z@example.com"), datetime.now(SHANGHAI)) as tx:
        for i in range(150):  # more than one batch: the blobs are packed
            tx.put_file(f"kb/quiet/{i}.txt", f"hello {i}\n")
        tx.subject, tx.action = "kb: many", "kb"
    assert git(desk.desk, "show", "HEAD:kb/quiet/7.txt") == "hello 7\n"
    assert git(desk.desk, "fsck").strip() == ""
    with d.transaction(Actor("zhang", "z@example.com"), datetime.now(SHANGHAI)) as tx:
        for i in range(150):
            tx.put_file(f"kb/loud/{i}.txt", f"hello {i}\n")
        tx.subject, tx.action = "kb: many, loud", "kb"
    assert git(desk.desk, "show", "HEAD:kb/loud/7.txt") == "HELLO 7\n"
    assert git(desk.desk, "status", "--porcelain") == ""
    assert git(desk.desk, "fsck", "--no-dangling").strip() == ""  # the first tree dangles
    _put_files(d, {f"kb/mix/{i}.txt": f"hello {i}\n" for i in range(150)}, "kb: mixed")
    shown = {i: git(desk.desk, "show", f"HEAD:kb/mix/{i}.txt") for i in (7, 42, 99, 123, 149)}
    assert shown == {7: "hello 7\n", 42: "hello 42\n", 99: "hello 99\n",
                     123: "HELLO 123\n", 149: "HELLO 149\n"}  # fmt: skip
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_write_failing_in_a_later_group_stops_git_and_puts_every_file_back(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills while the third group of files is written: git, hashing the
    groups before, is stopped, and the desk is as it was."""
    from itdesk.store import transaction

    monkeypatch.setattr(transaction, "HASH_GROUP", 40)
    d = Desk.open(desk.desk)
    _put_files(d, {f"kb/many/{i}.txt": f"before {i}\n" for i in range(5)})
    head = git(desk.desk, "rev-parse", "HEAD")
    groups: list[int] = []
    write = transaction.write_many

    def filling(root: Path, items: object) -> None:
        groups.append(len(groups))
        if len(groups) == 3:
            raise OSError(28, "No space left on device")
        write(root, items)  # type: ignore[arg-type]

    hashing: list[plumbing.HashFiles] = []
    start = plumbing.start_hash_files

    def started(*args: object, **kwargs: object) -> plumbing.HashFiles:
        hashing.append(start(*args, **kwargs))  # type: ignore[arg-type]
        return hashing[-1]

    monkeypatch.setattr(transaction, "write_many", filling)
    monkeypatch.setattr(plumbing, "start_hash_files", started)
    with pytest.raises(OSError, match="No space"):
        _put_files(d, {f"kb/many/{i}.txt": f"after {i}\n" for i in range(150)})
    assert len(hashing) == 2
    # stopped and waited for (a process never waited for has no return code)
    assert all(p.proc.returncode is not None for h in hashing for p, _ in h._parts)
    assert sorted(p.name for p in (desk.desk / "kb" / "many").iterdir()) == [
        f"{i}.txt" for i in range(5)
    ]
    assert (desk.desk / "kb" / "many" / "3.txt").read_text() == "before 3\n"
    assert git(desk.desk, "rev-parse", "HEAD") == head
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    git(tmp_path, "init", "-q", "--object-format=sha256", str(root))
    d = Itdesk(root)
    d.ok("init", str(root), "--timezone", "Asia/Shanghai", "--as", "zhang")
    tid = d.new()
    d.ok("ack", tid, "--now", "2023-10-25T09:35")
    desk = Desk.open(root)
    with desk.transaction(Actor("zhang", "z@example.com"), datetime.now(SHANGHAI)) as tx:
        for i in range(150):  # packed by fast-import
            tx.put_file(f"kb/{i}.txt", f"hello {i}\n")
        tx.subject, tx.action = "kb: many", "kb"
    assert git(root, "show", "HEAD:kb/7.txt") == "hello 7\n"
    assert len(git(root, "rev-parse", "HEAD").strip()) == 64
    assert git(root, "fsck").strip() == ""
    assert git(root, "status", "--porcelain") == ""


def test_a_git_process_given_a_long_input_works_while_the_caller_does(tmp_path: Path) -> None:
    """git.start feeds an input too long for the pipe, and reads the output, on a thread:
    git works while the caller writes files (an import's 100,000 paths). Its answer and
    its failure are as when given the input at wait()."""
    from itdesk.errors import GitError
    from itdesk.store import git as gitrun

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    rels = [f"f{i:04d}.txt" for i in range(600)]
    for i, rel in enumerate(rels):
        (tmp_path / rel).write_text(f"file {i}\n")
    started = gitrun.start("hash-object", "--stdin-paths", cwd=tmp_path,
                           input="".join(f"{rel}\n" for rel in rels).encode())  # fmt: skip
    assert started._talk is not None  # long: fed on a thread
    ids = started.wait().decode().split()
    assert ids == [plumbing.blob_id(f"file {i}\n".encode(), 40) for i in range(len(rels))]
    failing = gitrun.start("hash-object", "--stdin-paths", cwd=tmp_path,
                           input=b"".join(b"missing-%d\n" % i for i in range(600)))  # fmt: skip
    with pytest.raises(GitError):
        failing.wait()
    gitrun.start("cat-file", "--batch", cwd=tmp_path, input=b"HEAD\n" * 2000).kill()


def _put_files(d: Desk, files: dict[str, str | None], subject: str = "kb: many") -> None:
    """One transaction writing (None: removing) ``files``."""
    with d.transaction(Actor("zhang", "z@example.com"), datetime.now(SHANGHAI)) as tx:
        for rel, text in files.items():
            tx.put_file(rel, text)
        tx.subject, tx.action = subject, "kb"


def test_a_failed_write_of_many_files_puts_back_each_one(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More than a batch of files (written through write_many, what was there read from
    each folder's listing): a commit that fails leaves every file as it was, the ones
    that were there with their bytes, the new ones gone."""
    from itdesk.errors import GitError

    d = Desk.open(desk.desk)
    _put_files(d, {f"kb/many/{i}.txt": f"before {i}\n" for i in range(5)})
    assert d.active_rel("IT-20231025-001") == d.rel(d.active_path("IT-20231025-001"))

    def refused(*args: object, **kwargs: object) -> str:
        raise GitError(("git", "commit-tree"), 1, stderr="refused for the test")

    monkeypatch.setattr(plumbing, "commit_tree", refused)
    with pytest.raises(GitError):
        _put_files(d, {f"kb/many/{i}.txt": f"after {i}\n" for i in range(150)})
    assert sorted(p.name for p in (desk.desk / "kb" / "many").iterdir()) == [
        f"{i}.txt" for i in range(5)
    ]
    assert (desk.desk / "kb" / "many" / "3.txt").read_text() == "before 3\n"
    assert git(desk.desk, "status", "--porcelain") == ""


def test_many_files_removed_and_a_few_written_store_the_few(desk: Itdesk) -> None:
    """Beyond a batch of paths but with few files written, git stores those few itself
    (no pack): the commit names blobs the repository has."""
    d = Desk.open(desk.desk)
    _put_files(d, {f"kb/gone/{i}.txt": f"old {i}\n" for i in range(150)})
    gone: dict[str, str | None] = {f"kb/gone/{i}.txt": None for i in range(150)}
    _put_files(d, gone | {f"kb/kept/{i}.txt": f"new {i}\n" for i in range(5)}, "kb: swap")
    assert git(desk.desk, "show", "HEAD:kb/kept/4.txt") == "new 4\n"
    assert git(desk.desk, "fsck", "--no-dangling").strip() == ""
    assert git(desk.desk, "status", "--porcelain") == ""


def test_a_hand_made_file_among_many_new_ones_is_never_overwritten(desk: Itdesk) -> None:
    """Beyond a batch, which paths are free is read from the folders' listings: a file
    made by hand at one of them (untracked) still stops the write, and nothing changes."""
    from itdesk.errors import UsageError

    (desk.desk / "kb" / "many").mkdir(parents=True)
    (desk.desk / "kb" / "many" / "77.txt").write_text("mine\n")
    head = git(desk.desk, "rev-parse", "HEAD")
    d = Desk.open(desk.desk)
    with pytest.raises(UsageError, match="77.txt"):
        _put_files(d, {f"kb/many/{i}.txt": f"new {i}\n" for i in range(150)})
    assert (desk.desk / "kb" / "many" / "77.txt").read_text() == "mine\n"
    assert sorted(p.name for p in (desk.desk / "kb" / "many").iterdir()) == ["77.txt"]
    assert git(desk.desk, "rev-parse", "HEAD") == head


def test_many_files_are_synced_while_the_tree_is_built_and_before_the_branch_moves(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sync for many files, run while git builds the tree (#12), finished before the
    branch names the commit."""
    import threading

    events: list[str] = []
    building = threading.Event()

    def sync() -> None:
        seen = building.wait(10)  # returns at once when the tree is being built meanwhile
        events.append("synced while building" if seen else "synced")

    build, update = plumbing.build_tree, plumbing.update_ref

    def build_tree(*args: object, **kwargs: object) -> object:
        building.set()
        return build(*args, **kwargs)  # type: ignore[arg-type]

    def update_ref(*args: object, **kwargs: object) -> object:
        events.append("branch moved")
        return update(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "sync", sync)
    monkeypatch.setattr(plumbing, "build_tree", build_tree)
    monkeypatch.setattr(plumbing, "update_ref", update_ref)
    _put_files(Desk.open(desk.desk), {f"kb/many/{i}.txt": f"new {i}\n" for i in range(150)})
    assert events == ["synced while building", "branch moved"]
    assert git(desk.desk, "show", "HEAD:kb/many/7.txt") == "new 7\n"


def _index_copies(d: Itdesk) -> list[str]:
    return sorted(p.name for p in (d.desk / ".git" / "itdesk").glob(".index.*"))


def test_many_files_reach_gits_index_through_a_copy_updated_while_they_are_written(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git updates a copy of its index group by group as the files are written (#12);
    after the commit the copy is the index: no second update of all the paths."""
    from itdesk.store import transaction

    monkeypatch.setattr(transaction, "HASH_GROUP", 40)
    updates: list[int] = []
    real = transaction._sync_index
    monkeypatch.setattr(transaction, "_sync_index",
                        lambda d, paths: updates.append(len(paths)) or real(d, paths))  # fmt: skip
    d = Desk.open(desk.desk)
    _put_files(d, {f"kb/many/{i}.txt": f"new {i}\n" for i in range(150)})
    assert updates == []
    assert git(desk.desk, "status", "--porcelain") == ""
    listed = git(desk.desk, "ls-files", "-s", "kb/many").splitlines()
    assert len(listed) == 150
    assert git(desk.desk, "diff-index", "--cached", "HEAD") == ""
    assert _index_copies(desk) == []
    # a few files (no copy): the index is updated after the commit, as before
    _put_files(d, {f"kb/few/{i}.txt": f"few {i}\n" for i in range(3)})
    assert updates == [3] and git(desk.desk, "status", "--porcelain") == ""


def test_an_index_changed_while_the_copy_was_made_is_kept_and_updated_after_the_commit(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone's ``git add`` during the write: the copy (without it) is not installed;
    git updates the index itself afterwards, which keeps the staged file."""
    from itdesk.store import transaction

    monkeypatch.setattr(transaction, "HASH_GROUP", 40)
    (desk.desk / "notes.txt").write_text("staged meanwhile\n")
    build = plumbing.build_tree

    def build_tree(*args: object, **kwargs: object) -> object:
        git(desk.desk, "add", "notes.txt")  # (build_tree runs after the files are written)
        return build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plumbing, "build_tree", build_tree)
    _put_files(Desk.open(desk.desk), {f"kb/many/{i}.txt": f"new {i}\n" for i in range(150)})
    assert git(desk.desk, "status", "--porcelain") == "A  notes.txt\n"
    assert len(git(desk.desk, "ls-files", "kb/many").splitlines()) == 150
    assert _index_copies(desk) == []


def test_a_failed_write_of_many_files_leaves_gits_index_and_no_copy(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit refused after the files were written (a hook): the index is as it was,
    the copy and its git process gone."""
    from itdesk.store import transaction

    monkeypatch.setattr(transaction, "HASH_GROUP", 40)
    index = desk.desk / ".git" / "index"
    before = index.read_bytes()
    copies: list[transaction.IndexCopy] = []
    made = transaction.IndexCopy

    def copy(d: Desk) -> transaction.IndexCopy:
        copies.append(made(d))
        return copies[-1]

    def refused(*args: object, **kwargs: object) -> object:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(transaction, "IndexCopy", copy)
    monkeypatch.setattr(plumbing, "commit_tree", refused)
    with pytest.raises(OSError, match="Input/output"):
        _put_files(Desk.open(desk.desk), {f"kb/many/{i}.txt": f"new {i}\n" for i in range(150)})
    assert len(copies) == 1 and copies[0]._proc is None
    assert index.read_bytes() == before
    assert _index_copies(desk) == [] and not (desk.desk / ".git" / "index.lock").exists()
    many = desk.desk / "kb" / "many"
    assert not many.exists() or not any(many.iterdir())
    assert git(desk.desk, "status", "--porcelain") == ""
