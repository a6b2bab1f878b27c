"""Changes to the desk that become one commit, or nothing: the lock, the transaction, and
the recovery of a run that was killed.

:meth:`Desk.transaction` takes the desk's lock (``.git/itdesk.lock``), refuses while HEAD
is detached or a merge, rebase, cherry-pick, revert or bisect is unfinished (the commit
would be lost or tangled in it), undoes what a killed run left, and yields a
:class:`Transaction`. When the block ends, :meth:`Transaction.commit` writes the files
and commits them (:mod:`itdesk.store.commit`): blobs, a tree built from the branch's
commit, ``commit-tree``, and ``update-ref <branch> <new> <old>``. If the branch moved
meanwhile (someone ran ``git commit``), the tree is built again on the new commit,
unless that commit touched one of the transaction's paths: then the write is refused
and the files are put back.

Whether a change was committed is asked of the branch, never assumed: a failure (or
Ctrl-C) after the branch moved keeps the files, which are the commit's; before it, the
files are put back. A journal in ``.git/itdesk/journal.json``, written before the first
file, names the paths, the process, the time and the git lock files the commit takes,
so the next run can do the same for a run that was killed, and knows a git lock file
that run left behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import posixpath
import stat
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, Protocol

from ..core.ids import allocate_id
from ..core.model import Ticket, ticket_to_dict
from ..core.policy import POLICY_FILE, Policy
from ..errors import DeskNotFound, GitError, LockTimeout, UsageError
from . import commit as plumbing
from . import git, gitdir, gitindex
from .files import pid_alive, remove_stale_temps, write_atomic, write_many
from .identity import Actor
from .layout import HOOK_INDEX, JOURNAL, KB, LOCK_FILE, TICKETS
from .schema import check_data

# Paths per `git status` of read_many, as Desk's MANY_PATHS (not imported: desk imports
# this module); and more written files than this are synced once, not one by one.
STATUS_BATCH = 100
# Beyond this many files, a transaction keeps what it will write in a temporary file, not
# in memory: an import of 100,000 tickets is ~200 MB of YAML (#12).
SPILL_FROM = 1_000

if TYPE_CHECKING:
    import threading

    from ..core.lifecycle import Action, Change
    from .pack import PackWriter

LOCK_TIMEOUT = 30.0
COMMIT_TRIES = 5  # builds of the tree when the branch keeps moving
GIT_LOCK_WAIT = 2.0  # seconds to wait for a git lock held by a running git
STALE_AFTER = 2.0  # a lock untouched this long, left by a killed itdesk, is removed
STEP_WINDOW = 10.0  # seconds after a step began within which its git made its lock


class Spilled(NamedTuple):
    """A file's bytes kept in a temporary file: where, and how many. ``fd``: a file of
    the caller's, open until the commit is made (an import's tickets, made before the
    lock, #12), else the transaction's own."""

    offset: int
    size: int
    fd: int | None = None


class Made(NamedTuple):
    """A change a transaction holds: what its commit message says of it (the ticket
    itself is not kept: an import holds 100,000)."""

    ticket_id: str
    action: Action
    subject: str


class _Located(Protocol):
    @property
    def path(self) -> Path: ...
    @property
    def archived(self) -> bool: ...


class _Check(Protocol):
    def result(self) -> list[str]: ...
    def cancel(self) -> None: ...


class Desk(Protocol):
    """What a transaction uses of :class:`itdesk.store.desk.Desk` (which imports this
    module: a protocol, not an import, keeps the two apart)."""

    root: Path
    git_dir: Path
    warnings: list[str]
    holding_lock: bool

    @property
    def policy(self) -> Policy: ...
    @property
    def git_config(self) -> git.Config: ...
    def start_git_config(self) -> None: ...
    def rel(self, path: Path) -> str: ...
    def active_path(self, ticket_id: str) -> Path: ...
    def locate(self, ticket_id: str) -> _Located: ...
    def read_file(self, path: Path) -> Ticket: ...
    def ids_of_day(self, day: dt.date) -> list[str]: ...
    def uncommitted(self, rels: list[str]) -> list[str]: ...
    def start_uncommitted(self, rels: list[str]) -> _Check: ...


def wait_for_flock(fh: IO[str], timeout: float, holder: str) -> None:
    """Take an exclusive ``flock`` on ``fh``, waiting up to ``timeout`` seconds; then one
    line naming ``holder`` (who else takes that lock)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{holder} has held the desk for {timeout:.0f}s; try again"
                ) from None
            time.sleep(0.02)


@contextlib.contextmanager
def desk_lock(desk: Desk, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Serialise itdesk processes on this desk (a lock file inside ``.git``).

    Not re-entrant: a second transaction opened inside one on the same desk would wait
    for itself, so it is refused at once."""
    if not desk.git_dir.is_dir():
        raise DeskNotFound(f"{desk.root} has {POLICY_FILE} but is not a git repository")
    if desk.holding_lock:
        raise RuntimeError(
            "a transaction was opened inside another on the same desk; use the open one "
            "(Session.batch: its steps, or batch.apply)"
        )
    with open(desk.git_dir / LOCK_FILE, "a+") as fh:
        wait_for_flock(fh, timeout, "another itdesk process")
        desk.holding_lock = True
        try:
            yield
        finally:
            desk.holding_lock = False
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def transaction(desk: Desk, actor: Actor, now: dt.datetime) -> Iterator[Transaction]:
    """Hold the desk's lock; what the block puts into the transaction becomes one commit
    when it ends. If the block raises, nothing is written."""
    desk.start_git_config()  # git answers while the lock is taken and the ticket read
    with desk_lock(desk):
        head = gitdir.refuse_to_write(desk.git_dir)
        head = recover(desk, head)
        tx = Transaction(desk, actor, now, head)
        try:
            yield tx
            tx.commit()
        finally:
            tx.close()


# ---------------------------------------------------------------------- journal


