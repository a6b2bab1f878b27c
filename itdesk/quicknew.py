"""``itdesk new`` at the floor: a scripted report recorded without click, PyYAML or the
model, with three short git processes (#12: a create and commit faster than git-issue's).

``python -c pass`` is ~20 ms; the full ``new`` imports ~70 ms more (click, PyYAML, the
model's dataclasses, the policy) and runs seven git processes. This path takes the
common case only: ``new`` with flags, on a desk whose policy a full ``new`` has read
before, and writes exactly what the full path writes: the ticket's bytes, the same
blob, trees and commit (message, author, committer), the branch moved from the commit
it was built on with the same reflog lines, git's index, the numbers cache. git is
asked for its config and for the two trees the new ones are built from (``cat-file``,
at once, while the ticket is made), and updates its index; the loose objects and the
branch (under git's lock files ``<branch>.lock`` and ``HEAD.lock``, refused if the
branch moved: a compare-and-swap) are written here, as git writes them.

Anything else returns None *before anything is written*, and the full command runs: a
flag it does not take (``--from``, ``--expected-by``, ``-i``, ``--help``), text it is not
sure the full path takes unchanged (an odd character, a value at a limit, a contact that
is not a plain number or address), an unknown ``--as``, notifications or
``team: {sync_new}`` in the policy, knowledge-base articles to suggest, git hooks,
signing, attributes, the desk's lock held, a journal or a git lock left, an unfinished
merge, a policy edited since, a numbers cache behind HEAD. The full path then gives the
messages, prompts and waits. ``tests/test_quicknew.py`` runs both on twin desks and
compares every byte.

What a full ``new`` learns of the policy is kept in ``.git/itdesk/cache/new.marshal``
(:func:`keep_facts`), valid while ``itdesk.yaml`` keeps its size, times and inode.

Every import counts here (each of json, zoneinfo and a regular expression of Unicode
ranges costs 2-11 ms, as much as a git process): the desk's zone is the C library's
(``TZ``, the same tz database files), the cache is marshal's, and the two JSON files
shared with the full path are written by hand and read only when they are exactly
what ``json.dumps`` would write.
"""

from __future__ import annotations

import fcntl
import marshal
import os
import sys
import time

from . import __version__
from .store import gitindex
from .store.emit import printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    _Wait = Callable[[], tuple[int, bytes]]  # a git run's: (exit status, stdout)

FACTS = "itdesk/cache/new.marshal"  # in .git
FACTS_VERSION = 1
MONTHS = "itdesk/cache/new-months.marshal"  # in .git: _Months
MONTHS_VERSION = 1
RACY_NS = 2_000_000_000  # store.cache's: a folder changed this recently is listed again
POLICY_FILE = "itdesk.yaml"
JOURNAL = "itdesk/journal.json"  # store.layout's
LOCK_FILE = "itdesk.lock"
INDEX_NOTE = "itdesk/index-clean"  # in .git; store.gitdir's
# Up to this size git's index is changed by Python (store.gitindex), which reads every
# entry of the file: a split index's own file (~20 KB at 100,000 tickets), or a desk of
# up to ~1,300 tickets. A bigger one git changes in parallel (a 10,000-ticket desk's
# 1.1 MB index took `new` ~20 ms longer in Python; at 1,000, 96 KB, no difference).
DIRECT_INDEX_BYTES = 128 * 1024
# store.init's: eol=lf leaves the text this path writes (no carriage return) as it is
GITATTRIBUTES = "tickets/**/*.yaml text eol=lf merge=itdesk\nkb/*.md text eol=lf\n"
HOOKS = ("pre-commit", "prepare-commit-msg", "commit-msg", "post-commit")
# .git entries of an unfinished merge, rebase, am, cherry-pick, revert or bisect
# (store.gitdir's states; the test checks that every one of them is here)
UNFINISHED = ("rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD",
              "REVERT_HEAD", "BISECT_LOG")  # fmt: skip
CONFIG_KEYS = (
    r"^(user\.(name|email)|core\.(hookspath|attributesfile)|gc\.auto|maintenance\.auto"
    r"|commit\.gpgsign|itdesk\.technician|(author|committer)\.(name|email)"
    r"|core\.(logallrefupdates|sharedrepository|bare|worktree)|extensions\..*)$"
)
# A phone number or an address the model takes for sure (compiled when a contact is given)
_CONTACT = r"\+?[0-9]{3,20}|[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
# option -> (field, longest value); "line" fields are one line
_OPTIONS = {
    "--title": ("title", 200),
    "--requester": ("requester", 100),
    "--employee-id": ("employee_id", 64),
    "--department": ("department", 100),
    "--contact": ("contact", 100),
    "--description": ("description", 20_000),
    "--scope": ("scope", 2_000),
    "--devices": ("devices", 1_000),
    "--channel": ("channel", 10),
    "--desk": ("desk", 4_096),
    "--as": ("as", 100),
    "--now": ("now", 25),
    "--lang": ("lang", 2),
}
_CHANNELS = ("portal", "chat", "phone", "mail", "walk-in")
_FUTURE_SLACK = 86_400  # seconds; service.context's: --now at most a day ahead


class Declined(Exception):
    """Not a case this path takes: the full command runs (nothing was written)."""


def main(argv: list[str]) -> int | None:
    """Record the report of ``new``'s arguments ``argv``; the exit status, or None when
    the full command must run."""
    try:
        values = _parse(argv)
        return _Run(values).run()
    except Declined:
        return None


