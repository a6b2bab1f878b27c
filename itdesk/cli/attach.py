"""``itdesk attach``: store a file (a screenshot, a log) under a ticket."""

from __future__ import annotations

import click

from . import ID_ARG, desk_options, lang_said, open_session, say


@click.command(name="attach")
@ID_ARG
@click.argument("file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--name", metavar="NAME", help="The name to store it under (default: FILE's).")
@lang_said
@desk_options
def command(
    ticket_id: str,
    file: str,
    name: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Attach a file to a ticket: stored in the desk as attachments/ID/NAME.

    The file is copied into the desk and committed with the ticket, whose attachments
    list names it (itdesk show prints it). Symbolic links are refused, never followed;
    files larger than the desk's limit (attachments: max_bytes in itdesk.yaml, 10 MiB
    by default) are refused.

    Example:

    \b
        itdesk attach IT-20231025-001 ~/Desktop/wifi-error.png
        itdesk attach IT-20231025-001 /tmp/x.png --name 报错截图.png
    """
    change = open_session(desk_path, as_name, now_text).attach(ticket_id, file, name)
    say(change.subject)
