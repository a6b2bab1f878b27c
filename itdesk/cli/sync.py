"""``itdesk sync``: meet the other clones at the remote."""

from __future__ import annotations

import click

from . import desk_options, dump_json, format_option, open_session


@click.command(name="sync")
@format_option("table", "json")
@desk_options
def command(fmt: str, desk_path: str | None, as_name: str | None, now_text: str | None) -> None:
    """Fetch, merge with the ticket merge driver, push; again if the remote moved.

    A ticket minted here whose number the remote already has is renumbered first (its
    file, its ID, the knowledge base's links; the old number stays in its log): tell its
    requester the new number. When sync cannot finish, it says why in one line, exits
    non-zero, and leaves the clone as it was.

    Example:

    \b
        itdesk sync
        itdesk sync --format json
    """
    from ..service.sync import sync

    session = open_session(desk_path, as_name, now_text)
    report = sync(session)
    if fmt == "json":
        dump_json(
            {
                "remote": report.remote,
                "branch": report.branch,
                "incoming": report.incoming,
                "outgoing": report.outgoing,
                "renumbered": [{"old": o, "new": n} for o, n in report.renumbered],
                "tries": report.tries,
            }
        )
        return
    where = f"{report.remote}/{report.branch}"
    for old, new in report.renumbered:
        click.echo(f"renumbered {old} -> {new} (the number was taken on {where}); "
                   f"tell the requester {new}")  # fmt: skip
    click.echo(f"in from {where}: {len(report.incoming)} commit(s)")
    for subject in report.incoming:
        click.echo(f"  {subject}")
    click.echo(f"out to {where}: {len(report.outgoing)} commit(s)")
    for subject in report.outgoing:
        click.echo(f"  {subject}")
