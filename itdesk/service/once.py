"""Each message an employee sends by mail or chat is recorded exactly once.

A message has a key (its Message-ID, a chat platform's message id, else a hash of its
bytes). :func:`record_once` runs the step that records it under an intake lock of its
own (``.git/itdesk/intake.lock``: overlapping mail runs and the chat robots'
callbacks take turns), with the key in the commit's ``Intake-Key:`` trailer, and notes the key in
``.git/itdesk/intake-seen`` twice: ``pending`` before the commit, ``done`` (with the
ticket) after it. A run killed between the two leaves ``pending``; the next one asks
git whether a commit carries the key, so a message is never recorded twice nor lost.
The file is a tally kept in ``.git``: never committed, never cloned.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store.desk import Desk

SEEN_FILE = "itdesk/intake-seen"
LOCK_FILE = "itdesk/intake.lock"
TRAILER = "Intake-Key"
LOCK_TIMEOUT = 120.0


def key_of(kind: str, ident: str | None, raw: bytes = b"") -> str:
    """A key safe for a trailer and a line: ``kind:`` and 32 hex digits of a hash of
    the message's own id (or, without one, of its bytes)."""
    basis = ident.strip().encode("utf-8", "replace") if ident and ident.strip() else raw
    return f"{kind}:{hashlib.sha256(basis).hexdigest()[:32]}"


@dataclass(frozen=True)
class Outcome:
    ticket: str  # the ticket the message made or was logged on ("" when ignored)
    new: bool  # recorded now (False: recorded by an earlier run or delivery)


@contextlib.contextmanager
def intake_lock(desk: Desk, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Serialise intake (not re-entrant; the desk's own lock is taken inside it)."""
    path = desk.git_dir / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    from ..store.transaction import wait_for_flock

    with open(path, "a+") as fh:
        wait_for_flock(fh, timeout, "another intake run")
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _seen(desk: Desk) -> dict[str, tuple[str, str]]:
    """key -> (state, ticket), the last line of each key winning."""
    try:
        text = (desk.git_dir / SEEN_FILE).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    out: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            out[parts[0]] = (parts[1], parts[2])
    return out


def _note(desk: Desk, key: str, state: str, ticket: str = "") -> None:
    path = desk.git_dir / SEEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{key}\t{state}\t{ticket}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _committed(desk: Desk, key: str) -> str | None:
    """The ticket of a commit whose ``Intake-Key:`` trailer is ``key``, if any."""
    from ..store import git

    out = git.run(
        "log", "-F", f"--grep={TRAILER}: {key}", "-n", "1",
        "--format=%H%x00%(trailers:key=Ticket,valueonly,separator=%x2C)", "--",
        cwd=desk.root, check=False,
    )  # fmt: skip
    commit, _, tickets = out.strip().partition("\0")
    if not commit:
        return None
    return tickets.split(",")[0].strip()


def seen(desk: Desk, key: str) -> str | None:
    """The ticket a key was recorded on (``""`` for an ignored message), if it was."""
    state = _seen(desk).get(key)
    if state is None:
        return None
    if state[0] == "done":
        return state[1]
    found = _committed(desk, key)
    if found is not None:
        _note(desk, key, "done", found)
    return found


def record_once(desk: Desk, key: str, record: Callable[[Callable[[str], None]], str]) -> Outcome:
    """``record(committed)`` once for ``key``: it makes one commit with the trailer
    ``Intake-Key: key`` (see :data:`TRAILER`), calls ``committed(ticket)`` as soon as
    it is made and returns the ticket. Called inside :func:`intake_lock`."""
    earlier = seen(desk, key)
    if earlier is not None:
        return Outcome(earlier, new=False)
    _note(desk, key, "pending")
    done: list[str] = []

    def committed(ticket: str) -> None:
        if not done:
            done.append(ticket)
            _note(desk, key, "done", ticket)

    try:
        ticket = record(committed)
    except BaseException:
        if not done and _committed(desk, key) is None:
            _note(desk, key, "failed")
        raise
    committed(ticket)
    return Outcome(ticket, new=True)


def ignore(desk: Desk, key: str) -> None:
    """Note a message that records nothing (an auto-reply), so it is passed over."""
    _note(desk, key, "done", "")