class _Journal:
    """``.git/itdesk/journal.json``: the paths a transaction is writing, which process,
    and the git step under way: when it began and which of git's lock files it takes."""

    def __init__(self, git_dir: Path):
        self.path = git_dir / JOURNAL
        self.data: dict[str, Any] = {}

    def load(self) -> bool:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return False
        except (OSError, ValueError):
            data = {}
        self.data = data if isinstance(data, dict) else {}
        return True

    @property
    def paths(self) -> list[str]:
        paths = self.data.get("paths")
        return [str(p) for p in paths] if isinstance(paths, list) else []

    def start(self, paths: list[str], ref: str) -> None:
        """Before the first file is written: the paths, and the locks that the commit's
        git steps take (update-ref: the branch and HEAD; update-index: the index)."""
        locks = [*_lock_names(ref, "update-ref"), *_lock_names(ref, "update-index")]
        self.data = {"pid": os.getpid(), "ref": ref, "paths": paths, "step": "commit",
                     "locks": locks, "at": time.time_ns()}  # fmt: skip
        write_atomic(self.path, json.dumps(self.data, ensure_ascii=False))

    def step(self, name: str, locks: list[str], **more: Any) -> None:
        """Note the git step about to run and the lock files (relative to ``.git``) it
        takes. No fsync: a note lost in a crash only means that a lock the step left is
        not recognised as itdesk's own, and the user is asked to remove it."""
        self.data |= {"pid": os.getpid(), "step": name, "locks": locks, "at": time.time_ns(),
                      **more}  # fmt: skip
        self._save()

    def mark_restored(self) -> None:
        """The files are put back; only a lock the step left remains to be cleared."""
        self.data["restored"] = True
        self._save()

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(self.data, ensure_ascii=False), fsync=False)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)

    def left_lock(self, name: str, st: os.stat_result) -> bool:
        """Whether git's lock file ``name`` (relative to ``.git``) was made by the step
        under way when the journal's process, now gone, stopped."""
        pid, at, locks = self.data.get("pid"), self.data.get("at"), self.data.get("locks")
        if not isinstance(pid, int) or not isinstance(at, int) or not isinstance(locks, list):
            return False
        if name not in locks or (pid != os.getpid() and pid_alive(pid)):
            return False
        return at - 1_000_000_000 <= st.st_mtime_ns <= at + int(STEP_WINDOW * 1e9)


def _lock_names(ref: str | None, step: str) -> list[str]:
    """git's lock files (relative to ``.git``) that a step of the commit takes."""
    if step == "update-ref":  # the branch, and HEAD for its reflog
        return ["HEAD.lock", *([f"{ref}.lock"] if ref else [])]
    return ["index.lock"] if step == "update-index" else []


# --------------------------------------------------------------------- recovery


def recover(desk: Desk, head: gitdir.Head) -> gitdir.Head:
    """Undo, or finish, what a killed itdesk left, under the lock; returns HEAD as it is
    afterwards.

    A killed write's journal names its paths: each is made what the branch's commit has,
    in the working tree and the index. That undoes a write whose commit was not made,
    and finishes one whose branch had moved. git lock files that the killed run's git
    left are removed; itdesk's temporary files of dead processes too.
    """
    journal = _Journal(desk.git_dir)
    found = journal.load()
    _free_git_locks(desk, head.ref, journal if found else None)
    if found:
        paths = journal.paths
        if paths and not journal.data.get("restored"):
            head = _put_back(desk, head, paths, journal)
        journal.remove()
    _remove_temps(desk, journal.paths if found else [])
    return head


def _free_git_locks(desk: Desk, ref: str | None, journal: _Journal | None) -> None:
    """Wait (briefly) for git's lock files to go; remove one that a killed itdesk left;
    refuse, naming it, one held by another git."""
    for lock in gitdir.lock_files(desk.git_dir, ref):
        deadline = time.monotonic() + GIT_LOCK_WAIT + STALE_AFTER
        while True:
            try:
                st = lock.stat()
            except FileNotFoundError:
                break
            age = time.time() - st.st_mtime
            rel = desk.rel(lock)
            name = lock.relative_to(desk.git_dir).as_posix()
            ours = journal is not None and journal.left_lock(name, st)
            if ours and age >= STALE_AFTER:
                lock.unlink(missing_ok=True)
                desk.warnings.append(f"removed {rel}, left by an interrupted itdesk run")
                break
            if (not ours and age > GIT_LOCK_WAIT) or time.monotonic() >= deadline:
                raise git.GitLocked(("git",), None, "", rel)
            time.sleep(0.05)


def _put_back(desk: Desk, head: gitdir.Head, paths: list[str], journal: _Journal) -> gitdir.Head:
    """Make ``paths`` in the working tree and the index what the branch's commit has."""
    root = desk.root
    rewritten = 0
    for _ in range(3):  # a killed run's git may still be moving the branch: until stable
        oid = head.oid or ""
        objects = plumbing.read_objects(root, [f"{oid}:{p}" for p in paths]) if oid else []
        for rel, obj in zip(paths, objects or [None] * len(paths), strict=True):
            path = root / rel
            if obj is None or obj[1] != "blob":
                if path.is_file() or path.is_symlink():
                    path.unlink()
                    rewritten += 1
                continue
            try:
                current: bytes | None = path.read_bytes()
            except OSError:
                current = None
            if current != obj[2]:
                write_atomic(path, obj[2])
                rewritten += 1
        again = gitdir.head(desk.git_dir)
        if again == head:
            break
        head = again
    journal.step("update-index", _lock_names(head.ref, "update-index"))
    _sync_index(desk, paths)
    if rewritten:
        desk.warnings.append(
            f"an earlier itdesk run was interrupted; put back {rewritten} file(s) as the "
            "last commit has them"
        )
    else:
        desk.warnings.append(
            "an earlier itdesk run was interrupted after its commit; git's index is now up to date"
        )
    return head


def sync_index(
    desk: Desk,
    paths: list[str],
    made: tuple[str, str, str] | None = None,
    held: bytes | None = None,
    *,
    copy: IndexCopy | None = None,
) -> None:
    """After a commit: git's index entries of ``paths`` as the working tree has them.

    ``made``: the commit these paths were written for, its parent and the parent's
    tree; ``held``: the checksum of an index found to hold that parent. An index that
    held the parent holds the commit afterwards; that is noted (:data:`gitdir.INDEX_NOTE`,
    with the index's checksum), so that the next write finds hand edits without asking
    git (see :meth:`Transaction._probe_index`). ``copy``: a copy of the index brought up
    to date with ``paths`` as they were written, which takes the index's place if it can
    (else git updates the index now)."""
    git_dir = desk.git_dir
    holds = False
    if made is not None:
        commit, parent, tree = made
        seen = gitdir.index_state(git_dir, len(commit))
        holds = gitdir.index_holds(git_dir, seen, parent, tree) or (
            held is not None and seen is not None and seen.checksum == held
        )
    if copy is None or not copy.install():
        _sync_index(desk, paths)
    if made is not None and holds:
        now = gitdir.index_state(git_dir, len(made[0]))
        if now is not None and any(now.checksum):
            with contextlib.suppress(OSError):
                write_atomic(git_dir / gitdir.INDEX_NOTE, f"{made[0]} {now.checksum.hex()}\n",
                             fsync=False)  # fmt: skip


