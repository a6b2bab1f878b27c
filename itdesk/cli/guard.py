"""``itdesk guard``: the shared remote's pre-receive hook."""

from __future__ import annotations

import click

from . import desk_options


@click.command(name="guard")
@click.option("--install", "install_path", metavar="PATH",
              help="Install the hook into the bare repository PATH.")  # fmt: skip
@desk_options
def command(
    install_path: str | None, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Refuse pushes that would harm the desk; git runs it as pre-receive.

    A push is refused, with the reason the pusher sees, when it adds an invalid ticket,
    rewrites or removes a committed log entry, gives a used number to another ticket,
    deletes the branch or force-pushes over its history. --install PATH writes the hook
    into a bare repository (the kind a Gitea or GitLab server keeps). The desk options
    are accepted and not used: the hook runs in the repository git gives it.

    Example:

    \b
        itdesk guard --install /srv/git/desk.git
    """
    import sys
    from pathlib import Path

    from ..store.guard import guard_stdin, install

    if install_path is not None:
        target = install(Path(install_path))
        click.echo(f"installed {target}")
        return
    problems = guard_stdin(sys.stdin.read().splitlines())
    for problem in problems:
        click.echo(f"itdesk guard: refused: {problem}", err=True)
    if problems:
        raise SystemExit(1)
