"""``itdesk export``: every ticket as the record form (问题处理记录表), CSV or .xlsx.

The rows come from :mod:`itdesk.service.transfer`, the file's bytes from
:mod:`itdesk.channels.sheets` (openpyxl is imported only for ``--format xlsx``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from . import Progress, desk_options, lang_option, open_session, output_path, write_output

if TYPE_CHECKING:
    from typing import BinaryIO

_FORMATS = {".csv": "csv", ".xlsx": "xlsx"}


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="csv or xlsx (default: from --output's suffix, else csv).",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write to FILE (default: CSV on stdout; xlsx needs a file).",
)
@lang_option
@click.option("--reveal", is_flag=True, help="Do not mask names (requester, handler) and contacts.")
@click.option(
    "--bom/--no-bom",
    default=True,
    help="CSV is UTF-8 with a BOM, which Excel needs to read it as UTF-8 in any language "
    "(default); --no-bom leaves the BOM out for tools that do not expect one.",
)
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Every ticket, archived ones included (the default without --status).",
)
@click.option(
    "--status", "-s", multiple=True, help="Only these statuses (repeat or comma-separate)."
)
@click.option("--month", metavar="YYYY-MM", help="Only tickets submitted in this month.")
@desk_options
def command(
    fmt: str | None,
    output: str | None,
    lang: str | None,
    reveal: bool,
    bom: bool,
    include_all: bool,
    status: tuple[str, ...],
    month: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Export tickets as the record form (问题处理记录表), CSV or .xlsx.

    The form's 13 columns first, in its order: ticket number, submitted at, submitter
    (department/name), contact, description, priority, category, handler, handling
    steps, result, user feedback, closed at, remarks. Then the extra columns that
    `itdesk import` reads each ticket back from: status, title, employee number, impact
    scope, team, resolution summary, resolved at, satisfaction with speed and with
    attitude (the form's feedback is the overall verdict), follow-up comment, the
    ticket's own remarks, the steps logged after the result, and, with --reveal, the
    whole ticket as JSON (record: each step's kind and time, the channel, the expected
    time, the escalations). Chinese headers and values with --lang zh. Every ticket is
    exported, archived ones included.

    CSV is UTF-8 with a byte order mark (BOM) in every language, so Excel opens it
    correctly; times are written as 2023-10-25 09:30. In .xlsx, times are date cells
    and every other cell is text (contacts and numbers stay as written).

    Names (requester and handler, as the document's form shows them) and contacts are
    masked (王*明, 139****5678) unless --reveal is given; `itdesk import` refuses a
    masked sheet, so move records between desks with `itdesk export --reveal`.

    Example:

    \b
        itdesk export --lang zh > records.csv
        itdesk export --lang zh --output records.xlsx
        itdesk export --reveal -o all.xlsx        # for itdesk import on another desk
        itdesk export --status closed --month 2023-10 --reveal -o october.csv
    """
    import sys

    from ..channels.sheets import write_csv, write_xlsx
    from ..errors import UsageError
    from ..service.transfer import export_sheet

    if include_all and status:
        raise UsageError("give --all or --status, not both")
    target = output_path(output) if output else None  # checked before the desk is read
    if target is not None:
        by_suffix = _FORMATS.get(target.suffix.lower())
        if by_suffix is None:
            raise UsageError(
                f"--output {output}: cannot tell the format from {target.suffix or 'no suffix'}; "
                "name a .csv or .xlsx file"
            )
        if fmt is not None and fmt != by_suffix:
            raise UsageError(f"--format {fmt} does not match --output {output}; they must agree")
        fmt = by_suffix
    fmt = fmt or "csv"
    if fmt == "xlsx" and target is None:
        raise UsageError("--format xlsx writes a workbook: give --output FILE.xlsx")
    if month is not None and not _is_month(month):
        raise UsageError(f"bad --month {month!r}; use YYYY-MM, e.g. 2023-10")
    session = open_session(desk_path, as_name, now_text)
    lang = session.lang(lang)
    # The rows go to a temporary file as the tickets are read and are written out from
    # there in number order: an export of 100,000 tickets is never held in memory.
    progress = Progress("reading tickets")  # a cold cache, on a terminal only
    try:
        sheet = export_sheet(
            session, statuses=status, month=month, lang=lang, reveal=reveal, progress=progress
        )
    finally:
        progress.close()
    with sheet:
        if fmt == "xlsx":

            def write(fh: BinaryIO) -> None:
                write_xlsx(sheet.rows(), sheet.widths, lang, fh)

        else:
            if target is None:
                write_csv(sheet.rows(), sys.stdout.buffer, bom)  # BOM included
                sys.stdout.buffer.flush()
                return

            def write(fh: BinaryIO) -> None:
                write_csv(sheet.rows(), fh, bom)

        assert target is not None
        write_output(target, write)
        count = len(sheet)
    click.echo(
        f"已导出 {count} 张工单到 {output}"
        if lang == "zh"
        else f"{count} {'ticket' if count == 1 else 'tickets'} written to {output}",
        err=True,
    )


def _is_month(text: str) -> bool:
    import re

    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    return bool(m) and 1 <= int(m.group(2)) <= 12 if m else False
