"""``itdesk check``: every open ticket's SLA clocks at --now; ``--escalate`` acts on them.

Meant for cron (every few minutes): the exit status is 1 while any clock is breached,
0 otherwise, 2 on bad usage or no desk. ``--escalate`` records each new breach once
(and each at-risk warning, and the next level of the ladder when a breach lasts), in one
commit for the whole run, then sends the notifications. Running it again changes
nothing until something new happens.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from . import (
    EXIT_FINDING,
    Progress,
    colour,
    desk_options,
    dump_json,
    filter_options,
    format_option,
    lang_option,
    neutral,
    open_session,
    page,
    terminal_width,
    ticket_filter,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..channels.views import TicketFilter
    from ..core.sla import ClockState, Plan, Rules, Spent
    from ..service.session import Session


def clock_states(
    session: Session, plans: Sequence[tuple[Plan, Spent | None]], all_clocks: bool = False
) -> list[ClockState]:
    """The clocks to show of the tickets' plans (:func:`clock_plans`); a clock due past
    the holidays its calendar knows is a warning (its days were counted as ordinary
    ones)."""
    from ..core.sla import coverage_warnings, plan_states

    rules, now = sla_rules(session), session.now
    progress = Progress("checking clocks")
    every = []
    try:
        for done, (plan, spent) in enumerate(plans, 1):
            every += plan_states(plan, rules, now, spent)
            progress(done, len(plans))
    finally:
        progress.close()
    for line in coverage_warnings(every, session.desk.calendars):
        session.warn(line)
    return [s for s in every if all_clocks or (s.open and s.state in ("at_risk", "breached"))]


def clock_plans(
    session: Session, flt: TicketFilter, all_clocks: bool = False
) -> list[tuple[Plan, Spent | None]]:
    """The clock plans of the open tickets that pass ``flt``, with what their clocks
    spent that stays so (``all_clocks``: the stopped clocks too). Each ticket's is kept
    per file in ``.git`` (the SLA policy and the calendars' dates its salt), so that a run
    reads only the tickets changed since the last and spends only the clocks still
    within their targets. Words to look for in the text (``--text``): every open
    ticket is read."""
    from ..core.sla import PLAN_VERSION, clock_plan, lasting, plan_record, plan_states, record_plan

    rules = sla_rules(session)
    if flt.text is not None:
        return [(plan, None) for d in open_tickets(session, flt) if (plan := clock_plan(d, rules))]
    from ..store.folders import salt_of

    desk, now = session.desk, session.now
    salt = salt_of("clocks", PLAN_VERSION, desk.policy.raw, desk.calendar_facts)

    def make(d: dict[str, Any]) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
        plan = clock_plan(d, rules)
        if plan is None:
            return None
        head = {key: d.get(key) for key in _HEAD}
        return head, plan_record(plan, lasting(plan_states(plan, rules, now)))

    return [
        record_plan(value[1], open_only=not all_clocks)
        for value in session.iter_derived("clocks", salt, make)
        if value is not None and flt.matches(value[0])
    ]


_HEAD = ("id", "status", "priority", "category", "team", "assignee")  # what a filter reads


def sla_rules(session: Session) -> Rules:
    from ..core.sla import Rules

    return Rules.of(session.desk.policy, session.desk.calendars)


def open_tickets(session: Session, flt: Any) -> list[dict[str, Any]]:
    """The open tickets that pass ``flt``, as plain data."""
    return [d for d in session.iter_ticket_data() if flt.matches(d) and d["status"] not in _FINAL]


_FINAL = ("closed", "cancelled")


def state_json(s: ClockState) -> dict[str, Any]:
    return {
        "ticket": s.ticket,
        "clock": s.clock,
        "state": s.state,
        "due": s.due.isoformat(timespec="seconds"),
        "late_seconds": s.late_seconds,
        "assignee": s.assignee,
        "escalated": s.escalated,
    }


_COLOURS = {"breached": "red", "at_risk": "yellow", "met": "green"}


def render_states(
    states: list[ClockState], lang: str, max_width: int | None = None, coloured: bool = False
) -> str:
    from ..channels.table import render
    from ..core.i18n import clock, duration, state

    if not states:
        return "没有超时或临近超时的工单" if lang == "zh" else "Nothing breached or at risk."
    headers = (
        ("工单编号", "时限", "状态", "到期", "超时", "处理人", "已升级")
        if lang == "zh"
        else ("Ticket", "Clock", "State", "Due", "Late by", "Assignee", "Escalated")
    )
    from datetime import timedelta

    paused = "（已暂停）" if lang == "zh" else " (paused)"
    yes = "是" if lang == "zh" else "yes"
    rows = [
        [
            s.ticket,
            clock(s.clock, lang),
            state(s.state, lang) + (paused if s.paused else ""),
            s.due.strftime("%Y-%m-%d %H:%M"),
            duration(timedelta(seconds=s.late_seconds), lang) if s.late_seconds > 0 else "-",
            s.assignee or "-",
            yes if s.escalated else "-",
        ]
        for s in states
    ]
    cells = [[neutral(c, one_line=True) for c in row] for row in rows]
    for row, s in zip(cells, states, strict=True):  # colour after escaping: ESC is ours
        row[2] = _paint(row[2], s.state, coloured)
    return render(headers, cells, max_width, shrink=5)


def _paint(text: str, state: str, coloured: bool) -> str:
    if not coloured or state not in _COLOURS:
        return text
    return click.style(text, fg=_COLOURS[state], bold=state == "breached")


@click.command(name="check")
@click.option("--escalate", is_flag=True, help="Record and notify each new breach (cron).")
@click.option("--all-clocks", is_flag=True, help="Also show clocks that are running or met.")
@filter_options
@format_option("table", "json")
@lang_option
@desk_options
def command(
    escalate: bool,
    all_clocks: bool,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **filters: Any,
) -> None:
    """SLA breaches and clocks at risk of every open ticket; exit 1 if any is breached.

    Clocks: ack, response, accept, resolution, followup, expected. --escalate records
    each new breach once on its ticket, escalates it to the supervisor (and, if it
    lasts, to the next level), warns assignees of clocks at risk, notifies, and makes
    one commit for the whole run. A ticket file that is invalid, has uncommitted
    edits or is untracked is reported with its path and left out; the others are
    still checked and escalated. Notifications that earlier commands could not send
    are retried (each recipient alone, paced in time), and the dead letters that wait
    for a person are counted on stderr (see itdesk outbox). Exit status: 0 nothing
    breached, 1 something is breached or a ticket file has a problem, 2 bad usage or
    no desk.

    Example:

    \b
        itdesk check
        itdesk check --escalate --format json     # from cron, every 5 minutes
    """
    session = open_session(desk_path, as_name, now_text)
    flt = ticket_filter(session, **filters)
    if escalate:
        from ..service.escalation import escalate_breaches

        tickets = open_tickets(session, flt)
        progress = Progress("looking for breaches")
        from ..core.model import ticket_from_dict

        try:
            summary = escalate_breaches(session, [ticket_from_dict(d) for d in tickets], progress)
        finally:
            progress.close()
        if summary:
            from ..core.i18n import subject

            click.echo(subject(summary, session.lang(lang)), err=True)
    plans = clock_plans(session, flt, all_clocks)
    session.flush()  # what this and earlier runs have to send
    states = clock_states(session, plans, all_clocks)
    if fmt == "json":
        dump_json([state_json(s) for s in states])
    else:
        text = render_states(states, session.lang(lang), terminal_width(), colour())
        page(text)
    # A ticket file that could not be read or escalated is a finding too: cron must hear.
    if session.findings or any(s.open and s.state == "breached" for s in states):
        sys.exit(EXIT_FINDING)
