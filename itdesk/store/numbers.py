"""Every ticket number the desk's history has ever held, so that none is given twice.

A number is never reused (SPEC section 2), also after ``archive --purge`` or a hand
``git rm``: the files are gone, the commits that added them are not. The numbers added
by each commit of ``tickets/`` are read once with ``git log --diff-filter=A`` and kept
per day prefix in ``.git/itdesk/numbers.json`` with the commit they were read up to;
a later allocation reads only the commits of the branch the cache has not seen (none,
most of the time: one git process of a few ms when someone else committed). Numbers
only ever join the cache: one given in a commit that a reset or a rebase left behind
stays given.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from ..core.ids import ID_PATTERN
from ..errors import GitError
from . import git
from .files import write_atomic
from .layout import TICKETS

CACHE = "itdesk/numbers.json"
_OID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a commit's id (never read as an option)


def ids_added(root: Path, revs: list[str]) -> set[str]:
    """The ticket numbers whose files the commits ``revs`` (``git log`` arguments) added,
    active or archived."""
    out = git.run("log", "--format=", "--name-only", "--diff-filter=A", "--no-renames", "-z",
                  *revs,
                  "--", f"{TICKETS}/", cwd=root)  # fmt: skip
    found = set()
    for rel in git.zsplit(out.replace("\n", "\0")):
        name = posixpath.basename(rel)
        if name.endswith(".yaml") and ID_PATTERN.fullmatch(name[:-5]):
            found.add(name[:-5])
    return found


def _load(path: Path) -> tuple[str | None, dict[str, int]]:
    try:
        data = json.loads(path.read_text("utf-8"))
        head, highest = data.get("head"), data.get("highest")
        if isinstance(head, str) and _OID.fullmatch(head) and isinstance(highest, dict):
            return head, {str(k): int(v) for k, v in highest.items()}
    except (OSError, ValueError, TypeError, AttributeError, OverflowError):
        pass
    return None, {}


def highest_in_history(root: Path, git_dir: Path, head: str | None) -> dict[str, int]:
    """Per day prefix (``IT-20231025-``), the highest sequence history ever added."""
    if head is None:
        return {}
    path = git_dir / CACHE
    seen, highest = _load(path)
    if seen == head:
        return highest
    added = None
    if seen is not None:
        # The commits of ``head`` that ``seen`` does not hold: after a pull, those pulled;
        # after a reset back, none (the numbers of the commits left behind stay given,
        # never given again); after the branch went apart, the other side's. One git
        # process, whichever way it moved.
        try:
            added = ids_added(root, [f"{seen}..{head}"])
        except GitError:
            pass  # ``seen`` is no longer in the repository: read all of history
    if added is None:
        try:
            added = ids_added(root, [head])
        except GitError:
            return highest
    for ticket_id in added:
        m = ID_PATTERN.fullmatch(ticket_id)
        assert m is not None
        start = ticket_id[: -len(m.group("seq"))]
        highest[start] = max(highest.get(start, 0), int(m.group("seq")))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"head": head, "highest": highest}), fsync=False)
    except OSError:
        pass  # only a cache: read again next time
    return highest


def advance(git_dir: Path, parent: str, commit: str, rels: list[str]) -> None:
    """itdesk's own commit ``commit`` (on ``parent``) wrote ``rels``: the cache follows it
    without asking git, when it was up to date with ``parent``."""
    path = git_dir / CACHE
    seen, highest = _load(path)
    if seen != parent:
        return
    for rel in rels:
        name = posixpath.basename(rel)
        m = ID_PATTERN.fullmatch(name[:-5]) if name.endswith(".yaml") else None
        if m is not None:
            start = name[: -5 - len(m.group("seq"))]
            highest[start] = max(highest.get(start, 0), int(m.group("seq")))
    try:
        write_atomic(path, json.dumps({"head": commit, "highest": highest}), fsync=False)
    except OSError:
        pass