def _sync_index(desk: Desk, paths: list[str]) -> None:
    """git's index entries of ``paths`` as the working tree has them (the commit's
    bytes), waiting a little for an index lock held by a running git."""
    deadline = time.monotonic() + GIT_LOCK_WAIT
    args = gitindex.update_index_args(str(desk.git_dir))
    while True:
        try:
            git.run(*args, cwd=desk.root, input="".join(f"{p}\0" for p in paths))
            return
        except git.GitLocked:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)


class IndexCopy:
    """git's index brought up to date with many files (an import's) while they are
    written: one ``git update-index`` on a copy of the index, given each group of files
    once it is written, works while the next group is written (at 100,000 files it took
    2.3 s after the commit, #12). After the commit the copy takes the index's place
    (:meth:`install`) if the index is still the one copied; no git run meanwhile sees
    an entry of a file not yet committed. As ``itdesk new`` does (quicknew._Index)."""

    def __init__(self, desk: Desk):
        import queue
        import subprocess
        import threading

        git_dir = desk.git_dir
        self.path = git_dir / "index"
        self.before = self.path.read_bytes()  # (OSError: the caller updates the index later)
        self.copy = git_dir / "itdesk" / f".index.{os.getpid()}.{os.urandom(8).hex()}.tmp"
        write_atomic(self.copy, self.before, fsync=False)
        env = git.git_env({"GIT_INDEX_FILE": str(self.copy)})
        try:
            self._proc: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["git", *gitindex.update_index_args(str(git_dir))], cwd=desk.root, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError:
            self.copy.unlink(missing_ok=True)
            raise
        # the paths go to git from a thread: git reads them as fast as it hashes them
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="git index", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        with contextlib.suppress(OSError):  # (git gone: install() finds it failed)
            while (data := self._queue.get()) is not None:
                proc.stdin.write(data)
                proc.stdin.flush()
        with contextlib.suppress(OSError):
            proc.stdin.close()

    def add(self, rels: list[str]) -> None:
        """These files are written as the commit will have them."""
        self._queue.put("".join(f"{rel}\0" for rel in rels).encode("utf-8"))

    def install(self) -> bool:
        """The copy made the index; False if it could not be (git failed, or the index
        changed meanwhile, or git holds its lock): nothing then changed."""
        proc, self._proc = self._proc, None
        if proc is None:
            return False
        self._queue.put(None)
        self._feeder.join()
        try:
            if proc.wait() != 0:
                return False
            # (git at work on the index: sync_index waits for it, or says so)
            return gitindex.replace(str(self.path.parent), self.before, str(self.copy))
        except OSError:
            return False
        finally:
            self.copy.unlink(missing_ok=True)

    def close(self) -> None:
        """Nothing of it kept (idempotent): git stopped (SIGTERM: it removes its lock
        file), the copy removed."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._queue.put(None)
            proc.terminate()
            with contextlib.suppress(OSError):
                proc.wait()
            self._feeder.join()
        self.copy.unlink(missing_ok=True)


def _remove_temps(desk: Desk, paths: list[str]) -> None:
    """Temporary files of itdesk processes that are gone: in the ticket and KB folders
    (and those of a killed run's paths), and itdesk's own in ``.git``."""
    root, git_dir = desk.root, desk.git_dir
    folders = {root / TICKETS, root / KB, *((root / p).parent for p in paths)}
    for folder in folders:
        remove_stale_temps(folder)
    for folder in (git_dir / "itdesk", git_dir / "itdesk" / "cache"):
        remove_stale_temps(folder, older_names=True)
    try:
        entries = list(os.scandir(git_dir))
    except OSError:
        return
    own = str(os.getpid())
    for entry in entries:
        name, _, rest = entry.name.partition(".")
        pid = rest.removesuffix(".lock")
        if name == HOOK_INDEX and pid.isdigit() and pid != own and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


# -------------------------------------------------------------------- transaction


class Transaction:
    """Changes to files of the desk that become one commit, or nothing.

    Files are only written in :meth:`commit`: each ticket is validated when it is put,
    every path is checked for uncommitted hand edits, then all files are written
    atomically (or renamed, see :meth:`move`) and committed together. If anything fails
    before the branch moved, every file is put back as it was. Made by
    :meth:`Desk.transaction`, under the lock.
    """

    def __init__(self, desk: Desk, actor: Actor, now: dt.datetime,
                 head: gitdir.Head | None = None):  # fmt: skip
        self.desk = desk
        self.actor = actor
        self.now = now
        self.head = head if head is not None else gitdir.refuse_to_write(desk.git_dir)
        # rel path -> new text (None: delete), or where it is in the temporary file
        self._texts: dict[str, str | bytes | Spilled | None] = {}
        self._spill: IO[bytes] | None = None  # the texts beyond SPILL_FROM
        self._moves: dict[str, str] = {}  # rel path -> new rel path, the bytes unchanged
        self._stored: dict[str, str] = {}  # rel path -> id of its text's blob, stored already
        self._packs: list[PackWriter] = []  # where those blobs are, installed at the commit
        self._hashing: plumbing.HashFiles | None = None  # git hashing the files written
        self._syncing: threading.Thread | None = None  # os.sync of many files written
        self._index_copy: IndexCopy | None = None  # git's index, updated as they are written
        self._changes: list[Made] = []
        self._taken: set[str] = set()
        self._archived: dict[str, str] = {}  # ticket id -> its archive path, when read there
        self._clean: set[str] = set()  # paths found free of hand edits under the lock
        self._checks: dict[str, _Check] = {}  # the same, asked of git and not yet answered
        self._trees: plumbing.TreeReader | None = None  # the last commit's folders, read early
        # git's index as first seen, and whether it holds exactly the last commit
        self._index: gitdir.IndexState | None = None
        self._index_holds_head: bool | None = None
        self._index_probe: git.Pending | None = None  # git diff-index --cached, running
        self._parent_tree: str | None = None  # the tree of the commit's parent, once made
        self.subject: str | None = None  # the commit's subject when there are many changes
        self.action: str | None = None
        self.body: str | None = None  # a paragraph after the subject
        self.trailers: dict[str, str] = {}  # more trailers after Action
        self.commit_id: str | None = None  # the commit made, once made
        self.parent_id: str | None = None  # and its parent

    # -- reading under the lock ---------------------------------------------

    def allocate_id(self, day: dt.date | None = None) -> str:
        """The next free number of ``day`` (default: today at ``now`` in the desk's zone)."""
        policy = self.desk.policy
        day = day or self.now.astimezone(policy.tz).date()
        existing = [*self.desk.ids_of_day(day), *self._taken]
        ticket_id = allocate_id(policy.prefix, day, existing, policy.digits)
        self._taken.add(ticket_id)
        # a file at the new path (never, but for a hand-made one) is asked of git now,
        # while the ticket is built; no file is checked against the last commit
        path = self.desk.active_path(ticket_id)
        rel = self.desk.rel(path)
        if os.path.lexists(path) and rel not in self._clean and rel not in self._checks:
            self._checks[rel] = self.desk.start_uncommitted([rel])
        self._read_trees_early(rel)
        return ticket_id

    def read(self, ticket_id: str, archived: bool = False) -> Ticket:
        """The ticket ``ticket_id``, validated, and free of uncommitted edits: an active
        one, or with ``archived`` one in the archive too. :meth:`put` writes it back
        where it was read from (see :meth:`put` for a reopened one)."""
        found = self.desk.locate(ticket_id)
        rel = self.desk.rel(found.path)
        if found.archived and not archived:
            raise UsageError(f"{ticket_id} is archived ({rel}); it is read-only")
        if found.archived:
            self._archived[ticket_id] = rel
        self._read_trees_early(rel)
        check = None if rel in self._clean else self._start_check([rel])
        try:
            # An invalid file is reported first (with its line): the more useful message.
            ticket = self.desk.read_file(found.path)
        except BaseException:
            if check is not None:
                check.cancel()
            raise
        if check is not None:
            self._raise_if_dirty(check.result())
            self._clean.add(rel)
        return ticket

    def read_many(self, ticket_ids: Sequence[str]) -> dict[str, Ticket | UsageError]:
        """:meth:`read` of many active tickets with one ``git status`` for all of them,
        not one each (~40 ms a process on a big desk: 200 escalations of one run took
        8 s, #12). Each number maps to its ticket, or to the error :meth:`read` would
        raise for it (an invalid file first, then uncommitted edits)."""
        out: dict[str, Ticket | UsageError] = {}
        where: dict[str, tuple[Path, str]] = {}
        for ticket_id in ticket_ids:
            try:
                found = self.desk.locate(ticket_id)
            except UsageError as exc:
                out[ticket_id] = exc
                continue
            rel = self.desk.rel(found.path)
            if found.archived:
                out[ticket_id] = UsageError(f"{ticket_id} is archived ({rel}); it is read-only")
            else:
                where[ticket_id] = (found.path, rel)
        rels = [rel for _, rel in where.values() if rel not in self._clean]
        # in batches of a few paths: git matches each path of the index against each
        # pathspec, and more paths would make it look at the whole of tickets/archive
        step = STATUS_BATCH
        for _, rel in list(where.values())[:1]:
            self._read_trees_early(rel)
        checks = [self._start_check(rels[i : i + step]) for i in range(0, len(rels), step)]
        try:
            for ticket_id, (path, _) in where.items():
                try:
                    out[ticket_id] = self.desk.read_file(path)
                except UsageError as exc:
                    out[ticket_id] = exc
        except BaseException:
            for check in checks:
                check.cancel()
            raise
        dirty = {rel for check in checks for rel in check.result()}
        for ticket_id, (_, rel) in where.items():
            if isinstance(out[ticket_id], UsageError):
                continue
            if rel in dirty:
                out[ticket_id] = UsageError(_dirty_message(rel))
            else:
                self._clean.add(rel)
        return {ticket_id: out[ticket_id] for ticket_id in ticket_ids}

    def _check_clean(self, rels: list[str], reader: plumbing.TreeReader | None = None) -> None:
        """Hand edits are never overwritten nor swept into itdesk's commit.

        A path with no file is asked of the last commit (``reader``) instead of ``git
        status``: if the commit has it, it was deleted by hand. (A file staged and then
        deleted by hand is the one change this does not see.)
        """
        for rel in [rel for rel in rels if rel in self._checks]:
            self._raise_if_dirty(self._checks.pop(rel).result())
            self._clean.add(rel)
        todo = [rel for rel in rels if rel not in self._clean]
        if reader is not None:
            root = self.desk.root
            if len(todo) > STATUS_BATCH:  # (an import's 100,000 new files: folders listed)
                absent = set(todo) - _existing(root, todo)
            else:
                absent = {rel for rel in todo if not os.path.lexists(root / rel)}
            if absent:
                trees = reader.trees()
                self._raise_if_dirty([rel for rel in todo if rel in absent
                                      and plumbing.tree_has(trees, rel)])  # fmt: skip
                self._clean |= absent
                todo = [rel for rel in todo if rel not in absent]
        if todo:
            self._raise_if_dirty(self._uncommitted(todo, reader))
            self._clean.update(todo)

    # -- hand edits, asked of the files and the last commit ----------------------
    #
    # `git status` of one path reads all of git's index: ~35 ms at 100,000 tickets, the
    # most of what a write grew by from 100 tickets (#12). When the index is known to
    # hold exactly the last commit (git's cache-tree says so, or itdesk's note of the
    # index it left after its own last commit), a file is free of hand edits if its
    # bytes are the blob the commit has, which the folders read for the commit tell.
    # Anything else (another blob, a mode, a filter's work) is asked of git as before.

    def _start_check(self, rels: list[str]) -> _Check:
        """Whether ``rels`` have uncommitted edits, answered by ``result()``: from the
        files, once git's index is known to hold the last commit (see
        :meth:`_probe_index`); else by `git status`."""
        self._probe_index()
        return _FilesCheck(self, rels)

    def _uncommitted(self, rels: list[str], reader: plumbing.TreeReader | None = None) -> list[str]:
        """Which of ``rels`` differ from the last commit (see :meth:`Desk.uncommitted`).
        Many paths (an archive of a month) are asked of git: one `git status` costs
        less than reading and hashing thousands of files."""
        if len(rels) > STATUS_BATCH:
            return self.desk.uncommitted(rels)
        own = None
        if reader is None or not reader.covers(rels):
            reader = self._trees
            if reader is None or not reader.covers(rels):
                assert self.head.oid is not None
                reader = own = plumbing.TreeReader(self.desk.root, self.head.oid, rels)
        try:
            if not self._index_holds(reader):
                return self.desk.uncommitted(rels)
            trees = reader.trees()
            assert self.head.oid is not None
            oid_len = len(self.head.oid)
            root = self.desk.root
            suspects = [rel for rel in rels if not _as_committed(root, rel, trees, oid_len)]
        finally:
            if own is not None:
                own.close()
        return self.desk.uncommitted(suspects) if suspects else []

    def _probe_index(self) -> None:
        """Start finding out whether git's index holds exactly the last commit: itdesk's
        note names this commit and this very index, or git's cache-tree is valid (and
        its tree is compared with the commit's in :meth:`_index_holds`); else `git
        diff-index --cached` is started, which skips the folders that the cache-tree
        vouches for (~15 ms at 100,000 files, half a `git status` of one path)."""
        oid = self.head.oid
        if self._index_holds_head is not None or self._index_probe is not None or oid is None:
            return
        git_dir = self.desk.git_dir
        self._index = gitdir.index_state(git_dir, len(oid))
        if gitdir.index_holds(git_dir, self._index, oid, None):
            self._index_holds_head = True
        elif self._index is None:
            self._index_holds_head = False
        elif self._index.tree is None:
            args = ("--no-optional-locks", "diff-index", "--cached", "--quiet", oid)
            self._index_probe = git.start(*args, cwd=self.desk.root, input=b"")

    def _index_holds(self, reader: plumbing.TreeReader) -> bool:
        """Whether git's index holds exactly the last commit (``reader`` read it)."""
        self._probe_index()
        if self._index_holds_head is None:
            probe, self._index_probe = self._index_probe, None
            if probe is not None:
                try:
                    probe.wait()  # exit 1: a difference
                    held = True
                except GitError:
                    held = False
                # and the index it read is the one seen first
                oid_len = len(reader.commit)
                held = held and gitdir.index_state(self.desk.git_dir, oid_len) == self._index
            else:
                root = reader.trees().get("")
                seen = self._index
                held = root is not None and seen is not None and root[0] == seen.tree
            self._index_holds_head = held
        return self._index_holds_head

    def _read_trees_early(self, rel: str) -> None:
        """A write of ``rel`` is coming: git reads the last commit's folders on the way
        to it now, while the ticket is parsed and built (see :meth:`commit`)."""
        if self._trees is None and self.head.oid is not None:
            self._trees = plumbing.TreeReader(self.desk.root, self.head.oid, [rel])
        self._probe_index()

    def close(self) -> None:
        """Stop the checks of paths that were never written (a number not used)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None
        if self._trees is not None:
            self._trees.close()
            self._trees = None
        if self._index_probe is not None:
            self._index_probe.kill()
            self._index_probe = None
        for check in self._checks.values():
            check.cancel()
        self._checks.clear()

    @staticmethod
    def _raise_if_dirty(dirty: list[str]) -> None:
        if dirty:
            raise UsageError(_dirty_message(dirty[0]))

    # -- what to write -------------------------------------------------------

    def put(self, change: Change, rel: str | None = None) -> None:
        """Write ``change.ticket`` to ``rel``, else where it was read from. A ticket read
        from the archive that is open again (reopened) goes back to the active folder,
        in the same commit: only closed and cancelled tickets live in the archive."""
        ticket = change.ticket
        archived = self._archived.get(ticket.id)
        if rel is None and archived is not None and not ticket.status.is_open:
            rel = archived
        elif rel is None and archived is not None:
            self._texts[archived] = None  # out of the archive, into tickets/
        rel = rel or self.desk.rel(self.desk.active_path(ticket.id))
        self._keep(rel, ticket_text(ticket, rel))
        self._changes.append(Made(ticket.id, change.action, change.subject))

    def put_text(
        self, made: Made, rel: str, text: str | bytes | Spilled, stored: str | None = None
    ) -> None:
        """A new ticket's file, made beforehand by :func:`ticket_text` (checked there):
        an import builds its tickets in worker processes before it takes the lock, and
        keeps them in a temporary file (``text``: where, read when written). ``stored``:
        the id of the text's blob, which is in the repository already (an import packs
        its tickets as it builds them, see :mod:`itdesk.store.pack`)."""
        if isinstance(text, Spilled):
            self._texts[rel] = text
        else:
            self._keep(rel, text)
        self._changes.append(made)
        if stored is not None:
            self._stored[rel] = stored

    def install_at_commit(self, pack: PackWriter) -> None:
        """Install ``pack`` (open, holding the blobs :meth:`put_text` was told are
        stored) when the commit is made, once its checks passed: a write refused before
        leaves no pack behind."""
        self._packs.append(pack)

    def put_file(self, rel: str, text: str | bytes | None) -> None:
        """Write (or, with None, remove) another file of the desk, such as a KB article
        (text) or an attachment (bytes)."""
        self._keep(rel, text)

    def _keep(self, rel: str, text: str | bytes | None) -> None:
        """Hold ``text`` until the commit: in memory, or beyond :data:`SPILL_FROM` files
        in a temporary file (the commit reads each back once or twice)."""
        if text is None or len(self._texts) < SPILL_FROM or rel in self._texts:
            self._texts[rel] = text
            return
        if self._spill is None:
            import tempfile

            self._spill = tempfile.TemporaryFile()
        data = _bytes(text)
        offset = self._spill.seek(0, os.SEEK_END)
        self._spill.write(data)
        self._texts[rel] = Spilled(offset, len(data))

    def _text(self, rel: str) -> str | bytes | None:
        """What :meth:`commit` writes to ``rel`` (None: remove it)."""
        text = self._texts[rel]
        if isinstance(text, Spilled):
            if text.fd is not None:
                return os.pread(text.fd, text.size, text.offset)
            assert self._spill is not None
            self._spill.seek(text.offset)
            return self._spill.read(text.size)
        return text

    def _bytes_of(self, rel: str) -> bytes:
        text = self._text(rel)
        assert text is not None
        return _bytes(text)

    def move(self, rel: str, new_rel: str) -> None:
        """Rename a file of the desk, its bytes unchanged (a ticket going to the archive):
        git sees a rename, and nothing is parsed, rewritten or synced."""
        if rel in self._moves:
            raise ValueError(f"{rel} is already moved in this transaction")
        self._moves[rel] = new_rel

    @property
    def changes(self) -> list[Made]:
        return list(self._changes)

    # -- commit ----------------------------------------------------------------

    def message(self) -> str:
        """One change: its subject. Several: the transaction's subject, then a line per
        change. Trailers name every ticket and the action."""
        changes = self._changes
        if len(changes) == 1 and self.subject is None and not self.body:
            c = changes[0]
            more = "".join(f"{key}: {value}\n" for key, value in self._more_trailers())
            return f"{c.subject}\n\nTicket: {c.ticket_id}\nAction: {c.action.value}\n{more}"
        lines = [self.subject or f"{len(changes)} changes", ""]
        if self.body:
            lines += [self.body.strip("\n"), ""]
        if changes:
            lines += [f"- {c.subject}" for c in changes] + [""]
        # every ticket the commit touches, also one only moved or removed (archive, purge)
        touched = [c.ticket_id for c in changes]
        for rel in [*self._texts, *self._moves]:
            name = rel.rsplit("/", 1)[-1]
            if rel.startswith(f"{TICKETS}/") and name.endswith(".yaml"):
                touched.append(name[: -len(".yaml")])
        lines += [f"Ticket: {tid}" for tid in dict.fromkeys(touched)]
        lines.append(f"Action: {self.action or (changes[0].action.value if changes else 'edit')}")
        lines += [f"{key}: {value}" for key, value in self._more_trailers()]
        return "\n".join(lines) + "\n"

    def _more_trailers(self) -> list[tuple[str, str]]:
        """The extra trailers, each value one printable line: an employee's name or a
        chat nick (untrusted) can never add a line, nor forge a Ticket: trailer."""
        return [
            (key, "".join(c for c in str(value) if c.isprintable()))
            for key, value in self.trailers.items()
        ]

    def _env(self) -> dict[str, str]:
        env = {
            "GIT_AUTHOR_NAME": self.actor.name,
            "GIT_AUTHOR_EMAIL": self.actor.email,
            "GIT_AUTHOR_DATE": self.now.isoformat(timespec="seconds"),
        }
        if self.desk.git_config.name is None:
            env |= {"GIT_COMMITTER_NAME": self.actor.name, "GIT_COMMITTER_EMAIL": self.actor.email}
        return env

    def commit(self) -> bool:
        """Write every file and commit them as one commit; False if there was nothing."""
        if not self._texts and not self._moves:
            return False
        root = self.desk.root
        rels = [*self._texts, *self._moves, *self._moves.values()]
        if len(set(rels)) < len(rels):  # moved twice, or written and moved: a bug
            raise ValueError("a path is written or moved twice in one transaction")
        assert self.head.ref is not None and self.head.oid is not None
        reader, self._trees = self._trees, None
        if reader is None or not reader.covers(rels):  # read early, or now for these paths
            if reader is not None:
                reader.close()
            reader = plumbing.TreeReader(root, self.head.oid, rels)
        journal = _Journal(self.desk.git_dir)
        old: dict[str, bytes | None] = {}
        try:
            self._check_clean(rels, reader)
            self._index_holds(reader)  # known before the index changes (see sync_index)
            for rel, new_rel in self._moves.items():
                if not (root / rel).is_file():
                    raise UsageError(f"cannot move {rel}: no such file")
                if (root / new_rel).exists():
                    raise UsageError(f"cannot move {rel} to {new_rel}: that file exists")
            there = _existing(root, self._texts) if len(self._texts) > STATUS_BATCH else None
            for rel in self._texts:
                try:
                    old[rel] = (root / rel).read_bytes() if there is None or rel in there else None
                except FileNotFoundError:
                    old[rel] = None
            for pack in self._packs:
                pack.install()  # the blobs are in the repository before anything names them
            journal.start(rels, self.head.ref)
        except BaseException:
            reader.close()
            raise
        moved: list[tuple[str, str]] = []
        made: list[Path] = []  # folders the moves created, removed again on failure
        attempt: list[str] = []  # the commit offered to the branch, once offered
        # Many files (an import): one sync for all of them before the commit, instead
        # of an fsync each, which took a fifth of an import of 10,000 rows (#12).
        many = len(self._texts) > STATUS_BATCH
        try:
            for rel, text in self._texts.items():
                if text is None:
                    (root / rel).unlink(missing_ok=True)
                elif not many:
                    write_atomic(root / rel, self._bytes_of(rel))
            if many:
                written = [rel for rel, text in self._texts.items() if text is not None]
                packed = _packed(written)
                if len(written) == len(rels):  # (no file removed or moved)
                    with contextlib.suppress(OSError):  # (git's index, if any, updated later)
                        self._index_copy = IndexCopy(self.desk)
                # git hashes the files (the check that no filter changes them) a group at
                # a time, the next group written meanwhile, and the last while they are
                # synced and the tree is built (#12); the copy of git's index follows
                for at in range(0, len(written), HASH_GROUP):
                    group = written[at : at + HASH_GROUP]
                    write_many(root, ((rel, self._bytes_of(rel)) for rel in group))
                    hashing = plumbing.start_hash_files(root, group, write=not packed)
                    self._hashing = hashing if self._hashing is None else self._hashing + hashing
                    if self._index_copy is not None:
                        self._index_copy.add(group)
                # one sync for all of them, while the tree is built: waited for before
                # the branch names the commit
                import threading

                self._syncing = threading.Thread(target=os.sync, name="sync", daemon=True)
                self._syncing.start()
            for rel, new_rel in self._moves.items():
                folder = (root / new_rel).parent
                if not folder.is_dir():
                    made += [p for p in (folder, *folder.parents) if not p.exists()][::-1]
                    folder.mkdir(parents=True)
                os.replace(root / rel, root / new_rel)
                moved.append((rel, new_rel))
            made_commit = self._commit(journal, rels, attempt, reader)
            if made_commit:
                self._finish(journal, rels)
        except BaseException as exc:
            reader.close()
            if self._hashing is not None:
                self._hashing.cancel()
                self._hashing = None
            self._synced()
            self._drop_index_copy()
            if self._committed(attempt):  # the branch moved: the files are the commit's
                with contextlib.suppress(Exception):
                    self._finish(journal, rels)
                raise
            for rel, new_rel in reversed(moved):
                if (root / new_rel).exists() and not (root / rel).exists():
                    os.replace(root / new_rel, root / rel)
            for made_dir in reversed(made):
                with contextlib.suppress(OSError):
                    made_dir.rmdir()
            self._restore(old)
            self._end_journal(journal, exc)
            raise
        self._drop_index_copy()
        if made_commit:
            self._after_commit()
        else:
            journal.remove()
        self._texts.clear()
        self._moves.clear()
        self._stored.clear()
        self._packs.clear()
        return made_commit

    def _commit(
        self, journal: _Journal, rels: list[str], attempt: list[str], reader: plumbing.TreeReader
    ) -> bool:
        """Build the tree on the branch's commit, commit it, move the branch from that
        commit to the new one; again on the new commit if the branch moved meanwhile."""
        root, git_dir = self.desk.root, self.desk.git_dir
        ref, base = self.head.ref, self.head.oid
        assert ref is not None and base is not None
        written = [rel for rel, text in self._texts.items() if text is not None]
        # git stores the blobs while the tree is built with the ids they will have; many
        # files (an import) go into one pack, git only telling the ids its filters give
        packed = _packed(written)
        stored, self._hashing = self._hashing, None  # started by commit() for many files
        if stored is None:
            stored = plumbing.start_hash_files(root, written, write=not packed)
        blobs: dict[str, str | None] = dict.fromkeys(self._texts)
        blobs |= self._stored  # (the ids git gives them: checked with the others below)
        with contextlib.ExitStack() as stack:
            unstored = [rel for rel in written if rel not in self._stored]
            packed_here = packed and unstored
            pack = stack.enter_context(plumbing.pack_blobs(root)) if packed_here else None
            for rel in unstored:  # one text at a time: they may be in the temporary file
                text = self._text(rel)
                assert text is not None
                data = _bytes(text)
                blobs[rel] = plumbing.blob_id(data, len(base))
                if pack is not None:
                    pack(data)
        message: str | None = None
        env = self._env()
        for _ in range(COMMIT_TRIES):
            if reader.commit != base:
                reader = plumbing.TreeReader(root, base, rels)
            tree, unchanged = plumbing.build_tree(root, reader, blobs, self._moves,
                                                  missing_ok=True)  # fmt: skip
            if written:
                ids = stored()
                if any(blobs[rel] != oid for rel, oid in ids.items()):
                    if packed:  # the pack holds the files' bytes: git stores its own
                        ids = plumbing.start_hash_files(root, written)()
                    blobs |= ids  # a filter (.gitattributes) changed the bytes: git's ids
                    tree, unchanged = plumbing.build_tree(root, reader, blobs, self._moves)
                written = []
            if unchanged:
                return False  # the files already are as the commit has them
            if message is None:  # the hooks run once, on the first tree, as for git commit
                message = self._run_hooks_before(tree, env)
            new = plumbing.commit_tree(root, tree, base, message, env,
                                       sign=self.desk.git_config.sign)  # fmt: skip
            if gitdir.head(git_dir).ref != ref:
                raise UsageError(f"HEAD left {ref} during the write; nothing was changed")
            self._synced()  # the files on the disk before the branch names them
            attempt[:] = [ref, new, base]
            parent_root = reader.trees().get("")
            self._parent_tree = parent_root[0] if parent_root is not None else None
            try:
                plumbing.update_ref(root, ref, new, base, message.split("\n", 1)[0])
                self.commit_id, self.parent_id = new, base
                return True
            except GitError:
                now_at = gitdir.read_ref(git_dir, ref)
                if now_at == new:
                    self.commit_id, self.parent_id = new, base
                    return True
                if now_at is None or now_at == base:
                    raise  # not moved by anyone: a lock, or git failed
            touched = plumbing.changed_between(root, base, now_at) & set(rels)
            if touched:
                raise UsageError(
                    f"{sorted(touched)[0]} was changed by a commit made meanwhile "
                    f"({now_at[:12]}); nothing was changed: look at it, then try again"
                )
            base = now_at  # someone committed other files: build on their commit
        raise UsageError(f"{ref} kept moving while itdesk committed; nothing was changed, "
                         "try again")  # fmt: skip

    def _synced(self) -> None:
        """Wait for the sync of the files written, if one is running."""
        if self._syncing is not None:
            self._syncing.join()
            self._syncing = None

    def _drop_index_copy(self) -> None:
        if self._index_copy is not None:
            self._index_copy.close()
            self._index_copy = None

    def _run_hooks_before(self, tree: str, env: dict[str, str]) -> str:
        """pre-commit, prepare-commit-msg and commit-msg, where the desk has them, as
        ``git commit`` runs them: with an index holding the new tree, and a message file
        that a hook may edit. Returns the message to commit."""
        root, git_dir = self.desk.root, self.desk.git_dir
        message = plumbing.stripspace(self.message())
        hooks_path = self.desk.git_config.hooks_path
        names = [name for name in ("pre-commit", "prepare-commit-msg", "commit-msg")
                 if gitdir.hook(root, git_dir, hooks_path, name)]  # fmt: skip
        if not names:
            return message
        index = git_dir / f"{HOOK_INDEX}.{os.getpid()}"
        hook_env = {**env, "GIT_INDEX_FILE": str(index)}
        try:
            git.run("read-tree", tree, cwd=root, env=hook_env)
            if "pre-commit" in names:
                plumbing.run_hook(root, "pre-commit", [], hook_env)
            if "prepare-commit-msg" in names or "commit-msg" in names:
                msg_file = git_dir / "COMMIT_EDITMSG"
                write_atomic(msg_file, message, fsync=False)
                if "prepare-commit-msg" in names:
                    plumbing.run_hook(root, "prepare-commit-msg", [str(msg_file), "message"],
                                      hook_env)  # fmt: skip
                if "commit-msg" in names:
                    plumbing.run_hook(root, "commit-msg", [str(msg_file)], hook_env)
                message = plumbing.stripspace(msg_file.read_text("utf-8"))
                if not message:
                    raise UsageError("a commit hook left the commit message empty; "
                                     "nothing was changed")  # fmt: skip
        finally:
            index.unlink(missing_ok=True)
        return message

    def _committed(self, attempt: list[str]) -> bool:
        """Whether the branch holds the commit offered to it (asked of the ref)."""
        if not attempt:
            return False
        ref, new, base = attempt
        try:
            now_at = gitdir.read_ref(self.desk.git_dir, ref)
            if now_at == new:
                return True
            if now_at is None or now_at == base:
                return False
            return plumbing.is_ancestor(self.desk.root, new, now_at)
        except (OSError, GitError):
            return False

    def _finish(self, journal: _Journal, rels: list[str]) -> None:
        """The commit is made: git's index follows it for these paths."""
        made, held = None, None
        if self.commit_id and self.parent_id and self._parent_tree:
            made = (self.commit_id, self.parent_id, self._parent_tree)
        if self._index_holds_head and self._index and self.parent_id == self.head.oid:
            held = self._index.checksum
        try:
            sync_index(self.desk, rels, made, held, copy=self._index_copy)
        except GitError as exc:  # the change is committed: the next run syncs the index
            self.desk.warnings.append(
                f"the change is committed, but git's index was not updated ({exc}); "
                "the next itdesk command updates it"
            )
            return
        journal.remove()

    def _after_commit(self) -> None:
        """post-commit, and git's automatic gc, as ``git commit`` runs them."""
        root, git_dir, config = self.desk.root, self.desk.git_dir, self.desk.git_config
        if self.commit_id is not None and self.parent_id is not None:
            from .numbers import advance  # the numbers ever used follow, without git

            advance(git_dir, self.parent_id, self.commit_id, [*self._texts, *self._moves.values()])
        if gitdir.hook(root, git_dir, config.hooks_path, "post-commit"):
            with contextlib.suppress(GitError):  # git ignores post-commit's exit status
                plumbing.run_hook(root, "post-commit", [], self._env())
        # `git commit` starts `git maintenance run --auto` every time (a process); the
        # loose-object count it starts from is cheap to read here.
        if config.auto_maintenance and gitdir.gc_due(git_dir, config.gc_auto):
            git.run("maintenance", "run", "--auto", "--quiet", cwd=root, check=False)

    def _end_journal(self, journal: _Journal, exc: BaseException | None) -> None:
        """After a rollback: remove the journal, unless the git step under way was
        stopped (killed with us) and left its lock; then keep it, marked, so that the
        next run knows that lock as this run's."""
        if not isinstance(exc, git.GitLocked):  # that lock was another git's
            for name in journal.data.get("locks") or []:
                try:
                    st = (self.desk.git_dir / name).stat()
                except (OSError, TypeError):
                    continue
                if journal.left_lock(name, st):
                    with contextlib.suppress(OSError):
                        journal.mark_restored()
                    return
        journal.remove()

    def _restore(self, old: dict[str, bytes | None]) -> None:
        """Put the files back as they were before a failed write (those still holding
        what this transaction wrote)."""
        root = self.desk.root
        for rel, content in old.items():
            path = root / rel
            text = self._text(rel) if rel in self._texts else None
            try:
                now: bytes | None = path.read_bytes()
            except FileNotFoundError:
                now = None
            except OSError:
                continue
            ours = None if text is None else _bytes(text)
            if now != ours and now != content:
                continue  # somebody else wrote it meanwhile: theirs
            if content is None:
                path.unlink(missing_ok=True)
            elif now != content:
                write_atomic(path, content)


class _FilesCheck:
    """A check of hand edits answered from the files and the last commit's folders
    (:meth:`Transaction._uncommitted`) when :meth:`result` is asked."""

    def __init__(self, tx: Transaction, rels: list[str]):
        self.tx, self.rels = tx, rels

    def result(self) -> list[str]:
        return self.tx._uncommitted(self.rels)

    def cancel(self) -> None:
        pass


def _as_committed(
    root: Path, rel: str, trees: dict[str, tuple[str, plumbing.Tree] | None], oid_len: int
) -> bool:
    """Whether the file ``rel`` is, byte for byte, the plain file the commit has (its
    blob id computed here); False also when it cannot tell (git is asked then)."""
    folder, name = posixpath.split(rel)
    found = trees.get(folder)
    entry = found[1].get(name) if found is not None else None
    if entry is None or entry.mode != plumbing.FILE_MODE:
        return False
    try:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_mode & 0o111:
            return False
        data = fh.read()
    return plumbing.blob_id(data, oid_len) == entry.oid


def ticket_text(ticket: Ticket, rel: str, *, checked: bool = False) -> str:
    """The file of ``ticket`` as :meth:`Transaction.put` writes it, once checked against
    the schema (InvalidTicket naming ``rel`` if it fails). ``checked``: its data, as
    ``ticket_to_dict`` makes it, passed the schema already (an import's record cell)."""
    from .yamlio import dump_yaml

    data = ticket_to_dict(ticket)
    if not checked:
        check_data(data, rel)
    return dump_yaml(data)


# Files written, then hashed by git while the next ones are written: ~0.4 s of git's
# work at a time for an import's 100,000 files, a git process each.
HASH_GROUP = 10_000


def _packed(written: list[str]) -> bool:
    """Whether the blobs of these files go into one pack (many: an import), git only
    telling their ids, or git stores each as it hashes it (few)."""
    return len(written) > STATUS_BATCH


def _existing(root: Path, rels: Iterable[str]) -> set[str]:
    """Which of ``rels`` name something in their folder, each folder listed once: what
    an import of 100,000 new tickets asked of each path, one failed open at a time."""
    found: set[str] = set()
    folders: dict[str, list[str]] = {}
    for rel in rels:
        folder, _, name = rel.rpartition("/")
        folders.setdefault(folder, []).append(name)
    for folder, names in folders.items():
        try:
            listed = set(os.listdir(root / folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        found.update(f"{folder}/{name}" if folder else name for name in names if name in listed)
    return found


def _bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _dirty_message(rel: str) -> str:
    return (
        f"{rel} has uncommitted changes; commit them with git (after itdesk "
        "validate) or discard them (git checkout -- the file), then try again"
    )
