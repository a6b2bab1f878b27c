"""The problem-handling report (问题处理报告) of one ticket, as Markdown.

Written when a ticket is closed and on demand (``itdesk report ID``): ticket number,
times, handling duration, solution, people involved, the handling steps and the
requester's feedback. Personal data is masked unless the caller reveals it.
"""

from __future__ import annotations

from datetime import datetime

from ..core.i18n import KINDS_ZH, LEVELS_ZH, duration, escalation_reason, log_text, word
from ..core.model import ZH_LABELS, Satisfaction, Ticket
from ..core.privacy import DEFAULT_PERSONAL, redactor, shown

_EN = {
    "title": "Problem-handling report",
    "id": "Ticket number",
    "subject": "Title",
    "status": "Status",
    "priority": "Priority",
    "category": "Category",
    "requester": "Requester",
    "contact": "Contact",
    "reported_at": "Reported at",
    "acknowledged_at": "Acknowledged at",
    "assigned_at": "Assigned at",
    "accepted_at": "Accepted at",
    "resolved_at": "Resolved at",
    "closed_at": "Closed at",
    "duration": "Handling time",
    "people": "People involved",
    "description": "Description",
    "impact": "Impact",
    "solution": "Solution",
    "steps": "Handling steps",
    "escalations": "Escalations",
    "feedback": "Feedback",
    "speed": "speed",
    "attitude": "attitude",
    "overall": "overall",
    "none": "none",
    "blocks": "blocks work",
    "not_blocks": "does not block work",
    "verified": "verified with the requester",
    "no_followup": "no follow-up recorded",
    "remarks": "Remarks",
    "eta": "ETA",
}
_ZH = {
    "title": "问题处理报告",
    "id": "工单编号",
    "subject": "标题",
    "status": "状态",
    "priority": "问题分级",
    "category": "问题类型",
    "requester": "提交人",
    "contact": "联系方式",
    "reported_at": "提交时间",
    "acknowledged_at": "受理时间",
    "assigned_at": "分配时间",
    "accepted_at": "接单时间",
    "resolved_at": "处理完成时间",
    "closed_at": "关闭时间",
    "duration": "处理时长",
    "people": "涉及人员",
    "description": "问题描述",
    "impact": "影响范围",
    "solution": "解决方案",
    "steps": "处理过程",
    "escalations": "升级记录",
    "feedback": "用户反馈",
    "speed": "处理速度",
    "attitude": "服务态度",
    "overall": "总体评价",
    "none": "无",
    "blocks": "影响工作",
    "not_blocks": "不影响工作",
    "verified": "已与用户确认",
    "no_followup": "未回访",
    "remarks": "备注",
    "eta": "预计解决",
}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def handling_time(t: Ticket, lang: str = "en") -> str:
    """From the report to the closing (or, while open, the resolution) as ``1h30m``
    (``1小时30分`` in Chinese)."""
    end = t.closed_at or (t.resolution.at if t.resolution else None)
    return duration(end - t.reported_at, lang) if end else "-"


def people_involved(t: Ticket) -> list[str]:
    """Technicians who acted on the ticket, in order of first appearance."""
    seen: dict[str, None] = {}
    for name in [t.assignee, *(e.by for e in t.log), *(e.to for e in t.escalations)]:
        if name:
            seen.setdefault(name, None)
    return list(seen)


def problem_report(
    t: Ticket,
    lang: str = "en",
    reveal: bool = False,
    personal: frozenset[str] = DEFAULT_PERSONAL,
) -> str:
    L = _ZH if lang == "zh" else _EN

    def label(value: object) -> str:
        if value is None:
            return "-"
        if lang == "zh" and value in ZH_LABELS:
            return ZH_LABELS[value]
        return str(getattr(value, "value", value))

    hidden = frozenset() if reveal else personal
    name = shown("name", t.requester.name, hidden)
    contact = shown("contact", t.requester.contact, hidden)
    who = " / ".join(x for x in (shown("department", t.requester.department, hidden), name) if x)
    free = redactor(t.requester, reveal, personal)
    impact = L["blocks"] if t.impact.blocks_work else L["not_blocks"]
    if t.impact.scope:
        impact += f"; {free(t.impact.scope)}"
    if t.impact.devices:
        impact += "; " + ", ".join(t.impact.devices)
    lines = [
        f"# {L['title']}: {t.id}",
        "",
        "| | |",
        "| --- | --- |",
        f"| {L['id']} | {t.id} |",
        f"| {L['subject']} | {free(t.title)} |",
        f"| {L['status']} | {label(t.status)} |",
        f"| {L['priority']} | {label(t.priority)} |",
        f"| {L['category']} | {label(t.category)} |",
        f"| {L['requester']} | {who} |",
        f"| {L['contact']} | {contact or '-'} |",
        f"| {L['reported_at']} | {_when(t.reported_at)} |",
        f"| {L['acknowledged_at']} | {_when(t.acknowledged_at)} |",
        f"| {L['assigned_at']} | {_when(t.assigned_at)} |",
        f"| {L['accepted_at']} | {_when(t.accepted_at)} |",
        f"| {L['resolved_at']} | {_when(t.resolution.at if t.resolution else None)} |",
        f"| {L['closed_at']} | {_when(t.closed_at)} |",
        f"| {L['duration']} | {handling_time(t, lang)} |",
        f"| {L['people']} | {', '.join(people_involved(t)) or '-'} |",
        "",
        f"## {L['description']}",
        "",
        free(t.description or t.title),
        "",
        f"**{L['impact']}:** {impact}",
        "",
        f"## {L['solution']}",
        "",
    ]
    if t.resolution:
        verified = f" ({L['verified']})" if t.resolution.verified_by_requester else ""
        lines.append(f"{free(t.resolution.summary)}{verified}")
    else:
        lines.append(L["none"])
    lines += ["", f"## {L['steps']}", ""]
    for i, step in enumerate(t.log, 1):
        kind = word(step.kind.value, lang, KINDS_ZH)
        lines.append(f"{i}. {_when(step.at)} {step.by} ({kind}): {free(log_text(step.text, lang))}")
    if t.escalations:
        lines += ["", f"## {L['escalations']}", ""]
        for e in t.escalations:
            eta = f", {L['eta']} {_when(e.eta)}" if e.eta else ""
            level = word(e.level, lang, LEVELS_ZH)
            reason = free(escalation_reason(e.reason, lang))
            lines.append(f"- {_when(e.at)} → {level} {e.to}: {reason}{eta}")
    lines += ["", f"## {L['feedback']}", ""]
    if t.followup:
        f = t.followup

        def sat(s: Satisfaction) -> str:
            return label(s)

        lines.append(
            f"{L['speed']}: {sat(f.speed)}; {L['attitude']}: {sat(f.attitude)}; "
            f"{L['overall']}: {sat(f.overall)}" + (f" — {free(f.comment)}" if f.comment else "")
        )
    else:
        lines.append(L["no_followup"])
    if t.remarks:
        lines += ["", f"## {L['remarks']}", "", free(t.remarks)]
    return "\n".join(lines) + "\n"
