"""``itdesk sla explain ID``: why a clock is where it is."""

from __future__ import annotations

from typing import Any

import click

from . import ID_ARG, desk_options, dump_json, format_option, lang_option, open_session


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
@lang_option
@desk_options
def explain(
    ticket_id: str,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Every clock of one ticket: start, pauses, working windows used, due time, state.

    A closed ticket's clocks are explained after the fact, as they stood at its close
    (a clock still running then stopped there); --format json is always a JSON array.

    Example:

    \b
        itdesk sla explain IT-20231025-001 --now 2023-10-25T14:00
        itdesk sla explain IT-20231025-001 --lang zh
    """
    from ..channels.table import width
    from ..core.i18n import LEVELS_ZH, STATUSES_ZH, clock, duration, state, word
    from ..core.sla import evaluate, evaluate_closed

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
    language = session.lang(lang)
    zh = language == "zh"
    if not states and fmt != "json":
        status = word(ticket.status.value, language, STATUSES_ZH)
        click.echo(
            f"{ticket.id} {status}：没有计时中的时限"
            if zh
            else f"{ticket.id} is {status}: no clock runs"
        )
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
    L = _ZH if zh else _EN
    at = f"{L['closed']} {when(ticket.closed_at)}" if closed else f"{L['at']} {when(session.now)}"
    click.echo(f"{ticket.id} {at} ({L['priority']} {states[0].priority})")

    def line(key: str, value: str) -> str:
        return f"  {L[key]}{' ' * max(10 - width(L[key]), 1)}{value}"

    for s in states:
        end = s.stopped or session.now
        calendar = word(s.calendar, language, {"24x7": "全天候"})
        lines = [
            f"{clock(s.clock, language)}: {state(s.state, language)}"
            + (f" ({L['paused_now']})" if s.paused else ""),
            line("started", when(s.start)),
            line("target", L["on_calendar"].format(duration(s.target, language), calendar)),
            line("used", duration(s.used, language)),
            line("due", when(s.due)),
            line("stopped", when(s.stopped)) if s.stopped else line("stopped", L["running"]),
        ]
        if s.late_seconds > 0:
            from datetime import timedelta

            lines.append(line("late", duration(timedelta(seconds=s.late_seconds), language)))
        for a, b in s.pauses:
            if a < end:
                lines.append(line("paused", f"{when(a)} -> {when(b) if b else L['now']}"))
        windows = getattr(calendars.get(s.calendar), "windows", None)
        if windows is not None:
            used = windows(s.start, min(end, s.due) if s.state != "breached" else end)
            shown = [f"{when(a)}-{b:%H:%M}" for a, b in used[:6]]
            more = f" (+{len(used) - 6} {L['more']})" if len(used) > 6 else ""
            if shown:
                lines.append(line("windows", f"{', '.join(shown)}{more}"))
        if s.levels:
            levels = ", ".join(word(v, language, LEVELS_ZH) for v in sorted(s.levels))
            lines.append(line("recorded", levels))
        click.echo("\n".join(lines))


_EN = {
    "closed": "closed",
    "at": "at",
    "priority": "priority",
    "paused_now": "paused",
    "started": "started",
    "target": "target",
    "on_calendar": "{} on the {} calendar",
    "used": "used",
    "due": "due",
    "stopped": "stopped",
    "running": "- (running)",
    "late": "late by",
    "paused": "paused",
    "now": "now",
    "windows": "windows",
    "more": "more",
    "recorded": "recorded",
}
_ZH = {
    "closed": "关闭于",
    "at": "截至",
    "priority": "问题分级",
    "paused_now": "已暂停",
    "started": "开始",
    "target": "时限",
    "on_calendar": "{}（{} 日历）",
    "used": "已用",
    "due": "到期",
    "stopped": "停止",
    "running": "-（计时中）",
    "late": "超时",
    "paused": "暂停",
    "now": "现在",
    "windows": "工作时段",
    "more": "段",
    "recorded": "已记录",
}
