"""``itdesk validate``: itdesk.yaml, every ticket and the knowledge base, checked."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from . import (
    EXIT_FINDING,
    Progress,
    desk_options,
    dump_json,
    format_option,
    lang_option,
    neutral,
    warn,
)


@click.command(name="validate")
@format_option("table", "json")
@lang_option
@desk_options
def command(
    fmt: str, lang: str | None, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Check itdesk.yaml and every ticket against the schema and the status machine.

    Prints each problem as PATH:LINE: message; exits 1 when there is any. Warns when
    an open ticket's clock is due past the last year its calendar knows holidays for
    (official: CN's data, or the dates written by hand).

    Example:

    \b
        itdesk validate
    """
    from ..errors import InvalidPolicy
    from ..service.kb import TicketsSeen, kb_problems
    from ..service.validation import coverage_notes, validate_desk
    from ..store.desk import Desk, find_desk

    desk = Desk(find_desk(desk_path))
    progress = Progress("checking tickets")
    # the knowledge base's check reuses the one pass over the tickets
    seen: TicketsSeen | None = TicketsSeen()
    try:
        try:
            problems, count = validate_desk(desk, progress, seen)
        finally:
            progress.close()
    except InvalidPolicy as exc:
        problems, count, seen = [str(exc)], 0, None
    else:
        for line in coverage_notes(desk, _now(desk, now_text)):
            warn(line)
    problems += kb_problems(desk, seen)
    if fmt == "json":
        dump_json({"tickets": count, "problems": problems})
    else:
        from ..core.i18n import problem

        language = lang or _locale(desk)
        zh = language == "zh"
        for p in problems:
            click.echo(neutral(problem(p, language), one_line=True))
        click.echo(
            f"已检查 {count} 张工单，发现 {len(problems)} 个问题"
            if zh
            else f"{_count(count, 'ticket')} checked, {_count(len(problems), 'problem')}",
            err=True,
        )
    if problems:
        sys.exit(EXIT_FINDING)


def _now(desk: Any, now_text: str | None) -> datetime:
    from ..core.times import parse_time

    tz = desk.policy.tz
    return parse_time(now_text, tz, datetime.now(tz), human=False) if now_text else datetime.now(tz)


def _locale(desk: Any) -> str:
    try:
        return str(desk.policy.locale)
    except Exception:  # an invalid itdesk.yaml (reported above): English
        return "en"


def _count(n: int, noun: str) -> str:
    """``1 ticket``, ``3 tickets``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
