"""store.gitindex: one new file's entry added to git's index as git adds it.

Each case makes a real repository in a state git leaves its index in (plain or split,
with replacements and deletions of the shared index's entries, a cache tree valid or
not, nested folders), writes a new file, and compares the index made by Python with the
one ``git update-index --add`` makes from the same bytes: the same bytes, or None where
the module leaves it to git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itdesk.store import gitindex


def run(repo: Path, *args: str, index: Path | None = None, data: bytes = b"") -> bytes:
    env = {**os.environ, **({"GIT_INDEX_FILE": str(index)} if index else {})}
    return subprocess.run(["git", *args], cwd=repo, env=env, input=data, check=True,
                          capture_output=True).stdout  # fmt: skip


def repo_with(tmp_path: Path, files: dict[str, str], *, split: bool = False) -> Path:
    repo = tmp_path / "repo"
    run(tmp_path, "init", "-q", str(repo))
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    run(repo, "add", "-A")
    run(repo, "commit", "-q", "-m", "files")
    if split:  # (git writes a new shared index when a fifth of the entries are not in
        # it: never here, so that the split index git writes is compared)
        run(repo, "config", "splitIndex.maxPercentChange", "100")
        run(repo, "update-index", "--split-index")
    return repo


def gits_index(repo: Path, rel: str) -> bytes:
    """The index git makes with ``rel`` added, on a copy of the index."""
    copy = repo / ".git" / "index.copy"
    shutil.copyfile(repo / ".git" / "index", copy)
    run(repo, "update-index", "--add", "-z", "--stdin", index=copy, data=f"{rel}\0".encode())
    made = copy.read_bytes()
    copy.unlink()
    return made


def pythons_index(repo: Path, rel: str) -> bytes | None:
    blob = run(repo, "hash-object", "-w", rel).decode().strip()
    before = (repo / ".git" / "index").read_bytes()
    return gitindex.with_new_entry(before, rel, os.lstat(repo / rel), blob)


def add_file(repo: Path, rel: str, text: str = "new: 1\n") -> None:
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    (repo / rel).write_text(text)


FILES = {
    "itdesk.yaml": "desk: 1\n",
    "tickets/IT-20240101-001.yaml": "a: 1\n",
    "tickets/IT-20240101-003.yaml": "a: 3\n",
    "tickets/archive/2023-12/IT-20231201-001.yaml": "b: 1\n",
    "kb/wifi.md": "# wifi\n",
}


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize(
    "rel",
    ["tickets/IT-20240101-002.yaml", "tickets/IT-20240101-004.yaml", "tickets/A.yaml",
     "tickets/archive/2023-12/IT-20231201-002.yaml", "aaa.yaml", "zzz/new.yaml",
     "tickets-x.yaml", "tickets/archive-2.yaml"],
)  # fmt: skip
def test_the_same_bytes_as_git(tmp_path: Path, split: bool, rel: str) -> None:
    repo = repo_with(tmp_path, FILES, split=split)
    add_file(repo, rel)
    made = pythons_index(repo, rel)
    assert made is not None
    assert made == gits_index(repo, rel)


def test_a_split_index_with_replaced_deleted_and_added_entries(tmp_path: Path) -> None:
    """After the split: one of the shared entries changed, one removed, one added: the
    nameless replacement first, the added path in order, the link's bitmaps kept."""
    repo = repo_with(tmp_path, FILES, split=True)
    (repo / "tickets/IT-20240101-001.yaml").write_text("a: changed\n")
    (repo / "kb/wifi.md").unlink()
    add_file(repo, "tickets/IT-20240101-009.yaml")
    run(repo, "add", "-A")
    run(repo, "commit", "-q", "-m", "changes")
    assert b"link" in (repo / ".git/index").read_bytes()
    for rel in ("tickets/IT-20240101-002.yaml", "tickets/IT-20240101-010.yaml", "kb/wifi.md"):
        add_file(repo, rel)
        made = pythons_index(repo, rel)
        assert made == gits_index(repo, rel), rel


