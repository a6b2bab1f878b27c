"""git's index with one new file's entry, written as ``git update-index --add`` writes it.

``itdesk new`` on a big desk waited for git to read the whole index before it could add
one entry: ~25 ms of a 100,000-ticket desk's 11 MB shared index (#12; the 100-ticket
desk's `new` takes ~40 ms in all). The file git reads first, ``.git/index``, is small
then: a split index (which itdesk makes above ``SPLIT_INDEX_BYTES``) holds only the
entries changed since the shared one was written; a small desk's index is small
anyway. :func:`with_new_entry` adds the entry to that file alone.

It does only what it can do exactly and says None for anything else, for git to do:
index format 2 with no extension but the cache tree (``TREE``) and the split index's
link (``link``), a checksum that is right, the path not among its entries. The entry
takes its place among the entries that are not replacements of the shared index's (those
come first, nameless, in the shared index's order), in git's order of paths; the cache
tree loses what the path invalidates (the root and each folder on the way: git's
``cache_tree_invalidate_path``); the shared index, the link's bitmaps and every other
entry stay as they are. ``tests/test_gitindex.py`` compares its bytes with git's own.

git also looks again, when it writes an index, at entries whose file may have changed
in the same tick of the clock as the index it read was written ("racily clean"), and
spoils their recorded size if their content changed. This module does not read those
files: :func:`install` gives the index it writes the modification time of the index it
replaced, so that every entry git would look at again it still looks at, and the new
entry too (its file is newer).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

_HEAD = 12  # "DIRC", version, number of entries
_FIXED = 62  # an entry of format 2 before its path: stat data, object id, flags
_MODE_FILE = 0o100644
_NAME_MASK = 0xFFF  # the flags' 12 bits of the path's length (0xFFF: that or longer)
_KNOWN = (b"TREE", b"link")


def _sha1() -> Callable[[bytes], object]:
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]  # (hashlib: OpenSSL, ~2 ms)
    except ImportError:  # pragma: no cover -- a Python built without it
        from hashlib import sha1
    return sha1  # type: ignore[no-any-return]


def with_new_entry(index: bytes, rel: str, st: os.stat_result, blob: str) -> bytes | None:
    """``index`` (the bytes of ``.git/index``) with an entry for the regular file ``rel``
    (relative to the work tree, ``/``-separated), whose ``lstat`` is ``st`` and blob
    ``blob`` (hex); None where git must do it."""
    made = _with_new_entry(index, rel, st, blob)
    return None if made is None else made[0]


def _with_new_entry(index: bytes, rel: str, st: os.stat_result,
                    blob: str) -> tuple[bytes, str | None] | None:  # fmt: skip
    """:func:`with_new_entry`, and the name of the shared index a split one links to."""
    sha1 = _sha1()
    if len(index) < _HEAD + 20 or index[:4] != b"DIRC" or index[4:8] != b"\0\0\0\2":
        return None
    if sha1(index[:-20]).digest() != index[-20:]:  # type: ignore[attr-defined]
        return None  # corrupt, or git's index.skipHash (zeros): git's to read
    if st.st_mode & 0o170000 != 0o100000 or st.st_mode & 0o111 or len(blob) != 40:
        return None  # not a plain file (an executable's mode depends on core.fileMode)
    key = rel.encode()
    if not key or len(key) >= _NAME_MASK or b"\0" in key:
        return None
    count = int.from_bytes(index[8:12], "big")
    body = memoryview(index)[:-20]
    at, spot = _HEAD, None
    try:
        for _ in range(count):
            flags = int.from_bytes(body[at + 60 : at + 62], "big")
            if flags & 0x4000:  # extended flags: format 3
                return None
            size = flags & _NAME_MASK
            if size == _NAME_MASK:
                return None  # a path of 4095 bytes or more: git's
            name = bytes(body[at + _FIXED : at + _FIXED + size])
            if name == key:
                return None  # already an entry (any stage): not a new file
            if spot is None and name and name > key:
                spot = at  # (a nameless entry, a replacement, comes before any path)
            at += (_FIXED + size + 8) & ~7
    except (IndexError, ValueError):
        return None
    entries_end = at
    spot = entries_end if spot is None else spot
    extensions, shared = [], None
    try:
        while at < len(body):
            name, size = bytes(body[at : at + 4]), int.from_bytes(body[at + 4 : at + 8], "big")
            if name not in _KNOWN or at + 8 + size > len(body):
                return None
            data = bytes(body[at + 8 : at + 8 + size])
            if name == b"TREE":
                data = _invalidated(data, key.split(b"/"))  # type: ignore[assignment]
                if data is None:
                    return None
            elif len(data) < 20:
                return None
            else:
                shared = f"sharedindex.{data[:20].hex()}"
            extensions.append(name + len(data).to_bytes(4, "big") + data)
            at += 8 + size
    except (IndexError, ValueError):
        return None
    if at != len(body):
        return None
    out = b"".join([
        index[:8], (count + 1).to_bytes(4, "big"), index[_HEAD:spot], _entry(key, st, blob),
        index[spot:entries_end], *extensions,
    ])  # fmt: skip
    return out + sha1(out).digest(), shared  # type: ignore[attr-defined]


def root_tree(index: bytes) -> str | None:
    """The tree id of ``index``'s cache tree at its root, when it is valid: git's own
    record that the index holds exactly that tree (every entry, nothing unmerged);
    else None. Only an index :func:`with_new_entry` can change is read."""
    if len(index) < _HEAD + 20 or index[:4] != b"DIRC" or index[4:8] != b"\0\0\0\2":
        return None
    at = _HEAD
    try:
        for _ in range(int.from_bytes(index[8:12], "big")):
            size = int.from_bytes(index[at + 60 : at + 62], "big") & _NAME_MASK
            if size == _NAME_MASK:
                return None
            at += (_FIXED + size + 8) & ~7
        while at + 8 <= len(index) - 20:
            name, size = index[at : at + 4], int.from_bytes(index[at + 4 : at + 8], "big")
            if name == b"TREE":
                line = index.index(b"\n", at + 8)
                if index[at + 8 : at + 9] != b"\0" or line > at + 8 + size:
                    return None  # (the root's path is empty)
                entries = int(index[at + 9 : line].split(b" ")[0])
                return index[line + 1 : line + 21].hex() if entries >= 0 else None
            at += 8 + size
    except (ValueError, IndexError):
        return None
    return None


def _entry(key: bytes, st: os.stat_result, blob: str) -> bytes:
    """An entry of format 2 (git's ``ondisk_cache_entry``): the stat data git keeps,
    each field cut to 32 bits, then the object id, flags (stage 0, the path's length),
    the path and 1 to 8 NULs to a multiple of 8 bytes."""
    fields = (
        st.st_ctime_ns // 1_000_000_000, st.st_ctime_ns % 1_000_000_000,
        st.st_mtime_ns // 1_000_000_000, st.st_mtime_ns % 1_000_000_000,
        st.st_dev, st.st_ino, _MODE_FILE, st.st_uid, st.st_gid, st.st_size,
    )  # fmt: skip
    head = b"".join((f & 0xFFFFFFFF).to_bytes(4, "big") for f in fields)
    entry = head + bytes.fromhex(blob) + len(key).to_bytes(2, "big") + key
    return entry + b"\0" * (8 - len(entry) % 8)


def _invalidated(tree: bytes, parts: list[bytes]) -> bytes | None:
    """The cache tree ``tree`` with the root and each folder of the path ``parts``
    (folders, then the file's name) invalid: ``-1`` entries and no object id, their
    subtrees kept (git's ``cache_tree_invalidate_path``); None if it is not whole."""
    out: list[bytes] = []

    def node(at: int, path: list[bytes] | None) -> int:
        nul = tree.index(b"\0", at)
        line = tree.index(b"\n", nul)
        entries, subtrees = (int(n) for n in tree[nul + 1 : line].split(b" "))
        end = line + 1 + (20 if entries >= 0 else 0)
        if end > len(tree) or subtrees < 0:
            raise ValueError
        if path is None:
            out.append(tree[at:end])
        else:
            out.append(tree[at : nul + 1] + b"-1 %d\n" % subtrees)
        at = end
        for _ in range(subtrees):
            name = tree[at : tree.index(b"\0", at)]
            on_path = path is not None and len(path) > 1 and name == path[0]
            if path is not None and len(path) == 1 and name == path[0]:
                raise ValueError  # a folder where the file is to be: git's to say
            at = node(at, path[1:] if on_path else None)  # type: ignore[index]
        return at

    try:
        if node(0, parts) != len(tree):
            return None
    except (ValueError, IndexError):
        return None
    return b"".join(out)


def install(root: str, git_dir: str, before: bytes, rel: str, blob: str) -> str | None:
    """The index ``before`` with the new file ``rel`` of the work tree ``root`` (blob
    ``blob``, hex) put in place
    under git's ``index.lock``, if the index is still ``before``, with the replaced
    index's modification time (see the module's docstring); the shared index it links to
    marked as used, as git marks it. Its checksum (hex), or None if it could not be (an
    index of another kind, git at work on it, a change of it): nothing changed then."""
    try:
        made = _with_new_entry(before, rel, os.lstat(os.path.join(root, rel)), blob)
    except OSError:
        return None
    if made is None:
        return None
    after, shared = made
    path = os.path.join(git_dir, "index")
    lock = path + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except OSError:
        return None
    done = False
    try:
        try:
            with open(path, "rb") as fh:
                if fh.read() != before:
                    return None
                mtime = os.fstat(fh.fileno()).st_mtime_ns
            view = memoryview(after)
            while view:
                view = view[os.write(fd, view) :]
            os.utime(fd, ns=(mtime, mtime))
        finally:
            os.close(fd)
        os.rename(lock, path)
        done = True
    except OSError:
        return None
    finally:
        if not done:
            try:
                os.unlink(lock)
            except OSError:
                pass
    if shared:
        try:
            os.utime(os.path.join(git_dir, shared))
        except OSError:
            pass
    return after[-20:].hex()
