"""``itdesk setup``: register in this clone what git does not clone."""

from __future__ import annotations

import click

from . import desk_options


@click.command(name="setup")
@desk_options
def command(desk_path: str | None, as_name: str | None, now_text: str | None) -> None:
    """Register the ticket merge driver in this clone's git config.

    git clones files and history, not config: run this once in every new clone of a
    desk (init does it for the desk it makes). It points git at the itdesk that runs it.
    With --as NAME, NAME becomes this clone's technician (git config itdesk.technician,
    as init --as does), and a clone without a git identity gets NAME and the address
    people: in itdesk.yaml gives NAME, the one every commit of NAME carries.

    Example:

    \b
        git clone ssh://server/srv/desk.git desk && cd desk && itdesk setup
    """
    from ..store.clone import adopt_identity, register
    from ..store.desk import Desk, find_desk

    root = find_desk(desk_path)
    for line in register(root):
        click.echo(f"set {line}")
    if as_name and as_name.strip():
        from ..store import git

        actor = Desk(root).actor(as_name)
        git.run("config", "itdesk.technician", actor.name, cwd=root)
        click.echo(f"set itdesk.technician = {actor.name}")
        if adopt_identity(root, actor.name, actor.email):
            click.echo(f"set user.name = {actor.name}, user.email = {actor.email}")
