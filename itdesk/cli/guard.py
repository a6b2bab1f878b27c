"""``itdesk guard``: the shared remote's pre-receive hook."""

from __future__ import annotations

import click

from . import desk_lang, desk_options, lang_option, neutral


@click.command(name="guard")
@click.option("--install", "install_path", metavar="PATH",
              help="Install the hook into the bare repository PATH.")  # fmt: skip
@lang_option
@desk_options
def command(
    install_path: str | None,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Refuse pushes that would harm the desk; git runs it as pre-receive.

    A push is refused, with the reason the pusher sees, when it adds an invalid ticket,
    rewrites or removes a committed log entry, gives a used number to another ticket,
    deletes the branch or force-pushes over its history. --install PATH writes the hook
    into a bare repository (the kind a Gitea or GitLab server keeps). The desk options
    are accepted and not used: the hook runs in the repository git gives it. With
    --lang zh the pusher reads the refusals in Chinese (--install with --lang zh, or
    from a zh desk, writes a hook that says them so).

    Example:

    \b
        itdesk guard --install /srv/git/desk.git
    """
    import sys
    from pathlib import Path

    from ..core.i18n import team_text
    from ..store.guard import guard_stdin, install

    language = desk_lang(desk_path) if install_path is not None else (lang or "en")
    if install_path is not None:
        # a zh desk's hook says its refusals in Chinese
        target = install(Path(install_path), lang or (language if language != "en" else None))
        click.echo(f"{'已安装' if language == 'zh' else 'installed'} {target}")
        return
    problems = guard_stdin(sys.stdin.read().splitlines())
    refused = "itdesk guard：拒绝：" if language == "zh" else "itdesk guard: refused: "
    for problem in problems:
        click.echo(neutral(refused + team_text(problem, language), one_line=True), err=True)
    if problems:
        raise SystemExit(1)
