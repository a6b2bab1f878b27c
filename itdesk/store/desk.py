"""The desk on disk: finding it, reading and validating its tickets (through the cache in
``.git``), and who acts on it.

Reads refuse, with one line naming the state, while a merge, rebase, cherry-pick or
revert is unfinished: the files may hold conflict markers or another commit's bytes,
and "no tickets" or a clean ``check`` would be a lie (SPEC, several technicians). The
check costs a few ``stat`` calls. Writes go through :meth:`Desk.transaction`
(:mod:`itdesk.store.transaction`); nothing here prints: what a person should be told
goes to :attr:`Desk.warnings`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import posixpath
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.ids import check_id, day_prefix
from ..core.policy import POLICY_FILE, Policy, policy_from_dict
from ..errors import DeskNotFound, InvalidPolicy, InvalidTicket, NoIdentity, UnknownTicket
from . import git, gitdir
from .identity import Actor, placeholder_email
from .layout import ARCHIVE, CACHE_DIR, ENV_DESK, JOURNAL, TICKETS
from .schema import check_ticket_data

if TYPE_CHECKING:
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from .folders import Summarize, TicketFolder
    from .transaction import Transaction

__all__ = ["MANY_PATHS", "Desk", "TicketFile", "find_desk"]

# Above this many paths, `git status` is given the paths' folders instead of the paths:
# git matches every index entry against every pathspec, so 10,000 paths on a desk of
# 100,000 files cost ~40 s per git command.
MANY_PATHS = 100
# A ticket file is a few KB; one far larger is not read (a hand edit gone wrong, or worse).
MAX_TICKET_BYTES = 5_000_000
LINKED = "is a symbolic link; itdesk never follows links out of the desk (replace it with the file)"


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
class TicketFile:
    """A ticket's file, and whether it is in the archive."""

    path: Path
    archived: bool


