"""A cache of parsed, validated tickets inside ``.git/``, so reading many is cheap.

``list`` (and later ``check`` and ``stats``) read every ticket. Parsing YAML costs about
1 ms a file, so each file's validated plain data is kept in ``.git/itdesk/cache/``
(marshal; one file per folder: the active tickets, each month of the archive, and the
policy), keyed by its path, size, modification time, change time (ctime) and inode,
as git's index keys a file. An entry is used only while all of them still match; the
cache can be deleted at any time and is rebuilt on the next read. The change time
because a tool can set the modification time back (``touch -r``, ``rsync -t``, ``cp
-p`` over the file: the same size, the same mtime, perhaps the same inode), and none
can set the change time. As git does for its index ("racy git"), a file modified within
the last two seconds is not cached, because a rewrite within the file system's
timestamp granularity could keep its size and times.
"""

from __future__ import annotations

import gc
import marshal
import os
import time
from pathlib import Path
from typing import Any

# Bump when the ticket model, the schema or this format changes.
CACHE_VERSION = 3
RACY_NS = 2_000_000_000

Key = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def stat_key(st: os.stat_result) -> Key:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class FileCache:
    """Parsed data of the files of one folder (or of one file), keyed by their stat.

    The file holds the keys apart from the data (a marshalled blob in the blob): how many
    files a folder's cache can serve is known without unmarshalling its tickets."""

    def __init__(self, path: Path, salt: str | None = None):
        """``salt``: what else the data depends on (a cache of what a command derives
        from each file: see :meth:`itdesk.store.folders.TicketFolder.derived`); a file
        kept with another salt is read as empty."""
        self.path = path
        self.salt = salt
        self._keys: dict[str, Key] = {}
        self._payload: bytes | None = None
        self._data: dict[str, dict[str, Any]] | None = None
        self._dirty = False
        self._seen: set[str] = set()
        self._now_ns = time.time_ns()
        try:
            with open(path, "rb") as fh:
                blob = fh.read()  # marshal.load(fh) reads the file in tiny pieces: 10x slower
            version, keys, payload, *salt = marshal.loads(blob)
            if (
                version == CACHE_VERSION
                and isinstance(keys, dict)
                and isinstance(payload, bytes)
                and salt == ([] if self.salt is None else [self.salt])
            ):
                self._keys, self._payload = keys, payload
        except (OSError, EOFError, ValueError, TypeError):
            pass  # missing or unreadable: start empty

    def _entries(self) -> dict[str, dict[str, Any]]:
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
                    self._keys, data = {}, {}
                self._payload = None
            self._data = data
        return self._data

    def serves(self, rel: str, key: Key) -> bool:
        """Whether :meth:`get` would answer, without unmarshalling any ticket."""
        return self._keys.get(rel) == key

    def get(self, rel: str, key: Key) -> dict[str, Any] | None:
        """A file's data, or None when the cache does not serve it (:meth:`lookup`)."""
        value: dict[str, Any] | None = self.lookup(rel, key)[1]
        return value

    def lookup(self, rel: str, key: Key) -> tuple[bool, Any]:
        """``(True, value)`` when the cache serves ``rel`` at ``key`` (the value may be
        None), else ``(False, None)``: a broken cache file serves nothing."""
        self._seen.add(rel)
        if self._keys.get(rel) != key:
            return False, None
        entries = self._entries()
        if rel not in entries:
            return False, None
        return True, entries[rel]

    def put(self, rel: str, key: Key, data: dict[str, Any]) -> None:
        self._seen.add(rel)
        if self._now_ns - key[1] < RACY_NS:
            # Not kept: nothing is read or written for it (the file just written after a
            # step, read by the next command within two seconds). An entry kept for the
            # file before stays, under a key the file can no longer have (its ctime
            # moved), until the file is kept again or goes.
            return
        self._entries()[rel] = data
        self._keys[rel] = key
        self._dirty = True

    def save(self, prune: bool = True) -> None:
        """Write the cache if anything changed, dropping the entries of files that were not
        seen since it was loaded (one cache holds one folder, scanned whole); not when
        ``prune`` is false (a few of the folder's files were read, not all)."""
        for rel in list(self._keys) if prune else ():
            if rel not in self._seen:
                del self._keys[rel]
                self._entries().pop(rel, None)
                self._dirty = True
        if not self._dirty:
            return
        from .files import write_atomic

        try:
            payload = marshal.dumps(self._entries())
            salt = () if self.salt is None else (self.salt,)
            blob = marshal.dumps((CACHE_VERSION, self._keys, payload, *salt))
            # No fsync: a cache lost in a crash is rebuilt, and a sync costs ~3 ms a save
            # (1,000 active tickets: 1.9 MB; 4.1 vs 1.4 ms measured).
            write_atomic(self.path, blob, fsync=False)
        except (OSError, ValueError):  # ValueError: a value marshal cannot store
            pass  # a cache that cannot be written is only slower
        self._dirty = False
