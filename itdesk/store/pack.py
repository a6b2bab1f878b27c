"""Many blobs stored in the repository as one pack written here, without ``git fast-import``.

fast-import deflates (and deltifies) the blobs one after another in its one process: 4.3 s
of CPU for 20,000 ticket texts of 2.7 KB. Here the compression is :func:`pack_entry`, a
pure function of one blob's bytes that callers may run in worker processes (2.1 s of CPU
for the same blobs in one process); :class:`PackWriter`, in the calling process (0.17 s
of them), appends the entries to one pack file, writes its index and installs both as
git does. No deltas are made, so the pack is larger (22.5 MB against 17.6 MB) until
``git gc`` finds them.

The formats are git's Documentation/gitformat-pack.txt (pack version 2, index version 2).
A SHA-256 repository (``git init --object-format=sha256``) has the same layouts with
32-byte ids and checksums, all computed with SHA-256: ``oid_len`` 64 selects it.
"""

from __future__ import annotations

# hashlib, not the interpreter's _sha1 that commit._hasher prefers: importing hashlib
# costs ~5 ms once (OpenSSL), but it hashed a 2.7 KB blob in 5.5 us against 24 us, and
# a pack read back at 1,000 MB/s against 128 MB/s; a pack holds hundreds of blobs or more.
import contextlib
import hashlib
import io
import os
import struct
import zlib
from array import array
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from hashlib import _Hash
    from pathlib import Path
    from types import TracebackType

# zlib level 1, not the default (6) that git uses: on 20,000 ticket texts of 2.7 KB
# (real ones, joined to >= 2 KB), level 1 took 82 us a blob against 101 us, and its
# output was 41.8% of the input against 39.7%; ``git gc`` deltifies them anyway.
LEVEL = 1

try:
    # ISA-L's deflate writes zlib streams (git reads them as its own) of the same size
    # at level 1, in less than half the time: on 2,000 ticket files of 2 KB, 29 us a
    # blob against 65 us for zlib's, most of which is setting up its state (#12).
    from isal.isal_zlib import compress as _deflate
except ImportError:  # (no wheel of it for this platform)
    _deflate = zlib.compress

OBJ_BLOB = 3
# Offsets above this go to the index's table of 8-byte offsets (git: off32_limit).
OFF32_LIMIT = 0x7FFFFFFF
_IDX_MAGIC = b"\377tOc" + struct.pack(">I", 2)
_CHUNK = 1 << 20
STALE_TEMP = 12 * 3600  # seconds: a temporary pack untouched this long was left by a kill


def _hasher(oid_len: int, data: bytes = b"") -> _Hash:
    if oid_len == 40:
        return hashlib.sha1(data)
    if oid_len == 64:
        return hashlib.sha256(data)
    raise ValueError(f"object ids have 40 (SHA-1) or 64 (SHA-256) digits, not {oid_len}")


def entry_header(kind: int, size: int) -> bytes:
    """A pack entry's header: 3 bits of type and the size in 4 bits, then 7 bits a byte
    (least significant first), each byte but the last with its top bit set."""
    out = bytearray()
    byte = kind << 4 | size & 0x0F
    size >>= 4
    while size:
        out.append(byte | 0x80)
        byte = size & 0x7F
        size >>= 7
    out.append(byte)
    return bytes(out)


