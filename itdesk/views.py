"""What list and show print: filtering, sorting and rendering tickets for people and programs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .history import HistoryEntry
from .model import (
    ZH_LABELS,
    Category,
    Priority,
    Status,
    Ticket,
    parse_category,
    parse_priority,
    parse_status,
    ticket_to_dict,
)
from .privacy import mask_contact, mask_name


@dataclass(frozen=True, slots=True)
class TicketFilter:
    statuses: frozenset[Status] | None = None
    priorities: frozenset[Priority] | None = None
    categories: frozenset[Category] | None = None
    teams: frozenset[str] | None = None
    assignees: frozenset[str] | None = None
    text: str | None = None
    include_all: bool = False

    @classmethod
    def parse(
        cls,
        *,
        status: Sequence[str] = (),
        priority: Sequence[str] = (),
        category: Sequence[str] = (),
        team: Sequence[str] = (),
        assignee: Sequence[str] = (),
        text: str | None = None,
        include_all: bool = False,
    ) -> TicketFilter:
        return cls(
            statuses=frozenset(parse_status(s) for s in status) or None,
            priorities=frozenset(parse_priority(p) for p in priority) or None,
            categories=frozenset(parse_category(c) for c in category) or None,
            teams=frozenset(team) or None,
            assignees=frozenset(assignee) or None,
            text=text.strip().lower() if text and text.strip() else None,
            include_all=include_all,
        )

    def matches(self, t: Ticket) -> bool:
        if self.statuses is not None:
            if t.status not in self.statuses:
                return False
        elif not self.include_all and not t.status.is_open:
            return False
        if self.priorities is not None and t.priority not in self.priorities:
            return False
        if self.categories is not None and t.category not in self.categories:
            return False
        if self.teams is not None and t.team not in self.teams:
            return False
        if self.assignees is not None and t.assignee not in self.assignees:
            return False
        return self.text is None or all(w in _haystack(t) for w in self.text.split())


def _haystack(t: Ticket) -> str:
    parts = [t.id, t.title, t.description, t.requester.name, t.requester.department or "",
             t.impact.scope or "", " ".join(t.impact.devices), t.remarks or "",
             t.resolution.summary if t.resolution else "", *(e.text for e in t.log)]  # fmt: skip
    return "\n".join(parts).lower()


def filter_tickets(tickets: Iterable[Ticket], flt: TicketFilter) -> list[Ticket]:
    return [t for t in tickets if flt.matches(t)]


_STATUS_ORDER = {s: i for i, s in enumerate(Status)}


def sort_tickets(tickets: list[Ticket], key: str, reverse: bool = False) -> list[Ticket]:
    keys: dict[str, Any] = {
        "id": lambda t: (t.reported_at.date(), t.id),
        "reported": lambda t: (t.reported_at, t.id),
        "priority": lambda t: (t.priority.value if t.priority else "P9", t.id),
        "status": lambda t: (_STATUS_ORDER[t.status], t.id),
        "assignee": lambda t: (t.assignee or "\uffff", t.id),
    }
    return sorted(tickets, key=keys[key], reverse=reverse)


COLUMNS = ("id", "status", "priority", "category", "assignee", "reported_at", "title")
HEADERS = {
    "en": ("ID", "Status", "Priority", "Category", "Assignee", "Reported", "Title"),
    "zh": ("工单编号", "状态", "问题分级", "问题类型", "处理人", "提交时间", "标题"),
}


def _label(value: Any, lang: str) -> str:
    if value is None:
        return "-"
    if lang == "zh" and value in ZH_LABELS:
        return ZH_LABELS[value]
    return str(getattr(value, "value", value))


def _row(t: Ticket, lang: str) -> list[str]:
    title = t.title if len(t.title) <= 48 else t.title[:47] + "…"
    return [t.id, _label(t.status, lang), _label(t.priority, lang), _label(t.category, lang),
            t.assignee or "-", t.reported_at.strftime("%Y-%m-%d %H:%M"), title]  # fmt: skip


def render_list(tickets: list[Ticket], fmt: str, lang: str = "en") -> str:
    if fmt == "json":
        return json.dumps([ticket_to_dict(t) for t in tickets], ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for t in tickets:
            d = ticket_to_dict(t)
            writer.writerow([d[c] if d[c] is not None else "" for c in COLUMNS])
        return out.getvalue()
    if not tickets:
        return "没有工单" if lang == "zh" else "No tickets."
    from tabulate import tabulate

    return tabulate([_row(t, lang) for t in tickets], headers=HEADERS[lang], tablefmt="simple")


def render_ticket(
    t: Ticket, history: list[HistoryEntry], lang: str = "en", reveal: bool = False
) -> str:
    zh = lang == "zh"
    name = t.requester.name if reveal else mask_name(t.requester.name)
    contact = t.requester.contact if reveal else mask_contact(t.requester.contact)

    def when(v: Any) -> str:
        return v.strftime("%Y-%m-%d %H:%M") if v else "-"

    fields = [
        ("工单编号" if zh else "ID", t.id),
        ("标题" if zh else "Title", t.title),
        ("状态" if zh else "Status", _label(t.status, lang)),
        ("问题分级" if zh else "Priority", _label(t.priority, lang)),
        ("问题类型" if zh else "Category", _label(t.category, lang)),
        ("提交人" if zh else "Requester", " / ".join(
            x for x in (t.requester.department, name, t.requester.employee_id) if x)),
        ("联系方式" if zh else "Contact", contact or "-"),
        ("渠道" if zh else "Channel", _label(t.channel, lang)),
        ("影响工作" if zh else "Blocks work", ("是" if zh else "yes") if t.impact.blocks_work
         else ("否" if zh else "no")),
        ("影响范围" if zh else "Scope", t.impact.scope or "-"),
        ("设备" if zh else "Devices", ", ".join(t.impact.devices) or "-"),
        ("提交时间" if zh else "Reported", when(t.reported_at)),
        ("期望解决" if zh else "Expected by", when(t.expected_by)),
        ("受理时间" if zh else "Acknowledged", when(t.acknowledged_at)),
        ("处理组" if zh else "Team", t.team or "-"),
        ("处理人" if zh else "Assignee", t.assignee or "-"),
        ("分配时间" if zh else "Assigned", when(t.assigned_at)),
        ("接单时间" if zh else "Accepted", when(t.accepted_at)),
        ("关闭时间" if zh else "Closed", when(t.closed_at)),
    ]  # fmt: skip
    width = max(len(k) for k, _ in fields)
    lines = [f"{k:<{width}}  {v}" for k, v in fields]
    if t.description:
        lines += ["", "问题描述:" if zh else "Description:", _indent(t.description)]
    if t.resolution:
        r = t.resolution
        check = " (verified)" if r.verified_by_requester else ""
        lines += ["", ("解决方案" if zh else "Resolution") + f" ({when(r.at)}, {r.by}){check}:",
                  _indent(r.summary)]  # fmt: skip
    if t.followup:
        f = t.followup
        lines += [
            "",
            ("回访" if zh else "Follow-up") + f" ({when(f.at)}, {f.by}): "
            f"speed {_label(f.speed, lang)}, attitude {_label(f.attitude, lang)}, "
            f"overall {_label(f.overall, lang)}" + (f"; {f.comment}" if f.comment else ""),
        ]
    if t.escalations:
        lines += ["", "升级记录:" if zh else "Escalations:"]
        for e in t.escalations:
            eta = f" (ETA {when(e.eta)})" if e.eta else ""
            lines.append(f"  {when(e.at)}  {e.level} {e.to}: {e.reason}{eta}")
    lines += ["", "处理过程:" if zh else "Log:"]
    for entry in t.log:
        lines.append(f"  {when(entry.at)}  {entry.by:<10} {entry.kind.value:<8} {entry.text}")
    if t.remarks:
        lines += ["", "备注:" if zh else "Remarks:", _indent(t.remarks)]
    if history:
        lines += ["", "提交记录:" if zh else "Commits:"]
        for h in history:
            lines.append(f"  {h.commit[:8]}  {when(h.when)}  {h.who:<10} {h.subject}")
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
