"""A cache of parsed, validated tickets inside ``.git/``, so reading many is cheap.

``list`` (and later ``check`` and ``stats``) read every ticket. Parsing YAML costs about
1 ms a file, so each file's validated plain data is kept in ``.git/itdesk/cache/``
(marshal; one file per folder: the active tickets, each month of the archive, and the
policy), keyed by its path, size, modification time, change time (ctime) and inode,
as git's index keys a file. An entry is used only while all of them still match; the
cache can be deleted at any time and is rebuilt on the next read. The change time
because a tool can set the modification time back (``touch -r``, ``rsync -t``, ``cp
-p`` over the file: the same size, the same mtime, perhaps the same inode), and none
can set the change time.

As git does for its index ("racy git"), a file modified within the last two seconds
(its mtime) is not trusted by its stat alone: a rewrite within the file system's timestamp
granularity could keep its size and times. Its entry keeps the bytes it was made from,
and is used only while the file still holds them (read again: ~20 us, against ~1 ms to
parse, and the imports of YAML and the model, ~30 ms, for the file a command has just
written); once the file is older, the bytes are dropped.
"""

from __future__ import annotations

import gc
import marshal
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Bump when the ticket model, the schema or this format changes.
CACHE_VERSION = 4
RACY_NS = 2_000_000_000

Key = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def stat_key(st: os.stat_result) -> Key:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def racy(key: Key, now_ns: int) -> bool:
    """Whether a file of stat ``key`` was modified too recently, at ``now_ns``, for its
    stat to tell a later rewrite."""
    return now_ns - key[1] < RACY_NS


