"""What list and show print: filtering, sorting and rendering tickets for people and programs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..core.i18n import CHANNELS_ZH, KINDS_ZH, LEVELS_ZH, escalation_reason, log_text, subject, word
from ..core.privacy import DEFAULT_PERSONAL, redactor, shown
from ..core.values import (
    ZH_LABELS,
    Category,
    Priority,
    Status,
    parse_category,
    parse_priority,
    parse_status,
)

if TYPE_CHECKING:
    from ..core.model import Ticket
    from ..store.history import HistoryEntry


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
            teams=frozenset(t.casefold() for t in team) or None,
            assignees=frozenset(a.casefold() for a in assignee) or None,
            text=text.strip().lower() if text and text.strip() else None,
            include_all=include_all,
        )

    def matches(self, d: Mapping[str, Any]) -> bool:
        """Does ticket data ``d`` (the YAML's keys) pass the filter?"""
        status = d["status"]
        if self.statuses is not None:
            if status not in {s.value for s in self.statuses}:
                return False
        elif not self.include_all and status in _FINAL:
            return False
        if self.priorities is not None and d.get("priority") not in {
            p.value for p in self.priorities
        }:
            return False
        if self.categories is not None and d.get("category") not in {
            c.value for c in self.categories
        }:
            return False
        # names in any letter case: --assignee Zhang is zhang
        if self.teams is not None and _folded(d.get("team")) not in self.teams:
            return False
        if self.assignees is not None and _folded(d.get("assignee")) not in self.assignees:
            return False
        return self.text is None or all(w in _haystack(d) for w in self.text.split())


_FINAL = frozenset({Status.CLOSED.value, Status.CANCELLED.value})


def _folded(name: Any) -> str | None:
    return name.casefold() if isinstance(name, str) else None


def _haystack(d: Mapping[str, Any]) -> str:
    req = d.get("requester") or {}
    imp = d.get("impact") or {}
    res = d.get("resolution") or {}
    parts = [
        d["id"],
        d["title"],
        d.get("description") or "",
        req.get("name") or "",
        str(req.get("employee_id") or ""),
        str(req.get("contact") or ""),
        req.get("department") or "",
        imp.get("scope") or "",
        " ".join(imp.get("devices") or ()),
        d.get("remarks") or "",
        res.get("summary") or "",
        *(e.get("text", "") for e in d.get("log") or ()),
    ]
    return "\n".join(parts).lower()


def filter_tickets(
    tickets: Iterable[Mapping[str, Any]], flt: TicketFilter
) -> list[Mapping[str, Any]]:
    return [d for d in tickets if flt.matches(d)]


_STATUS_ORDER = {s.value: i for i, s in enumerate(Status)}


def _id_key(d: Mapping[str, Any]) -> tuple[str, int]:
    prefix_date, _, seq = d["id"].rpartition("-")
    return prefix_date, int(seq) if seq.isdigit() else 0


SORT_KEYS = ("id", "reported_at", "priority", "status", "assignee")  # what sort_tickets reads


def sort_tickets(
    tickets: list[Mapping[str, Any]], key: str, reverse: bool = False
) -> list[Mapping[str, Any]]:
    keys: dict[str, Any] = {
        "id": _id_key,
        "reported": lambda d: (datetime.fromisoformat(d["reported_at"]), _id_key(d)),
        "priority": lambda d: (d.get("priority") or "P9", _id_key(d)),
        "status": lambda d: (_STATUS_ORDER[d["status"]], _id_key(d)),
        "assignee": lambda d: (d.get("assignee") or "\uffff", _id_key(d)),
    }
    return sorted(tickets, key=keys[key], reverse=reverse)


COLUMNS = ("id", "status", "priority", "category", "assignee", "reported_at", "title")
HEADERS = {
    "en": ("ID", "Status", "Priority", "Category", "Assignee", "Reported", "Title"),
    "zh": ("工单编号", "状态", "问题分级", "问题类型", "处理人", "提交时间", "标题"),
}
_ENUMS: dict[str, type[Enum]] = {"status": Status, "priority": Priority, "category": Category}


def _label(value: Any, lang: str) -> str:
    if value is None:
        return "-"
    if lang == "zh" and value in ZH_LABELS:
        return ZH_LABELS[value]
    return str(getattr(value, "value", value))


def _cell(d: Mapping[str, Any], column: str, lang: str) -> str:
    value = d.get(column)
    if value is None:
        return "-"
    if column in _ENUMS:
        return _label(_ENUMS[column](value), lang)
    if column == "reported_at":
        return str(value)[:16].replace("T", " ")
    if column == "title" and len(value) > 48:
        return str(value[:47]) + "…"
    return str(value)


def _cells(tickets: list[Mapping[str, Any]], lang: str) -> list[tuple[str, ...]]:
    """The table's cells of ``tickets``, as :func:`_cell` gives them, worked out a column
    at a time, and once per distinct value where values repeat (states, priorities,
    categories, names): 100,000 rows of ``list --all`` in a fraction of a second."""
    columns = []
    for column in COLUMNS:
        values = [d.get(column) for d in tickets]
        if column == "id":
            columns.append(["-" if v is None else str(v) for v in values])
        elif column == "reported_at":
            columns.append(["-" if v is None else str(v)[:16].replace("T", " ") for v in values])
        elif column == "title":
            columns.append(["-" if v is None else _cell({column: v}, column, lang) for v in values])
        else:
            cells = {v: _cell({column: v}, column, lang) for v in set(values)}
            columns.append([cells[v] for v in values])
    return list(zip(*columns, strict=True))


table_cells, id_key = _cells, _id_key  # (for the rows itdesk.quicklist keeps)


def render_list(
    tickets: list[Mapping[str, Any]],
    fmt: str,
    lang: str = "en",
    max_width: int | None = None,
    style: Callable[[Mapping[str, Any], str, str], str] | None = None,
) -> str:
    """JSON, CSV or a table (fitted to ``max_width`` columns by cutting titles);
    ``style(ticket, column, cell)`` gives each cell of the table as it is shown (made
    safe for a terminal, coloured), after the fitting."""
    if fmt == "json":
        return json.dumps(list(tickets), ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for d in tickets:
            writer.writerow([d.get(c) if d.get(c) is not None else "" for c in COLUMNS])
        return out.getvalue()
    if not tickets:
        return "没有工单。" if lang == "zh" else "No tickets."
    from .table import render

    rows = _cells(tickets, lang)
    if style is None:
        return render(HEADERS[lang], rows, max_width)
    from .table import fit

    fitted = fit(HEADERS[lang], rows, max_width)
    styled = [[style(d, c, cell) for c, cell in zip(COLUMNS, row, strict=True)]
              for d, row in zip(tickets, fitted, strict=True)]  # fmt: skip
    return render(HEADERS[lang], styled)


def render_ticket(
    t: Ticket,
    history: list[HistoryEntry],
    lang: str = "en",
    reveal: bool = False,
    personal: frozenset[str] = DEFAULT_PERSONAL,
) -> str:
    zh = lang == "zh"
    hidden = frozenset() if reveal else personal
    name = shown("name", t.requester.name, hidden)
    contact = shown("contact", t.requester.contact, hidden)
    department = shown("department", t.requester.department, hidden)
    employee_id = shown("employee_id", t.requester.employee_id, hidden)
    free = redactor(t.requester, reveal, personal)

    def when(v: Any) -> str:
        return v.strftime("%Y-%m-%d %H:%M") if v else "-"

    fields = [
        ("工单编号" if zh else "ID", t.id),
        ("标题" if zh else "Title", free(t.title)),
        ("状态" if zh else "Status", _label(t.status, lang)),
        ("问题分级" if zh else "Priority", _label(t.priority, lang)),
        ("问题类型" if zh else "Category", _label(t.category, lang)),
        (
            "提交人" if zh else "Requester",
            " / ".join(x for x in (department, name, employee_id) if x),
        ),
        ("联系方式" if zh else "Contact", contact or "-"),
        (
            "渠道" if zh else "Channel",
            word(t.channel.value if t.channel else None, lang, CHANNELS_ZH),
        ),
        (
            "影响工作" if zh else "Blocks work",
            ("是" if zh else "yes") if t.impact.blocks_work else ("否" if zh else "no"),
        ),
        ("影响范围" if zh else "Scope", free(t.impact.scope or "-")),
        ("设备" if zh else "Devices", ", ".join(t.impact.devices) or "-"),
        ("提交时间" if zh else "Reported", when(t.reported_at)),
        ("期望解决" if zh else "Expected by", when(t.expected_by)),
        ("受理时间" if zh else "Acknowledged", when(t.acknowledged_at)),
        ("处理组" if zh else "Team", t.team or "-"),
        ("处理人" if zh else "Assignee", t.assignee or "-"),
        ("分配时间" if zh else "Assigned", when(t.assigned_at)),
        ("接单时间" if zh else "Accepted", when(t.accepted_at)),
        ("关闭时间" if zh else "Closed", when(t.closed_at)),
    ]
    from .table import width as display_width

    widest = max(display_width(k) for k, _ in fields)
    lines = [f"{k}{' ' * (widest - display_width(k))}  {v}" for k, v in fields]
    if t.description:
        lines += ["", "问题描述:" if zh else "Description:", _indent(free(t.description))]
    if t.resolution:
        r = t.resolution
        check = ("（已与用户确认）" if zh else " (verified)") if r.verified_by_requester else ""
        lines += [
            "",
            ("解决方案" if zh else "Resolution") + f" ({when(r.at)}, {r.by}){check}:",
            _indent(free(r.summary)),
        ]
    if t.followup:
        f = t.followup
        lines += [
            "",
            ("回访" if zh else "Follow-up")
            + f" ({when(f.at)}, {f.by}): "
            + (
                f"处理速度 {_label(f.speed, lang)}，服务态度 {_label(f.attitude, lang)}，"
                f"总体评价 {_label(f.overall, lang)}"
                if zh
                else f"speed {_label(f.speed, lang)}, attitude {_label(f.attitude, lang)}, "
                f"overall {_label(f.overall, lang)}"
            )
            + (f"; {free(f.comment)}" if f.comment else ""),
        ]
    if t.escalations:
        lines += ["", "升级记录:" if zh else "Escalations:"]
        for e in t.escalations:
            eta = f" ({'预计解决' if zh else 'ETA'} {when(e.eta)})" if e.eta else ""
            level = word(e.level, lang, LEVELS_ZH)
            reason = free(escalation_reason(e.reason, lang))
            lines.append(f"  {when(e.at)}  {level} {e.to}: {reason}{eta}")
    lines += ["", "处理过程:" if zh else "Log:"]
    for entry in t.log:
        kind = word(entry.kind.value, lang, KINDS_ZH)
        text = free(log_text(entry.text, lang))
        lines.append(f"  {when(entry.at)}  {_padded(entry.by, 10)} {_padded(kind, 8)} {text}")
    if t.attachments:
        lines += ["", "附件:" if zh else "Attachments:"]
        lines += [f"  {rel}" for rel in t.attachments]
    if t.remarks:
        lines += ["", "备注:" if zh else "Remarks:", _indent(free(t.remarks))]
    if history:
        lines += ["", "提交记录:" if zh else "Commits:"]
        for h in history:
            subject_line = free(subject(h.subject, lang))
            lines.append(f"  {h.commit[:8]}  {when(h.when)}  {_padded(h.who, 10)} {subject_line}")
    return "\n".join(lines)


def _padded(text: str, columns: int) -> str:
    from .table import width as display_width

    return text + " " * max(columns - display_width(text), 0)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