def test_the_cache_tree_loses_only_the_folders_on_the_way(tmp_path: Path) -> None:
    """A valid cache tree (after a commit) and one git invalidated in part already (an
    entry staged since): the same bytes, and git's own reading of the result agrees."""
    repo = repo_with(tmp_path, FILES)
    run(repo, "write-tree")
    add_file(repo, "kb/printer.md")
    run(repo, "add", "kb/printer.md")
    rel = "tickets/archive/2023-12/IT-20231201-007.yaml"
    add_file(repo, rel)
    made = pythons_index(repo, rel)
    assert made == gits_index(repo, rel)
    (repo / ".git/index").write_bytes(made)
    listed = run(repo, "ls-files", "-s").decode()
    assert rel in listed and "kb/printer.md" in listed
    assert run(repo, "status", "--porcelain").decode().splitlines() == ["A  kb/printer.md",
                                                                        f"A  {rel}"]  # fmt: skip


@pytest.mark.parametrize(
    "spoil",
    ["untracked-cache", "version-4", "version-3", "existing", "stage", "folder", "executable",
     "checksum"],
)  # fmt: skip
def test_left_to_git(tmp_path: Path, spoil: str) -> None:
    """An index this module does not write exactly, or a path that is not a new file's:
    None, and so git does it."""
    repo = repo_with(tmp_path, FILES, split=spoil == "version-4")
    rel = "tickets/IT-20240101-002.yaml"
    add_file(repo, rel)
    if spoil == "untracked-cache":
        run(repo, "update-index", "--untracked-cache")
        run(repo, "status", "--porcelain")  # writes the extension (UNTR)
    elif spoil == "version-4":
        run(repo, "update-index", "--index-version", "4")
    elif spoil == "version-3":
        run(repo, "update-index", "--skip-worktree", "kb/wifi.md")  # an extended flag
    elif spoil == "existing":
        rel = "tickets/IT-20240101-001.yaml"
    elif spoil == "stage":  # an unmerged path: its stages 1 to 3
        blob = run(repo, "hash-object", "-w", rel).decode().strip()
        info = "".join(f"100644 {blob} {n}\t{rel}\0" for n in (1, 2, 3))
        run(repo, "update-index", "-z", "--index-info", data=info.encode())
    elif spoil == "folder":  # the cache tree has a folder by the file's name
        rel = "tickets/archive"
        os.rename(repo / "tickets/IT-20240101-002.yaml", repo / "tickets/archive.yaml")
        shutil.rmtree(repo / "tickets/archive")
        add_file(repo, "tickets/archive", "x\n")
    elif spoil == "executable":
        os.chmod(repo / rel, 0o755)
    before = (repo / ".git/index").read_bytes()
    if spoil == "checksum":
        before = before[:-1] + bytes([before[-1] ^ 1])
    blob = run(repo, "hash-object", "-w", rel).decode().strip()
    assert gitindex.with_new_entry(before, rel, os.lstat(repo / rel), blob) is None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.sets(st.from_regex(r"[a-c]{1,2}(/[a-c]{1,2}){0,2}\.y", fullmatch=True),
                  min_size=1, max_size=12),
    new=st.from_regex(r"[a-c]{1,2}(/[a-c]{1,2}){0,2}\.y", fullmatch=True),
    split=st.booleans(),
    changed=st.integers(0, 3),
)  # fmt: skip
def test_any_tree_of_files(tmp_path_factory: pytest.TempPathFactory, names: set[str], new: str,
                           split: bool, changed: int) -> None:  # fmt: skip
    """Any few files in nested folders, split or not, some changed after the split: the
    same bytes as git's, or None only where the path is taken (a file, or a folder on
    its way or at its place)."""
    tmp_path = tmp_path_factory.mktemp("any")
    repo = repo_with(tmp_path, {n: n for n in sorted(names)}, split=split)
    for n in sorted(names)[:changed]:
        (repo / n).write_text("changed")
        run(repo, "add", n)
    taken = new in names or any(n.startswith(new[:-2] + "/") or new.startswith(n + "/")
                                for n in names)  # fmt: skip
    taken = taken or any(new.startswith(n[:-2] + "/") for n in names)
    if taken or (repo / new).exists():
        return
    try:
        add_file(repo, new)
    except (FileExistsError, NotADirectoryError):
        return
    made = pythons_index(repo, new)
    assert made is not None
    assert made == gits_index(repo, new)