def _parse(argv: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    args = iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        given: object
        if name in ("--blocks-work", "--no-blocks-work") and not eq:
            field, given = "blocks_work", name == "--blocks-work"
        elif name in _OPTIONS:
            field, limit = _OPTIONS[name]
            if not eq:
                value = next(args, "")
            if not value or value.startswith("-") or len(value) > limit:
                raise Declined
            given = value
        else:
            raise Declined  # --from, --expected-by, -i, --help, a typo, an argument
        if field in values:
            raise Declined  # given twice: click takes the last, and says nothing
        values[field] = given
    if not values.get("requester") or not values.get("title"):
        raise Declined  # prompts, or a title made from the description
    # Text the model takes as it is: printable (no control or format character, no
    # line break in a line), nothing to strip.
    for field in ("title", "requester", "employee_id", "department", "scope", "devices", "as",
                  "description"):  # fmt: skip
        text = values.get(field)
        if isinstance(text, str) and not (
            printable(text)
            and text == text.strip()
            and (field == "description" or "\n" not in text)
        ):
            raise Declined
    contact = values.get("contact")
    if contact is not None:
        import re

        if not re.fullmatch(_CONTACT, str(contact)):
            raise Declined
    if values.get("channel", "chat") not in _CHANNELS or values.get("lang", "en") not in (
        "en",
        "zh",
    ):
        raise Declined
    now = values.get("now")
    if now is not None:
        values["now"] = _wall_time(str(now))
    devices = str(values.get("devices") or "")
    values["devices"] = [d.strip() for d in devices.split(",") if d.strip()]
    if any(len(d) > 100 for d in values["devices"]):  # type: ignore[attr-defined]
        raise Declined
    return values


def _find_desk(explicit: str | None) -> str:
    """store.desk.find_desk's answer, when it is plain: a folder with itdesk.yaml."""
    chosen = explicit if explicit is not None else os.environ.get("ITDESK_DESK") or None
    if chosen is not None:
        root = os.path.realpath(os.path.expanduser(chosen))
        if os.path.isfile(os.path.join(root, POLICY_FILE)):
            return root
        raise Declined
    folder = os.path.realpath(os.getcwd())
    while True:
        if os.path.isfile(os.path.join(folder, POLICY_FILE)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            raise Declined
        folder = parent


def _git(root: str, args: list[str], data: bytes = b"") -> tuple[int, bytes]:
    """Run git in ``root``; (exit status, stdout). stderr is kept quiet."""
    return _start(root, args, data)()


def _start(
    root: str, args: list[str], data: bytes = b"", env: dict[str, str] | None = None
) -> Callable[[], tuple[int, bytes]]:
    """:func:`_git` started now; the returned function waits for it."""
    proc = _Process(root, args, env)
    proc.feed(data)
    return proc.wait


class _Process:
    """git started in ``root``, its input written later (:meth:`feed`), stderr kept
    quiet. (subprocess costs ~2 ms to import; posix_spawn is what it would call.)"""

    started: list[_Process] = []  # every run of this process's, waited for at its end

    def __init__(self, root: str, args: list[str], env: dict[str, str] | None = None):
        self.result: tuple[int, bytes] | None = None
        out_r, out_w = os.pipe()
        in_r, self.stdin = os.pipe()
        null = os.open(os.devnull, os.O_WRONLY)
        actions = [
            (os.POSIX_SPAWN_DUP2, in_r, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, null, 2),
        ]
        try:
            self.pid = os.posix_spawnp("git", ["git", "-C", root, *args], env or os.environ,
                                       file_actions=actions)  # fmt: skip
        except BaseException:
            os.close(self.stdin)
            os.close(out_r)
            raise
        finally:
            os.close(in_r)
            os.close(out_w)
            os.close(null)
        self.stdout = out_r
        _Process.started.append(self)

    def feed(self, data: bytes) -> None:
        """Its whole input: ``data``, then the end."""
        if self.stdin < 0:
            return
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self.stdin, view) :]
        except BrokenPipeError:
            pass
        finally:
            os.close(self.stdin)
            self.stdin = -1

    def wait(self) -> tuple[int, bytes]:
        """(exit status, stdout), once it has ended (again: the same)."""
        if self.result is not None:
            return self.result
        self.feed(b"")
        chunks = []
        while chunk := os.read(self.stdout, 65536):
            chunks.append(chunk)
        os.close(self.stdout)
        _, status = os.waitpid(self.pid, 0)
        self.result = os.waitstatus_to_exitcode(status), b"".join(chunks)
        return self.result

    @classmethod
    def reap(cls) -> None:
        """Every run started, ended and waited for (those a decline left unread)."""
        while cls.started:
            cls.started.pop().wait()

    def stop(self) -> None:
        """Ended now (SIGTERM: git removes its lock files as it goes)."""
        import signal

        if self.stdin >= 0:
            os.kill(self.pid, signal.SIGTERM)
        self.wait()


def _day_seq(name: str, start: str) -> int:
    """The number of the file ``name`` if it is a ticket of the day ``start``, else 0."""
    if name.startswith(start) and name.endswith(".yaml"):
        digits = name[len(start) : -5]
        if digits.isascii() and digits.isdigit() and len(digits) <= 9:
            return int(digits)
    return 0


