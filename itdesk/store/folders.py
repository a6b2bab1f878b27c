"""The desk's ticket files a folder at a time, and what is known of a folder as a whole.

A desk of two years holds 100,000 ticket files: ``tickets/`` (the active ones) and a
folder for each month of the archive. Reading all of them goes a folder at a time
(:class:`TicketFolder`): the folder is listed once with each file's size, times and
inode, and its files are read through the per-file cache of :mod:`itdesk.store.cache`
(whose key that is). What a command derives from each active ticket (``check``'s
clock plans, ``list``'s rows) is kept per file the same way (:meth:`derived`).

What a command derives from a whole folder of finished tickets (the rows of
``list --all``, the figures of ``stats``) is kept too, as a *summary*: one file per
folder and kind in ``.git/itdesk/cache/``, stored with the folder's listing (every
file's name, size, times and inode) and a ``salt`` naming everything else
it depends on (the masking, the policy's SLA rules, the code's version). It is used only
while the listing and the salt are exactly those of the moment; a file added, removed,
rewritten or touched makes it be computed again from the files. As with the per-file
cache, a folder with a file modified in the last two seconds is not summarized ("racy"
timestamps), nor is one with an invalid file (its warning must be given on every read).

The first read of a big desk parses every file (about 1 ms each). :func:`warm` parses
the folders the cache cannot serve in worker processes, one folder at a time on every
core, and reports the files done, so that a cold 100,000-ticket desk is read within a
minute with a progress bar.
"""

from __future__ import annotations

import errno
import gc
import marshal
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import InvalidTicket
from .cache import CACHE_VERSION, RACY_NS, FileCache, Key, read_bytes

__all__ = ["TicketFolder", "salt_of", "warm"]

# Bump when a summary's meaning changes without a change of the salt's parts.
SUMMARY_VERSION = 1
# Below this many files to parse, the work is done in this process: a pool's start-up
# (~50 ms a worker) and the collection of its results would cost more than they save.
PARALLEL_FILES = 3000

OnError = Callable[[InvalidTicket], None] | None
# a file's checked data and the bytes it was read from, or InvalidTicket
Read = Callable[[Path], tuple[dict[str, Any], bytes]]
# A racy file's entry keeps the bytes it was made from (store.cache): up to this many
RACY_BYTES = 64 * 1024
# (name, size, mtime_ns, ctime_ns, inode), by name
Listing = list[tuple[str, int, int, int, int]]


def salt_of(*parts: Any) -> str:
    """What a summary depends on besides its files, as text compared whole (a few KB
    kept in each summary; no digest, whose import would cost ``list`` ~3 ms)."""
    from .. import __version__

    return repr((SUMMARY_VERSION, CACHE_VERSION, __version__, parts))


