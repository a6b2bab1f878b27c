"""Shell completion of the desk's own words: ticket numbers, statuses, priorities,
categories, technicians, teams and KB slugs (click's ``shell_complete`` protocol).

A completion runs on every Tab, so it reads names, never tickets: ticket numbers
are the file names under ``tickets/`` (and the archive), slugs those under ``kb/``,
people and teams come from ``itdesk.yaml``. Anything that goes wrong (no desk, a
broken policy) completes nothing rather than printing an error into the prompt.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

Completer = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def _desk_root(ctx: click.Context) -> Path | None:
    """The desk the command line names (--desk, before or after the command), else
    $ITDESK_DESK, else the one above the working directory."""
    from ..store.desk import find_desk

    given = None
    c: click.Context | None = ctx
    while c is not None and given is None:
        given = c.params.get("desk_path")
        c = c.parent
    try:
        return find_desk(given or os.environ.get("ITDESK_DESK") or None)
    except Exception:
        return None


def _items(
    words: Iterable[str], incomplete: str, help: dict[str, str] | None = None
) -> list[CompletionItem]:
    folded = incomplete.casefold()
    return [
        CompletionItem(w, help=(help or {}).get(w))
        for w in dict.fromkeys(words)
        if w.casefold().startswith(folded)
    ]


def _safe(fn: Callable[[click.Context, str], Iterable[str]]) -> Completer:
    def complete(
        ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        try:
            return _items(fn(ctx, incomplete), incomplete)
        except Exception:  # never an error in the middle of someone's prompt
            return []

    return complete


def _ids(ctx: click.Context, incomplete: str) -> list[str]:
    from ..store.layout import TICKETS

    root = _desk_root(ctx)
    if root is None:
        return []
    active = sorted(p.stem for p in (root / TICKETS).glob("*.yaml"))
    archived = sorted(p.stem for p in (root / TICKETS).glob("archive/*/*.yaml"))
    # numbers are accepted in any case: it-2024... completes too
    return [i if not incomplete.islower() else i.lower() for i in [*active, *archived]]


def _policy(ctx: click.Context) -> Any:
    from ..store.desk import Desk

    root = _desk_root(ctx)
    return Desk(root).policy if root is not None else None


def _people(ctx: click.Context, incomplete: str) -> list[str]:
    policy = _policy(ctx)
    return list(policy.known) if policy is not None else []


def _members(ctx: click.Context, incomplete: str) -> list[str]:
    policy = _policy(ctx)
    return list(policy.members) if policy is not None else []


def _teams(ctx: click.Context, incomplete: str) -> list[str]:
    policy = _policy(ctx)
    return [t.name for t in policy.teams] if policy is not None else []


def _slugs(ctx: click.Context, incomplete: str) -> list[str]:
    from ..service.kb import KB_DIR, README

    root = _desk_root(ctx)
    if root is None:
        return []
    return sorted(p.stem for p in (root / KB_DIR).glob("*.md") if p.name != README)


def _statuses(ctx: click.Context, incomplete: str) -> list[str]:
    from ..core.model import Status

    return [s.value for s in Status]


def _priorities(ctx: click.Context, incomplete: str) -> list[str]:
    return ["P1", "P2", "P3", "紧急", "重要", "一般"]


def _categories(ctx: click.Context, incomplete: str) -> list[str]:
    from ..core.model import Category

    return [c.value for c in Category] + ["硬件", "软件", "网络", "账号", "其他"]


def _satisfaction(ctx: click.Context, incomplete: str) -> list[str]:
    return ["satisfied", "neutral", "unsatisfied", "满意", "一般", "不满意"]


def _via(ctx: click.Context, incomplete: str) -> list[str]:
    return ["phone", "remote", "onsite", "note", "电话", "远程", "现场", "备注"]


def _channels(ctx: click.Context, incomplete: str) -> list[str]:
    return ["portal", "chat", "phone", "mail", "walk-in"]


ticket_ids = _safe(_ids)
people = _safe(_people)
members = _safe(_members)
teams = _safe(_teams)
slugs = _safe(_slugs)
statuses = _safe(_statuses)
priorities = _safe(_priorities)
categories = _safe(_categories)
satisfaction = _safe(_satisfaction)
via = _safe(_via)
channels = _safe(_channels)