class _Months:
    """The highest number of each day in each month of the archive, kept in
    ``.git/itdesk/cache/new-months.marshal`` by the folder's stat (as git keeps an
    untracked folder's listing): the month being archived into holds thousands of
    files, listed in 1-4 ms; its stat is 5 us. A folder changed within the last
    2 s (a file could still join it within the same tick of its clock) is listed
    every time."""

    def __init__(self, git_dir: str):
        self.path = os.path.join(git_dir, MONTHS)
        self.changed = False
        try:
            with open(self.path, "rb") as fh:
                kept = marshal.loads(fh.read())
        except (OSError, ValueError, EOFError, TypeError):
            kept = None
        if not (isinstance(kept, list) and len(kept) == 2 and kept[0] == MONTHS_VERSION
                and isinstance(kept[1], dict)):  # fmt: skip
            kept = [MONTHS_VERSION, {}]
        self.kept: dict[str, list[object]] = kept[1]

    def highest(self, folder: str) -> dict[str, int]:
        """{day prefix: its highest number} of the files in the month ``folder``."""
        st = os.stat(folder, follow_symlinks=False)
        key = [st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_size]
        month = os.path.basename(folder)
        entry = self.kept.get(month)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == key:
            kept = entry[1]
            if isinstance(kept, dict) and all(type(v) is int for v in kept.values()):
                return kept
        found: dict[str, int] = {}
        for name in os.listdir(folder):
            head, dash, digits = name[:-5].rpartition("-")
            seq = _day_seq(name, head + dash) if dash else 0
            if seq > found.get(head + dash, 0):
                found[head + dash] = seq
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) >= RACY_NS:
            self.kept[month] = [key, found]
            self.changed = True
        return found

    def save(self) -> None:
        if self.changed:
            try:
                _write_atomic(self.path, marshal.dumps([MONTHS_VERSION, self.kept]), fsync=False)
            except OSError:
                pass  # only kept: listed again next time


def _nothing() -> tuple[int, bytes]:
    return 0, b""


def _write_atomic(path: str, data: bytes, fsync: bool = True) -> None:
    """store.files.write_atomic: a temporary file of the same name pattern, renamed."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(8).hex()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def _stat_key(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _wall_time(text: str) -> tuple[int, ...]:
    """``--now`` as YYYY-MM-DDTHH:MM[:SS], and then Z or +HH:MM / -HH:MM: the wall time,
    with the offset's seconds east of UTC after it if one is given (anything else is
    the full path's to read)."""
    offset: tuple[int, ...] = ()
    if text.endswith(("Z", "z")):  # UTC (core.times takes both)
        text, offset = text[:-1], (0,)
    elif len(text) in (22, 25) and text[-6] in "+-" and text[-3] == ":":
        hours, minutes = text[-5:-3], text[-2:]
        if not (hours + minutes).isascii() or not (hours + minutes).isdigit():
            raise Declined
        if int(hours) > 23 or int(minutes) > 59:
            raise Declined
        east = int(hours) * 3600 + int(minutes) * 60
        text, offset = text[:-6], (-east if text[-6] == "-" else east,)
    if len(text) not in (16, 19) or text[4] + text[7] + text[10] + text[13] != "--T:":
        raise Declined
    parts = [text[:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:] or "00"]
    if len(text) == 19 and text[16] != ":" or not all(p.isascii() and p.isdigit() for p in parts):
        raise Declined
    return (*(int(p) for p in parts), *offset)


def _utc_epoch(wall: tuple[int, ...]) -> int:
    """Seconds since 1970 of the UTC wall time ``wall`` (y, m, d, H, M, S): Howard
    Hinnant's days_from_civil (the time module has no timegm)."""
    y, m, d, hh, mm, ss = wall
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    days = era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468
    return days * 86_400 + hh * 3600 + mm * 60 + ss


class _Moment:
    """A second on the desk's clock: its epoch, wall time and offset, from the C
    library's reading of the zone (the tz database's file, as zoneinfo reads it)."""

    def __init__(self, epoch: int, local: time.struct_time):
        if local.tm_gmtoff % 60:
            raise Declined  # an offset in seconds (local mean time): isoformat's own
        self.epoch = epoch
        self.day = f"{local.tm_year:04d}{local.tm_mon:02d}{local.tm_mday:02d}"
        minutes = local.tm_gmtoff // 60
        sign = "-" if minutes < 0 else "+"
        hh, mm = divmod(abs(minutes), 60)
        self.iso = (f"{local.tm_year:04d}-{local.tm_mon:02d}-{local.tm_mday:02d}T"
                    f"{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d}"
                    f"{sign}{hh:02d}:{mm:02d}")  # fmt: skip
        self.git = f"{epoch} {sign}{hh:02d}{mm:02d}"  # git's raw date


def _moments(zone: str, wall: tuple[int, ...] | None) -> tuple[_Moment, _Moment]:
    """(now: ``wall`` in the desk's zone, else the clock; the clock) in the zone."""
    if zone.startswith((":", "/")) or ".." in zone or "TZDIR" in os.environ:
        raise Declined
    if not os.path.isfile(os.path.join("/usr/share/zoneinfo", zone)):
        raise Declined  # the C library would quietly take UTC
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    try:
        time.tzset()
        clock_epoch = int(time.time())
        clock = _Moment(clock_epoch, time.localtime(clock_epoch))
        if wall is None:
            return clock, clock
        if len(wall) == 7:  # an instant: the wall time at a given offset
            epoch = _utc_epoch(wall[:6]) - wall[6]
            local = time.localtime(epoch)
            if tuple(time.gmtime(epoch + wall[6]))[:6] != wall[:6]:
                raise Declined  # no such day (a day 31 of November)
        else:
            epoch = int(time.mktime((*wall, 0, 0, -1)))  # type: ignore[arg-type]
            local = time.localtime(epoch)
        if not 1970 <= local.tm_year <= 2099:
            raise Declined  # core.times: out of range, the full command says so
        if len(wall) == 7:
            return _Moment(epoch, local), clock
        if tuple(local)[:6] != wall:
            raise Declined  # no such time (a day 31 of November, a skipped hour)
        for near in (epoch - 86_400, epoch + 86_400):  # near a change of clocks: maybe
            if time.localtime(near).tm_gmtoff != local.tm_gmtoff:  # twice; the full path
                raise Declined
        return _Moment(epoch, local), clock
    except (OverflowError, ValueError):
        raise Declined from None
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


def _machine_time() -> str:
    """Now in the machine's zone as git's raw date (the committer's, as git takes it)."""
    epoch = int(time.time())
    minutes = time.localtime(epoch).tm_gmtoff // 60
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    return f"{epoch} {sign}{hh:02d}{mm:02d}"


