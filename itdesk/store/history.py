"""A ticket's git history: one entry per commit that touched its file.

This walks commits and reads old versions of the file, which is what GitPython's object
model is for; it is imported here, inside the function, so that no other command pays
for its import (~170 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import GitError
from .git import NO_GIT


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    commit: str
    when: datetime
    who: str
    action: str
    subject: str
    changed: tuple[str, ...]
    # field by field: (field, before, after); a list says what it gained (log +1)
    changes: tuple[tuple[str, Any, Any], ...] = ()

    def describe(self) -> str:
        """The changes as one line: ``status: new -> acknowledged, log +1``."""
        if not self.changes:
            return ", ".join(self.changed)
        return ", ".join(_describe(name, old, new) for name, old, new in self.changes)


def _short(value: Any) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _describe(name: str, old: Any, new: Any) -> str:
    if isinstance(new, list) or isinstance(old, list):
        before, after = list(old or []), list(new or [])
        gained = len([x for x in after if x not in before])
        lost = len([x for x in before if x not in after])
        return f"{name} " + " ".join(
            part for part in (f"+{gained}" if gained else "", f"-{lost}" if lost else "") if part
        )
    return f"{name}: {_short(old)} -> {_short(new)}"


def _field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    out: list[tuple[str, Any, Any]] = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict):  # requester.contact, ...
            out += [(f"{key}.{k}", old.get(k), new.get(k))
                    for k in dict.fromkeys([*old, *new]) if old.get(k) != new.get(k)]  # fmt: skip
        else:
            out.append((key, old, new))
    return [_masked(name, old, new) for name, old, new in out]


def _masked(name: str, old: Any, new: Any) -> tuple[str, Any, Any]:
    """Personal data leaves the desk masked (spec section 1), in a timeline too."""
    from ..core.privacy import mask_contact, mask_name

    if name == "requester.name":
        return name, mask_name(old), mask_name(new)
    if name == "requester.contact":
        return name, mask_contact(old), mask_contact(new)
    return name, old, new


def _trailer(message: str, key: str) -> str | None:
    for line in reversed(message.splitlines()):
        if line.startswith(f"{key}: "):
            return line[len(key) + 2 :].strip()
    return None


def _load(commit: Any, paths: Sequence[str]) -> dict[str, Any] | None:
    import yaml

    from .yamlio import parse

    for path in paths:
        try:
            blob = commit.tree / path
        except KeyError:
            continue
        try:
            data = parse(blob.data_stream.read().decode("utf-8"), aliases=False)
        except (yaml.YAMLError, UnicodeDecodeError):
            return None
        return data if isinstance(data, dict) else None
    return None


def ticket_history(
    root: Path, paths: Sequence[str], earlier: Sequence[str] = ()
) -> list[HistoryEntry]:
    """Commits touching any of ``paths`` (the ticket's active and archived file), oldest
    first. ``earlier``: the files of the number it had before ``sync`` renumbered it;
    the commits before the renumbering that touched them come first."""
    try:
        import git as gitpython
    except ImportError as exc:  # GitPython finds no git to run when it is imported
        if "git executable" not in str(exc):
            raise
        raise GitError(["git", "log"], None, stderr=NO_GIT) from None
    try:
        repo = gitpython.Repo(root)
        entries = _walk(repo, "HEAD", paths, earlier)
        if earlier and entries and entries[0].action == "renumber":
            # only the renumbering's ancestors: the old number's file is another ticket's
            entries = _walk(repo, f"{entries[0].commit}^", earlier, ()) + entries
    except gitpython.exc.GitCommandNotFound:
        raise GitError(["git", "log"], None, stderr=NO_GIT) from None
    return entries


def _walk(repo: Any, rev: str, paths: Sequence[str], earlier: Sequence[str]) -> list[HistoryEntry]:
    entries = []
    for commit in repo.iter_commits(rev, paths=list(paths)):
        message = str(commit.message)
        after = _load(commit, paths)
        before = None
        if commit.parents:
            before = _load(commit.parents[0], paths) or _load(commit.parents[0], earlier)
        changes: tuple[tuple[str, Any, Any], ...] = ()
        if after is None:
            changed: tuple[str, ...] = ("(removed)",)
        elif before is None:
            changed = ("(created)",)
        else:
            keys = list(dict.fromkeys([*after, *before]))
            changed = tuple(k for k in keys if before.get(k) != after.get(k))
            changes = tuple(_field_changes(before, after))
        entries.append(
            HistoryEntry(
                commit=commit.hexsha,
                when=commit.authored_datetime,
                who=str(commit.author.name),
                action=_trailer(message, "Action") or "edit",
                subject=message.splitlines()[0] if message else "",
                changed=changed,
                changes=changes,
            )
        )
    entries.reverse()
    return entries
