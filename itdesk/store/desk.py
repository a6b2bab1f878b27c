"""The desk on disk: finding it, reading and validating tickets, and committing changes.

Every change goes through :meth:`Desk.create` or :meth:`Desk.update`: under the desk's
lock (``.git/itdesk.lock``) the ticket is read and validated, the pure lifecycle function
builds the new ticket, which is validated against the JSON Schema, written atomically
(temp file + ``os.replace``) and committed with ``Ticket:``/``Action:`` trailers. If any
step fails, the file and the index are put back as they were, so HEAD and the working
tree are unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import json
import os
import posixpath
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.ids import allocate_id, check_id, day_prefix
from ..core.model import Ticket, ticket_from_dict, ticket_to_dict
from ..core.policy import POLICY_FILE, Policy, default_policy_text, policy_from_dict
from ..errors import (
    DeskNotFound,
    GitError,
    InvalidPolicy,
    InvalidTicket,
    LockTimeout,
    NoIdentity,
    UnknownTicket,
    UsageError,
)
from . import git

if TYPE_CHECKING:
    from ..core.lifecycle import Change

TICKETS = "tickets"
ARCHIVE = "tickets/archive"
KB = "kb"
LOCK_FILE = "itdesk.lock"
LOCK_TIMEOUT = 30.0
ENV_DESK = "ITDESK_DESK"
SCHEMA_PATH = Path(__file__).parent.parent / "schema" / "ticket.schema.json"
JOURNAL = "itdesk/journal.json"  # inside .git: paths a transaction is writing
CACHE_DIR = "itdesk/cache"  # inside .git: one file per folder of tickets
# A transaction of more paths than this stages and commits them through a temporary
# index instead of naming each as a pathspec: git matches every index entry against
# every pathspec, so 10,000 paths on a desk of 100,000 files cost ~40 s per git command.
MANY_PATHS = 100


def dump_yaml(data: Any) -> str:
    from .yamlio import dump_yaml

    return dump_yaml(data)


def load_yaml(text: str, path: str) -> Any:
    from .yamlio import load_yaml

    return load_yaml(text, path)


def line_of(text: str, keys: list[str | int]) -> int | None:
    from .yamlio import line_of

    return line_of(text, keys)


# ----------------------------------------------------------------------- schema


def schema() -> dict[str, Any]:
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


_checker: Any = None


def schema_problems(data: Any) -> list[tuple[list[str | int], str]]:
    """Every schema violation of ``data`` as (path of keys, message), shallowest first.

    Uses :mod:`itdesk.schemacheck` (fast to import); :func:`jsonschema_problems` is the
    reference implementation that ``itdesk validate`` also runs.
    """
    global _checker
    if _checker is None:
        from .schemacheck import Checker

        _checker = Checker(schema())
    problems: list[tuple[list[str | int], str]] = _checker.problems(data)
    return sorted(problems, key=lambda p: len(p[0]))


@functools.cache
def _reference_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def jsonschema_problems(data: Any) -> list[tuple[list[str | int], str]]:
    """The same as :func:`schema_problems`, by the jsonschema library (slow to import)."""
    out: list[tuple[list[str | int], str]] = []
    errors = _reference_validator().iter_errors(data)
    for err in sorted(errors, key=lambda e: len(e.absolute_path)):
        path, message = list(err.absolute_path), err.message
        if err.validator == "oneOf" and err.context:
            best = max(err.context, key=lambda e: len(e.absolute_path))
            path, message = list(best.absolute_path), best.message
        out.append((path, message))
    return out


def key_path(keys: list[str | int]) -> str:
    text = ""
    for k in keys:
        text += f"[{k}]" if isinstance(k, int) else (f".{k}" if text else str(k))
    return text or "(top level)"


def check_ticket_data(data: Any, path: str, text: str | None = None) -> Ticket:
    """Validate plain ticket data against the schema and build the ticket."""
    problems = schema_problems(data)
    if problems:
        keys, message = problems[0]
        line = line_of(text, keys) if text is not None else None
        raise InvalidTicket(f"{key_path(keys)}: {message}", path, line)
    try:
        return ticket_from_dict(data)
    except InvalidTicket as exc:
        raise InvalidTicket(str(exc), path) from None


# ------------------------------------------------------------------------ files


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # tempfile.mkstemp would do, but importing tempfile costs ~8 ms on every write.
    tmp = path.parent / f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------------------- desk


def find_desk(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """The desk's root: ``explicit``, else ``$ITDESK_DESK``, else walk up from ``cwd``."""
    chosen = explicit if explicit is not None else os.environ.get(ENV_DESK) or None
    if chosen is not None:
        root = Path(chosen).expanduser().resolve()
        if not (root / POLICY_FILE).is_file():
            raise DeskNotFound(
                f"no desk at {root} (no {POLICY_FILE}); create one: itdesk init PATH"
            )
        return root
    start = (cwd or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / POLICY_FILE).is_file():
            return folder
    raise DeskNotFound(
        f"no desk here: no {POLICY_FILE} in {start} or above; "
        "use --desk PATH, set ITDESK_DESK, or create one: itdesk init PATH"
    )


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: the name recorded in the ticket and the commit's author."""

    name: str
    email: str


