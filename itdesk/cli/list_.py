"""``itdesk list``: tickets, filtered and sorted, for people and programs."""

from __future__ import annotations

from typing import Any

import click

from . import (
    desk_options,
    filter_options,
    format_option,
    lang_option,
    neutral,
    open_session,
    page,
    terminal_width,
    ticket_filter,
)


@click.command(name="list")
@filter_options
@click.option("--breached", is_flag=True, help="Only tickets with a breached SLA clock.")
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Every ticket, closed, cancelled and archived ones included.",
)
@click.option(
    "--sort",
    type=click.Choice(["id", "reported", "priority", "status", "assignee"]),
    default="id",
    show_default=True,
    help="Sort order.",
)
@click.option("--reverse", is_flag=True, help="Reverse the order.")
@click.option("--reveal", is_flag=True, help="Do not mask personal data.")
@format_option("table", "json", "csv")
@lang_option
@desk_options
def command(
    breached: bool,
    include_all: bool,
    sort: str,
    reverse: bool,
    reveal: bool,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **filters: Any,
) -> None:
    """List tickets; with no filter, those not yet closed or cancelled.

    Personal data is masked (in the title too, and in every field of --format json)
    unless --reveal. --breached keeps the open tickets with a breached SLA clock at
    --now (the clocks of itdesk check).

    Example:

    \b
        itdesk list --priority P1 --status in_progress,pending_vendor
        itdesk list --breached --assignee zhang
        itdesk list --mine --as zhang
        itdesk list -t E1001          # number, text, requester, 工号 or contact
        itdesk list --all --format json
    """
    from ..channels.views import render_list, sort_tickets

    session = open_session(desk_path, as_name, now_text)
    flt = ticket_filter(session, include_all=include_all, **filters)
    chosen = sort_tickets(session.tickets(flt, breached=breached), sort, reverse)
    if not reveal:
        from ..channels.views import COLUMNS
        from ..core.privacy import masked_data

        personal = session.desk.policy.personal
        # the table and the CSV show a few columns: only those are kept and masked
        keys = None if fmt == "json" else frozenset(COLUMNS)
        chosen = [masked_data(d, personal, keys) for d in chosen]
    if fmt != "table":
        click.echo(render_list(chosen, fmt, session.lang(lang)), nl=fmt != "csv")
        return
    page(neutral(render_list(chosen, fmt, session.lang(lang), terminal_width())))
