"""``itdesk outbox``: the notifications this clone still owes, and its dead letters.

The outbox is :mod:`itdesk.channels.outbox`'s (``.git/itdesk/outbox.json``); this module
lists it, and lets a person send dead letters again or throw them away, each said.
"""

from __future__ import annotations

from typing import Any

import click

from . import F, desk_options, dump_json, format_option, lang_option, neutral, open_session, ui_lang


@click.group(name="outbox", invoke_without_command=True, no_args_is_help=False)
@click.pass_context
def command(ctx: click.Context) -> None:
    """Notifications still owed, and dead letters: list, retry, discard.

    A notification that keeps failing for a recipient (for a day, or three times when
    the server refused the address for good), or whose channel was removed from
    itdesk.yaml or changed, becomes a dead letter: `itdesk check` reports them on every
    run until a person retries or discards them.

    Example:

    \b
        itdesk outbox list
        itdesk outbox retry --all
    """
    if ctx.invoked_subcommand is None:  # plain `itdesk outbox`: the help, not an error
        click.echo(ctx.get_help())


def _line(row: dict[str, Any], lang: str = "en") -> str:
    why = row.get("note") or row.get("error") or ""
    if lang == "zh":
        from ..core.i18n import EVENTS_ZH, message, word

        event = word(row["event"], lang, EVENTS_ZH)
        text = f"#{row['id']} {row['ticket']} 的{event}通知，发给 {row['recipient']}"
        text += f"：{message(why, lang)}" if why else ""
    else:
        text = f"#{row['id']} {row['event']} of {row['ticket']} to {row['recipient']}"
        text += f": {why}" if why else ""
    return neutral(text, one_line=True)


@command.command(name="list")
@click.option("--dead", "dead_only", is_flag=True, help="Only the dead letters.")
@format_option("table", "json")
@lang_option
@desk_options
def list_(
    dead_only: bool,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """The dead letters, then what is queued: one row per message and recipient.

    Columns: id (what retry and discard take), state (dead or queued), event, ticket,
    recipient (a robot's token cut to its last four characters), tries, the last
    error or the note that says why it is a dead letter, and the next try.

    Example:

    \b
        itdesk outbox list
        itdesk outbox list --dead --format json
    """
    from ..channels.outbox import entries

    session = open_session(desk_path, as_name, now_text)
    rows = entries(session.desk, dead_only)
    if fmt == "json":
        dump_json(rows)
        return
    language = session.lang(lang)
    zh = language == "zh"
    if not rows:
        click.echo("发件箱是空的。" if zh else "The outbox is empty.")
        return
    from ..channels.table import render
    from ..core.i18n import EVENTS_ZH, OUTBOX_STATES_ZH, message, word

    headers = (
        ("编号", "状态", "事件", "工单", "接收人", "尝试次数", "原因", "下次尝试")
        if zh
        else ("ID", "State", "Event", "Ticket", "Recipient", "Tries", "Why", "Next try")
    )
    table = [
        [
            neutral(cell, one_line=True)  # an address may hold a line break: never printed
            for cell in (
                str(r["id"]),
                word(r["state"], language, OUTBOX_STATES_ZH),
                word(r["event"], language, EVENTS_ZH),
                r["ticket"],
                r["recipient"],
                str(r["attempts"]),
                message(r.get("note") or r.get("error") or "-", language),
                (r.get("next_try") or "-")[:16].replace("T", " "),
            )
        ]
        for r in rows
    ]
    click.echo(render(headers, table))


def _letters(fn: F) -> F:
    """The dead letters a command acts on (ids, or --all), and the desk options."""
    fn = desk_options(fn)
    fn = lang_option(fn)
    fn = click.option("--all", "every", is_flag=True, help="Every dead letter.")(fn)
    return click.argument("ids", nargs=-1, type=int, metavar="[ID]...")(fn)


def _ids(ids: tuple[int, ...], every: bool, verb: str) -> None:
    from ..errors import UsageError

    if bool(ids) == every:
        raise UsageError(f"give the dead letters to {verb} (their ids) or --all")


@command.command()
@_letters
def retry(
    ids: tuple[int, ...],
    every: bool,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Send dead letters again now, with a fresh count of tries.

    A letter whose webhook was removed or changed goes to the webhooks that now take
    its event and have not had it. What fails again is retried by `itdesk check`.

    Example:

    \b
        itdesk outbox retry 3 4
        itdesk outbox retry --all
    """
    from ..channels.outbox import entries
    from ..channels.outbox import retry as do_retry

    _ids(ids, every, "retry")
    session = open_session(desk_path, as_name, now_text)
    chosen = do_retry(session.desk, ids, every, session.now)
    language = ui_lang(session)
    zh = language == "zh"
    for row in chosen:
        click.echo(f"{'重新发送' if zh else 'retrying'} {_line(row, language)}")
    session.flush()
    left = entries(session.desk)
    queued = sum(1 for r in left if r["state"] == "queued")
    dead = len(left) - queued
    if zh:
        click.echo(f"发件箱：{queued} 条待发送，{dead} 封死信")
    else:
        click.echo(f"outbox: {queued} still owed, {dead} dead letter(s)")


@command.command()
@_letters
def discard(
    ids: tuple[int, ...],
    every: bool,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Throw dead letters away for good; each is printed as it goes.

    Example:

    \b
        itdesk outbox discard 3
        itdesk outbox discard --all
    """
    from ..channels.outbox import discard as do_discard

    _ids(ids, every, "discard")
    session = open_session(desk_path, as_name, now_text)
    language = ui_lang(session)
    for row in do_discard(session.desk, ids, every):
        click.echo(f"{'已丢弃' if language == 'zh' else 'discarded'} {_line(row, language)}")
