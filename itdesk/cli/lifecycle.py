"""The lifecycle steps, one command each: ack, classify, assign, accept, log, escalate,
pending, resolve, followup, close, reopen and cancel.

Each parses its options and calls the step of the same name on the service session
(:class:`itdesk.service.session.Session`), which commits once and notifies; the command
prints the commit's subject.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from . import (
    ID_ARG,
    REPORT_SUFFIXES,
    completes,
    desk_options,
    echo_text,
    lang_option,
    lang_said,
    open_session,
    output_path,
    say,
    ui_lang,
    write_output,
)

if TYPE_CHECKING:
    from ..core.lifecycle import Change

_session = open_session


def _echo(change: Change) -> None:
    say(change.subject)


@click.command()
@ID_ARG
@lang_said
@desk_options
def ack(ticket_id: str, desk_path: str | None, as_name: str | None, now_text: str | None) -> None:
    """Acknowledge a new ticket: the desk's first response (target: 10 minutes).

    Example:

    \b
        itdesk ack IT-20231025-001
    """
    _echo(_session(desk_path, as_name, now_text).ack(ticket_id))


@click.command()
@ID_ARG
@click.option(
    "--priority",
    "-p",
    shell_complete=completes("priorities"),
    help="P1/P2/P3, 1-3, urgent/important/normal, 紧急/重要/一般.",
)
@click.option(
    "--category",
    "-c",
    shell_complete=completes("categories"),
    help="hardware, software, network, account, other (or 硬件...).",
)
@lang_said
@desk_options
def classify(
    ticket_id: str,
    priority: str | None,
    category: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Set the priority and category; P1 informs the supervisor at once.

    Example:

    \b
        itdesk classify IT-20231025-001 --priority 重要 --category 网络
    """
    _echo(_session(desk_path, as_name, now_text).classify(ticket_id, priority, category))


