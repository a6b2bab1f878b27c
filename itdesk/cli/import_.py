"""``itdesk import``: tickets from a record-form sheet, all in one commit
(:mod:`itdesk.service.transfer`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import Progress, desk_options, lang_said, neutral, open_session, ui_lang

if TYPE_CHECKING:
    from ..channels.recordform import RecordKey
    from ..service.context import Context
    from ..service.transfer import ImportPlan


@click.command()
@click.argument("file", metavar="FILE.csv|FILE.xlsx", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the sheet and show what would be made.")
@lang_said
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
    import time

    from ..channels.sheets import read_sheet
    from ..service.transfer import plan_import

    path = Path(file)
    began = time.monotonic()
    # The sheet is read into a temporary file and its rows checked one at a time, then
    # built into tickets one at a time: 100,000 rows in bounded memory (#12). It stays
    # open until the end: a row whose ticket is made again is read again from it.
    with read_sheet(path) as sheet:
        session = open_session(desk_path, as_name, now_text)
        progress = Progress("checking rows")  # on a terminal only (#12)
        try:
            plan = plan_import(
                session, sheet, source=path.name, progress=progress, store=not dry_run
            )
        finally:
            progress.close()
        try:
            _import(session, plan, path.name, dry_run, began)
        finally:
            plan.close()


def _import(session: Context, plan: ImportPlan, name: str, dry_run: bool, began: float) -> None:
    """The checked sheet's tickets made (or, in a dry run, built and checked), and said."""
    from ..service.transfer import import_records, prepare_import

    if not plan.planned:
        _nothing(name, plan.skipped)
        return
    # the tickets are built and checked before the desk is locked (#12)
    progress = Progress("checking tickets" if dry_run else "importing tickets")
    # Shown once the import has run half a second, not this step: the tickets of rows
    # that keep their numbers were made with the rows, and this step takes little time,
    # the commit after it more (#12).
    progress.started = began
    try:
        made = prepare_import(session, plan, progress, dry_run=dry_run)
    finally:
        progress.close()
    if dry_run:
        count = len(made)
        click.echo(
            f"导入（试运行，未写入）：将从 {_shown(name)} 导入 {count} 张工单"
            if _zh()
            else f"import: {_tickets(count)} from {_shown(name)} (dry run: nothing written)"
        )
        zh = _zh()
        _echo_lines(
            f"  {f'第 {rec.row} 行' if zh else f'row {rec.row}'}  "
            f"{rec.reported_at:%Y-%m-%d %H:%M}  "
            f"{_status(status, zh)} {_shown(rec.number or '')}".rstrip()
            for rec, _, status in made
        )
        _report_skipped(plan.skipped)
        return
    result = import_records(session, plan)
    if not result.changes:  # another import of this sheet came first
        _nothing(name, result.skipped)
        return
    count = len(result.changes)
    click.echo(
        f"导入：从 {_shown(name)} 导入 {count} 张工单"
        if _zh()
        else f"import: {_tickets(count)} from {_shown(name)}"
    )
    zh = _zh()
    _echo_lines(
        f"  {ticket_id}  {_status(status, zh)} {_origin(rec, zh)}"
        for rec, ticket_id, status in result.changes
    )
    _report_skipped(result.skipped)


def _tickets(count: int) -> str:
    return f"{count} {'ticket' if count == 1 else 'tickets'}"


def _shown(text: str) -> str:
    return neutral(text, one_line=True)


def _zh() -> bool:
    return ui_lang() == "zh"


def _echo_lines(lines: Iterable[str]) -> None:
    """Print lines a thousand at a time: 100,000 of them one by one took two seconds."""
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= 1000:
            click.echo("\n".join(batch))
            batch.clear()
    if batch:
        click.echo("\n".join(batch))


@functools.cache
def _status(value: str, zh: bool) -> str:
    """A status, padded to a column (in Chinese on a zh desk)."""
    from ..channels.table import width
    from ..core.i18n import STATUSES_ZH

    shown = STATUSES_ZH.get(value, value) if zh else value
    return shown + " " * max(14 - width(shown), 0)


def _origin(rec: RecordKey, zh: bool) -> str:
    if zh:
        if rec.number:
            return f"来自 {_shown(rec.number)}（第 {rec.row} 行）"
        return f"来自第 {rec.row} 行"
    if rec.number:
        return f"from {_shown(rec.number)} (row {rec.row})"
    return f"from row {rec.row}"


def _report_skipped(skipped: list[tuple[RecordKey, str]]) -> None:
    if skipped:
        click.echo(
            f"跳过 {len(skipped)} 行（已在服务台上）："
            if _zh()
            else f"skipped {len(skipped)} {'row' if len(skipped) == 1 else 'rows'} "
            "already on the desk:"
        )
    zh = _zh()
    _echo_lines(f"  {held}  {_origin(rec, zh)}" for rec, held in skipped)


def _nothing(name: str, skipped: list[tuple[RecordKey, str]]) -> None:
    """A sheet imported before: nothing changes, and the command says so."""
    click.echo(
        f"导入：{_shown(name)} 没有可导入的内容：其 {len(skipped)} 行已在服务台上"
        "（之前导入过）；未做任何更改"
        if _zh()
        else f"import: nothing to import from {_shown(name)}: its {len(skipped)} "
        f"{'row is' if len(skipped) == 1 else 'rows are'} already on the desk "
        "(imported before); nothing was changed"
    )
    zh = _zh()
    _echo_lines(f"  {held}  {_origin(rec, zh)}" for rec, held in skipped)