def read_bytes(path: Path | str, limit: int) -> bytes | None:
    """The bytes of the file ``path`` (never through a symbolic link), or None when it
    cannot be read or holds more than ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError:
        return None
    return data if len(data) <= limit else None


class FileCache:
    """Parsed data of the files of one folder (or of one file), keyed by their stat.

    The file holds the keys apart from the data (a marshalled blob in the blob): how many
    files a folder's cache can serve is known without unmarshalling its tickets. The
    entries of racy files are held apart too, each with its key and the bytes it was
    made from: the ticket just written is served, or kept, without unmarshalling the
    others (1,000 active tickets: ~20 ms)."""

    def __init__(self, path: Path, salt: str | None = None, now_ns: int | None = None):
        """``salt``: what else the data depends on (a cache of what a command derives
        from each file: see :meth:`itdesk.store.folders.TicketFolder.derived`); a file
        kept with another salt is read as empty. ``now_ns``: the time racy files are
        told by (the clock's)."""
        self.path = path
        self.salt = salt
        self._keys: dict[str, Key] = {}
        self._racy: dict[str, tuple[Key, bytes, Any]] = {}  # rel: (key, bytes, data)
        self._payload: bytes | None = None
        self._data: dict[str, Any] | None = None
        self._dirty = False
        self._seen: set[str] = set()
        self._now_ns = time.time_ns() if now_ns is None else now_ns
        try:
            with open(path, "rb") as fh:
                blob = fh.read()  # marshal.load(fh) reads the file in tiny pieces: 10x slower
            version, keys, payload, racy_held, *salt = marshal.loads(blob)
            if (
                version == CACHE_VERSION
                and isinstance(keys, dict)
                and isinstance(payload, bytes)
                and isinstance(racy_held, dict)
                and salt == ([] if self.salt is None else [self.salt])
            ):
                self._keys, self._payload, self._racy = keys, payload, racy_held
        except (OSError, EOFError, ValueError, TypeError):
            pass  # missing or unreadable: start empty

    def _entries(self) -> dict[str, Any]:
        if self._data is None:
            data: Any = {}
            if self._payload is not None:
                # Unmarshalling thousands of dicts sets off the cyclic garbage collector
                # again and again (160 ms instead of 25 ms for 1,000 tickets).
                gc.disable()
                try:
                    data = marshal.loads(self._payload)
                except (EOFError, ValueError, TypeError):
                    data = None
                finally:
                    gc.enable()
                if not isinstance(data, dict):
                    self._keys, self._racy, data = {}, {}, {}
                self._payload = None
            self._data = data
        return self._data

    def serves(self, rel: str, key: Key) -> bool:
        """Whether :meth:`get` would answer by the stat alone, without unmarshalling any
        ticket (an entry of a racy file would read the file: not counted)."""
        return self._keys.get(rel) == key

    def get(
        self, rel: str, key: Key, content: Callable[[], bytes | None] | None = None
    ) -> dict[str, Any] | None:
        """A file's data, or None when the cache does not serve it (:meth:`lookup`)."""
        value: dict[str, Any] | None = self.lookup(rel, key, content)[1]
        return value

    def lookup(
        self, rel: str, key: Key, content: Callable[[], bytes | None] | None = None
    ) -> tuple[bool, Any]:
        """``(True, value)`` when the cache serves ``rel`` at ``key`` (the value may be
        None), else ``(False, None)``: a broken cache file serves nothing. An entry of a
        racy file serves only while ``content()``, the file's bytes now, are those it was
        made from; once the file is older, it joins the others (kept by the stat)."""
        self._seen.add(rel)
        held = self._racy.get(rel)
        if held is not None and content is not None:
            try:
                held_key, made_from, value = held
            except (TypeError, ValueError):
                return False, None
            if held_key == key and content() == made_from:
                if not racy(key, self._now_ns):  # the stat tells any rewrite from now on
                    self._racy.pop(rel, None)
                    self._entries()[rel] = value  # (a broken payload: the others go)
                    self._keys[rel] = key
                    self._dirty = True
                return True, value
        if self._keys.get(rel) != key:
            return False, None
        entries = self._entries()
        if rel not in entries:
            return False, None
        return True, entries[rel]

    def put(self, rel: str, key: Key, data: Any, content: bytes | None = None) -> None:
        """Keep ``data`` of the file ``rel`` at ``key``. A racy file's is kept only with
        ``content``, the bytes it was made from (else nothing is read or written for it).
        An entry kept for the file before stays under a key the file can no longer have
        (its ctime moved), until the file is kept by its stat or goes."""
        self._seen.add(rel)
        if racy(key, self._now_ns):
            if content is not None:
                self._racy[rel] = (key, content, data)
                self._dirty = True
            return
        self._racy.pop(rel, None)
        self._entries()[rel] = data
        self._keys[rel] = key
        self._dirty = True

    def save(self, prune: bool = True) -> None:
        """Write the cache if anything changed, dropping the entries of files that were not
        seen since it was loaded (one cache holds one folder, scanned whole); not when
        ``prune`` is false (a few of the folder's files were read, not all)."""
        for rel in list(self._keys) if prune else ():
            if rel not in self._seen:
                self._keys.pop(rel, None)  # (a broken payload empties the keys meanwhile)
                self._entries().pop(rel, None)
                self._dirty = True
        for rel in list(self._racy) if prune else ():
            if rel not in self._seen:
                del self._racy[rel]
                self._dirty = True
        if not self._dirty:
            return
        from .files import write_atomic

        try:
            if self._data is None and self._payload is not None:
                payload = self._payload  # the others' entries as they were read
            else:
                payload = marshal.dumps(self._entries())
            salt = () if self.salt is None else (self.salt,)
            blob = marshal.dumps((CACHE_VERSION, self._keys, payload, self._racy, *salt))
            # No fsync: a cache lost in a crash is rebuilt, and a sync costs ~3 ms a save
            # (1,000 active tickets: 1.9 MB; 4.1 vs 1.4 ms measured).
            write_atomic(self.path, blob, fsync=False)
        except (OSError, ValueError):  # ValueError: a value marshal cannot store
            pass  # a cache that cannot be written is only slower
        self._dirty = False
