"""``itdesk import``: tickets from a record-form sheet, all in one commit
(:mod:`itdesk.service.transfer`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import desk_options, open_session, warn

if TYPE_CHECKING:
    from ..channels.recordform import Record


@click.command()
@click.argument("file", metavar="FILE.csv|FILE.xlsx", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the sheet and show what would be made.")
@desk_options
def command(
    file: str,
    dry_run: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Create tickets from a record-form sheet (问题处理记录表), all or nothing.

    The header row names the columns in English or Chinese, as `itdesk export` writes
    them; a CSV may start with a BOM and may be UTF-8 or GBK. Every row is checked
    first: one bad row and nothing is imported, and the message names the row and the
    column. Each row becomes a ticket numbered by its submitted day, taken through the
    steps its result implies (已解决 closed or resolved, 待跟进 in progress, 升级处理
    pending on a vendor); the sheet's own number goes into the remarks.

    Example:

    \b
        itdesk import records.xlsx
        itdesk import records.csv --dry-run
    """
    from ..channels.sheets import read_sheet
    from ..service.transfer import import_records, plan_import

    path = Path(file)
    rows = read_sheet(path)
    session = open_session(desk_path, as_name, now_text)
    plan = plan_import(session, rows)
    masked = [str(row) for row in plan.masked_rows]
    if masked:
        warn(
            f"rows {', '.join(masked[:10])} hold masked names or contacts "
            "(*); export with --reveal to move records between desks"
        )
    count = len(plan.records)
    subject = f"import: {count} {'ticket' if count == 1 else 'tickets'} from {path.name}"
    if dry_run:
        click.echo(f"{subject} (dry run: nothing written)")
        for rec, change in zip(plan.records, plan.planned, strict=True):
            click.echo(
                f"  row {rec.row}  {rec.reported_at:%Y-%m-%d %H:%M}  "
                f"{change.ticket.status.value:<14} {rec.number or ''}".rstrip()
            )
        return
    changes = import_records(session, plan, subject)
    click.echo(subject)
    for rec, change in zip(plan.records, changes, strict=True):
        click.echo(f"  {change.ticket.id}  {change.ticket.status.value:<14} {_origin(rec)}")


def _origin(rec: Record) -> str:
    return f"from {rec.number} (row {rec.row})" if rec.number else f"from row {rec.row}"