class TicketFolder:
    """One folder of ticket files (``tickets/`` or a month of the archive), listed once."""

    def __init__(self, cache_dir: Path, path: Path, rel: str, listing: Listing, read: Read):
        self.cache_dir = cache_dir
        self.read = read
        self.path = path
        self.rel = rel
        self.listing = listing
        self._cache: FileCache | None = None
        self._clean = True  # every file was valid, in the last full read
        self._now_ns = time.time_ns()

    def __len__(self) -> int:
        return len(self.listing)

    @property
    def _cache_path(self) -> Path:
        return self.cache_dir / self.rel.replace("/", "-")

    def _summary_path(self, kind: str) -> Path:
        return self.cache_dir / f"{kind}.{self.rel.replace('/', '-')}"

    def file_cache(self) -> FileCache:
        if self._cache is None:
            self._cache = FileCache(self._cache_path)
        return self._cache

    def misses(self) -> int:
        """How many of the folder's files the per-file cache cannot serve (its keys are
        read, not its tickets)."""
        if not self._cache_path.exists():
            return len(self.listing)
        cache = FileCache(self._cache_path)
        return sum(
            not cache.serves(f"{self.rel}/{name}", (size, mtime, ctime, ino))
            for name, size, mtime, ctime, ino in self.listing
        )

    def tickets(
        self, on_error: OnError = None, on_parse: Callable[[], None] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every valid ticket of the folder as plain data, in the order of the file
        names, through the per-file cache; invalid files go to ``on_error`` (or raise).
        ``on_parse`` is called before each file the cache cannot serve (for progress)."""
        cache = self.file_cache()
        self._clean = True
        for name, size, mtime, ctime, ino in self.listing:
            file = _File(self.path, name, size)
            data = self._read(cache, name, (size, mtime, ctime, ino), file, on_error, on_parse)
            if data is not None:
                yield data
        cache.save()
        self._cache = None  # a month of the archive is not held longer than its reading

    def _read(
        self,
        cache: FileCache,
        name: str,
        key: Key,
        file: _File,
        on_error: OnError,
        on_parse: Callable[[], None] | None = None,
    ) -> dict[str, Any] | None:
        """One file's data through the per-file cache; None when it is invalid (told to
        ``on_error``, or raised)."""
        rel = f"{self.rel}/{name}"
        data = cache.get(rel, key, file.content)
        if data is None:
            if on_parse is not None:
                on_parse()
            try:
                data, raw = self.read(file.path)
            except InvalidTicket as exc:
                self._clean = False
                if on_error is None:
                    raise
                on_error(exc)
                return None
            file.parsed(raw)
            cache.put(rel, key, data, file.known)
        return data

    def derived(
        self, kind: str, salt: str, make: Callable[[dict[str, Any]], Any], on_error: OnError = None
    ) -> Iterator[Any]:
        """``make(data)`` of each valid ticket of the folder, in the order of the file
        names, kept per file in ``.git`` (``<kind>-each.<folder>``, with ``salt``: what else
        it depends on): a file whose stat is that kept is not read at all, so a command
        that needs a little of every ticket (``check``: its clocks) does not unmarshal
        the tickets of the files unchanged since. ``make``'s value is one that
        :mod:`marshal` keeps; what it makes of a just-modified file is kept with the
        file's bytes (racy timestamps, as in the per-file cache), nothing of an invalid
        one, which goes to ``on_error`` (or raises) on every read."""
        kept = FileCache(self.cache_dir / f"{kind}-each.{self.rel.replace('/', '-')}", salt)
        cache = None
        self._clean = True
        for name, size, mtime, ctime, ino in self.listing:
            rel, key = f"{self.rel}/{name}", (size, mtime, ctime, ino)
            file = _File(self.path, name, size)
            found, value = kept.lookup(rel, key, file.content)
            if found:
                yield value
                continue
            if cache is None:
                cache = self.file_cache()
            data = self._read(cache, name, key, file, on_error)
            if data is not None:
                value = make(data)
                kept.put(rel, key, value, file.known)
                yield value
        if cache is not None:  # the files read for what was not kept: the others' entries stay
            cache.save(prune=False)
            self._cache = None
        kept.save()

    # -- summaries --------------------------------------------------------------

    def summary(self, kind: str, salt: str) -> Any | None:
        """The folder's summary of ``kind`` kept for exactly this listing and ``salt``,
        or None."""
        try:
            with open(self._summary_path(kind), "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        gc.disable()  # unmarshalling thousands of dicts: see itdesk.store.cache
        try:
            version, kept_salt, listing, value = marshal.loads(blob)
        except (EOFError, ValueError, TypeError):
            return None
        finally:
            gc.enable()
        if version != SUMMARY_VERSION or kept_salt != salt or listing != self.listing:
            return None
        return value

    def keep_summary(self, kind: str, salt: str, value: Any) -> None:
        """Store ``value`` as the folder's summary of ``kind``, computed from a full
        read of its files (:meth:`tickets`) just before; not when a file was invalid or
        too recently modified for its timestamp to be trusted."""
        if not self._clean or any(self._now_ns - m < RACY_NS for _, _, m, _, _ in self.listing):
            return
        from .files import write_atomic

        try:
            blob = marshal.dumps((SUMMARY_VERSION, salt, self.listing, value))
            write_atomic(self._summary_path(kind), blob, fsync=False)
        except (OSError, ValueError):
            pass  # a summary that cannot be kept is only slower


class _File:
    """A ticket file's bytes as a command came to know them: read when a cache entry of a
    racy file asks (once, whichever cache asks), or those parsed."""

    __slots__ = ("folder", "name", "size", "known", "_read")

    def __init__(self, folder: Path, name: str, size: int):
        self.folder, self.name, self.size = folder, name, size  # (a Path made when read)
        self.known: bytes | None = None
        self._read = False

    @property
    def path(self) -> Path:
        return self.folder / self.name

    def content(self) -> bytes | None:
        """The file's bytes now (None: unreadable, or not of the size it was listed at)."""
        if not self._read:
            self._read = True
            self.known = read_bytes(os.path.join(self.folder, self.name), self.size)
        return self.known

    def parsed(self, raw: bytes) -> None:
        """The file was parsed from ``raw`` (kept with a racy entry when small enough)."""
        self._read = True
        self.known = raw if len(raw) <= RACY_BYTES else None


