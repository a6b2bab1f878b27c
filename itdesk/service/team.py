"""The team's history: audit findings for a desk (see :mod:`itdesk.store.audit`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store.audit import Finding
    from .context import Context


def signatures_required(ctx: Context) -> bool:
    team = ctx.desk.policy.raw.get("team") or {}
    return bool(isinstance(team, dict) and team.get("signed"))


def sync_before_new(ctx: Context) -> bool:
    """``team: {sync_new: true}``: ``new`` syncs first and after, so that the number it
    prints has reached the remote (final)."""
    team = ctx.desk.policy.raw.get("team") or {}
    return bool(isinstance(team, dict) and team.get("sync_new"))


def run_audit(ctx: Context, since: str | None = None) -> list[Finding]:
    from ..store.audit import audit

    ctx.desk.check_readable()
    return audit(ctx.desk.root, since, signed=signatures_required(ctx))
