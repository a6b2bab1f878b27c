"""``itdesk sla explain ID``: why a clock is where it is."""

from __future__ import annotations

from typing import Any

import click

from . import ID_ARG, desk_options, dump_json, format_option, open_session


@click.group(name="sla")
def command() -> None:
    """Service-level clocks: see why a ticket breached.

    Example:

    \b
        itdesk sla explain IT-20231025-001
    """


@command.command(name="explain")
@ID_ARG
@format_option("table", "json")
@desk_options
def explain(
    ticket_id: str, fmt: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Every clock of one ticket: start, pauses, working windows used, due time, state.

    A closed ticket's clocks are explained after the fact, as they stood at its close
    (a clock still running then stopped there); --format json is always a JSON array.

    Example:

    \b
        itdesk sla explain IT-20231025-001 --now 2023-10-25T14:00
    """
    from ..core.sla import evaluate, evaluate_closed
    from ..core.times import format_duration

    session = open_session(desk_path, as_name, now_text)
    ticket = session.desk.read(ticket_id.strip())
    calendars = session.desk.calendars
    policy = session.desk.policy
    closed = ticket.status.value == "closed"
    # A closed ticket's clocks after the fact: judged at its closing (cancelled: none)
    states = (
        evaluate_closed(ticket, policy, calendars)
        if closed
        else evaluate(ticket, policy, session.now, calendars)
    )
    if not states and fmt != "json":
        click.echo(f"{ticket.id} is {ticket.status.value}: no clock runs")
        return

    def when(t: Any) -> str:
        return t.strftime("%Y-%m-%d %H:%M") if t else "-"

    if fmt == "json":
        dump_json(
            [
                {
                    "ticket": s.ticket,
                    "clock": s.clock,
                    "state": s.state,
                    "start": s.start.isoformat(timespec="seconds"),
                    "due": s.due.isoformat(timespec="seconds"),
                    "stopped": s.stopped.isoformat(timespec="seconds") if s.stopped else None,
                    "target_seconds": int(s.target.total_seconds()),
                    "used_seconds": int(s.used.total_seconds()),
                    "late_seconds": s.late_seconds,
                    "calendar": s.calendar,
                    "pauses": [
                        [
                            a.isoformat(timespec="seconds"),
                            b.isoformat(timespec="seconds") if b else None,
                        ]
                        for a, b in s.pauses
                    ],
                    "escalated": s.escalated,
                    "levels": sorted(s.levels),
                }
                for s in states
            ]
        )
        return
    at = f"closed {when(ticket.closed_at)}" if closed else f"at {when(session.now)}"
    click.echo(f"{ticket.id} {at} (priority {states[0].priority})")
    for s in states:
        end = s.stopped or session.now
        lines = [
            f"{s.clock}: {s.state}" + (" (paused)" if s.paused else ""),
            f"  started   {when(s.start)}",
            f"  target    {format_duration(s.target)} on the {s.calendar} calendar",
            f"  used      {format_duration(s.used)}",
            f"  due       {when(s.due)}",
            f"  stopped   {when(s.stopped)}" if s.stopped else "  stopped   - (running)",
        ]
        if s.late_seconds > 0:
            from datetime import timedelta

            lines.append(f"  late by   {format_duration(timedelta(seconds=s.late_seconds))}")
        for a, b in s.pauses:
            if a < end:
                lines.append(f"  paused    {when(a)} -> {when(b) if b else 'now'}")
        windows = getattr(calendars.get(s.calendar), "windows", None)
        if windows is not None:
            used = windows(s.start, min(end, s.due) if s.state != "breached" else end)
            shown = [f"{when(a)}-{b:%H:%M}" for a, b in used[:6]]
            more = f" (+{len(used) - 6} more)" if len(used) > 6 else ""
            if shown:
                lines.append(f"  windows   {', '.join(shown)}{more}")
        if s.levels:
            lines.append(f"  recorded  {', '.join(sorted(s.levels))}")
        click.echo("\n".join(lines))
