"""What the desk's ``.git`` folder says, read from its files without starting git.

HEAD's branch and commit, an operation in progress (merge, rebase, ...), git's lock
files, the hooks, and whether ``git gc --auto`` is due. Reads of tickets ask about an
unfinished merge on every command, so each answer costs a few ``stat`` calls, not a git
process (~1.5 ms each); the commit itself is still made and checked by git.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from ..errors import UsageError


class GitStateRefused(UsageError):
    """The desk's repository is in a state where itdesk must not read or write tickets."""


class Head(NamedTuple):
    ref: str | None  # "refs/heads/main"; None when HEAD is detached
    oid: str | None  # the commit; None on a branch with no commit yet


# (a file or folder in .git that exists while the operation is unfinished, its name,
# how to finish it, how to abort it, whether ticket files may be half-merged meanwhile)
_STATES: tuple[tuple[str, str, str | None, str, bool], ...] = (
    ("rebase-merge", "a rebase", "git rebase --continue", "git rebase --abort", True),
    ("rebase-apply/applying", "git am", "git am --continue", "git am --abort", True),
    ("rebase-apply", "a rebase", "git rebase --continue", "git rebase --abort", True),
    ("MERGE_HEAD", "a merge", "resolve the conflicts, then git commit", "git merge --abort", True),
    (
        "CHERRY_PICK_HEAD",
        "a cherry-pick",
        "git cherry-pick --continue",
        "git cherry-pick --abort",
        True,
    ),  # fmt: skip
    ("REVERT_HEAD", "a revert", "git revert --continue", "git revert --abort", True),
    ("BISECT_LOG", "a bisect", None, "git bisect reset", False),
)


def unfinished(git_dir: Path, *, writing: bool) -> str | None:
    """Why tickets cannot be written (``writing``) or read now, or None.

    Writes are refused during any of merge, rebase, ``am``, cherry-pick, revert and
    bisect: their commit would be lost or tangled in the operation. Reads are refused
    only while files may be half-merged (not during a bisect).
    """
    for marker, name, finish, abort, blocks_reads in _STATES:
        if (writing or blocks_reads) and os.path.exists(git_dir / marker):
            todo = f"finish it ({finish}) or abort it ({abort})" if finish else f"end it ({abort})"
            return f"the desk is in the middle of {name}; {todo}, then try again"
    return None


def check_readable(git_dir: Path) -> None:
    problem = unfinished(git_dir, writing=False)
    if problem is not None:
        raise GitStateRefused(problem)


def head(git_dir: Path) -> Head:
    """The branch HEAD is on and its commit (``.git/HEAD``, the loose ref, packed-refs)."""
    try:
        text = (git_dir / "HEAD").read_text("utf-8").strip()
    except OSError:
        return Head(None, None)
    if not text.startswith("ref: "):
        return Head(None, text or None)
    ref = text[5:].strip()
    return Head(ref, read_ref(git_dir, ref))