def _identity(name: str, email: str) -> str:
    if any(c in name + email for c in "<>\n"):
        raise Declined
    return f"{name} <{email}>"


class _Run:
    def __init__(self, values: dict[str, object]):
        self.values = values
        for name in os.environ:  # git told to act otherwise than on the desk's own files
            if name.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_")) or name in (
                "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY",
                "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE",
            ):  # fmt: skip
                raise Declined
        for stream in (sys.stdout, sys.stderr):
            if (getattr(stream, "encoding", None) or "").lower().replace("-", "") != "utf8":
                raise Declined  # click's way with other encodings
        self.root = _find_desk(values.get("desk"))  # type: ignore[arg-type]
        self.git_dir = os.path.join(self.root, ".git")
        tickets = os.path.join(self.root, "tickets")
        for folder in (self.git_dir, tickets):
            if not os.path.isdir(folder) or os.path.islink(folder):
                raise Declined
        self.facts = self._facts()

    def _facts(self) -> dict[str, object]:
        try:
            with open(os.path.join(self.git_dir, FACTS), "rb") as fh:
                facts = marshal.loads(fh.read())
            key = _stat_key(os.path.join(self.root, POLICY_FILE))
        except (ValueError, EOFError, TypeError, OSError):
            raise Declined from None
        if not isinstance(facts, dict) or facts.get("policy") != key:
            raise Declined
        if facts.get("version") != [__version__, FACTS_VERSION]:
            raise Declined
        if facts.get("notify") or facts.get("sync_new"):
            raise Declined
        return facts

    def run(self) -> int:
        facts, values = self.facts, self.values
        now, clock = _moments(str(facts["timezone"]), values.get("now"))  # type: ignore[arg-type]
        if now.epoch - clock.epoch > _FUTURE_SLACK or self._kb_articles():
            raise Declined
        # git's config, and the trees of the branch's commit, are read while the rest is
        # checked (the commit again under the lock, if the branch moved meanwhile)
        index = None
        try:
            try:
                config = _Config(self.root)
                ref, base = self._branch()
                self._early = (base, _trees(self.root, base))
                self._early_numbers = self._numbers(base)
                self._index = index = _Index(self.root, self.git_dir)
            except OSError:
                raise Declined from None  # no git to run (not on PATH): the full command says so
            return self._checked(config, now)
        finally:  # also on a decline: every git started ended and waited for
            if index is not None:
                index.close()
            _Process.reap()

    def _checked(self, config: _Config, now: _Moment) -> int:
        facts, values = self.facts, self.values
        actors: dict[str, str] = facts["actors"]  # type: ignore[assignment]
        as_name = values.get("as")
        if as_name is None:
            as_name = config.get().get("itdesk.technician")
            if not as_name or as_name not in actors:
                raise Declined  # git's identity, or someone the policy does not know
        actor = _known(str(as_name), actors)
        email = actors[actor]
        settings = config.get()
        if _truthy(settings.get("commit.gpgsign")) or any(
            key in settings
            for key in ("core.attributesfile", "author.name", "author.email", "committer.name",
                        "committer.email", "core.sharedrepository", "core.worktree")
        ) or _truthy(settings.get("core.bare")) or settings.get(
            "core.logallrefupdates", "true"
        ).lower() not in ("true", "yes", "on", "1", "always") or any(
            key.startswith("extensions.") for key in settings
        ):  # fmt: skip
            raise Declined  # the objects or refs are not written as this path writes them
        if not settings.get("gc.auto", "0").lstrip("-").isdigit():
            raise Declined  # "1k" and the like: git's own reading
        committer_name = settings.get("user.name") or None
        if committer_name is None:
            committer = _identity(actor, email)
        else:
            committer_email = settings.get("user.email")
            if not committer_email:
                raise Declined  # git finds an address itself
            committer = _identity(committer_name, committer_email)
        author = _identity(actor, email)
        self._refuse_odd_repository(settings.get("core.hookspath"))
        start = f"{facts['prefix']}-{now.day}-"
        ticket_dict_of = _ticket_maker(values, actor, now.iso)
        with open(os.path.join(self.git_dir, LOCK_FILE), "a+") as lock:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Declined from None  # the full command waits for it
            try:
                return self._locked(start, ticket_dict_of, author, committer, now, settings)
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _kb_articles(self) -> bool:
        folder = os.path.join(self.root, "kb")
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            return False
        except OSError:
            return True
        return os.path.islink(folder) or any(n.endswith(".md") and n != "README.md" for n in names)

    def _refuse_odd_repository(self, hooks_path: str | None) -> None:
        """Hooks, attributes and a work tree elsewhere are the full path's."""
        root, git_dir = self.root, self.git_dir
        if hooks_path:
            folder = os.path.expanduser(hooks_path)
            folder = folder if os.path.isabs(folder) else os.path.join(root, folder)
        else:
            folder = os.path.join(git_dir, "hooks")
        for name in HOOKS:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and os.access(path, os.X_OK):
                raise Declined
        attributes = os.path.join(root, ".gitattributes")
        if os.path.lexists(attributes) and (
            os.path.islink(attributes) or _read(attributes) != GITATTRIBUTES
        ):
            raise Declined  # a filter may change the bytes git stores
        for path in (
            os.path.join(root, "tickets", ".gitattributes"),
            os.path.join(git_dir, "info", "attributes"),
        ):
            if os.path.lexists(path):
                raise Declined

    def _locked(self, start, ticket_dict_of, author, committer, now, settings) -> int:  # type: ignore[no-untyped-def]
        root, git_dir = self.root, self.git_dir
        if os.path.lexists(os.path.join(git_dir, JOURNAL)):
            raise Declined  # a killed run to recover: the full path does it
        for marker in UNFINISHED:
            if os.path.lexists(os.path.join(git_dir, marker)):
                raise Declined
        ref, base = self._branch()
        locks = ["index.lock", "HEAD.lock", f"{ref}.lock"]
        if any(os.path.lexists(os.path.join(git_dir, name)) for name in locks):
            raise Declined
        early, trees = self._early
        if base != early:
            trees = _trees(root, base)
        highest = self._highest(base)
        ticket_id = self._allocate(start, highest)
        rel = f"tickets/{ticket_id}.yaml"
        path = os.path.join(root, rel)
        if os.path.lexists(path):
            raise Declined
        from .store.emit import dump

        text = dump(ticket_dict_of(ticket_id))
        if text is None:
            raise Declined
        data = text.encode("utf-8")
        title = str(self.values["title"])
        subject = f"{ticket_id}: new: {title}"
        message = f"{subject}\n\nTicket: {ticket_id}\nAction: new\n".encode()
        journal = os.path.join(git_dir, JOURNAL)
        # what store.transaction._Journal.start writes (json.dumps of the same dict)
        _write_atomic(journal, (
            f'{{"pid": {os.getpid()}, "ref": "{ref}", "paths": ["{rel}"], "step": "commit", '
            f'"locks": ["HEAD.lock", "{ref}.lock", "index.lock"], "at": {time.time_ns()}}}'
        ).encode())  # fmt: skip
        new = None
        try:
            _write_atomic(path, data)
            self._index.add(rel)  # git makes its index while the commit is made
            objects = _Objects(git_dir)
            blob = objects.put(b"blob", data)
            root_tree, tickets_tree = trees()
            base_tree = objects.oid(b"tree", root_tree)
            tickets = objects.put(b"tree", _tree_with(tickets_tree, f"{ticket_id}.yaml", blob))
            tree = objects.put(b"tree", _tree_with(root_tree, "tickets", tickets, replace=True))
            committer_line = f"{committer} {_machine_time()}"
            new = objects.put(b"commit", b"".join([
                f"tree {tree}\nparent {base}\nauthor {author} {now.git}\n".encode(),
                f"committer {committer_line}\n\n".encode(), message,
            ]))  # fmt: skip
            _move_branch(git_dir, ref, base, new, committer_line, f"commit: {subject}")
        except BaseException as exc:
            if (_read(os.path.join(git_dir, ref)) or "").strip() != new:
                # Not on the branch (the branch moved meanwhile: someone's git commit; a
                # full disk; an interrupt): nothing of ours is in it. The objects written
                # are unreachable, for git gc; the full command builds on the new commit
                # or says why not.
                _unlink(path)
                self._index.close()  # git's index was never touched
                _unlink(journal)
                if isinstance(exc, (OSError, Declined)):
                    raise Declined from None
            raise  # else: the journal stays, and the next run finishes the write
        self._finish(base, base_tree, new, rel, blob, journal)
        self._advance(new, highest, start, ticket_id)
        self._maintain(settings)
        return self._tell(ticket_id)

    def _branch(self) -> tuple[str, str]:
        """The branch HEAD is on, and its commit (a loose ref: a packed one is left to
        the full path)."""
        head = (_read(os.path.join(self.git_dir, "HEAD")) or "").strip()
        if not head.startswith("ref: refs/heads/"):
            raise Declined
        ref = head[5:].strip()
        if not _plain(ref[len("refs/heads/") :], "-_./"):
            raise Declined  # (written by hand into the journal)
        base = (_read(os.path.join(self.git_dir, ref)) or "").strip()
        if len(base) != 40 or not _plain(base, ""):
            raise Declined  # packed, or no commit yet
        return ref, base

    def _highest(self, base: str) -> dict[str, str]:
        """store.numbers' cache of the highest number of each day history ever held,
        brought up to ``base`` as store.numbers.highest_in_history brings it (the
        commits of ``base`` it has not seen read); the full path reads history again
        where it cannot."""
        text, seen, highest, catch_up = self._early_numbers
        if text != _read(os.path.join(self.git_dir, "itdesk", "numbers.json")) or (
            seen != base and base != self._early[0]
        ):
            text, seen, highest, catch_up = self._numbers(base)  # moved meanwhile
        if seen != base:
            status, out = catch_up()
            if status != 0:
                raise Declined  # (``seen`` gone from the repository, say)
            for rel in out.replace(b"\n", b"\0").split(b"\0"):
                name = rel.rpartition(b"/")[2].decode("utf-8", "replace")
                split = _id_split(name[:-5]) if name.endswith(".yaml") else None
                if split is not None:
                    start, seq = split
                    highest[start] = str(max(int(highest.get(start, "0")), seq))
        return highest

    def _numbers(self, base: str) -> tuple[str, str, dict[str, str], _Wait]:
        """numbers.json as ``json.dumps`` wrote it: (its text, the commit it was read up
        to, the highest number of each day); with git started on the commits of ``base``
        it has not seen (their added files: ``git log seen..base``), when there are."""
        text = _read(os.path.join(self.git_dir, "itdesk", "numbers.json")) or ""
        seen = text[10:50]
        lead = f'{{"head": "{seen}", "highest": {{'
        if not (len(seen) == 40 and not seen.strip("0123456789abcdef") and text.startswith(lead)
                and text.endswith("}}")):  # fmt: skip
            raise Declined  # history to read first: the full path does it
        highest: dict[str, str] = {}
        body = text[len(lead) : -2]
        for pair in body.split(", ") if body else []:
            key, colon, value = pair.partition('": ')
            if not (colon and key[:1] == '"' and _plain(key[1:], "-") and value.isdigit()):
                raise Declined
            highest[key[1:]] = value
        if _numbers_json(seen, highest) != text:
            raise Declined
        if seen == base:
            return text, seen, highest, _nothing
        return text, seen, highest, _start(self.root, [
            "log", "--format=", "--name-only", "--diff-filter=A", "--no-renames", "-z",
            f"{seen}..{base}", "--", "tickets/",
        ])  # fmt: skip

    def _allocate(self, start: str, highest: dict[str, str]) -> str:
        """The next number of the day: after every file of the day, active or archived
        in a month from the day's on, and after history's highest."""
        seq = int(highest.get(start, "0"))
        tickets = os.path.join(self.root, "tickets")
        folders = [tickets]
        archive = os.path.join(tickets, "archive")
        if os.path.isdir(archive) and not os.path.islink(archive):
            first = f"{start[-9:-5]}-{start[-5:-3]}"
            with os.scandir(archive) as months:
                folders += [m.path for m in months
                            if m.name >= first and m.is_dir(follow_symlinks=False)]  # fmt: skip
        for name in os.listdir(tickets):
            seq = max(seq, _day_seq(name, start))
        if len(folders) > 1:
            kept = _Months(self.git_dir)
            for folder in folders[1:]:
                seq = max(seq, kept.highest(folder).get(start, 0))
            kept.save()
        return f"{start}{seq + 1:0{int(str(self.facts['digits']))}d}"

    def _finish(self, base: str, base_tree: str, new: str, rel: str, blob: str,
                journal: str) -> None:  # fmt: skip
        """git's index follows the commit (as store.transaction.sync_index): the index
        made meanwhile put in place, or, if git's own changed since, made now."""
        if not self._index.install(base, base_tree, new, rel, blob):
            status, _ = _git(
                self.root, gitindex.update_index_args(self.git_dir), f"{rel}\0".encode()
            )
            if status != 0:
                self._warn("the change is committed, but git's index was not updated; the "
                           "next itdesk command updates it")  # fmt: skip
                return
        _unlink(journal)

    def _advance(self, new: str, highest: dict[str, str], start: str, ticket_id: str) -> None:
        """store.numbers.advance: the cache follows this commit."""
        seq = int(ticket_id[len(start) :])
        highest[start] = str(max(int(highest.get(start, "0")), seq))
        path = os.path.join(self.git_dir, "itdesk", "numbers.json")
        try:
            _write_atomic(path, _numbers_json(new, highest).encode(), fsync=False)
        except OSError:
            pass

    def _maintain(self, settings: dict[str, str]) -> None:
        """``git maintenance run --auto`` when git's own estimate says gc is due, as
        ``git commit`` (and store.transaction) start it."""
        if not _truthy(settings.get("maintenance.auto", "true")):
            return
        try:
            gc_auto = int(settings.get("gc.auto", "6700"))
        except ValueError:
            gc_auto = 6700
        if gc_auto <= 0:
            return
        try:
            names = os.listdir(os.path.join(self.git_dir, "objects", "17"))
        except OSError:
            return
        loose = sum(1 for n in names if len(n) >= 38 and not n.endswith(".tmp"))
        if loose > (gc_auto + 255) // 256:
            _git(self.root, ["maintenance", "run", "--auto", "--quiet"])

    def _lang(self) -> str:
        return str(self.values.get("lang") or self.facts.get("locale") or "en")

    def _warn(self, text: str) -> None:
        label = "警告：" if self._lang() == "zh" else "warning: "
        sys.stderr.write(f"itdesk: {label}{text}\n")

    def _tell(self, ticket_id: str) -> int:
        name = str(self.values["requester"])
        try:
            sys.stdout.write(f"{ticket_id}\n")
            sys.stdout.flush()
        except BrokenPipeError:  # as cli.main: the reader is gone, the ticket is recorded
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141
        sys.stderr.write(
            f"已为{name}登记工单 {ticket_id}，请告知员工此编号以便跟进。\n"
            if self._lang() == "zh"
            else f"Recorded {ticket_id} for {name}. Please tell the requester this number; "
            "it is how the desk follows up (工单编号已生成，请告知员工以便跟进).\n"
        )
        return 0


