"""Attaching a file (a screenshot, a log) to a ticket: stored inside the desk under
``attachments/<ID>/<name>``, listed in the ticket's ``attachments``, in one commit
(:meth:`itdesk.service.session.Session.attach`).

The file is read here, before the lock is taken: it must be a regular file (a symbolic
link is refused, never followed), no larger than the desk's limit (``attachments:
max_bytes`` in itdesk.yaml, 10 MiB by default), and its name (or ``--name``) must be
safe as a file name (:func:`itdesk.core.lifecycle.check_attachment_name`).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import UsageError


def read_attachment(source: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of ``source``: a regular file, not a symbolic link, at most ``limit``."""
    path = Path(source)
    try:
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except OSError as exc:
        if path.is_symlink():
            raise UsageError(
                f"{path} is a symbolic link; attach the file it points to instead"
            ) from None
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{path} is not a regular file; attach a file")
        if st.st_size > limit:
            raise UsageError(
                f"{path} has {st.st_size} bytes; the desk takes attachments up to {limit} "
                "(attachments: max_bytes in itdesk.yaml)"
            )
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:  # it grew while read
                raise UsageError(f"{path} is larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def check_folders(root: Path, rel: str) -> None:
    """The folders on the way to ``rel`` are plain folders of the desk (or not yet
    made): a symbolic link among them could write outside the desk."""
    folder = root
    for part in Path(rel).parts[:-1]:
        folder = folder / part
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise UsageError(f"{folder.relative_to(root)} is not a plain folder of the desk")
    if os.path.lexists(root / rel):
        raise UsageError(f"{rel} exists already; give another --name")