@click.command()
@ID_ARG
@click.option(
    "--to",
    "to",
    metavar="NAME",
    shell_complete=completes("members"),
    help="A member of the desk's teams.",
)
@click.option("--auto", is_flag=True, help="Route by category to the least-loaded member.")
@lang_said
@desk_options
def assign(
    ticket_id: str,
    to: str | None,
    auto: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Assign a ticket to a technician, by name or by the routing rules.

    --auto picks the team whose categories include the ticket's category, then that
    team's member with the fewest open tickets.

    Example:

    \b
        itdesk assign IT-20231025-001 --to zhang
        itdesk assign IT-20231025-001 --auto
    """
    _echo(_session(desk_path, as_name, now_text).assign(ticket_id, to=to, auto=auto))


@click.command()
@ID_ARG
@lang_said
@desk_options
def accept(
    ticket_id: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """The assignee takes the ticket on (target: 2 h after assignment); also resumes work
    on a ticket that was waiting on the user or a vendor.

    Example:

    \b
        itdesk accept IT-20231025-001 --as zhang
    """
    _echo(_session(desk_path, as_name, now_text).accept(ticket_id))


@click.command(name="log")
@ID_ARG
@click.argument("text", nargs=-1, required=True)
@click.option(
    "--via",
    default="note",
    show_default=True,
    metavar="phone|remote|onsite|note",
    shell_complete=completes("via"),
    help="How the work was done (also 电话, 远程, 现场, 备注).",
)
@lang_said
@desk_options
def log(
    ticket_id: str,
    text: tuple[str, ...],
    via: str,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Record a handling step (phone call, remote session, on-site visit or note).

    Example:

    \b
        itdesk log IT-20231025-001 --via remote "Reset the network configuration"
        itdesk log IT-20231025-001 --via 电话 "已电话联系用户"
    """
    _echo(_session(desk_path, as_name, now_text).log(ticket_id, " ".join(text), via=via))


@click.command()
@ID_ARG
@click.option("--supervisor", is_flag=True, help="Escalate to the team's supervisor.")
@click.option("--vendor", metavar="NAME", help="Hand over to a vendor (status pending_vendor).")
@click.option("--reason", required=True, help="Why it is escalated.")
@click.option("--eta", metavar="TIME", help="Expected resolution time told to the employee.")
@lang_said
@desk_options
def escalate(
    ticket_id: str,
    supervisor: bool,
    vendor: str | None,
    reason: str,
    eta: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Escalate to the supervisor, or to a vendor with a reason and an ETA.

    Example:

    \b
        itdesk escalate IT-20231025-002 --vendor "OA vendor" \\
          --reason "interface error needs the vendor" --eta "tomorrow 18:00"
    """
    session = _session(desk_path, as_name, now_text)
    _echo(session.escalate(ticket_id, reason, supervisor=supervisor, vendor=vendor, eta=eta))


@click.command()
@ID_ARG
@click.option(
    "--on",
    "on",
    type=click.Choice(["user", "vendor"]),
    required=True,
    help="Who the ticket waits on.",
)
@click.option("--reason", help="What is awaited.")
@lang_said
@desk_options
def pending(
    ticket_id: str,
    on: str,
    reason: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Mark a ticket as waiting on the requester or a vendor (accept resumes it).

    Example:

    \b
        itdesk pending IT-20231025-001 --on user --reason "user is in a meeting"
    """
    _echo(_session(desk_path, as_name, now_text).pending(ticket_id, on, reason))


@click.command()
@ID_ARG
@click.option("--summary", required=True, help="The solution, for the report and the KB.")
@click.option("--verified", is_flag=True, help="The requester confirmed that it works.")
@click.option(
    "--kb",
    "kb_slugs",
    multiple=True,
    metavar="SLUG",
    shell_complete=completes("slugs"),
    help="A KB article that solved it (repeatable); recorded in the ticket's kb list.",
)
@lang_said
@desk_options
def resolve(
    ticket_id: str,
    summary: str,
    verified: bool,
    kb_slugs: tuple[str, ...],
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Mark a ticket resolved (处理完成); the follow-up call is due within 1 h.

    --kb SLUG records that the article kb/SLUG.md solved it (itdesk kb search finds one).

    Example:

    \b
        itdesk resolve IT-20231025-001 --summary "Updated the WiFi certificate" --verified
        itdesk resolve IT-20231026-004 --summary "Self-help article worked" --kb wifi-certificate
    """
    session = _session(desk_path, as_name, now_text)
    _echo(session.resolve(ticket_id, summary, verified, kb=kb_slugs))


@click.command()
@ID_ARG
@click.option(
    "--speed",
    required=True,
    shell_complete=completes("satisfaction"),
    help="satisfied|neutral|unsatisfied (满意|一般|不满意).",
)
@click.option(
    "--attitude",
    required=True,
    shell_complete=completes("satisfaction"),
    help="satisfied|neutral|unsatisfied.",
)
@click.option(
    "--overall",
    required=True,
    shell_complete=completes("satisfaction"),
    help="satisfied|neutral|unsatisfied.",
)
@click.option("--comment", help="What the requester said.")
@lang_said
@desk_options
def followup(
    ticket_id: str,
    speed: str,
    attitude: str,
    overall: str,
    comment: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Record the follow-up call: satisfaction with speed and attitude, and overall.

    Example:

    \b
        itdesk followup IT-20231025-001 --speed 满意 --attitude 满意 --overall 满意
    """
    session = _session(desk_path, as_name, now_text)
    _echo(session.followup(ticket_id, speed, attitude, overall, comment))


@click.command()
@ID_ARG
@click.option("--force", is_flag=True, help="Close without resolution or follow-up.")
@click.option("--reason", help="Why it is closed by force (required with --force).")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write the problem-handling report to FILE.",
)
@click.option("--reveal", is_flag=True, help="Do not mask personal data in the report.")
@lang_option
@desk_options
def close(
    ticket_id: str,
    force: bool,
    reason: str | None,
    output: str | None,
    reveal: bool,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Close a resolved, followed-up ticket and print its problem-handling report.

    Example:

    \b
        itdesk close IT-20231025-001
        itdesk close IT-20231025-009 --force --reason "duplicate of IT-20231025-008"
    """
    from ..channels.report import problem_report

    target = (
        output_path(output, suffixes=REPORT_SUFFIXES) if output else None
    )  # checked before the commit
    session = _session(desk_path, as_name, now_text)
    change = session.close(ticket_id, force, reason)
    _echo(change)
    policy = session.desk.policy
    text = problem_report(change.ticket, lang or ui_lang(session), reveal, policy.personal)
    click.echo()
    echo_text(text, nl=False)
    if target is not None:
        write_output(target, text)


@click.command()
@ID_ARG
@click.option("--reason", required=True, help="Why it is reopened.")
@lang_said
@desk_options
def reopen(
    ticket_id: str, reason: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Reopen a resolved or closed ticket; accept puts it back in progress.

    Example:

    \b
        itdesk reopen IT-20231025-001 --reason "WiFi drops again"
    """
    _echo(_session(desk_path, as_name, now_text).reopen(ticket_id, reason))


@click.command()
@ID_ARG
@click.option("--reason", required=True, help="Why (duplicate, mistake...).")
@lang_said
@desk_options
def cancel(
    ticket_id: str, reason: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Cancel a duplicate or mistaken ticket.

    Example:

    \b
        itdesk cancel IT-20231025-003 --reason "duplicate of IT-20231025-001"
    """
    _echo(_session(desk_path, as_name, now_text).cancel(ticket_id, reason))