@dataclass(frozen=True, slots=True)
class TicketFile:
    path: Path
    archived: bool


class Desk:
    def __init__(self, root: Path):
        self.root = root

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None) -> Desk:
        return cls(find_desk(explicit))

    # -- policy -------------------------------------------------------------

    @cached_property
    def policy(self) -> Policy:
        return policy_from_dict(self._cached(self.root / POLICY_FILE, _parse_policy))

    def _cached(self, path: Path, parse: Callable[[Path], Any]) -> Any:
        """``parse(path)``, through the cache in ``.git`` (only there: a desk that is not
        yet a git repository gets no cache folder)."""
        from .cache import FileCache, stat_key

        try:
            key = stat_key(path.stat())
        except OSError as exc:
            raise InvalidPolicy(f"{self.rel(path)}: cannot read: {exc.strerror}") from None
        git_dir = self.root / ".git"
        if not git_dir.is_dir():
            return parse(path)
        rel = self.rel(path)
        cache = FileCache(git_dir / CACHE_DIR / rel.replace("/", "-"))
        data = cache.get(rel, key)
        if data is None:
            data = parse(path)
            cache.put(rel, key, data)
            cache.save()
        return data

    @cached_property
    def calendars(self) -> dict[str, Any]:
        """The SLA calendars by name, with their ``include`` files (ICS or YAML, relative
        to the desk) merged in: ``holidays`` and ``workdays`` are added to the calendar's
        own."""
        from ..core.sla import build_calendars

        merged: dict[str, Any] = {}
        for name, definition in self.policy.calendars.items():
            if not isinstance(definition, dict) or "include" not in definition:
                merged[name] = definition
                continue
            definition = dict(definition)
            includes = definition.pop("include")
            for rel in includes if isinstance(includes, list) else [includes]:
                holidays, workdays = self._calendar_file(f"calendars.{name}.include", str(rel))
                definition["holidays"] = [*(definition.get("holidays") or []), *holidays]
                definition["workdays"] = [*(definition.get("workdays") or []), *workdays]
            merged[name] = definition
        return build_calendars(merged, self.policy.timezone)

    def _calendar_file(self, key: str, rel: str) -> tuple[list[Any], list[Any]]:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise InvalidPolicy(f"{POLICY_FILE}: {key}: no file {rel} in the desk")
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".ics":
            from ..core.calendar import holidays_from_ics

            days, extra = holidays_from_ics(text)
            return [d.isoformat() for d in days], [d.isoformat() for d in extra]
        from .yamlio import parse

        data = parse(text) or {}
        if not isinstance(data, dict):
            raise InvalidPolicy(f"{POLICY_FILE}: {key}: {rel} must hold holidays: and workdays:")
        return list(data.get("holidays") or []), list(data.get("workdays") or [])

    # -- paths --------------------------------------------------------------

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def active_path(self, ticket_id: str) -> Path:
        return self.root / TICKETS / f"{check_id(ticket_id)}.yaml"

    def locate(self, ticket_id: str) -> TicketFile:
        """Where ticket ``ticket_id`` is: active, or in a month of the archive."""
        path = self.active_path(ticket_id)
        if path.is_file():
            return TicketFile(path, archived=False)
        archive = self.root / ARCHIVE
        if archive.is_dir():
            for month in sorted(archive.iterdir(), reverse=True):
                candidate = month / f"{ticket_id}.yaml"
                if candidate.is_file():
                    return TicketFile(candidate, archived=True)
        raise UnknownTicket(f"no ticket {ticket_id} on this desk (itdesk list --all shows them)")

    def ticket_files(self, include_archive: bool = False) -> list[TicketFile]:
        found = [TicketFile(p, False) for p in sorted((self.root / TICKETS).glob("*.yaml"))]
        if include_archive:
            found += [TicketFile(p, True) for p in sorted((self.root / ARCHIVE).glob("*/*.yaml"))]
        return found

    def ids_of_day(self, day: dt.date) -> list[str]:
        """Every number of ``day`` used on the desk, archived ones included."""
        start = day_prefix(self.policy.prefix, day)
        pattern = f"{start}*.yaml"
        paths = list((self.root / TICKETS).glob(pattern))
        paths += (self.root / ARCHIVE).glob(f"*/{pattern}")
        return [p.name[: -len(".yaml")] for p in paths]

    # -- reading ------------------------------------------------------------

    def load_file(self, path: Path) -> tuple[str, Any]:
        """The text of a ticket file and its parsed YAML (not yet validated)."""
        rel = self.rel(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidTicket("not UTF-8 text", rel) from None
        except OSError as exc:
            raise InvalidTicket(f"cannot read: {exc.strerror}", rel) from None
        return text, load_yaml(text, rel)

    def _checked(self, path: Path, text: str, data: Any) -> Ticket:
        rel = self.rel(path)
        ticket = check_ticket_data(data, rel, text)
        if path.stem != ticket.id:
            raise InvalidTicket(
                f"id {ticket.id!r} does not match the file name", rel, line_of(text, ["id"])
            )
        return ticket

    def read_file(self, path: Path) -> Ticket:
        text, data = self.load_file(path)
        return self._checked(path, text, data)

    def read(self, ticket_id: str) -> Ticket:
        return self.read_file(self.locate(ticket_id).path)

    def ticket_data(
        self,
        include_archive: bool = False,
        on_error: Callable[[InvalidTicket], None] | None = None,
        on_parse: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every valid ticket as plain data (the YAML's keys), through the cache in .git.

        Unreadable or invalid files go to ``on_error`` (or raise); they are never cached.
        ``on_parse`` is called before each file that has to be parsed (for progress).
        """
        from .cache import FileCache, stat_key

        out: list[dict[str, Any]] = []
        folders = [self.root / TICKETS]
        if include_archive and (self.root / ARCHIVE).is_dir():
            folders += sorted(p for p in (self.root / ARCHIVE).iterdir() if p.is_dir())
        for folder in folders:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except FileNotFoundError:
                continue
            rel_folder = self.rel(folder)
            cache = FileCache(self.root / ".git" / CACHE_DIR / (rel_folder.replace("/", "-")))
            for entry in entries:
                if not entry.name.endswith(".yaml") or not entry.is_file():
                    continue
                rel = f"{rel_folder}/{entry.name}"
                key = stat_key(entry.stat())
                data = cache.get(rel, key)
                if data is None:
                    if on_parse is not None:  # a file the cache cannot serve: progress
                        on_parse()
                    path = Path(entry.path)
                    try:
                        text, data = self.load_file(path)
                        self._checked(path, text, data)
                    except InvalidTicket as exc:
                        if on_error is None:
                            raise
                        on_error(exc)
                        continue
                    cache.put(rel, key, data)
                out.append(data)
            cache.save()
        return out

    # -- identity -----------------------------------------------------------

    @cached_property
    def git_identity(self) -> tuple[str | None, str | None]:
        """git's user.name and user.email in this desk (one git process, once)."""
        return git.identity(self.root)

    def actor(self, as_name: str | None) -> Actor:
        name, email = self.git_identity
        if as_name is not None:
            as_name = as_name.strip()
            if not as_name:
                raise NoIdentity("--as needs a name")
            email = self.policy.email_of(as_name) or _placeholder_email(as_name)
            return Actor(as_name, email)
        if not name:
            raise NoIdentity(
                "who is acting? git has no user.name here; pass --as NAME "
                "or set it: git config user.name 'Your Name'"
            )
        return Actor(name, self.policy.email_of(name) or email or _placeholder_email(name))

    # -- writing ------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Serialise itdesk processes on this desk (a lock file inside ``.git``)."""
        git_dir = self.root / ".git"
        if not git_dir.is_dir():
            raise DeskNotFound(f"{self.root} has {POLICY_FILE} but is not a git repository")
        with open(git_dir / LOCK_FILE, "a+") as fh:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"another itdesk process has held the desk for {timeout:.0f}s; "
                            "try again"
                        ) from None
                    time.sleep(0.02)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def transaction(self, actor: Actor, now: dt.datetime) -> Iterator[Transaction]:
        """Hold the desk's lock; what the block puts into the transaction becomes one
        commit when it ends. If the block raises, nothing is written."""
        with self.lock():
            self._recover()
            tx = Transaction(self, actor, now)
            yield tx
            tx.commit()

    def _recover(self) -> None:
        """Undo what a killed itdesk left half-done (files written, commit not made).

        A transaction writes its journal, the paths it is about to change, before it
        writes them, and removes it after its commit. A journal found here (under the
        lock, so its writer is gone) means that process died: its paths are put back as
        HEAD has them, which is a no-op if the commit did complete.
        """
        journal = self.root / ".git" / JOURNAL
        if not journal.exists():
            return
        try:
            rels = [str(r) for r in json.loads(journal.read_text("utf-8"))["paths"]]
        except (OSError, ValueError, KeyError, TypeError):
            rels = []
        if rels:
            git.run("reset", "-q", "--", *rels, cwd=self.root, check=False)
            tracked = set(git.zsplit(git.run("ls-tree", "-z", "--name-only", "HEAD", "--",
                                             *rels, cwd=self.root)))  # fmt: skip
            if tracked:
                git.run("checkout", "HEAD", "--", *sorted(tracked), cwd=self.root)
            for rel in set(rels) - tracked:
                (self.root / rel).unlink(missing_ok=True)
            import sys

            print(
                f"itdesk: warning: an earlier itdesk run was interrupted; put back {len(rels)} "
                "file(s) as the last commit has them",
                file=sys.stderr,
            )
        journal.unlink(missing_ok=True)

    def create(self, build: Callable[[str], Change], actor: Actor, now: dt.datetime) -> Change:
        """Allocate the next number of ``now``'s day, build the ticket, commit it."""
        with self.transaction(actor, now) as tx:
            change = build(tx.allocate_id())
            tx.put(change)
        return change

    def update(
        self,
        ticket_id: str,
        step: Callable[[Ticket], Change],
        actor: Actor,
        now: dt.datetime,
    ) -> Change:
        """Read ``ticket_id``, apply ``step`` and commit the result, all under the lock."""
        with self.transaction(actor, now) as tx:
            change = step(tx.read(ticket_id))
            tx.put(change)
        return change


class Transaction:
    """Changes to files of the desk that become one commit, or nothing.

    Files are only written in :meth:`commit`: each ticket is validated when it is put,
    every path is checked for uncommitted hand edits, then all files are written
    atomically (or renamed, see :meth:`move`) and committed together. If anything fails
    there, every file and the index are put back as they were. Made by
    :meth:`Desk.transaction`, under the lock.
    """

    def __init__(self, desk: Desk, actor: Actor, now: dt.datetime):
        self.desk = desk
        self.actor = actor
        self.now = now
        self._texts: dict[str, str | None] = {}  # rel path -> new text (None: delete)
        self._moves: dict[str, str] = {}  # rel path -> new rel path, the bytes unchanged
        self._changes: list[Change] = []
        self._taken: set[str] = set()
        self.subject: str | None = None  # the commit's subject when there are many changes
        self.action: str | None = None
        self.body: str | None = None  # a paragraph after the subject
        self.trailers: dict[str, str] = {}  # more trailers after Action

    # -- reading under the lock ---------------------------------------------

    def allocate_id(self, day: dt.date | None = None) -> str:
        """The next free number of ``day`` (default: today at ``now`` in the desk's zone)."""
        policy = self.desk.policy
        day = day or self.now.astimezone(policy.tz).date()
        existing = [*self.desk.ids_of_day(day), *self._taken]
        ticket_id = allocate_id(policy.prefix, day, existing, policy.digits)
        self._taken.add(ticket_id)
        return ticket_id

    def read(self, ticket_id: str) -> Ticket:
        """The active ticket ``ticket_id``, validated, and free of uncommitted edits."""
        found = self.desk.locate(ticket_id)
        if found.archived:
            raise UsageError(
                f"{ticket_id} is archived ({self.desk.rel(found.path)}); it is read-only"
            )
        # An invalid file is reported first (with its line): the more useful message.
        ticket = self.desk.read_file(found.path)
        self._check_clean([self.desk.rel(found.path)])
        return ticket

    def _check_clean(self, rels: list[str]) -> None:
        """Hand edits are never overwritten nor swept into itdesk's commit."""
        if len(rels) <= MANY_PATHS:
            out = git.run("status", "--porcelain", "-z", "--", *rels, cwd=self.desk.root)
            dirty = [item[3:] for item in git.zsplit(out)]
        else:  # the paths' folders as pathspecs (see MANY_PATHS), then only these paths
            folders = sorted({posixpath.dirname(rel) or "." for rel in rels})
            out = git.run("status", "--porcelain", "-z", "--untracked-files=all",
                          "--no-renames", "--", *folders, cwd=self.desk.root)  # fmt: skip
            wanted = set(rels)
            dirty = [item[3:] for item in git.zsplit(out) if item[3:] in wanted]
        if dirty:
            path = dirty[0]
            raise UsageError(
                f"{path} has uncommitted changes; commit them with git (after itdesk "
                "validate) or discard them (git checkout -- the file), then try again"
            )

    # -- what to write -------------------------------------------------------

    def put(self, change: Change, rel: str | None = None) -> None:
        """Write ``change.ticket`` (to its active file, or to ``rel``)."""
        ticket = change.ticket
        rel = rel or self.desk.rel(self.desk.active_path(ticket.id))
        data = ticket_to_dict(ticket)
        check_ticket_data(data, rel)
        self._texts[rel] = dump_yaml(data)
        self._changes.append(change)

    def put_file(self, rel: str, text: str | None) -> None:
        """Write (or, with None, remove) another file of the desk, such as a KB article."""
        self._texts[rel] = text

    def move(self, rel: str, new_rel: str) -> None:
        """Rename a file of the desk, its bytes unchanged (a ticket going to the archive):
        git sees a rename, and nothing is parsed, rewritten or synced."""
        if rel in self._moves:
            raise ValueError(f"{rel} is already moved in this transaction")
        self._moves[rel] = new_rel

    @property
    def changes(self) -> list[Change]:
        return list(self._changes)

    # -- commit ----------------------------------------------------------------

    def message(self) -> str:
        """One change: its subject. Several: the transaction's subject, then a line per
        change. Trailers name every ticket and the action."""
        changes = self._changes
        if len(changes) == 1 and self.subject is None and not self.body and not self.trailers:
            c = changes[0]
            return f"{c.subject}\n\nTicket: {c.ticket.id}\nAction: {c.action.value}\n"
        lines = [self.subject or f"{len(changes)} changes", ""]
        if self.body:
            lines += [self.body.strip("\n"), ""]
        if changes:
            lines += [f"- {c.subject}" for c in changes] + [""]
        lines += [f"Ticket: {tid}" for tid in dict.fromkeys(c.ticket.id for c in changes)]
        lines.append(f"Action: {self.action or (changes[0].action.value if changes else 'edit')}")
        lines += [f"{key}: {value}" for key, value in self.trailers.items()]
        return "\n".join(lines) + "\n"

    def commit(self) -> bool:
        """Write every file and commit them as one commit; False if there was nothing."""
        if not self._texts and not self._moves:
            return False
        root = self.desk.root
        rels = [*self._texts, *self._moves, *self._moves.values()]
        if len(set(rels)) < len(rels):  # moved twice, or written and moved: a bug
            raise ValueError("a path is written or moved twice in one transaction")
        self._check_clean(rels)
        for rel, new_rel in self._moves.items():
            if not (root / rel).is_file():
                raise UsageError(f"cannot move {rel}: no such file")
            if (root / new_rel).exists():
                raise UsageError(f"cannot move {rel} to {new_rel}: that file exists")
        old: dict[str, bytes | None] = {}
        for rel in self._texts:
            path = root / rel
            old[rel] = path.read_bytes() if path.exists() else None
        env = {
            "GIT_AUTHOR_NAME": self.actor.name,
            "GIT_AUTHOR_EMAIL": self.actor.email,
            "GIT_AUTHOR_DATE": self.now.isoformat(timespec="seconds"),
        }
        if self.desk.git_identity[0] is None:
            env |= {"GIT_COMMITTER_NAME": self.actor.name, "GIT_COMMITTER_EMAIL": self.actor.email}
        journal = root / ".git" / JOURNAL
        write_atomic(journal, json.dumps({"paths": rels}, ensure_ascii=False))
        moved: list[tuple[str, str]] = []
        made: list[Path] = []  # folders the moves created, removed again on failure
        many = len(rels) > MANY_PATHS
        try:
            for rel, text in self._texts.items():
                if text is None:
                    (root / rel).unlink(missing_ok=True)
                else:
                    write_atomic(root / rel, text)
            for rel, new_rel in self._moves.items():
                folder = (root / new_rel).parent
                if not folder.is_dir():
                    made += [p for p in (folder, *folder.parents) if not p.exists()][::-1]
                    folder.mkdir(parents=True)
                os.replace(root / rel, root / new_rel)
                moved.append((rel, new_rel))
            if many:
                self._commit_many(rels, env)
            else:
                git.run("add", "-A", "--", *rels, cwd=root)
                git.run("commit", "-q", "-F", "-", "--", *rels, cwd=root,
                        input=self.message(), env=env)  # fmt: skip
        except BaseException:
            for rel, new_rel in reversed(moved):
                os.replace(root / new_rel, root / rel)
            for made_dir in reversed(made):
                with contextlib.suppress(OSError):
                    made_dir.rmdir()
            # Many paths were staged only in the temporary index: the real one is as it was.
            self._restore(old, [] if many else rels)
            journal.unlink(missing_ok=True)
            raise
        if many:  # the commit is made: now the real index follows it
            git.run("update-index", "--add", "--remove", "-z", "--stdin", cwd=root,
                    input="".join(f"{rel}\0" for rel in rels))  # fmt: skip
        journal.unlink(missing_ok=True)
        self._texts.clear()
        self._moves.clear()
        return True

    def _commit_many(self, rels: list[str], env: dict[str, str]) -> None:
        """Commit ``rels`` as ``git commit -- rels`` does, through a temporary index (HEAD,
        with the real index's stat data, plus these paths) but without pathspecs (see
        MANY_PATHS). Hooks see the temporary index, as they do for ``commit -- paths``."""
        root = self.desk.root
        index = root / ".git" / f"itdesk-index.{os.getpid()}"
        tmp = {**env, "GIT_INDEX_FILE": str(index)}
        try:
            git.run("read-tree", "-m", "HEAD", f"--index-output={index}", cwd=root)
            git.run("update-index", "--add", "--remove", "-z", "--stdin", cwd=root,
                    input="".join(f"{rel}\0" for rel in rels), env=tmp)  # fmt: skip
            git.run("commit", "-q", "-F", "-", cwd=root, input=self.message(), env=tmp)
        finally:
            index.unlink(missing_ok=True)

    def _restore(self, old: dict[str, bytes | None], staged: list[str]) -> None:
        """Put the files and the index entries of ``staged`` back as they were before a
        failed write."""
        root = self.desk.root
        if staged:
            with contextlib.suppress(GitError):
                git.run("reset", "-q", "--", *staged, cwd=root)
        for rel, content in old.items():
            path = root / rel
            if content is None:
                path.unlink(missing_ok=True)
            else:
                write_atomic(path, content.decode("utf-8"))


def _parse_policy(path: Path) -> Any:
    from .yamlio import parse, syntax_error

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidPolicy(f"{POLICY_FILE}: cannot read: {exc}") from None
    problem = syntax_error(text)
    if problem:
        raise InvalidPolicy(f"{POLICY_FILE}: {problem}")
    return parse(text)


def _placeholder_email(name: str) -> str:
    local = re.sub(r"[^A-Za-z0-9._-]+", ".", name).strip(".").lower() or "technician"
    return f"{local}@itdesk.invalid"


def machine_timezone() -> str:
    """The IANA name of this machine's zone ($TZ, then /etc/localtime), else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz or tz == "UTC":
        return tz
    with contextlib.suppress(OSError):
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    with contextlib.suppress(OSError):
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    return "UTC"


GITATTRIBUTES = "tickets/**/*.yaml text eol=lf\nkb/*.md text eol=lf\n"
KB_README = """\
# Knowledge base

One Markdown article per frequent problem, with YAML front matter (title, category,
tags, source tickets, updated). `itdesk kb promote ID` writes one from a resolved ticket.
"""


def init_desk(path: Path, technician: str | None, timezone: str | None, now: dt.datetime) -> Path:
    """Make ``path`` a desk: a git repository with ``itdesk.yaml``, ``tickets/`` and ``kb/``."""
    root = path.expanduser().resolve()
    if (root / POLICY_FILE).exists():
        raise UsageError(f"{root} is already a desk ({POLICY_FILE} exists)")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")
    tz_name = timezone or machine_timezone()
    from ..core.times import zone

    zone(tz_name)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []  # what to remove again if init fails in an existing folder
    try:
        if not (root / ".git").exists():
            git.run("init", "-q", cwd=root)
            made.append(root / ".git")
        name, email = git.identity(root)
        who = technician.strip() if technician else name
        if not who:
            raise NoIdentity(
                "who runs this desk? git has no user.name; pass --as NAME "
                "or set it: git config --global user.name 'Your Name'"
            )
        policy_text = default_policy_text(tz_name, who)
        from .yamlio import parse

        policy_from_dict(parse(policy_text))  # the template must be valid
        files = {
            POLICY_FILE: policy_text,
            f"{TICKETS}/.gitkeep": "",
            f"{KB}/README.md": KB_README,
            ".gitattributes": GITATTRIBUTES,
        }
        for rel, text in files.items():
            target = root / rel
            if target.exists():
                continue
            for folder in reversed(target.relative_to(root).parents[:-1]):
                if not (root / folder).exists():
                    made.append(root / folder)
            write_atomic(target, text)
            made.append(target)
        git.run("add", "--", *files, cwd=root)
        actor_email = email or _placeholder_email(who)
        env = {
            "GIT_AUTHOR_NAME": who,
            "GIT_AUTHOR_EMAIL": actor_email,
            "GIT_AUTHOR_DATE": now.isoformat(timespec="seconds"),
        }
        if name is None:
            env |= {"GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": actor_email}
        message = f"init desk ({tz_name})\n\nAction: init\n"
        git.run("commit", "-q", "-F", "-", "--", *files, cwd=root, input=message, env=env)
    except BaseException:
        import shutil

        if created:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for path in reversed(made):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise
    return root