def pack_entry(data: bytes, oid_len: int = 40) -> tuple[str, bytes]:
    """The id git gives a blob of ``data`` (hex; SHA-1, or SHA-256 for ``oid_len`` 64)
    and the blob's pack entry: header and deflated bytes. Pure, for worker processes."""
    digest = _hasher(oid_len, b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest(), entry_header(OBJ_BLOB, len(data)) + _deflate(data, LEVEL)


def index_bytes(
    objects: Iterable[tuple[str, int, int]], pack_checksum: bytes, off32_limit: int = OFF32_LIMIT
) -> bytes:
    """The version-2 index (``.idx``) of a pack holding ``objects`` (id, CRC32 of the
    entry, offset). Offsets above ``off32_limit`` go to the table of 8-byte offsets, as
    ``git index-pack --index-version=2,<off32_limit>`` does; git's limit is 2**31 - 1."""
    if not 0 <= off32_limit <= OFF32_LIMIT:
        raise ValueError(f"off32_limit must be 0 to {OFF32_LIMIT}, not {off32_limit}")
    rows = sorted((bytes.fromhex(oid), crc, offset) for oid, crc, offset in objects)
    size = len(pack_checksum)
    fanout = [0] * 256
    small: list[int] = []
    large: list[int] = []
    for i, (oid, _, offset) in enumerate(rows):
        if len(oid) != size:
            raise ValueError(f"{oid.hex()} is not a {size * 2}-digit id, as the checksum is")
        if i and rows[i - 1][0] == oid:
            raise ValueError(f"{oid.hex()} is in the pack twice")
        fanout[oid[0]] += 1
        if offset > off32_limit:
            small.append(0x80000000 | len(large))
            large.append(offset)
        else:
            small.append(offset)
    for i in range(1, 256):
        fanout[i] += fanout[i - 1]
    n = len(rows)
    body = b"".join(
        (
            _IDX_MAGIC,
            struct.pack(">256I", *fanout),
            b"".join(row[0] for row in rows),
            struct.pack(f">{n}I", *(row[1] for row in rows)),
            struct.pack(f">{n}I", *small),
            struct.pack(f">{len(large)}Q", *large),
            pack_checksum,
        )
    )
    return body + _hasher(size * 2, body).digest()


class PackWriter:
    """Blobs' pack entries (from :func:`pack_entry`) written to one pack, installed in
    ``<git_dir>/objects/pack`` when the ``with`` block ends without an exception. An
    exception leaves ``objects/pack`` as it was; no entry, no file.

    Only the id, CRC32 and offset of each entry stay in memory. The pack's header holds
    the number of objects, unknown until the end, and the pack's checksum covers it, so
    the header is fixed and the file read back to be hashed, as fast-import does (for a
    20,000-blob pack of 23 MB that is ~25 ms).

    After the block, :attr:`pack` is the path of the pack installed (None: no entry).
    """

    def __init__(self, git_dir: Path, oid_len: int = 40) -> None:
        _hasher(oid_len)
        self.pack_dir = git_dir / "objects" / "pack"
        self.oid_len = oid_len
        self.pack: Path | None = None
        # each id (its bytes) -> its row in the CRC32s and offsets: ~100 bytes an object,
        # where a dict of hex ids and tuples held ~250 (100,000 objects, #12)
        self._objects: dict[bytes, int] = {}
        self._crcs = array("L")
        self._offsets = array("Q")
        self._file: io.BufferedRandom | None = None
        self._temps: list[str] = []
        self._offset = 0
        self._state = "new"

    def __enter__(self) -> PackWriter:
        if self._state != "new":
            raise ValueError("a PackWriter writes one pack: make a new one")
        self._state = "open"
        return self

    def add(self, oid: str, entry: bytes, crc: int | None = None) -> None:
        """Append one entry (``crc``: its CRC32, computed if not given); an id added
        before is skipped."""
        if self._state != "open":
            raise ValueError("PackWriter.add is called inside its with block only")
        raw = bytes.fromhex(oid) if len(oid) == self.oid_len else b""
        if len(raw) * 2 != self.oid_len:
            raise ValueError(f"{oid!r} is not a {self.oid_len}-digit object id")
        if raw in self._objects:
            return
        if self._file is None:
            self._file = io.BufferedRandom(io.FileIO(self._temp("tmp_pack_"), "r+"), _CHUNK)
            self._file.write(b"PACK" + struct.pack(">II", 2, 0))  # the count is fixed at the end
            self._offset = 12
        self._objects[raw] = len(self._offsets)
        self._crcs.append(zlib.crc32(entry) if crc is None else crc)
        self._offsets.append(self._offset)
        self._file.write(entry)
        self._offset += len(entry)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._state = "closed"
        try:
            if kind is None and self._file is not None:
                self._finish(self._file)
        finally:
            # (closed by _finish when installed; else its last flush may fail on a full
            # disk, which must not keep the temporary files, nor hide the first error)
            if self._file is not None:
                with contextlib.suppress(OSError):
                    self._file.close()
            for path in self._temps:
                with contextlib.suppress(OSError):
                    os.unlink(path)

    def install(self) -> None:
        """End the block here (a writer kept open across calls): the pack installed."""
        self.__exit__(None, None, None)

    def discard(self) -> None:
        """End the block here, if it is not ended: nothing installed, nothing left."""
        if self._state == "open":
            self.__exit__(InterruptedError, None, None)

    @staticmethod
    def sweep(git_dir: Path, older_than: float = STALE_TEMP) -> list[str]:
        """Remove the temporary packs and indexes in ``objects/pack`` untouched for
        ``older_than`` seconds: what a killed import left (its pack is written while the
        rows are checked, minutes at 100,000 rows); git's own gc waits two weeks. One
        being written (ours, or a fetch's) is touched as it grows. Returns their names."""
        import time

        folder = git_dir / "objects" / "pack"
        limit = time.time() - older_than
        removed: list[str] = []
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return removed
        for entry in entries:
            if not entry.name.startswith(("tmp_pack_", "tmp_idx_")):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                    os.unlink(entry.path)
                    removed.append(entry.name)
        return removed

    def _temp(self, prefix: str) -> int:
        """A new file in objects/pack named as git names its temporary ones."""
        import tempfile  # ~3 ms; workers import this module for pack_entry only

        fd, path = tempfile.mkstemp(prefix=prefix, dir=self.pack_dir)
        self._temps.append(path)
        return fd

    def _finish(self, pack: io.BufferedRandom) -> None:
        count = len(self._objects)
        if count >= 1 << 32:
            raise ValueError(f"a pack holds fewer than 2**32 objects, not {count}")
        pack.seek(8)
        pack.write(struct.pack(">I", count))
        pack.flush()
        pack.seek(0)
        digest = _hasher(self.oid_len)
        buffer = bytearray(_CHUNK)
        view = memoryview(buffer)
        while read := pack.readinto(buffer):
            digest.update(view[:read])
        checksum: bytes = digest.digest()
        pack.seek(0, os.SEEK_END)
        pack.write(checksum)
        pack.flush()
        os.fsync(pack.fileno())
        pack.close()
        crcs, offsets = self._crcs, self._offsets
        rows = ((raw.hex(), crcs[i], offsets[i]) for raw, i in self._objects.items())
        with os.fdopen(self._temp("tmp_idx_"), "wb") as idx:
            idx.write(index_bytes(rows, checksum))
            idx.flush()
            os.fsync(idx.fileno())
        tmp_pack, tmp_idx = self._temps
        name = f"pack-{checksum.hex()}"
        final_pack, final_idx = self.pack_dir / f"{name}.pack", self.pack_dir / f"{name}.idx"
        for path in (tmp_pack, tmp_idx):
            os.chmod(path, 0o444)
        # git's order: the pack first, the index last; a pack is found through its index
        new_pack = _install(tmp_pack, final_pack)
        try:
            _install(tmp_idx, final_idx)
        except BaseException:
            if new_pack:
                os.unlink(final_pack)
            raise
        _fsync_dir(self.pack_dir)  # the new names too survive a crash (git: core.fsync)
        self.pack = final_pack


def _install(tmp: str, final: Path) -> bool:
    """Move ``tmp`` to ``final`` as git's finalize_object_file does: a file already there
    has the same name, so the same checksum and content, and is kept. Whether it was new."""
    try:
        os.link(tmp, final)
    except FileExistsError:
        new = False
    except OSError:  # a file system without hard links
        os.rename(tmp, final)
        return True
    else:
        new = True
    os.unlink(tmp)
    return new


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows opens no folder
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
