"""``itdesk guard``: the shared remote's ``pre-receive`` hook.

git runs it in the bare repository with one line per ref on stdin (``old new ref``),
before any ref moves; the pushed objects wait in a quarantine that git names in
``GIT_OBJECT_DIRECTORY``. A push is refused (exit 1, the reason on stderr, which the
pusher sees as ``remote:`` lines) when it:

- deletes a branch or moves it to a commit that does not descend from where it was
  (a force push over the desk's history);
- brings a ticket file that is not a valid ticket (the schema, the status machine, a
  file name that is not its ID);
- rewrites or removes a committed log entry, or gives a number to a second ticket
  (the findings ``log-rewritten`` and ``number-reused`` of :mod:`itdesk.store.audit`,
  in the pushed commits).
"""

from __future__ import annotations

import os
import posixpath
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from ..core.ids import ID_PATTERN
from ..errors import GitError, InvalidTicket, UsageError
from . import git
from .commit import is_ancestor, read_objects
from .layout import TICKETS
from .numbers import highest_in_history

ZERO = frozenset({"0" * 40, "0" * 64})
REFUSING = ("log-rewritten", "number-reused")
HOOK_MARK = "# itdesk guard"


def check_push(root: Path, lines: list[str]) -> list[str]:
    """What is wrong with the ref updates ``lines`` (``old new ref``), one line each."""
    from .audit import audit

    problems: list[str] = []
    for line in lines:
        parts = line.split()
        if len(parts) != 3:
            continue
        old, new, ref = parts
        if not ref.startswith("refs/heads/"):
            continue
        branch = ref.removeprefix("refs/heads/")
        if new in ZERO:
            problems.append(f"{branch}: deleting the desk's branch is refused")
            continue
        if old not in ZERO and not is_ancestor(root, old, new):
            problems.append(
                f"{branch}: a force push over the desk's history is refused "
                f"({old[:12]} is not in {new[:12]}); pull (itdesk sync), then push"
            )
            continue
        problems += _invalid_tickets(root, old, new, branch)
        # only the pushed commits are read; the numbers given before them come from the
        # highest number of each day the branch's history held (store/numbers.py)
        taken = _taken(highest_in_history(root, root, None if old in ZERO else old))
        for f in audit(root, revs=[new, "--not", "--all"], taken_before=taken):
            if f.kind in REFUSING:
                problems.append(f"{branch}: {f.ticket}: {f.kind}: {f.detail}")
    return problems


def _taken(highest: dict[str, int]) -> Callable[[str], bool]:
    """Whether a number is at or below the highest its day had: given before."""

    def taken(ticket_id: str) -> bool:
        m = ID_PATTERN.fullmatch(ticket_id)
        if m is None:
            return False
        return int(m.group("seq")) <= highest.get(ticket_id[: -len(m.group("seq"))], 0)

    return taken


def _invalid_tickets(root: Path, old: str, new: str, branch: str) -> list[str]:
    from .schema import check_ticket_data
    from .yamlio import load_yaml

    if old in ZERO:
        out = git.run("ls-tree", "-r", "-z", "--name-only", new, "--", f"{TICKETS}/", cwd=root)
    else:
        out = git.run("diff-tree", "-r", "-z", "--name-only", "--no-renames",
                      "--diff-filter=AM", old, new, "--", f"{TICKETS}/", cwd=root)  # fmt: skip
    rels = [rel for rel in git.zsplit(out) if rel.endswith(".yaml")]
    problems = []
    for rel, obj in zip(rels, read_objects(root, [f"{new}:{rel}" for rel in rels]), strict=True):
        if obj is None or obj[1] != "blob":
            continue
        try:
            text = obj[2].decode("utf-8")
            ticket = check_ticket_data(load_yaml(text, rel), rel, text)
        except UnicodeDecodeError:
            problems.append(f"{branch}: {rel}: not UTF-8 text")
            continue
        except InvalidTicket as exc:
            problems.append(f"{branch}: invalid ticket: {exc}")
            continue
        stem = posixpath.basename(rel)[: -len(".yaml")]
        if ticket.id != stem:
            problems.append(f"{branch}: invalid ticket: {rel}: id {ticket.id!r} is not its name")
    return problems


def hook_text(lang: str | None = None) -> str:
    said = f" --lang {lang}" if lang else ""
    return (f"#!/bin/sh\n{HOOK_MARK}: refuses pushes that would harm the desk\n"
            f"exec {shlex.quote(sys.executable)} -m itdesk guard{said}\n")  # fmt: skip


def install(path: Path, lang: str | None = None) -> Path:
    """Install the guard as ``pre-receive`` of the bare repository ``path`` (its
    refusals in ``lang``, when given)."""
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise UsageError(f"no folder {root}; give the bare repository of the desk")
    try:
        bare = git.run("rev-parse", "--is-bare-repository", cwd=root).strip()
    except GitError:  # not a repository at all
        bare = ""
    if bare != "true":
        raise UsageError(f"{root} is not a bare git repository (the remote the clones push to)")
    hooks = Path(git.run("rev-parse", "--git-path", "hooks", cwd=root).strip())
    hooks = hooks if hooks.is_absolute() else root / hooks
    target = hooks / "pre-receive"
    if target.exists() and HOOK_MARK not in target.read_text("utf-8", "replace"):
        raise UsageError(f"{target} exists and is not itdesk's; merge them by hand")
    hooks.mkdir(parents=True, exist_ok=True)
    from .files import write_atomic

    write_atomic(target, hook_text(lang), mode=0o755)
    return target


def guard_stdin(lines: list[str]) -> list[str]:
    """The hook itself: the repository is the working directory git gave it."""
    git.keep_env("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")
    root = Path(os.environ.get("GIT_DIR") or ".").resolve()
    return check_push(root, lines)
