"""``itdesk init``: make a folder a desk."""

from __future__ import annotations

import click

from . import _inherit


@click.command(name="init")
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--timezone", metavar="ZONE", help="IANA zone (default: this machine's).")
@click.option(
    "--as",
    "as_name",
    metavar="NAME",
    callback=_inherit,
    help="The technician who runs the desk.",
)
@click.option(
    "--now", "now_text", metavar="TIME", callback=_inherit, help="Time of the first commit."
)
@click.option(
    "--locale",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of labels, reports and messages (default: en; zh: Chinese).",
)
def command(
    path: str,
    timezone: str | None,
    as_name: str | None,
    now_text: str | None,
    locale: str | None,
) -> None:
    """Make PATH a desk: git repository, itdesk.yaml, tickets/ and kb/.

    The technician who runs it (--as, else git's user.name) becomes a member of every
    team and the supervisor, so a one-person desk works at once; --as NAME is also
    recorded as this clone's technician (git config itdesk.technician), who acts on
    it when a command has no --as.

    Example:

    \b
        itdesk init ~/desk --timezone Asia/Shanghai --as zhang --locale zh
    """
    from datetime import datetime
    from pathlib import Path

    from ..core.times import parse_time, zone
    from ..store.init import init_desk, machine_timezone

    tz_name = timezone or machine_timezone()
    tz = zone(tz_name)
    now = parse_time(now_text, tz) if now_text else datetime.now(tz)
    lang = locale or click.get_current_context().find_root().params.get("lang") or "en"
    root = init_desk(Path(path), as_name, tz_name, now, lang)
    if as_name and as_name.strip():  # this clone's technician: who acts without --as
        from ..store import git

        git.run("config", "itdesk.technician", as_name.strip(), cwd=root)
    click.echo(
        f"已在 {root} 建立服务台（时区 {tz_name}）"
        if lang == "zh"
        else f"Initialised desk in {root} (time zone {tz_name})"
    )
