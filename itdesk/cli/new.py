"""``itdesk new``: record a reported problem from flags, prompts or a YAML file.

The prompts are this module's (a person at a terminal); checking the fields and
numbering and committing the ticket are the service's (:mod:`itdesk.service.intake`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from . import completes, confirm, desk_options, lang_said, neutral, open_session, ui_lang, warn

if TYPE_CHECKING:
    from ..service.session import Session


def _prompt_missing(values: dict[str, Any], session: Session) -> None:
    """Ask a person at a terminal for every intake field not given as a flag."""
    from ..core.model import parse_channel
    from ..errors import ItdeskError

    zh = ui_lang(session) == "zh"

    def ask(
        key: str, text: str, required: bool = False, check: Callable[[str], Any] | None = None
    ) -> None:
        if values.get(key) not in (None, ""):
            return
        if zh:  # the Chinese of "Requester's name (姓名)", or the prompt's own words
            text = _PROMPTS_ZH.get(key, text)
        while True:
            # Prompts go to stderr, so that ID=$(itdesk new) captures only the number.
            answer = click.prompt(
                text, default="" if not required else None, show_default=False, err=True
            ).strip()
            if not answer:
                if required:
                    click.echo("  此项必填。" if zh else "  This is needed.", err=True)
                    continue
                return
            if check is not None:
                try:
                    check(answer)
                except ItdeskError as exc:
                    click.echo(f"  {exc}", err=True)
                    continue
            values[key] = answer
            return

    ask("requester", "Requester's name (姓名)", required=True)
    ask("employee_id", "Employee number (工号)")
    ask("department", "Department (部门)")
    ask("contact", "Contact: phone, mail or chat (联系方式)")
    ask("title", "Short title of the problem", required=True)
    ask("description", "Symptom and error text (现象/报错)")
    if values.get("blocks_work") is None:
        values["blocks_work"] = confirm(
            "是否影响工作？" if zh else "Does it block work? (是否影响工作)", default=False
        )
    ask("scope", "Who or what is affected (影响范围)")
    ask("devices", "Device models, comma-separated (设备型号)")
    ask(
        "expected_by",
        "Expected resolution time, e.g. today 18:00, +2h (期望解决时间)",
        check=session.time,
    )
    ask("channel", "Channel: portal, chat, phone, mail, walk-in", check=parse_channel)


_PROMPTS_ZH = {
    "requester": "提交人姓名",
    "employee_id": "工号",
    "department": "部门",
    "contact": "联系方式（电话、邮箱或聊天账号）",
    "title": "问题简述",
    "description": "现象/报错",
    "scope": "影响范围（谁或什么受影响）",
    "devices": "设备型号（逗号分隔）",
    "expected_by": "期望解决时间，如 今日下班前、+2h",
    "channel": "报告渠道：门户、群组、电话、邮件、现场",
}


@click.command(name="new")
@click.option("--from", "from_file", metavar="FILE.yaml", help="Read the intake fields from YAML.")
@click.option("--title", help="Short title of the problem.")
@click.option("--requester", help="Requester's name.")
@click.option("--employee-id", help="Requester's employee number (工号).")
@click.option("--department", help="Requester's department.")
@click.option("--contact", help="Phone, mail or chat handle.")
@click.option("--description", help="Symptom and error text.")
@click.option("--blocks-work/--no-blocks-work", default=None, help="Does it block work?")
@click.option("--scope", help="Who or what is affected.")
@click.option("--devices", help="Device models, comma-separated.")
@click.option("--expected-by", metavar="TIME", help="The requester's expected time.")
@click.option(
    "--channel", shell_complete=completes("channels"), help="portal, chat, phone, mail or walk-in."
)
@click.option(
    "-i",
    "--interactive",
    is_flag=True,
    help="Prompt for missing fields (the default at a terminal when a required one is missing).",
)
@lang_said
@desk_options
def command(
    from_file: str | None,
    interactive: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **flags: Any,
) -> None:
    """Record a reported problem; prints the new ticket number.

    Flags for scripts, prompts for people at a terminal, or --from FILE.yaml with the
    ticket's own key names (title, description, channel, expected_by, reported_at,
    requester{name, employee_id, department, contact}, impact{blocks_work, scope, devices}).

    Example:

    \b
        itdesk new --title "WiFi authentication fails" --requester "王小明" \\
          --department 研发部 --contact 13956785678 --blocks-work --channel chat
    """
    from ..service.intake import intake_from_file
    from ..service.kb import suggest

    session = open_session(desk_path, as_name, now_text)
    values: dict[str, Any] = {}
    if from_file:
        values.update(intake_from_file(from_file))
    values.update({k: v for k, v in flags.items() if v is not None})
    session.actor  # noqa: B018 -- who acts is known before anyone is asked anything
    # Prompts only for a person at a terminal who left a required field out: never
    # when stdout is captured (ID=$(itdesk new ...)) or the required fields are given.
    required = values.get("requester") and (values.get("title") or values.get("description"))
    at_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    if interactive or (at_terminal and not from_file and not required):
        _prompt_missing(values, session)
    from ..service.team import sync_before_new

    if sync_before_new(session):  # the policy wants the number final: sync, new, sync
        from ..service.sync import new_confirmed

        change, unconfirmed = new_confirmed(session, values)
        click.echo(change.ticket.id)
        if unconfirmed is not None:
            warn(f"{change.ticket.id} is recorded here but not yet on the remote, and may "
                 f"be renumbered at the next sync: {unconfirmed}")  # fmt: skip
    else:
        # The number is printed the moment it is committed, before notifications are sent.
        change = session.new(values, on_committed=lambda c: click.echo(c.ticket.id))
    ticket = change.ticket
    from ..quicknew import keep_facts

    keep_facts(session.desk)  # what the next `new` needs to take the short path
    zh = ui_lang(session) == "zh"
    name = neutral(ticket.requester.name, one_line=True)
    click.echo(
        f"已为{name}登记工单 {ticket.id}，请告知员工此编号以便跟进。"
        if zh
        else f"Recorded {ticket.id} for {name}. Please tell the requester this "
        "number; it is how the desk follows up (工单编号已生成，请告知员工以便跟进).",
        err=True,
    )
    # On stderr, like the prompts: ID=$(itdesk new ...) still captures only the number.
    found = suggest(session.desk, f"{ticket.title}\n{ticket.description}")
    if found:
        click.echo(
            "自助解决参考：" if zh else "Self-help that may solve it (自助解决参考):", err=True
        )
        for slug, title, _score in found:
            click.echo(f"  {neutral(title, one_line=True)}  (itdesk kb show {slug})", err=True)