class Desk:
    """One desk: its policy, its tickets, and the way to change them."""

    def __init__(self, root: Path):
        self.root = root
        self.git_dir = root / ".git"
        # What a person should be told (an interrupted earlier run put back, a stale
        # lock cleared): the store never prints, the caller shows these.
        self.warnings: list[str] = []
        self.holding_lock = False  # this process is inside a transaction on this desk
        self._git_config: git.Config | None = None
        self._config_answer: Callable[[], git.Config] | None = None

    @classmethod
    def open(cls, explicit: str | os.PathLike[str] | None = None) -> Desk:
        return cls(find_desk(explicit))

    # -- policy -------------------------------------------------------------

    @cached_property
    def policy(self) -> Policy:
        return policy_from_dict(self._cached(self.root / POLICY_FILE, _parse_policy))

    def _cached(self, path: Path, parse: Callable[[bytes], Any]) -> Any:
        """``parse`` of the bytes of ``path``, through the cache in ``.git`` (only there: a
        desk that is not yet a git repository gets no cache folder)."""
        from .cache import FileCache, stat_key

        try:
            key = stat_key(path.stat())
        except OSError as exc:
            raise InvalidPolicy(f"{self.rel(path)}: cannot read: {exc.strerror}") from None
        if not self.git_dir.is_dir():
            return parse(_read_policy(path))
        rel = self.rel(path)
        cache = FileCache(self.git_dir / CACHE_DIR / rel.replace("/", "-"))
        raw: list[bytes] = []  # the bytes read, once: parsed, or compared with those kept

        def content() -> bytes:
            if not raw:
                raw.append(_read_policy(path))
            return raw[0]

        data = cache.get(rel, key, content)
        if data is None:
            data = parse(content())
            cache.put(rel, key, data, raw[0])
            cache.save()
        return data

    @cached_property
    def calendars(self) -> dict[str, Any]:
        """The SLA calendars by name, with their ``include`` files (ICS or YAML, relative
        to the desk) merged in: ``holidays`` and ``workdays`` are added to the calendar's
        own."""
        from ..core.sla import build_calendars

        return build_calendars(self.calendar_definitions, self.policy.timezone)

    @cached_property
    def calendar_definitions(self) -> dict[str, Any]:
        """The policy's calendars as plain data, their ``include`` files merged in."""
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
        return merged

    @cached_property
    def calendar_facts(self) -> tuple[Any, ...]:
        """What the calendars are made of, for the salt of what is kept of their
        arithmetic (check's clock plans, stats' figures): the definitions with their
        include files, and of each ``official:`` calendar the dates the installed
        chinesecalendar package gives (an update of it moves due times, as an edit of
        itdesk.yaml does)."""
        from ..core.official import official_dates

        official = []
        for name, definition in sorted(self.calendar_definitions.items()):
            if isinstance(definition, dict) and definition.get("official") is not None:
                off, work, last = official_dates(str(definition["official"]))
                official.append((name, last.toordinal(), sorted(d.toordinal() for d in off | work)))
        return self.calendar_definitions, official

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

    @cached_property
    def _real_root(self) -> str:
        return os.path.realpath(self.root)

    def _archive(self) -> Path | None:
        """The archive folder, unless it is missing or a symbolic link (never followed)."""
        archive = self.root / ARCHIVE
        return archive if archive.is_dir() and not archive.is_symlink() else None

    def check_readable(self) -> None:
        """Refuse (GitStateRefused) while an unfinished merge, rebase, cherry-pick or
        revert may have left tickets half-merged."""
        gitdir.check_readable(self.git_dir)
        if not self.holding_lock and (self.git_dir / JOURNAL).exists():
            self._recover_before_reading()

    def _recover_before_reading(self) -> None:
        """A write was killed before its commit (or is under way): what it left in the
        working tree is not the desk's, so put it back (or wait for the writer) before
        anything is read: a read never shows a ticket that was not committed."""
        from .transaction import desk_lock, recover

        with desk_lock(self):  # a live writer holds it: this waits for its commit
            if (self.git_dir / JOURNAL).exists():
                recover(self, gitdir.head(self.git_dir))

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def active_path(self, ticket_id: str) -> Path:
        return self.root / TICKETS / f"{check_id(ticket_id)}.yaml"

    def active_rel(self, ticket_id: str) -> str:
        """``rel(active_path(ticket_id))`` without making paths (100,000 of them, #12)."""
        return f"{TICKETS}/{check_id(ticket_id)}.yaml"

    def locate(self, ticket_id: str) -> TicketFile:
        """Where ticket ``ticket_id`` is: active, or in a month of the archive."""
        self.check_readable()
        path = self.active_path(ticket_id)
        if path.is_file():
            return TicketFile(path, archived=False)
        archive = self._archive()
        if archive is not None:
            for month in sorted(archive.iterdir(), reverse=True):
                if month.is_symlink():
                    continue  # never followed; ticket_data reports it
                candidate = month / f"{ticket_id}.yaml"
                if candidate.is_file():
                    return TicketFile(candidate, archived=True)
        raise UnknownTicket(f"no ticket {ticket_id} on this desk (itdesk list --all shows them)")

    def ticket_files(self, include_archive: bool = False) -> list[TicketFile]:
        self.check_readable()
        found = [TicketFile(p, False) for p in sorted((self.root / TICKETS).glob("*.yaml"))]
        if include_archive:
            archive = self._archive()
            if archive is not None:
                found += [TicketFile(p, True) for p in sorted(archive.glob("*/*.yaml"))]
            elif (self.root / ARCHIVE).is_symlink():  # load_file reports it, never follows
                found.append(TicketFile(self.root / ARCHIVE, True))
        return found

    def ids_of_day(self, day: dt.date) -> list[str]:
        """Every number of ``day`` used on the desk, archived ones included, and the
        highest one its history ever held.

        The archive files a ticket by the month it was closed, never before the month it
        was reported in: only those months' folders are looked in, so a number costs the
        same on a desk with two years of archive as on a new one (a file moved by hand to
        an earlier month is still counted through history's high-water mark)."""
        start = day_prefix(self.policy.prefix, day)
        pattern = f"{start}*.yaml"
        paths = list((self.root / TICKETS).glob(pattern))
        archive = self._archive()
        if archive is not None:
            first = f"{day.year:04d}-{day.month:02d}"
            with os.scandir(archive) as months:
                later = [
                    m.path for m in months if m.name >= first and m.is_dir(follow_symlinks=False)
                ]
            for month in later:
                paths += Path(month).glob(pattern)
        found = [p.name[: -len(".yaml")] for p in paths]
        # numbers whose files are gone (purged, removed by hand) stay taken
        from .numbers import highest_in_history

        highest = highest_in_history(self.root, self.git_dir, gitdir.head(self.git_dir).oid)
        if highest.get(start):
            found.append(f"{start}{highest[start]:0{self.policy.digits}d}")
        return found

    def numbers_by_day(self) -> dict[str, set[str]]:
        """Every number used on the desk, active and archived, by its day's prefix
        (``IT-20231025-``), with each day's highest number its history ever held: what
        :meth:`ids_of_day` gives for every day at once, each folder listed once (an
        import of 100,000 rows over two years asked for 730 days one at a time, #12)."""
        from .numbers import highest_in_history

        folders = [self.root / TICKETS]
        archive = self._archive()
        if archive is not None:
            with os.scandir(archive) as months:
                folders += [Path(m.path) for m in months if m.is_dir(follow_symlinks=False)]
        found: dict[str, set[str]] = {}
        for folder in folders:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                with os.scandir(folder) as entries:
                    for entry in entries:
                        name = entry.name
                        if name.endswith(".yaml") and not name.startswith("."):
                            number = name[: -len(".yaml")]
                            found.setdefault(_day_of(number), set()).add(number)
        highest = highest_in_history(self.root, self.git_dir, gitdir.head(self.git_dir).oid)
        digits = self.policy.digits
        for start, seq in highest.items():
            if seq:
                found.setdefault(start, set()).add(f"{start}{seq:0{digits}d}")
        return found

    # -- reading ------------------------------------------------------------

    def _inside(self, folder: Path) -> bool:
        """Whether ``folder`` is inside the desk with no link on the way."""
        return os.path.realpath(folder).startswith(self._real_root + os.sep)

    def load_file(self, path: Path, folder_checked: bool = False) -> tuple[str, Any]:
        """The text of a ticket file and its parsed YAML (not yet validated).

        A symbolic link is never followed (O_NOFOLLOW, and a linked folder is refused):
        a link in tickets/ could show, or get committed, a file from outside the desk.
        ``folder_checked``: the caller has checked the folder (once for its files)."""
        from .yamlio import load_yaml

        rel = self.rel(path)
        if not folder_checked and not self._inside(path.parent):
            raise InvalidTicket(LINKED, self.rel(path.parent))
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as fh:
                if os.fstat(fh.fileno()).st_size > MAX_TICKET_BYTES:
                    raise InvalidTicket(f"larger than {MAX_TICKET_BYTES // 1000} KB", rel)
                text = fh.read().decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidTicket("not UTF-8 text", rel) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise InvalidTicket(LINKED, rel) from None
            raise InvalidTicket(f"cannot read: {exc.strerror}", rel) from None
        return text, load_yaml(text, rel)

    def _linked(self, path: Path, on_error: Callable[[InvalidTicket], None] | None) -> None:
        exc = InvalidTicket(LINKED, self.rel(path))
        if on_error is None:
            raise exc
        on_error(exc)

    def _checked(self, path: Path, text: str, data: Any) -> Ticket:
        rel = self.rel(path)
        ticket = check_ticket_data(data, rel, text)
        if path.stem != ticket.id:
            from .yamlio import line_of

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
    ) -> list[dict[str, Any]]:
        """Every valid ticket as plain data (the YAML's keys), through the cache in .git.

        Unreadable or invalid files go to ``on_error`` (or raise); they are never cached.
        """
        return list(self.iter_ticket_data(include_archive, on_error))

    def iter_ticket_data(
        self,
        include_archive: bool = False,
        on_error: Callable[[InvalidTicket], None] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """:meth:`ticket_data` one ticket at a time, a folder's cache at a time: what
        reads every ticket of a big desk (list --all, export, stats) holds one month of
        the archive in memory, not two years. ``progress(done, total)`` is told the
        files parsed when the cache cannot serve them (the first read of a big desk is
        parsed on every core: :func:`itdesk.store.folders.warm`)."""
        folders = self.ticket_folders(include_archive, on_error)
        on_parse = None if progress is None else self.parse_progress(folders, progress)
        for folder in folders:
            yield from folder.tickets(on_error, on_parse)

    def iter_derived(
        self,
        kind: str,
        salt: str,
        make: Callable[[dict[str, Any]], Any],
        on_error: Callable[[InvalidTicket], None] | None = None,
    ) -> Iterator[Any]:
        """``make(data)`` of every valid active ticket, kept per file in ``.git``
        (:meth:`itdesk.store.folders.TicketFolder.derived`)."""
        for folder in self.ticket_folders(on_error=on_error):
            yield from folder.derived(kind, salt, make, on_error)

    def parse_progress(
        self,
        folders: list[TicketFolder],
        progress: Callable[[int, int], None],
        summary: Summarize | None = None,
    ) -> Callable[[], None]:
        """Parse what the cache of ``folders`` cannot serve (on every core when it is
        much, keeping each folder's ``summary`` there: :func:`itdesk.store.folders.warm`),
        telling ``progress(done, total)``; the ``on_parse`` to read them with, which
        tells it of the files left."""
        from .folders import warm

        left = warm(folders, progress, summary)
        count = [0]

        def parsed() -> None:
            count[0] += 1
            progress(count[0], max(left, count[0]))

        return parsed

    def ticket_folders(
        self,
        include_archive: bool = False,
        on_error: Callable[[InvalidTicket], None] | None = None,
        only: Collection[str] | None = None,
    ) -> list[TicketFolder]:
        """The folders of ticket files, listed: ``tickets/``, then (``include_archive``)
        each month of the archive; ``only``: those of these paths (relative to the desk)
        alone. A linked folder or file goes to ``on_error`` (or raises) and is never
        followed."""
        from .folders import TicketFolder, list_folder

        self.check_readable()
        paths = [self.root / TICKETS]
        archive = self._archive()
        if include_archive and archive is not None:
            paths += sorted(p for p in archive.iterdir() if p.is_dir())
        elif include_archive and (self.root / ARCHIVE).is_symlink():
            paths.append(self.root / ARCHIVE)  # reported below, never followed
        if only is not None:
            paths = [path for path in paths if self.rel(path) in only]
        folders = []
        for path in paths:
            if path.is_symlink() or not self._inside(path):
                self._linked(path, on_error)
                continue
            listing = list_folder(path, lambda p: self._linked(p, on_error))
            if listing is not None:
                cache_dir = self.git_dir / CACHE_DIR
                folders.append(TicketFolder(cache_dir, path, self.rel(path), listing, self._data))
        return folders

    def _data(self, path: Path) -> tuple[dict[str, Any], bytes]:
        """A ticket file's data, checked (its folder checked by the caller), and the
        bytes it was read from."""
        text, data = self.load_file(path, folder_checked=True)
        self._checked(path, text, data)
        return data, text.encode("utf-8")

    # -- identity -----------------------------------------------------------

    def start_git_config(self) -> None:
        """Ask git for its config now (a write will need it) and read the answer when
        :attr:`git_config` is first used."""
        if self._git_config is None and self._config_answer is None:
            self._config_answer = git.start_config(self.root)

    @property
    def git_config(self) -> git.Config:
        """What writes need of git's config: identity, hooks, gc (one git process, once)."""
        if self._git_config is None:
            self.start_git_config()
            assert self._config_answer is not None
            self._git_config = self._config_answer()
            self._config_answer = None
        return self._git_config

    @property
    def git_identity(self) -> tuple[str | None, str | None]:
        """git's user.name and user.email in this desk."""
        return self.git_config.name, self.git_config.email

    def actor(self, as_name: str | None) -> Actor:
        if as_name is not None:
            as_name = as_name.strip()
            if not as_name:
                raise NoIdentity("--as needs a name")
            return Actor(as_name, self.policy.email_of(as_name) or placeholder_email(as_name))
        technician = self.git_config.technician  # `itdesk init --as NAME` on this clone
        if technician:
            return Actor(
                technician, self.policy.email_of(technician) or placeholder_email(technician)
            )
        name, email = self.git_identity
        if not name:
            raise NoIdentity(
                "who is acting? git has no user.name here; pass --as NAME "
                "or set it: git config user.name 'Your Name'"
            )
        return Actor(name, self.policy.email_of(name) or email or placeholder_email(name))

    # -- writing ------------------------------------------------------------

    def lock(self, timeout: float | None = None) -> AbstractContextManager[None]:
        """Serialise itdesk processes on this desk (a lock file inside ``.git``)."""
        from .transaction import LOCK_TIMEOUT, desk_lock

        return desk_lock(self, LOCK_TIMEOUT if timeout is None else timeout)

    def transaction(self, actor: Actor, now: dt.datetime) -> AbstractContextManager[Transaction]:
        """Hold the desk's lock; what the block puts into the transaction becomes one
        commit when it ends. If the block raises, nothing is written."""
        from .transaction import transaction

        return transaction(self, actor, now)

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

    def uncommitted(self, rels: list[str]) -> list[str]:
        """Which of ``rels`` differ from the last commit, in the index or the working tree
        (hand edits: never overwritten nor swept into itdesk's commit)."""
        return self.start_uncommitted(rels).result()

    def start_uncommitted(self, rels: list[str]) -> UncommittedCheck:
        """:meth:`uncommitted`, started now and answered by ``result()``: git looks while
        the caller parses the ticket."""
        return UncommittedCheck(self.root, rels)


class UncommittedCheck:
    """A ``git status`` of some paths, running (see :meth:`Desk.start_uncommitted`)."""

    def __init__(self, root: Path, rels: list[str]):
        self.rels = rels
        self._few = len(rels) <= MANY_PATHS
        # --no-optional-locks: a status that refreshes the index takes index.lock, and
        # could leave it behind when killed.
        args = ["--no-optional-locks", "status", "--porcelain", "-z"]
        if self._few:
            args += ["--", *rels]
        else:  # the paths' folders as pathspecs (see MANY_PATHS), then only these paths
            folders = sorted({posixpath.dirname(rel) or "." for rel in rels})
            args += ["--untracked-files=all", "--no-renames", "--", *folders]
        self._pending = git.start(*args, cwd=root, input=b"")

    def result(self) -> list[str]:
        out = self._pending.wait().decode("utf-8", "surrogateescape")
        found = [item[3:] for item in git.zsplit(out)]
        if self._few:  # all of it (an untracked folder is shown as the folder)
            return found
        wanted = set(self.rels)
        return [rel for rel in found if rel in wanted]

    def cancel(self) -> None:
        self._pending.kill()


def _day_of(number: str) -> str:
    """The day's prefix of a ticket number (``IT-20231025-`` of ``IT-20231025-001``)."""
    second = number.find("-", number.find("-") + 1)
    return number[: second + 1] if second > 0 else ""


def _read_policy(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidPolicy(f"{POLICY_FILE}: cannot read: {exc}") from None


def _parse_policy(raw: bytes) -> Any:
    from .yamlio import parse, syntax_error

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidPolicy(f"{POLICY_FILE}: cannot read: {exc}") from None
    problem = syntax_error(text)
    if problem:
        raise InvalidPolicy(f"{POLICY_FILE}: {problem}")
    return parse(text)


# ------------------------------------------- for callers written before the split (#8)
