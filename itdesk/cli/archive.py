"""``itdesk archive``: the monthly archive and its purge (:mod:`itdesk.service.archive`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..service.archive import LIST_IDS_UP_TO, Batch, archive_months, purge_months, subject
from . import desk_options, dump_json, format_option, lang_said, open_session, say, ui_lang

if TYPE_CHECKING:
    from ..core.archiving import Month
    from ..core.policy import Retention


@click.command()
@click.option("--month", metavar="YYYY-MM", help="Only this month (default: every month due).")
@click.option(
    "--purge",
    is_flag=True,
    help="Remove archived months older than the retention (itdesk.yaml retention:, "
    "default 2y) instead of archiving.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be done; change nothing.")
@format_option("table", "json")
@lang_said
@desk_options
def command(
    month: str | None,
    purge: bool,
    dry_run: bool,
    fmt: str,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Archive closed and cancelled tickets by month (归档), or purge old archives.

    Moves every ticket closed or cancelled in a month before the current one (or only
    in --month) to tickets/archive/YYYY-MM/, the month of its closed_at: one commit per
    month. Archived tickets stay readable (show, report, list --all, export, history)
    and their numbers are never reused. --purge removes archived months in which every
    ticket is older than the desk's retention (retention: 2y, 24m or 730d in
    itdesk.yaml; default 2y, counted from closed_at); git's history keeps them.

    Example:

    \b
        itdesk archive
        itdesk archive --month 2023-10 --dry-run
        itdesk archive --purge --month 2021-09
    """
    from ..core.archiving import parse_month

    session = open_session(desk_path, as_name, now_text)
    only = parse_month(month) if month is not None else None
    actor = None if dry_run else session.actor  # a cron job without identity fails here
    retention = None
    if purge:
        from ..core.policy import retention_of

        retention = retention_of(session.desk.policy.raw)
        batches = purge_months(session, only, retention, actor)
    else:
        batches = archive_months(session, only, actor)
    _report(batches, purge, dry_run, fmt, only, retention)


# ---------------------------------------------------------------------- output


def _report(
    batches: list[Batch],
    purge: bool,
    dry_run: bool,
    fmt: str,
    only: Month | None,
    retention: Retention | None,
) -> None:
    from ..store.layout import ARCHIVE

    if fmt == "json":
        out: dict[str, Any] = {"action": "purge" if purge else "archive", "dry_run": dry_run}
        if retention is not None:
            out["retention"] = str(retention)
        out["months"] = [
            {
                "month": str(b.month),
                "folder": f"{ARCHIVE}/{b.month}",
                "count": len(b.tickets),
                "tickets": b.tickets,
            }
            for b in batches
        ]
        dump_json(out)
        return
    if not batches:
        what = "purge" if purge else "archive"
        if purge:
            why = f"no archived month older than the retention ({retention})"
            if only is not None:
                why = f"no archive for {only}"
        else:
            why = "no closed or cancelled ticket from " + (
                f"{only}" if only is not None else "before this month"
            )
        if ui_lang() == "zh":
            if purge:
                from ..core.i18n import retention_zh

                why = f"没有超过保留期（{retention_zh(str(retention))}）的归档月份"
                why = f"没有 {only} 的归档" if only is not None else why
            else:
                when = f" {only} " if only is not None else "本月之前"
                why = f"没有{when}的已关闭或已取消工单"
            click.echo(f"没有需要{'清除' if purge else '归档'}的内容：{why}")
        else:
            click.echo(f"nothing to {what}: {why}")
        return
    verb = "archive: purge" if purge else "archive:"
    for b in batches:
        line = subject(verb, b.month, len(b.tickets))
        if not dry_run:
            say(line)
            continue
        if ui_lang() == "zh":
            from ..core.i18n import subject as said

            click.echo(f"{said(line, 'zh')}（演练：未做任何更改）")
        else:
            click.echo(f"{line} (dry run: nothing changed)")
        if len(b.tickets) <= LIST_IDS_UP_TO:
            for tid in b.tickets:
                click.echo(f"  {tid}")
