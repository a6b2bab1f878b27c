"""What git does not clone: this clone's registration of itdesk's merge driver.

git copies a repository's files and history, never its config: the ``merge=itdesk``
attribute in the desk's ``.gitattributes`` names a driver each clone must define
(``merge.itdesk.driver``), or git falls back to its line merge. ``itdesk setup`` (and
``init``) write it, pointing at the interpreter that runs itdesk now, so any install
(editable, ``pip install .``, pipx) reaches the same code.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from ..core.merge import MergeConflict, MergeResult, merge_ticket
from ..errors import InvalidTicket
from . import git
from .files import write_atomic

DRIVER = "itdesk"
ATTRIBUTE = "tickets/**/*.yaml merge=itdesk"


def driver_command() -> str:
    """The command line git runs for a ticket (git runs it through the shell: the
    interpreter's path is quoted; %O %A %B %P are git's, never a user's text)."""
    return f"{shlex.quote(sys.executable)} -m itdesk merge-driver %O %A %B %P"


def register(root: Path) -> list[str]:
    """Define the merge driver in this clone's config (and the attribute in
    ``.git/info/attributes`` when the desk's ``.gitattributes`` lacks it); returns what
    was set, one line each."""
    done = []
    git.run("config", "--local", f"merge.{DRIVER}.name", "itdesk ticket merge", cwd=root)
    git.run("config", "--local", f"merge.{DRIVER}.driver", driver_command(), cwd=root)
    done.append(f"merge.{DRIVER}.driver = {driver_command()}")
    declared = root / ".gitattributes"
    text = declared.read_text("utf-8") if declared.is_file() else ""
    if "merge=itdesk" not in text:
        info = Path(git.run("rev-parse", "--git-path", "info/attributes", cwd=root).strip())
        info = info if info.is_absolute() else root / info
        local = info.read_text("utf-8") if info.is_file() else ""
        if ATTRIBUTE not in local:
            info.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(info, local + ("" if not local or local.endswith("\n") else "\n")
                         + ATTRIBUTE + "\n")  # fmt: skip
            done.append(f"{ATTRIBUTE} (in {info})")
    return done


def adopt_identity(root: Path, name: str, email: str) -> bool:
    """Make ``name`` and ``email`` this clone's git identity when git has none, so that
    hand commits carry the address itdesk's commits carry; whether it was set."""
    found, _ = git.identity(root)
    if found:
        return False
    git.run("config", "--local", "user.name", name, cwd=root)
    git.run("config", "--local", "user.email", email, cwd=root)
    return True


def registered(root: Path) -> bool:
    out = git.run("config", "--get", f"merge.{DRIVER}.driver", cwd=root, check=False)
    return bool(out.strip())


def _load(path: Path, rel: str) -> dict[str, Any] | None:
    from .yamlio import load_yaml

    text = path.read_text("utf-8") if path.is_file() else ""
    if not text.strip():
        return None
    data = load_yaml(text, rel)
    if not isinstance(data, dict):
        raise InvalidTicket("not a ticket (a mapping of keys)", rel)
    return data


def merge_files(base: Path, ours: Path, theirs: Path, rel: str) -> MergeResult:
    """git's three versions of ``rel``: the merged ticket is validated and written over
    ``ours``; MergeConflict or InvalidTicket (nothing written) when it cannot be."""
    from ..core.status import history_problems
    from .schema import check_ticket_data, key_path
    from .yamlio import dump_yaml

    mine, other = _load(ours, rel), _load(theirs, rel)
    if mine is None or other is None:  # deleted on one side: git's own rules apply
        raise MergeConflict(rel, "(file)", "removed on one side and changed on the other")
    result = merge_ticket(_load(base, rel), mine, other)
    ticket_id = str(result.data.get("id") or rel)
    try:
        ticket = check_ticket_data(result.data, rel)
    except InvalidTicket as exc:
        raise MergeConflict(ticket_id, "(schema)", str(exc)) from None
    problems = history_problems(ticket)  # the merged log must follow the status machine
    if problems:
        keys, message = problems[0]
        raise MergeConflict(ticket_id, key_path(keys), f"{message}; merge it by hand")
    write_atomic(ours, dump_yaml(result.data), fsync=False)
    return result


def conflict_markers(base: Path, ours: Path, theirs: Path, rel: str) -> None:
    """Leave git's line merge, with its markers, in ``ours`` for a person to resolve."""
    git.run("merge-file", "-L", f"ours:{rel}", "-L", "base", "-L", f"theirs:{rel}",
            str(ours), str(base), str(theirs), cwd=ours.parent, check=False)  # fmt: skip
