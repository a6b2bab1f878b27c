"""A cache of parsed, validated tickets inside ``.git/``, so reading many is cheap.

``list`` (and later ``check`` and ``stats``) read every ticket. Parsing YAML costs about
1 ms a file, so each file's validated plain data is kept in ``.git/itdesk/cache/``
(marshal; one file per folder: the active tickets, each month of the archive, and the
policy), keyed by its path, size, modification time and inode. An entry is used only
while all four still match; the cache can be deleted at any time and is rebuilt on the
next read. As git does for its index ("racy git"), a file modified within the last two
seconds is not cached, because a rewrite within the file system's timestamp granularity
could keep its size and mtime.
"""

from __future__ import annotations

import gc
import marshal
import os
import time
from pathlib import Path
from typing import Any

# Bump when the ticket model, the schema or this format changes.
CACHE_VERSION = 1
RACY_NS = 2_000_000_000

Key = tuple[int, int, int]


def stat_key(st: os.stat_result) -> Key:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class FileCache:
    """Parsed data of the files of one folder (or of one file), keyed by their stat."""

    def __init__(self, path: Path):
        self.path = path
        self._entries: dict[str, tuple[Key, dict[str, Any]]] = {}
        self._dirty = False
        self._seen: set[str] = set()
        self._now_ns = time.time_ns()
        try:
            with open(path, "rb") as fh:
                blob = fh.read()  # marshal.load(fh) reads the file in tiny pieces: 10x slower
            # Unmarshalling thousands of dicts sets off the cyclic garbage collector
            # again and again (160 ms instead of 25 ms for 1,000 tickets).
            gc.disable()
            try:
                version, entries = marshal.loads(blob)
            finally:
                gc.enable()
            if version == CACHE_VERSION and isinstance(entries, dict):
                self._entries = entries
        except (OSError, EOFError, ValueError, TypeError):
            pass  # missing or unreadable: start empty

    def get(self, rel: str, key: Key) -> dict[str, Any] | None:
        self._seen.add(rel)
        entry = self._entries.get(rel)
        if entry is not None and entry[0] == key:
            return entry[1]
        return None

    def put(self, rel: str, key: Key, data: dict[str, Any]) -> None:
        self._seen.add(rel)
        if self._now_ns - key[1] < RACY_NS:
            if rel in self._entries:
                del self._entries[rel]
                self._dirty = True
            return
        self._entries[rel] = (key, data)
        self._dirty = True

    def save(self) -> None:
        """Write the cache if anything changed, dropping the entries of files that were not
        seen since it was loaded (one cache holds one folder, scanned whole)."""
        for rel in list(self._entries):
            if rel not in self._seen:
                del self._entries[rel]
                self._dirty = True
        if not self._dirty:
            return
        from .files import write_atomic

        try:
            blob = marshal.dumps((CACHE_VERSION, self._entries))
            # No fsync: a cache lost in a crash is rebuilt, and a sync costs ~3 ms a save
            # (1,000 active tickets: 1.9 MB; 4.1 vs 1.4 ms measured).
            write_atomic(self.path, blob, fsync=False)
        except (OSError, ValueError):  # ValueError: a value marshal cannot store
            pass  # a cache that cannot be written is only slower
        self._dirty = False
