"""``itdesk intake mail``: employees report by mail (issue #13).

The work is :mod:`itdesk.service.mailin`'s; this module parses options, opens the
mailbox, prints a line a message and, with ``--watch``, runs again every interval.
"""

from __future__ import annotations

import os

import click

from . import desk_lang, desk_options, echo_text, lang_said, warn


@click.group(name="intake", invoke_without_command=True)
@click.pass_context
def command(ctx: click.Context) -> None:
    """Take reports from the employees' channels into the desk.

    Mail: itdesk intake mail. (Chat groups call the portal's /hooks/... routes: see
    itdesk serve.)

    Example:

    \b
        itdesk intake mail --maildir ~/Maildir
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def _imap_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:
        return text.strip("[]"), 993
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{text!r}: give HOST or HOST:PORT (port 1-65535)")
    return host.strip("[]"), int(port)


@command.command(name="mail")
@click.option(
    "--maildir", metavar="PATH", type=click.Path(file_okay=False),
    help="A Maildir (the folder holding new/, cur/ and tmp/).",
)  # fmt: skip
@click.option("--imap", metavar="HOST[:PORT]", help="An IMAP server, over TLS (port 993).")
@click.option("--user", metavar="U", help="The IMAP user.")
@click.option(
    "--password-env", metavar="VAR", help="The environment variable holding the password."
)
@click.option("--folder", metavar="F", default="INBOX", show_default=True, help="IMAP folder.")
@click.option("--watch", is_flag=True, help="Keep running; look for new mail every interval.")
@click.option(
    "--interval", type=click.IntRange(5, 86_400), default=60, show_default=True,
    metavar="SECONDS", help="With --watch: seconds between looks.",
)  # fmt: skip
@lang_said
@desk_options
def mail(
    maildir: str | None,
    imap: str | None,
    user: str | None,
    password_env: str | None,
    folder: str,
    watch: bool,
    interval: int,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Turn each new mail into a ticket, or a reply into a log entry.

    A new message becomes a ticket (sender: requester and contact; subject: title;
    text: description; channel mail), and its number is mailed back through the
    desk's notify: smtp: settings. A message whose subject carries a ticket number
    (any letter case) becomes a log entry on that ticket, and reopens it when it is
    resolved and the reply comes from its requester (intake: mail: reopen: false
    turns that off). Auto-replies, bounces and the desk's own mail record nothing.
    Each message is recorded once, even when a run is killed or two runs overlap;
    handled Maildir messages move from new/ to cur/. A message that cannot be read
    is moved to the .itdesk-failed folder (IMAP: copied to itdesk-failed) and
    reported on stderr, never deleted. A message the desk cannot take now (its
    ticket has uncommitted edits, say) stays for the next run, with a warning and
    exit status 1. Acts as the robot itdesk-mail, which must be
    listed under robots: in itdesk.yaml; each commit names the sender in an
    Employee: trailer. Run it from cron, or with --watch.

    Example:

    \b
        itdesk intake mail --maildir /var/mail/helpdesk
        ITDESK_IMAP_PW=... itdesk intake mail --imap imap.example.com \\
            --user helpdesk --password-env ITDESK_IMAP_PW --watch
    """
    import time

    from ..service.mailin import Imap, Maildir, check_known, take
    from ..service.session import Session
    from ..store.desk import Desk

    if as_name is not None:
        raise click.UsageError("mail intake acts as itdesk-mail; --as is not taken here")
    if (maildir is None) == (imap is None):
        raise click.UsageError("give either --maildir PATH or --imap HOST[:PORT]")
    if imap is not None and (not user or not password_env):
        raise click.UsageError("--imap needs --user U and --password-env VAR")
    if maildir is not None and (user or password_env):
        raise click.UsageError("--user and --password-env go with --imap")
    desk = Desk.open(desk_path)
    check_known(desk)
    password = None
    if imap is not None:
        assert password_env is not None
        password = os.environ.get(password_env)
        if not password:
            raise click.UsageError(f"--password-env {password_env}: the variable is not set")

    def open_session() -> Session:
        return Session.open(desk.root, as_name="itdesk-mail", now=now_text, on_warning=warn)

    def run_once() -> bool:
        """One look; True when a message was left for the next run."""
        if maildir is not None:
            source: Maildir | Imap = Maildir(maildir)
        else:
            assert imap is not None and user is not None and password is not None
            host, port = _imap_address(imap)
            source = Imap(host, port, user, password, folder)
        try:
            report = take(Desk.open(desk.root), source, open_session, warn)
        finally:
            if isinstance(source, Imap):
                source.close()
        for line in report.lines(desk_lang(desk_path)):
            echo_text(line)
        return bool(report.left)

    if maildir is not None:
        Maildir(maildir)  # a wrong path is refused at once, --watch or not
    if not watch:
        if run_once():
            raise SystemExit(1)  # a message the desk could not take now: a finding
        return
    from ..errors import ItdeskError
    from ..service.mailin import watch as keep_watching

    def run_and_go_on() -> None:
        # a mail server or the desk out of reach for a while ends no watch: the next
        # run tries again (and a message is still recorded once)
        try:
            run_once()
        except (ItdeskError, OSError) as exc:
            warn(f"this look for mail failed, the next one is in {interval}s: {exc}")

    keep_watching(run_and_go_on, time.sleep, lambda: False, interval)