def test_install_keeps_the_index_s_time_and_refuses_a_changed_index(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, FILES, split=True)
    git_dir = str(repo / ".git")
    rel = "tickets/IT-20240101-002.yaml"
    add_file(repo, rel)
    blob = run(repo, "hash-object", "-w", rel).decode().strip()
    index = repo / ".git/index"
    os.utime(index, ns=(1_700_000_000_123_456_789,) * 2)
    before = index.read_bytes()
    changed = before[:-1] + b"x"
    assert gitindex.install(str(repo), git_dir, changed, rel, blob) is None
    assert index.read_bytes() == before
    (repo / ".git/index.lock").write_bytes(b"")
    assert gitindex.install(str(repo), git_dir, before, rel, blob) is None  # git at work
    (repo / ".git/index.lock").unlink()
    checksum = gitindex.install(str(repo), git_dir, before, rel, blob)
    assert checksum == index.read_bytes()[-20:].hex()
    assert index.stat().st_mtime_ns == 1_700_000_000_123_456_789
    assert not (repo / ".git/index.lock").exists()
    assert run(repo, "status", "--porcelain").decode() == f"A  {rel}\n"


def test_a_file_changed_in_the_index_s_tick_is_still_seen_changed(tmp_path: Path) -> None:
    """The racy case git guards when it writes an index: a tracked file rewritten with
    the same size and times as its entry, and the index written in the same tick as the
    file (here: its time set back to the file's). After the new entry is put in, git
    still sees the change, because the index keeps its time: with the time of its
    writing, the old entry would look clean to git from then on."""
    repo = repo_with(tmp_path, FILES)
    old = 1_700_000_000_000_000_000
    tracked = repo / "tickets/IT-20240101-001.yaml"
    os.utime(tracked, ns=(old, old))
    run(repo, "add", str(tracked.relative_to(repo)))
    index = repo / ".git/index"
    os.utime(index, ns=(old, old))
    tracked.write_text("a: 9\n")  # the same size, the same times
    os.utime(tracked, ns=(old, old))
    assert run(repo, "diff", "--name-only").decode() == "tickets/IT-20240101-001.yaml\n"
    rel = "tickets/IT-20240101-002.yaml"
    add_file(repo, rel)
    blob = run(repo, "hash-object", "-w", rel).decode().strip()
    assert gitindex.install(str(repo), str(repo / ".git"), index.read_bytes(), rel, blob)
    assert index.stat().st_mtime_ns == old
    assert run(repo, "diff", "--name-only").decode() == "tickets/IT-20240101-001.yaml\n"


@pytest.mark.parametrize("split", [False, True])
def test_the_cache_tree_s_root_is_the_tree_the_index_holds(tmp_path: Path, split: bool) -> None:
    """After a commit, the root of the cache tree is the commit's tree; a change staged
    since invalidates it (None); an index of another format: None."""
    repo = repo_with(tmp_path, FILES, split=split)
    index = repo / ".git/index"
    assert (
        gitindex.root_tree(index.read_bytes())
        == run(repo, "rev-parse", "HEAD^{tree}").decode().strip()
    )
    add_file(repo, "kb/printer.md")
    run(repo, "add", "kb/printer.md")
    assert gitindex.root_tree(index.read_bytes()) is None
    run(repo, "commit", "-q", "-m", "printer")
    assert (
        gitindex.root_tree(index.read_bytes())
        == run(repo, "rev-parse", "HEAD^{tree}").decode().strip()
    )
    run(repo, "update-index", "--index-version", "4")
    assert gitindex.root_tree(index.read_bytes()) is None