def read_ref(git_dir: Path, ref: str) -> str | None:
    """The commit ``ref`` (``refs/heads/main``) points at, or None if it has none."""
    try:
        text = (git_dir / ref).read_text("utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        text = ""
    if text:
        return read_ref(git_dir, text[5:].strip()) if text.startswith("ref: ") else text
    try:
        with open(git_dir / "packed-refs", encoding="utf-8") as fh:
            for line in fh:
                oid, _, name = line.rstrip("\n").partition(" ")
                if name == ref and not line.startswith(("#", "^")):
                    return oid
    except FileNotFoundError:
        pass
    return None


def refuse_to_write(git_dir: Path) -> Head:
    """HEAD, if a commit may be made on it now; else raise with what to do."""
    problem = unfinished(git_dir, writing=True)
    if problem is not None:
        raise GitStateRefused(problem)
    found = head(git_dir)
    if found.ref is None:
        raise GitStateRefused(
            "HEAD is detached (not on a branch): a commit made here would be lost at the "
            "next checkout; switch to the desk's branch (git switch BRANCH), then try again"
        )
    if not found.ref.startswith("refs/heads/"):
        raise GitStateRefused(f"HEAD points at {found.ref}, not a branch; switch to the "
                              "desk's branch (git switch BRANCH), then try again")  # fmt: skip
    if found.oid is None:
        raise GitStateRefused(
            f"the branch {found.ref[len('refs/heads/') :]} has no commit yet; "
            "make one with git (or use itdesk init), then try again"
        )
    return found


def lock_files(git_dir: Path, ref: str | None) -> list[Path]:
    """git's lock files that a commit of itdesk needs free: the index's, HEAD's (a ref
    update writes HEAD's reflog under it) and the branch's."""
    locks = [git_dir / "index.lock", git_dir / "HEAD.lock"]
    if ref is not None:
        locks.append(git_dir / f"{ref}.lock")
    return locks


def hook(root: Path, git_dir: Path, hooks_path: str | None, name: str) -> Path | None:
    """The executable hook ``name`` (``core.hooksPath``, else ``.git/hooks``), or None; git
    skips a hook file that is not executable too."""
    if hooks_path:
        folder = Path(os.path.expanduser(hooks_path))
        folder = folder if folder.is_absolute() else root / folder  # hooks run in the root
    else:
        folder = git_dir / "hooks"
    path = folder / name
    return path if path.is_file() and os.access(path, os.X_OK) else None


def objects_home(git_dir: Path) -> Path | None:
    """The folder whose ``objects/`` holds the repository's objects: ``git_dir``, or a
    linked worktree's common folder; None where git is told to look elsewhere
    (GIT_OBJECT_DIRECTORY) or it cannot be read here."""
    if os.environ.get("GIT_OBJECT_DIRECTORY"):
        return None
    home = git_dir
    try:
        common = (git_dir / "commondir").read_text("utf-8").strip()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    else:
        home = git_dir / common
    return home if (home / "objects" / "pack").is_dir() else None


def gc_due(git_dir: Path, gc_auto: int) -> bool:
    """Whether ``git gc --auto`` would find work, by git's own estimate: more loose objects
    in ``objects/17`` than 1/256 of ``gc.auto``."""
    if gc_auto <= 0:
        return False
    limit = (gc_auto + 255) // 256
    try:
        names = os.listdir(git_dir / "objects" / "17")
    except OSError:
        return False
    return sum(1 for n in names if len(n) >= 38 and not n.endswith(".tmp")) > limit


# ------------------------------------------------------------------ the index

# itdesk's note of an index known to hold exactly a commit: "<commit> <index checksum>"
INDEX_NOTE = "itdesk/index-clean"
_INDEX_TAIL = 1 << 16  # the index's extensions are looked for in its last 64 KiB


class IndexState(NamedTuple):
    """What the index file says of itself without being parsed: its checksum (the
    last bytes of the file, which change with any change of it), and the tree of its
    cache-tree's root when that is valid (git's own record that the index holds exactly
    that tree: every entry, mode and blob, nothing unmerged)."""

    checksum: bytes
    tree: str | None


def index_state(git_dir: Path, oid_len: int) -> IndexState | None:
    """The index's :class:`IndexState`, read from its last 64 KiB (a split index, which
    itdesk makes on a big desk, is a few hundred bytes; reading 100,000 entries in
    Python takes ~40 ms); None when it cannot tell (:func:`store.gitindex.tail_state`)."""
    from .gitindex import tail_state

    try:
        with open(git_dir / "index", "rb") as fh:
            end = fh.seek(0, os.SEEK_END)
            start = max(0, end - _INDEX_TAIL)
            fh.seek(start)
            tail = fh.read()
    except OSError:
        return None
    state = tail_state(tail, start == 0, oid_len // 2)
    return None if state is None else IndexState(*state)


def index_holds(git_dir: Path, state: IndexState | None, commit: str, tree: str | None) -> bool:
    """Whether the index, as ``state`` found it, holds exactly ``commit`` (whose tree is
    ``tree``, when known): itdesk's note names this commit and this very index, or git's
    cache-tree is valid and is that tree."""
    if state is None:
        return False
    if any(state.checksum) and index_noted(git_dir) == (commit, state.checksum.hex()):
        return True
    return tree is not None and state.tree == tree


def index_noted(git_dir: Path) -> tuple[str, str] | None:
    """The commit and index checksum of itdesk's last note (see :data:`INDEX_NOTE`)."""
    try:
        commit, _, checksum = (git_dir / INDEX_NOTE).read_text("ascii").strip().partition(" ")
    except (OSError, UnicodeDecodeError):
        return None
    return (commit, checksum) if commit and checksum else None
