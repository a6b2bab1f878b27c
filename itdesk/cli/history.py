"""``itdesk history``: a ticket's commits, one line each."""

from __future__ import annotations

import click

from . import ID_ARG, desk_options, dump_json, format_option, open_session


@click.command(name="history")
@ID_ARG
@format_option("table", "json")
@desk_options
def command(
    ticket_id: str, fmt: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """One line per commit of a ticket: when, who, action, the fields it changed.

    Example:

    \b
        itdesk history IT-20231025-001
    """
    from ..store.history import ticket_history

    session = open_session(desk_path, as_name, now_text)
    found = session.desk.locate(ticket_id.strip())
    paths = list(dict.fromkeys([f"tickets/{ticket_id.strip()}.yaml", session.desk.rel(found.path)]))
    entries = ticket_history(session.desk.root, paths)
    if fmt == "json":
        dump_json(
            [
                {
                    "commit": e.commit,
                    "when": e.when.isoformat(),
                    "who": e.who,
                    "action": e.action,
                    "subject": e.subject,
                    "changed": list(e.changed),
                }
                for e in entries
            ]
        )
        return
    for e in entries:
        click.echo(f"{e.when:%Y-%m-%d %H:%M}  {e.who:<12} {e.action:<9} {', '.join(e.changed)}")
