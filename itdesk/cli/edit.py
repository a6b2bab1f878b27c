"""``itdesk edit``: correct a ticket's intake fields, one commit naming what changed."""

from __future__ import annotations

from typing import Any

import click

from . import ID_ARG, desk_options, lang_said, open_session, say


@click.command(name="edit")
@ID_ARG
@click.option("--title", help="Short title of the problem.")
@click.option("--description", help="Symptom and error text.")
@click.option("--requester", help="Requester's name.")
@click.option("--employee-id", help="Requester's employee number (工号).")
@click.option("--department", help="Requester's department.")
@click.option("--contact", help="Phone, mail or chat handle.")
@click.option("--blocks-work/--no-blocks-work", default=None, help="Does it block work?")
@click.option("--scope", help="Who or what is affected.")
@click.option("--devices", help="Device models, comma-separated.")
@click.option("--expected-by", metavar="TIME", help="The requester's expected time.")
@lang_said
@desk_options
def command(
    ticket_id: str,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **fields: Any,
) -> None:
    """Correct a ticket's intake fields (title, requester, description...).

    Only the fields given change; an empty value clears an optional one. The commit
    and the ticket's log name each field that changed (never its value: personal data
    stays out of commit messages). Status, priority and the rest change through their
    own commands.

    Example:

    \b
        itdesk edit IT-20231025-001 --title "WiFi drops on floor 3" --contact 13912345678
    """
    values = {k: v for k, v in fields.items() if v is not None}
    change = open_session(desk_path, as_name, now_text).edit(ticket_id, values)
    say(change.subject)
