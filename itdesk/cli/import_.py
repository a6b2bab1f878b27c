"""``itdesk import``: tickets from a record-form sheet, all in one commit
(:mod:`itdesk.service.transfer`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import desk_options, neutral, open_session

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
    them; a CSV may be UTF-8 (with or without a BOM) or GBK. Every row is checked
    first: one bad row and nothing is imported, and the message names the row and the
    column. A sheet exported without --reveal (names and contacts masked) is refused:
    export it with `itdesk export --reveal`.

    A row with the record column of `itdesk export --reveal` comes back as the ticket
    it holds, every field and step as it was, provided the row's other cells still
    say what that ticket says (a cell changed after the export is named; clear the
    record cell to import what the columns say). With the other extra columns (status,
    resolution summary, each satisfaction answer, remarks...), each ticket comes back
    with its fields. With the form's 13 columns only, each row is taken through the steps
    its result implies (已解决 closed or resolved, 待跟进 in progress, 升级处理 pending on
    a vendor, 已关闭(未解决) closed by force, 已取消 cancelled).

    A row keeps its number when it is one of this desk's (IT-20231025-001) and free;
    else it gets the next number of its submitted day, and its own number goes into
    the remarks. Rows already on the desk (the same number and ticket, or a ticket
    imported from that number) are skipped and listed: importing a sheet twice makes
    its tickets once.

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
    plan = plan_import(session, rows, source=path.name, check=dry_run)
    if not plan.planned:
        _nothing(path.name, plan.skipped)
        return
    if dry_run:
        count = len(plan.planned)
        click.echo(f"import: {_tickets(count)} from {_shown(path.name)} (dry run: nothing written)")
        for rec, change in plan.planned:
            click.echo(
                f"  row {rec.row}  {rec.reported_at:%Y-%m-%d %H:%M}  "
                f"{change.ticket.status.value:<14} {_shown(rec.number or '')}".rstrip()
            )
        _report_skipped(plan.skipped)
        return
    result = import_records(session, plan)
    if not result.changes:  # another import of this sheet came first
        _nothing(path.name, result.skipped)
        return
    click.echo(f"import: {_tickets(len(result.changes))} from {_shown(path.name)}")
    for rec, change in result.changes:
        click.echo(f"  {change.ticket.id}  {change.ticket.status.value:<14} {_origin(rec)}")
    _report_skipped(result.skipped)


def _tickets(count: int) -> str:
    return f"{count} {'ticket' if count == 1 else 'tickets'}"


def _shown(text: str) -> str:
    return neutral(text, one_line=True)


def _origin(rec: Record) -> str:
    if rec.number:
        return f"from {_shown(rec.number)} (row {rec.row})"
    return f"from row {rec.row}"


def _report_skipped(skipped: list[tuple[Record, str]]) -> None:
    if skipped:
        click.echo(
            f"skipped {len(skipped)} {'row' if len(skipped) == 1 else 'rows'} already on the desk:"
        )
    for rec, held in skipped:
        click.echo(f"  {held}  {_origin(rec)}")


def _nothing(name: str, skipped: list[tuple[Record, str]]) -> None:
    """A sheet imported before: nothing changes, and the command says so."""
    click.echo(
        f"import: nothing to import from {_shown(name)}: its {len(skipped)} "
        f"{'row is' if len(skipped) == 1 else 'rows are'} already on the desk "
        "(imported before); nothing was changed"
    )
    for rec, held in skipped:
        click.echo(f"  {held}  {_origin(rec)}")
