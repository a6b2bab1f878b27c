"""``itdesk completion SHELL``: the script that makes Tab complete itdesk's words."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")


@click.command(name="completion")
@click.argument("shell", type=click.Choice(SHELLS))
def command(shell: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Tab then completes commands, options, ticket numbers, statuses, priorities,
    categories, technicians, teams and KB slugs, read from the desk (--desk,
    $ITDESK_DESK or the one above the working directory).

    Example:

    \b
        itdesk completion bash > ~/.local/share/bash-completion/completions/itdesk
        itdesk completion zsh > ~/.zfunc/_itdesk     # fpath=(~/.zfunc $fpath) in ~/.zshrc
        itdesk completion fish > ~/.config/fish/completions/itdesk.fish
    """
    from click.shell_completion import get_completion_class

    from . import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every name in SHELLS is one click knows
    click.echo(cls(cli, {}, "itdesk", "_ITDESK_COMPLETE").source())
