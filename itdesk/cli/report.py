"""``itdesk report``: a ticket's problem-handling report (问题处理报告)."""

from __future__ import annotations

import click

from . import (
    ID_ARG,
    REPORT_SUFFIXES,
    desk_options,
    echo_text,
    lang_option,
    open_session,
    output_path,
    write_output,
)


@click.command(name="report")
@ID_ARG
@lang_option
@click.option("--reveal", is_flag=True, help="Do not mask personal data.")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write the report to FILE instead of stdout.",
)
@desk_options
def command(
    ticket_id: str,
    lang: str | None,
    reveal: bool,
    output: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Print the problem-handling report (问题处理报告) of a ticket as Markdown.

    Example:

    \b
        itdesk report IT-20231025-001 --lang zh
    """
    from ..channels.report import problem_report

    session = open_session(desk_path, as_name, now_text)
    ticket = session.desk.read(ticket_id.strip())
    text = problem_report(ticket, session.lang(lang), reveal, session.desk.policy.personal)
    if output:
        write_output(output_path(output, suffixes=REPORT_SUFFIXES), text)
    else:
        echo_text(text, nl=False)