class _Config:
    """git's config keys of :data:`CONFIG_KEYS`, asked as soon as this is made."""

    def __init__(self, root: str):
        self._answer = _start(root, ["config", "-z", "--get-regexp", CONFIG_KEYS])
        self._values: dict[str, str] | None = None

    def get(self) -> dict[str, str]:
        if self._values is None:
            _, out = self._answer()
            values: dict[str, str] = {}
            for item in out.decode("utf-8", "replace").split("\0"):
                if item:
                    key, newline, value = item.partition("\n")
                    values[key] = value.strip() if newline else "true"
            self._values = values
        return self._values


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("true", "yes", "on", "1")


def _known(name: str, actors: dict[str, str]) -> str:
    """``--as`` as the policy spells it (service.context: letter case aside)."""
    if name in actors:
        return name
    folded = name.casefold()
    for candidate in actors:
        if candidate.casefold() == folded:
            return candidate
    raise Declined  # the full path says who the desk knows


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _trees(root: str, base: str) -> Callable[[], tuple[bytes, bytes]]:
    """The raw root tree and ``tickets`` tree of commit ``base``, asked of git now."""
    wait = _start(root, ["cat-file", "--batch"], f"{base}^{{tree}}\n{base}:tickets\n".encode())

    def result() -> tuple[bytes, bytes]:
        _, out = wait()
        found, at = [], 0
        try:
            for _ in range(2):
                end = out.index(b"\n", at)
                _oid, kind, size = out[at:end].split()
                if kind != b"tree":
                    raise Declined
                found.append(out[end + 1 : end + 1 + int(size)])
                at = end + 2 + int(size)
        except ValueError:
            raise Declined from None
        return found[0], found[1]

    return result


