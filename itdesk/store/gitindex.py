"""git's index read and written without git: what it holds, one new file's entry, its
replacement under git's lock.

The rest of itdesk reaches the index through here: :func:`tail_state` (its checksum and
its cache tree's root, for store.gitdir.index_state), :func:`replace` (an index made
by Python, or by git on a copy, put in place under ``index.lock`` if the index did not
change meanwhile: store.transaction.IndexCopy, quicknew), :func:`update_index_args`
(git's own update, split above :data:`SPLIT_INDEX_BYTES`).

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
files: :func:`replace` gives the index it writes the modification time of the index it
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


def sha1_type() -> Callable[[bytes], object]:
    """hashlib's sha1, from the interpreter's own module when it has it."""
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
    sha1 = sha1_type()
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
    if index[4:8] != b"\0\0\0\2":
        return None
    state = tail_state(index, True, 20)
    return None if state is None else state[1]


def tail_state(tail: bytes, whole: bool, size: int) -> tuple[bytes, str | None] | None:
    """``(checksum, tree)`` of an index, ``tail`` being its last bytes (``whole``: all of
    it), ``size`` the object ids' length: its checksum, and the tree of its cache tree's
    root when that is valid (store.gitdir.IndexState); None when it cannot tell.

    Extensions follow the entries, each a 4-letter name and a 32-bit size, the last one
    ending where the checksum begins. A whole index is read entry by entry to where they
    end; of a tail, the cache tree ("TREE") is the one whose chain of sizes ends exactly
    at the checksum and whose content is a whole cache tree."""
    if len(tail) < size + 12 or (whole and tail[:4] != b"DIRC"):
        return None
    checksum, body = tail[-size:], tail[:-size]
    if whole:
        at = _entries_end(body, size)
        if at is None:
            return None
        while at + 8 <= len(body):
            name, length = body[at : at + 4], int.from_bytes(body[at + 4 : at + 8], "big")
            if name == b"TREE":
                return checksum, _cache_tree_root(body[at + 8 : at + 8 + length], size)
            at += 8 + length
        return checksum, None
    at = body.find(b"TREE")
    while at >= 0:
        if _extensions_end_at(body, at):
            length = int.from_bytes(body[at + 4 : at + 8], "big")
            data = body[at + 8 : at + 8 + length]
            if _cache_tree_size(data, size) == len(data):
                return checksum, _cache_tree_root(data, size)
        at = body.find(b"TREE", at + 1)
    return checksum, None


def _entries_end(body: bytes, size: int) -> int | None:
    """Where the entries of a whole index end (versions 2 to 4), or None."""
    version = int.from_bytes(body[4:8], "big")
    count = int.from_bytes(body[8:12], "big")
    at = 12
    fixed = 40 + size + 2  # stat data, id, flags
    for _ in range(count):
        if at + fixed > len(body):
            return None
        flags = int.from_bytes(body[at + fixed - 2 : at + fixed], "big")
        name = at + fixed + (2 if version >= 3 and flags & 0x4000 else 0)
        if version == 4:  # the name: a varint (bytes of the previous name dropped), then
            while name < len(body) and body[name] & 0x80:  # the rest of it, NUL-ended
                name += 1
            nul = body.find(b"\0", name + 1)
            if nul < 0:
                return None
            at = nul + 1
        elif version in (2, 3):  # the name, NUL-padded to a multiple of 8 bytes
            nul = body.find(b"\0", name)
            if nul < 0:
                return None
            at += (nul - at + 8) & ~7
        else:
            return None
    return at


def _extensions_end_at(body: bytes, at: int) -> bool:
    """Whether a chain of extensions starting at ``at`` ends exactly at the checksum."""
    while at + 8 <= len(body):
        name = body[at : at + 4]
        if not (name.isascii() and name.isalpha()):
            return False
        at += 8 + int.from_bytes(body[at + 4 : at + 8], "big")
    return at == len(body)


def _cache_tree_size(data: bytes, size: int) -> int | None:
    """How many bytes the cache-tree at the start of ``data`` takes: each node is
    ``<path>\0<entry count> <subtrees>\n`` and an id unless the count is -1, followed
    by its subtrees' nodes."""
    at, nodes = 0, 1
    while nodes:
        nul = data.find(b"\0", at)
        line_end = data.find(b"\n", nul + 1)
        if nul < 0 or line_end < 0:
            return None
        count, _, subtrees = data[nul + 1 : line_end].partition(b" ")
        if not subtrees.isdigit() or not count.lstrip(b"-").isdigit():
            return None
        at = line_end + 1 + (size if count != b"-1" else 0)
        nodes += int(subtrees) - 1
    return at if at <= len(data) else None


def _cache_tree_root(data: bytes, size: int) -> str | None:
    """The root's tree id in a cache-tree, or None if it is invalid (a count of -1)."""
    line_end = data.find(b"\n")
    if not data.startswith(b"\0") or line_end < 0:
        return None
    count, _, _ = data[1:line_end].partition(b" ")
    if not count.isdigit() or len(data) < line_end + 1 + size:
        return None
    return data[line_end + 1 : line_end + 1 + size].hex()


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
    if not replace(git_dir, before, after):
        return None
    if shared:
        try:
            os.utime(os.path.join(git_dir, shared))
        except OSError:
            pass
    return after[-20:].hex()


def replace(git_dir: str, before: bytes, after: bytes | str) -> bool:
    """git's index replaced under git's own ``index.lock``, if it is still ``before``:
    by ``after``'s bytes, written into the lock file, which takes the index's place with
    the replaced index's modification time (see the module's docstring); or by the file
    at the path ``after`` (an index git made on a copy), moved. False if it could not be
    (git at work on the index, or it changed): the index is untouched then."""
    path = os.path.join(git_dir, "index")
    lock = path + ".lock"
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except OSError:
        return False  # git at work on it: the caller's update waits for it, or says so
    moved = False
    try:
        try:
            with open(path, "rb") as fh:
                if fh.read() != before:
                    return False
                mtime = os.fstat(fh.fileno()).st_mtime_ns
            if isinstance(after, bytes):
                view = memoryview(after)
                while view:
                    view = view[os.write(fd, view) :]
                os.utime(fd, ns=(mtime, mtime))
        finally:
            os.close(fd)
        if isinstance(after, bytes):
            os.rename(lock, path)
            moved = True
        else:
            os.replace(after, path)
    except OSError:
        return False
    finally:
        if not moved:
            try:
                os.unlink(lock)
            except OSError:
                pass
    return True


# An index of this size (~20,000 files) is written as a split index: each write then
# writes the few changed entries, not all of them (measured at 100,000 tickets: 20 ms
# instead of 50-100 ms). git reads a split index as any other.
SPLIT_INDEX_BYTES = 2_000_000


def update_index_args(git_dir: str) -> list[str]:
    """``git update-index`` of paths given on its input (``-z``), added or removed as
    the work tree has them; a big index is split (:data:`SPLIT_INDEX_BYTES`)."""
    args = ["update-index", "--add", "--remove", "-z", "--stdin"]
    try:
        if os.stat(os.path.join(git_dir, "index")).st_size > SPLIT_INDEX_BYTES:
            args.insert(1, "--split-index")
    except OSError:
        pass
    return args