def list_folder(path: Path, on_linked: Callable[[Path], None]) -> Listing | None:
    """The ``*.yaml`` regular files of ``path`` with their stat, by name; None when the
    folder is gone. Symbolic links go to ``on_linked`` and are never followed."""
    listing: Listing = []
    # Listed through a descriptor of the folder: each file's stat is then relative to it
    # (fstatat), not a walk of its whole path by the kernel (100,000 files of the
    # archive: 0.41 s instead of 0.97 s).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        on_linked(path)  # made a link since it was looked at: never followed
        return None
    try:
        for entry in os.scandir(fd):
            name = entry.name
            if not name.endswith(".yaml"):
                continue
            try:  # one call for the type and the key (d_type may be unknown, and then
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)  # is_file stats)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    continue  # removed while listed
                raise
            if not stat.S_ISREG(st.st_mode):
                if stat.S_ISLNK(st.st_mode):
                    on_linked(path / name)
                continue
            listing.append((name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    finally:
        os.close(fd)
    listing.sort()
    return listing


# ------------------------------------------------------------------------- warm


def usable_cpus() -> int:
    """The processors this process may run on (its affinity, where the system tells it)."""
    cpus = os.cpu_count() or 1
    usable = getattr(os, "sched_getaffinity", None)
    return min(cpus, len(usable(0))) if usable else cpus


Summarize = tuple[str, str, Callable[[list[dict[str, Any]]], Any | None]]  # kind, salt, make

# What a forked worker reads: the folders (by index) and the summary it keeps of each
_WARMING: list[tuple[list[TicketFolder], Summarize | None]] = []


def _warm_one(index: int) -> int:
    folders, summary = _WARMING[0]
    folder = folders[index]
    tickets = list(folder.tickets(on_error=lambda exc: None))
    if summary is not None:
        kind, salt, make = summary
        value = make(tickets)
        if value is not None:
            folder.keep_summary(kind, salt, value)
    return index


def warm(
    folders: list[TicketFolder],
    progress: Callable[[int, int], None] | None,
    summary: Summarize | None = None,
) -> int:
    """Read ``folders`` ahead in a worker process per core, when there are thousands of
    files (the first read of a big desk: a fresh clone, a deleted cache), the biggest
    folders first: each worker fills a folder's per-file cache where it cannot serve,
    and keeps its ``summary`` (kind, salt, make) when one is asked for, so that this
    process reads the summaries alone. ``progress(done, total)`` is told the files done.

    Returns how many files are left for the reading that follows to parse: all of them
    when the work is too small for workers (invalid files are left to it too: they are
    never cached, and it reports them)."""
    if len(folders) < 2:  # nothing to share out (the active tickets alone: `list`)
        return sum(len(f) for f in folders)  # at most; its cache is not read twice
    misses = [f.misses() for f in folders]
    left = sum(misses)
    if summary is None:
        todo = [(m, i) for i, m in enumerate(misses) if m]
    else:  # every folder is read: its summary is made from all its tickets
        todo = [(len(f), i) for i, f in enumerate(folders) if len(f)]
    total = sum(m for m, _ in todo)
    cpus = usable_cpus()
    if total < PARALLEL_FILES or len(todo) < 2 or cpus < 2:
        return left
    import multiprocessing

    todo.sort(reverse=True)
    counts = {i: m for m, i in todo}
    _WARMING[:] = [(folders, summary)]
    done = 0
    if progress is not None:
        progress(0, total)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(min(cpus, len(todo))) as pool:
            for i in pool.imap_unordered(_warm_one, [i for _, i in todo]):
                done += counts[i]
                misses[i] = 0
                if progress is not None:
                    progress(done, total)
    except Exception:  # noqa: BLE001 - a worker's failure: this process reads, and reports it
        return sum(misses)
    finally:
        _WARMING.clear()
    return 0
