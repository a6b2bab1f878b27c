"""``itdesk setup``: register in this clone what git does not clone."""

from __future__ import annotations

import click

from . import desk_lang, desk_options, lang_option


@click.command(name="setup")
@lang_option
@desk_options
def command(
    lang: str | None, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
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
    zh = desk_lang(str(root)) == "zh"
    said = "已设置" if zh else "set"
    for line in register(root):
        if zh and line.endswith(")") and " (in " in line:  # the attribute, and its file
            what, _, where = line[:-1].rpartition(" (in ")
            line = f"{what}（写入 {where}）"
        click.echo(f"{said} {line}")
    if as_name and as_name.strip():
        from ..store import git

        actor = Desk(root).actor(as_name)
        git.run("config", "itdesk.technician", actor.name, cwd=root)
        click.echo(f"{said} itdesk.technician = {actor.name}")
        if adopt_identity(root, actor.name, actor.email):
            click.echo(f"{said} user.name = {actor.name}, user.email = {actor.email}")
