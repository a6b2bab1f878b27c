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


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    commit: str
    when: datetime
    who: str
    action: str
    subject: str
    changed: tuple[str, ...]


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


def ticket_history(root: Path, paths: Sequence[str]) -> list[HistoryEntry]:
    """Commits touching any of ``paths`` (the ticket's active and archived file), oldest first."""
    import git as gitpython

    repo = gitpython.Repo(root)
    entries = []
    for commit in repo.iter_commits(paths=list(paths)):
        message = str(commit.message)
        after = _load(commit, paths)
        before = _load(commit.parents[0], paths) if commit.parents else None
        if after is None:
            changed: tuple[str, ...] = ("(removed)",)
        elif before is None:
            changed = ("(created)",)
        else:
            keys = list(dict.fromkeys([*after, *before]))
            changed = tuple(k for k in keys if before.get(k) != after.get(k))
        entries.append(
            HistoryEntry(
                commit=commit.hexsha,
                when=commit.authored_datetime,
                who=str(commit.author.name),
                action=_trailer(message, "Action") or "edit",
                subject=message.splitlines()[0] if message else "",
                changed=changed,
            )
        )
    entries.reverse()
    return entries