def _tree_with(raw: bytes, name: str, oid: str, replace: bool = False) -> bytes:
    """Tree ``raw`` with the file ``name`` added (or, ``replace``, its folder ``name``
    pointed at ``oid``), in git's order of entries (a folder sorts as ``name/``). The
    entries are walked up to where a folder ``name`` would be, not taken apart (1,000
    of them: ~0.5 ms)."""
    key = name.encode()
    last = key + b"/"  # where a folder of the name sorts: no entry of the name after it
    sha = bytes.fromhex(oid)
    at, size, spot = 0, len(raw), -1
    while at < size:
        space = raw.index(b" ", at)
        nul = raw.index(b"\0", space)
        folder = raw[at:space] == b"40000"
        entry = raw[space + 1 : nul]
        if entry == key:
            if not (replace and folder):
                raise Declined  # in the last commit, not in the working tree: the full path's
            return raw[: nul + 1] + sha + raw[nul + 21 :]
        order = entry + b"/" if folder else entry
        if spot < 0 and order > key:
            spot = at  # the file's place
        if order > last:
            break
        at = nul + 21
    if replace:
        raise Declined
    spot = at if spot < 0 else spot
    return b"".join((raw[:spot], b"100644 ", key, b"\0", sha, raw[spot:]))


class _Index:
    """git's index with the new ticket's entry, made while the rest is done.

    git reads the whole index to change an entry (~25 ms at 100,000 tickets, its shared
    index). When itdesk's note (or git's cache tree) says the index holds the branch's
    commit and the index is small (a split one, or a small desk's), the entry is added
    by Python after the commit (:mod:`itdesk.store.gitindex`, git's bytes), and no git
    runs. Else git starts at once, on a copy of the index, and reads it while the report
    is checked and the ticket made; it gets the ticket's path when the file is written
    (:meth:`add`), so that no git run meanwhile (a ``git commit`` of the technician's)
    sees an entry of a ticket not yet committed. After the commit the copy takes the
    index's place under git's ``index.lock`` (:meth:`install`), if the index is still
    the one copied; else the full update runs then (:meth:`_Run._finish`). The note of
    an index known to hold the last commit (store.gitdir.INDEX_NOTE) follows it, as the
    full path's does."""

    def __init__(self, root: str, git_dir: str):
        self.root, self.git_dir = root, git_dir
        self.path = os.path.join(git_dir, "index")
        name = f".index.{os.getpid()}.{os.urandom(8).hex()}.tmp"
        self.copy = os.path.join(git_dir, "itdesk", name)
        self.proc: _Process | None = None
        self.direct = False
        self.tree: str | None = None  # the cache tree's root, when no note vouches
        noted = (_read(os.path.join(git_dir, INDEX_NOTE)) or "").strip()
        try:
            with open(self.path, "rb") as fh:
                self.before = fh.read()
        except OSError:
            self.before = b""
            return
        checksum = _checksum(self.before)
        vouched = bool(checksum) and noted.endswith(f" {checksum}")
        small = len(self.before) <= DIRECT_INDEX_BYTES
        if small and checksum and not vouched:  # git's own record of the tree it holds
            self.tree = gitindex.root_tree(self.before)
        self.direct = small and (vouched or self.tree is not None)
        if self.direct:
            return
        try:
            _write_atomic(self.copy, self.before, fsync=False)
        except OSError:
            return
        env = {**os.environ, "GIT_INDEX_FILE": self.copy}
        self.proc = _Process(root, gitindex.update_index_args(git_dir), env)

    def add(self, rel: str) -> None:
        """The ticket's file is written: its entry is the one change."""
        if self.proc is not None:
            self.proc.feed(f"{rel}\0".encode())

    def close(self) -> None:
        """Nothing of it kept (idempotent)."""
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if not self.direct:
            _unlink(self.copy)

    def install(self, base: str, base_tree: str, new: str, rel: str, blob: str) -> bool:
        """The index made, and noted if the index held ``base`` (whose tree is
        ``base_tree``); False if it could not be (then git updates it)."""
        before = _checksum(self.before)
        noted = (_read(os.path.join(self.git_dir, INDEX_NOTE)) or "").strip()
        holds = bool(before) and (noted == f"{base} {before}" or self.tree == base_tree)
        if self.direct:
            if not holds:
                return False  # (the branch moved since the index was read: git's to check)
            checksum = gitindex.install(self.root, self.git_dir, self.before, rel, blob)
            if checksum is None:
                return False
        else:
            checksum = self._install_copy()
            if checksum is None:
                return False
        if holds and checksum:
            try:
                _write_atomic(os.path.join(self.git_dir, INDEX_NOTE),
                              f"{new} {checksum}\n".encode(), fsync=False)  # fmt: skip
            except OSError:
                pass
        return True

    def _install_copy(self) -> str | None:
        """The copy git made put in place; its checksum ("" for none), or None."""
        if self.proc is None:
            return None
        status, _ = self.proc.wait()
        self.proc = None
        try:
            with open(self.copy, "rb") as fh:
                fh.seek(-20, os.SEEK_END)
                checksum = _checksum(fh.read())
            if status != 0 or not gitindex.replace(self.git_dir, self.before, self.copy):
                return None
        except OSError:
            return None
        finally:
            _unlink(self.copy)
        return checksum


