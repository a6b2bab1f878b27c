"""``itdesk audit``: findings in the history of ``tickets/``."""

from __future__ import annotations

import click

from . import (
    EXIT_FINDING,
    desk_options,
    dump_json,
    format_option,
    lang_option,
    neutral,
    open_session,
)


@click.command(name="audit")
@click.option("--since", metavar="DATE", help="Only commits since DATE (git's --since).")
@format_option("table", "json")
@lang_option
@desk_options
def command(
    since: str | None,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Walk the history of tickets/ and report what a reviewer must look at.

    Kinds: hand-edit (a commit without itdesk's Ticket:/Action: trailers),
    log-rewritten (a committed log entry changed or removed), closed-changed (a closed
    ticket changed without a reopen), time-backwards, number-reused, unsigned (where
    itdesk.yaml says team: {signed: true}). Exit status 1 when there are findings.

    Example:

    \b
        itdesk audit --since 2024-01-01 --format json
    """
    from ..service.team import run_audit

    session = open_session(desk_path, as_name, now_text)
    findings = run_audit(session, since)
    if fmt == "json":
        dump_json([f.as_dict() for f in findings])
        if findings:
            raise SystemExit(EXIT_FINDING)
        return
    from ..channels.table import width
    from ..core.i18n import AUDIT_KINDS_ZH, team_text, word

    language = session.lang(lang)
    if not findings:
        click.echo("没有发现问题。" if language == "zh" else "No findings.")
    for f in findings:
        kind = word(f.kind, language, AUDIT_KINDS_ZH)
        kind += " " * max(15 - width(kind), 0)
        line = f"{f.commit[:12]}  {f.ticket}  {kind} {team_text(f.detail, language)}"
        click.echo(neutral(line, one_line=True))
    if findings:
        raise SystemExit(EXIT_FINDING)
