"""``itdesk serve``: the employees' portal on a real web server (waitress)."""

from __future__ import annotations

import click

from . import desk_lang, desk_options, lang_option


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="The port (0: a free one, named when it listens).",
)
@click.option(
    "--threads", type=click.IntRange(1, 64), default=4, show_default=True,
    help="Requests served at once.",
)  # fmt: skip
@lang_option
@desk_options
def command(
    host: str,
    port: int,
    threads: int,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Serve the employees' portal: report a problem, follow it, add a comment.

    Employees fill in the intake form at /, see matching knowledge-base articles
    before they submit, get the ticket number and a private link (/t/TOKEN) where
    they follow the status and add comments. Every change is one commit by the
    robot itdesk-portal (listed under robots: in itdesk.yaml) with an Employee:
    trailer. Listens on 127.0.0.1 unless --host says otherwise; /healthz answers
    200. The portal's secret (signing cookies and links) is $ITDESK_PORTAL_SECRET,
    else a random key kept in .git/itdesk/portal.key. The chat groups' robots
    post to /hooks/dingtalk, /hooks/feishu and /hooks/wecom, set up under intake:
    in itdesk.yaml and acting as itdesk-chat (see the README).

    Example:

    \b
        itdesk serve --port 8080
    """
    from datetime import datetime

    from ..core.times import parse_time
    from ..store.desk import Desk
    from ..web.app import create_app

    if as_name is not None:
        from ..errors import UsageError

        raise UsageError("the portal acts as itdesk-portal; --as is not taken here")
    clock = None
    if now_text is not None:
        tz = Desk.open(desk_path).policy.tz
        fixed = parse_time(now_text, tz, datetime.now(tz), human=False)

        def clock() -> datetime:
            return fixed

    app = create_app(desk_path, clock=clock)
    from waitress.server import create_server

    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="itdesk")
    except OSError as exc:
        from ..errors import UsageError

        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    # Printed once the socket listens (--port 0 picks a free port and says which).
    where = f"http://{host}:{getattr(server, 'effective_port', port)}/"
    if desk_lang(desk_path) == "zh":
        click.echo(f"itdesk：门户已在 {where} 上运行（Ctrl-C 停止）", err=True)
    else:
        click.echo(f"itdesk: serving the portal on {where} (Ctrl-C stops)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