def _checksum(index: bytes) -> str:
    """An index's checksum, its last 20 bytes, in hex ("" for none or git's zeros)."""
    tail = index[-20:]
    return tail.hex() if len(tail) == 20 and any(tail) else ""


class _Objects:
    """git's object store: loose objects written as git writes them (zlib, read-only)."""

    def __init__(self, git_dir: str):
        self.folder = os.path.join(git_dir, "objects")

    @staticmethod
    def oid(kind: bytes, body: bytes) -> str:
        """The object id of ``body`` as an object of ``kind``."""
        sha1 = gitindex.sha1_type()
        return str(sha1(b"%s %d\0" % (kind, len(body)) + body).hexdigest())  # type: ignore[attr-defined]

    def put(self, kind: bytes, body: bytes) -> str:
        import zlib

        data = b"%s %d\0" % (kind, len(body)) + body
        oid = self.oid(kind, body)
        folder = os.path.join(self.folder, oid[:2])
        path = os.path.join(folder, oid[2:])
        if os.path.exists(path):
            return oid
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f"tmp_obj_{os.getpid()}_{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            try:
                os.write(fd, zlib.compress(data, 1))
            finally:
                os.close(fd)
            os.rename(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise
        return oid


def _move_branch(git_dir: str, ref: str, old: str, new: str, ident: str, message: str) -> None:
    """``git update-ref -m MESSAGE REF NEW OLD``: under git's lock files of the branch
    and of HEAD, refused (Declined) unless the branch is still at ``old``; the reflogs
    of the branch and of HEAD get their line."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    path = os.path.join(git_dir, ref)
    lock = path + ".lock"
    head_lock = os.path.join(git_dir, "HEAD.lock")
    try:
        fd = os.open(lock, flags, 0o644)
    except FileExistsError:
        raise Declined from None
    try:
        try:
            os.close(os.open(head_lock, flags, 0o644))
        except FileExistsError:
            os.close(fd)
            raise Declined from None
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{new}\n")
            if (_read(path) or "").strip() != old:
                raise Declined  # moved meanwhile
            line = f"{old} {new} {ident}\t{' '.join(message.split())}\n".encode()
            for log in (os.path.join(git_dir, "logs", ref), os.path.join(git_dir, "logs", "HEAD")):
                os.makedirs(os.path.dirname(log), exist_ok=True)
                log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
                try:
                    os.write(log_fd, line)
                finally:
                    os.close(log_fd)
            os.rename(lock, path)
        finally:
            _unlink(head_lock)
    except BaseException:
        _unlink(lock)
        raise


def _plain(text: str, also: str) -> bool:
    """ASCII letters and digits, and the characters ``also``."""
    for char in also:
        text = text.replace(char, "")
    return text.isascii() and text.isalnum()


def _id_split(name: str) -> tuple[str, int] | None:
    """core.ids.ID_PATTERN's ``PREFIX-YYYYMMDD-`` and sequence of ``name``, else None."""
    prefix, _, rest = name.partition("-")
    date, _, seq = rest.partition("-")
    if not (1 <= len(prefix) <= 16 and prefix.isascii() and "A" <= prefix[0] <= "Z"):
        return None
    if not all("A" <= c <= "Z" or "0" <= c <= "9" for c in prefix[1:]):
        return None
    if not (len(date) == 8 and date.isascii() and date.isdigit()):
        return None
    if not (1 <= len(seq) <= 9 and seq.isascii() and seq.isdigit()):
        return None
    return f"{prefix}-{date}-", int(seq)


def _numbers_json(head: str, highest: dict[str, str]) -> str:
    """``json.dumps({"head": head, "highest": highest})`` for these plain keys."""
    pairs = ", ".join(f'"{key}": {value}' for key, value in highest.items())
    return f'{{"head": "{head}", "highest": {{{pairs}}}}}'


def _ticket_maker(values: dict[str, object], by: str, reported: str):  # type: ignore[no-untyped-def]
    """The new ticket as core.model.ticket_to_dict writes it (the test compares)."""
    channel = values.get("channel")
    via = f" via {channel}" if channel else ""

    def make(ticket_id: str) -> dict[str, object]:
        return {
            "id": ticket_id,
            "title": values["title"],
            "status": "new",
            "priority": None,
            "category": None,
            "requester": {
                "name": values["requester"],
                "employee_id": values.get("employee_id"),
                "department": values.get("department"),
                "contact": values.get("contact"),
            },
            "impact": {
                "blocks_work": bool(values.get("blocks_work")),
                "scope": values.get("scope"),
                "devices": list(values["devices"]),  # type: ignore[call-overload]
            },
            "description": values.get("description") or "",
            "channel": channel,
            "expected_by": None,
            "reported_at": reported,
            "acknowledged_at": None,
            "team": None,
            "assignee": None,
            "assigned_at": None,
            "accepted_at": None,
            "escalations": [],
            "log": [
                {
                    "at": reported,
                    "by": by,
                    "kind": "status",
                    "text": f"reported{via}",
                    "status": "new",
                }
            ],  # fmt: skip
            "resolution": None,
            "followup": None,
            "closed_at": None,
            "kb": [],
            "attachments": [],
            "remarks": None,
        }

    return make


def keep_facts(desk: object) -> None:
    """After a full ``new``: keep what this path needs of the desk's policy (checked by
    the full path) in ``.git/itdesk/cache/new.json``, unless it is there already."""
    from .store.identity import placeholder_email

    root = str(desk.root)  # type: ignore[attr-defined]
    git_dir = os.path.join(root, ".git")
    policy = desk.policy  # type: ignore[attr-defined]
    try:
        key = _stat_key(os.path.join(root, POLICY_FILE))
    except OSError:
        return
    path = os.path.join(git_dir, FACTS)
    try:
        with open(path, "rb") as fh:
            if marshal.loads(fh.read()).get("policy") == key:
                return
    except (OSError, ValueError, EOFError, TypeError, AttributeError):
        pass
    raw = policy.raw
    team = raw.get("team") if isinstance(raw.get("team"), dict) else {}
    facts = {
        "version": [__version__, FACTS_VERSION],
        "policy": key,
        "prefix": policy.prefix,
        "digits": policy.digits,
        "timezone": policy.timezone,
        "locale": policy.locale,
        "actors": {name: policy.email_of(name) or placeholder_email(name) for name in policy.known},
        "notify": bool(raw.get("notify")),
        "sync_new": bool(team.get("sync_new")),
    }
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        _write_atomic(path, marshal.dumps(facts), fsync=False)
    except OSError:
        pass
