"""``itdesk show``: one ticket, its fields, log and git history."""

from __future__ import annotations

import click

from . import (
    ID_ARG,
    desk_options,
    dump_json,
    format_option,
    lang_option,
    neutral,
    open_session,
    page,
)


@click.command(name="show")
@ID_ARG
@format_option("table", "json")
@lang_option
@click.option("--reveal", is_flag=True, help="Do not mask personal data.")
@desk_options
def command(
    ticket_id: str,
    fmt: str,
    lang: str | None,
    reveal: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Show a ticket: its fields, log, escalations and git history.

    --format json prints the ticket under the key names of its YAML file; personal
    data is masked there too, unless --reveal.

    Example:

    \b
        itdesk show IT-20231025-001
    """
    from ..core.model import ticket_to_dict

    session = open_session(desk_path, as_name, now_text)
    ticket = session.desk.read(ticket_id.strip())
    if fmt == "json":
        from ..core.privacy import masked_data

        data = ticket_to_dict(ticket)
        dump_json(data if reveal else masked_data(data, session.desk.policy.personal))
        return
    from ..channels.views import render_ticket
    from ..store.history import ticket_history

    found = session.desk.locate(ticket.id)
    paths = [f"tickets/{ticket.id}.yaml"]
    if found.archived:
        paths.append(session.desk.rel(found.path))
    text = render_ticket(
        ticket,
        ticket_history(session.desk.root, paths),
        session.lang(lang),
        reveal,
        session.desk.policy.personal,
    )
    page(neutral(text))  # through the pager on a terminal when longer than the screen
