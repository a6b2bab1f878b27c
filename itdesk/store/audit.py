"""``itdesk audit``: what the history of ``tickets/`` says that the files alone do not.

Each commit that touched a ticket file is read, oldest first, with the versions of the
files before and after it (one ``git log`` for the commits and their changed paths,
one ``cat-file --batch`` for the blobs). A finding is a commit and a ticket:

- ``hand-edit``: a commit not made by itdesk (no ``Ticket:`` and ``Action:`` trailers);
- ``log-rewritten``: a log entry that was committed is changed or gone afterwards;
- ``closed-changed``: a closed or cancelled ticket changed without being reopened;
- ``time-backwards``: a log whose times run backwards;
- ``number-reused``: a number given to a second, different ticket (a ticket that
  ``sync`` renumbered away from it does not count);
- ``unsigned``: a commit without a good signature, where ``team: {signed: true}`` in
  ``itdesk.yaml`` asks for them.

Merge commits are checked against each parent (the merge driver unites logs, so every
parent's entries must still be there), but need no trailers of their own.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.ids import ID_PATTERN
from . import git
from .commit import read_objects
from .layout import TICKETS

CLOSED = ("closed", "cancelled")


@dataclass(frozen=True, slots=True)
class Finding:
    commit: str
    ticket: str
    kind: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"commit": self.commit, "ticket": self.ticket, "kind": self.kind,
                "detail": self.detail}  # fmt: skip


@dataclass
class _Commit:
    oid: str
    parents: list[str]
    author: str
    when: str
    signature: str
    message: str
    changes: list[tuple[str, str]]  # (status letter, path) against the first parent


def _ticket_id(rel: str) -> str | None:
    name = posixpath.basename(rel)
    if rel.startswith(f"{TICKETS}/") and name.endswith(".yaml"):
        stem = name[: -len(".yaml")]
        return stem if ID_PATTERN.fullmatch(stem) else None
    return None


def _commits(root: Path, revs: list[str], since: str | None) -> Iterator[_Commit]:
    fmt = "%x1e%H%x1f%P%x1f%an <%ae>%x1f%aI%x1f%G?%x1f%B%x1f"
    # every commit, side branches too (--full-history), a merge compared with its first
    # parent: what it brought into the branch
    args = ["log", "--reverse", "--topo-order", "--full-history", "--diff-merges=first-parent",
            "--no-renames", "--name-status", "-z", f"--format={fmt}"]  # fmt: skip
    if since:
        args.append(f"--since={since}")
    out = git.run(*args, *revs, "--", f"{TICKETS}/", cwd=root)
    for record in out.split("\x1e")[1:]:
        parts = record.split("\x1f")
        oid, parents, author, when, sig, message = parts[:6]
        rest = [item.strip("\n") for item in "\x1f".join(parts[6:]).split("\0")]
        rest = [item for item in rest if item]
        changes = [(rest[i], rest[i + 1]) for i in range(0, len(rest) - 1, 2)]
        yield _Commit(oid, parents.split(), author, when, sig, message, changes)


BATCH = 200  # commits whose file versions one cat-file --batch reads


def _versions(root: Path, commits: list[_Commit]) -> dict[str, tuple[str, str, bytes] | None]:
    """The ticket files each commit changed, as it and its parents have them."""
    names: list[str] = []
    for c in commits:
        for _status, rel in c.changes:
            if _ticket_id(rel):
                names += [f"{c.oid}:{rel}", *(f"{p}:{rel}" for p in c.parents)]
    return dict(zip(names, read_objects(root, names), strict=True))


def _trailers(message: str, key: str) -> list[str]:
    return [line[len(key) + 2 :].strip() for line in message.splitlines()
            if line.startswith(f"{key}: ")]  # fmt: skip


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _parse(blob: tuple[str, str, bytes] | None) -> dict[str, Any] | None:
    from .yamlio import parse

    if blob is None or blob[1] != "blob":
        return None
    try:
        data = parse(blob[2].decode("utf-8"), aliases=False)
    except Exception:  # a broken file is validate's finding, not audit's
        return None
    return data if isinstance(data, dict) else None


def _identity(data: Mapping[str, Any]) -> str:
    log = data.get("log") or []
    return _key([data.get("reported_at"), log[0] if log else None])


def audit(
    root: Path,
    since: str | None = None,
    signed: bool = False,
    revs: list[str] | None = None,
    taken_before: Callable[[str], bool] | None = None,
) -> list[Finding]:
    """Every finding of the history of ``revs`` (default HEAD), oldest first.
    ``taken_before``: whether a number was given before the commits walked (the guard
    walks only the pushed ones)."""
    found: list[Finding] = []
    seen: dict[str, list[tuple[str, str]]] = {}  # number -> [(identity, commit)]
    renumbered: set[tuple[str, str]] = set()  # (number, identity) moved away by sync
    commits = list(_commits(root, revs or ["HEAD"], since))
    blobs: dict[str, tuple[str, str, bytes] | None] = {}
    for n, c in enumerate(commits):
        if n % BATCH == 0:  # the file versions of the next commits, in one cat-file
            blobs = _versions(root, commits[n : n + BATCH])
        merge = len(c.parents) > 1
        ids = [tid for _, rel in c.changes if (tid := _ticket_id(rel))]
        if not ids:
            continue
        action = _trailers(c.message, "Action")
        short = c.oid[:12]
        if not merge and (not action or not _trailers(c.message, "Ticket")) and action != ["init"]:
            for tid in dict.fromkeys(ids):
                found.append(Finding(c.oid, tid, "hand-edit",
                                     f"{short} by {c.author} changed {tid} without itdesk "
                                     "(no Ticket:/Action: trailers)"))  # fmt: skip
        if signed and c.signature not in ("G", "U"):
            found.append(Finding(c.oid, ids[0], "unsigned",
                                 f"{short} by {c.author} has no good signature"))  # fmt: skip
        # a ticket removed and added in one commit was moved (archive, reopen)
        moved = {_ticket_id(rel) for st, rel in c.changes if st.startswith("D")}
        for status, rel in c.changes:
            tid = _ticket_id(rel)
            if tid is None:
                continue
            after = _parse(blobs.get(f"{c.oid}:{rel}"))
            befores = [_parse(blobs.get(f"{p}:{rel}")) for p in c.parents]
            if status.startswith("D"):
                before = befores[0] if befores else None
                if before is not None and "renumber" in action:
                    renumbered.add((tid, _identity(before)))
                continue
            if after is None:
                continue
            _check_version(c, tid, after, [b for b in befores if b is not None],
                           merge, found)  # fmt: skip
            if status.startswith("A") and not merge and tid not in moved:
                seen.setdefault(tid, []).append((_identity(after), c.oid))
    for tid, added in seen.items():
        distinct: dict[str, str] = {}
        for ident, oid in added:
            if (tid, ident) not in renumbered:
                distinct.setdefault(ident, oid)
        again = list(distinct.values())
        if not (taken_before is not None and taken_before(tid)):
            again = again[1:]  # the first is the number's own ticket
        for oid in again:
            detail = f"{oid[:12]} gave {tid} to a second, different ticket"
            found.append(Finding(oid, tid, "number-reused", detail))
    return found


def _check_version(
    c: _Commit,
    tid: str,
    after: Mapping[str, Any],
    befores: list[Mapping[str, Any]],
    merge: bool,
    found: list[Finding],
) -> None:
    short = c.oid[:12]
    log = [e for e in after.get("log") or [] if isinstance(e, Mapping)]
    now_keys = {_key(e) for e in log}
    for before in befores:
        old_log = [e for e in before.get("log") or [] if isinstance(e, Mapping)]
        gone = [e for e in old_log if _key(e) not in now_keys]
        if gone:
            e = gone[0]
            found.append(Finding(c.oid, tid, "log-rewritten",
                                 f"{short} changed or removed the log entry of "
                                 f"{e.get('at')} by {e.get('by')}"))  # fmt: skip
            break
    if not merge and befores:
        before = befores[0]
        changed = {k for k in {*before, *after} if _key(before.get(k)) != _key(after.get(k))}
        if before.get("status") in CLOSED and changed - {"kb"}:  # a KB link is no change
            old_keys = {_key(e) for e in before.get("log") or []}
            added = [e for e in log if _key(e) not in old_keys]
            if not any(e.get("status") == "reopened" for e in added):
                found.append(Finding(c.oid, tid, "closed-changed",
                                     f"{short} changed {tid}, {before.get('status')}, "
                                     "without reopening it"))  # fmt: skip
    times = [_time(e.get("at")) for e in log]
    for i in range(1, len(times)):
        a, b = times[i - 1], times[i]
        if a is not None and b is not None and b < a:
            old_bad = any(_runs_backwards(b_) for b_ in befores)
            if not old_bad:
                found.append(Finding(c.oid, tid, "time-backwards",
                                     f"{short}: log entry {i + 1} ({log[i].get('at')}) is "
                                     "before the one above it"))  # fmt: skip
            break


def _runs_backwards(data: Mapping[str, Any]) -> bool:
    times = [_time(e.get("at")) for e in data.get("log") or [] if isinstance(e, Mapping)]
    return any(a is not None and b is not None and b < a for a, b in zip(times, times[1:],
                                                                       strict=False))  # fmt: skip
