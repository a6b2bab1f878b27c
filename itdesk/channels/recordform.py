"""The record form (问题处理记录表): tickets to its columns and sheets back to tickets.

The process document keeps its records in a spreadsheet with 13 columns (ticket number,
submitted at, submitter, contact, description, priority, category, handler, handling
steps, result, feedback, closed at, remarks). :func:`ticket_row` fills one row the way
the document writes it (``二级(重要)``, ``1.…;2.…``, ``升级处理(厂商协调中)``, ``待回访``),
then the :data:`EXTRA_COLUMNS` after them: what the form lacks for a ticket to come back
whole (its status, the resolution summary, each satisfaction answer...). Personal data
is masked unless revealed, and a masked sheet is refused on import (it cannot make
true tickets).

:func:`parse_records` reads a sheet back, with or without the extra columns, checking
every row before anything is made (an import is all or nothing); :func:`build_ticket`
replays a row through the lifecycle functions, so that an imported ticket's status
history is one the status machine allows. :class:`DeskIndex` recognizes rows already
on a desk (by their number, the number they were imported from, or, for rows without
one, their submitted time, requester and description), so a sheet imported twice
makes its tickets once.

Pure: cells come in as values (text, numbers, datetimes from a workbook), rows go out as
text and naive datetimes in the desk's zone; reading and writing files is the
command's job.
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any, NamedTuple, Protocol, TypeVar

from ..core.ids import ID_PATTERN, format_id
from ..core.lifecycle import (
    Action,
    Change,
    accept,
    acknowledge,
    assign,
    cancel,
    classify,
    close,
    escalate,
    followup,
    log_work,
    open_ticket,
    pending,
    reopen,
    resolve,
)
from ..core.model import (
    ZH_LABELS,
    Category,
    Impact,
    LogEntry,
    LogKind,
    Priority,
    Requester,
    Satisfaction,
    Status,
    Ticket,
    evolve,
    instant,
    parse_category,
    parse_priority,
    parse_satisfaction,
    parse_status,
    ticket_to_dict,
)
from ..core.policy import Policy
from ..core.privacy import DEFAULT_PERSONAL, redactor, shown
from ..errors import InvalidValue, UsageError

COLUMNS = (
    "id",
    "submitted_at",
    "submitter",
    "contact",
    "description",
    "priority",
    "category",
    "handler",
    "steps",
    "result",
    "feedback",
    "closed_at",
    "remarks",
)
HEADERS: dict[str, tuple[str, ...]] = {
    "zh": (
        "工单编号",
        "提交时间",
        "提交人(部门/姓名)",
        "联系方式",
        "问题描述(现象+报错信息+影响范围)",
        "问题分级(紧急/重要/一般)",
        "问题类型(硬件/软件/网络/账号/其他)",
        "处理人",
        "处理过程(步骤+操作记录)",
        "解决结果(已解决/待跟进/升级处理)",
        "用户反馈(满意/一般/不满意)",
        "关闭时间",
        "备注",
    ),
    "en": (
        "Ticket number",
        "Submitted at",
        "Submitter (department/name)",
        "Contact",
        "Description (symptom + error + impact)",
        "Priority (urgent/important/normal)",
        "Category (hardware/software/network/account/other)",
        "Handler",
        "Handling steps",
        "Result (resolved/awaiting follow-up/escalated)",
        "User feedback (satisfied/neutral/unsatisfied)",
        "Closed at",
        "Remarks",
    ),
}
# After the form's 13 columns, what it lacks for a ticket to come back whole. When a
# sheet has them, import reads the ticket's own values from them: the status instead
# of guessing it from the result, the remarks instead of the form's mixed 备注 column
# (which also holds the follow-up comment and the notes made after the result). The
# last, ``record``, holds the whole ticket as JSON (revealed exports only): each step's
# kind and time, the acknowledgement and assignment times, the channel, the expected
# time, the escalations. Import takes the ticket from it when every other cell of the
# row still says what the ticket says, so a round trip gives the same tickets back.
EXTRA_COLUMNS = (
    "status",
    "title",
    "employee_id",
    "scope",
    "team",
    "resolution",
    "resolved_at",
    "speed",
    "attitude",
    "comment",
    "ticket_remarks",
    "later_steps",
    "record",
)
EXTRA_HEADERS: dict[str, tuple[str, ...]] = {
    "zh": (
        "状态",
        "标题",
        "工号",
        "影响范围",
        "处理组",
        "解决方案",
        "解决时间",
        "速度满意度",
        "态度满意度",
        "回访意见",
        "工单备注",
        "后续记录",
        "工单记录(JSON)",
    ),
    "en": (
        "Status",
        "Title",
        "Employee number",
        "Impact scope",
        "Team",
        "Resolution summary",
        "Resolved at",
        "Satisfaction with speed",
        "Satisfaction with attitude",
        "Follow-up comment",
        "Ticket remarks",
        "Later steps",
        "Record (JSON)",
    ),
}
ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS
_COLUMN_AT = {key: i for i, key in enumerate(ALL_COLUMNS)}  # each column's place
SHEET_TITLE = {"zh": "问题处理记录表", "en": "Record form"}
TIME_FORMAT = "%Y-%m-%d %H:%M"
TIME_FORMAT_SECONDS = "%Y-%m-%d %H:%M:%S"
TIME_COLUMNS = frozenset({"submitted_at", "closed_at", "resolved_at"})
EMPTY = "-"  # the document's mark for "no closing time yet"

# A cell of an exported row: text, or a time (naive, in the desk's zone: a spreadsheet
# has no time zones) that a workbook stores as a date cell and a CSV file as text.
Cell = str | datetime

# Other names a sheet may give a column (compared without case, spaces or a trailing
# "(...)"), besides both languages' headers.
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "工单号", "单号", "ticket", "id", "number", "ticket no", "ticket id"),
    "submitted_at": ("提交日期", "报告时间", "submitted", "reported at", "reported_at"),
    "submitter": ("提交人", "报告人", "申请人", "submitter", "requester", "reported by"),
    "contact": ("联系电话", "电话", "contact", "phone"),
    "description": ("问题描述", "描述", "description", "problem"),
    "priority": ("问题分级", "分级", "优先级", "级别", "priority"),
    "category": ("问题类型", "类型", "分类", "category", "type"),
    "handler": ("处理人员", "技术人员", "handler", "assignee", "technician"),
    "steps": ("处理过程", "处理步骤", "handling steps", "steps", "handling"),
    "result": ("解决结果", "结果", "result", "outcome"),
    "feedback": ("用户反馈", "反馈", "回访结果", "user feedback", "feedback", "satisfaction"),
    "closed_at": ("关闭日期", "closed at", "closed"),
    "remarks": ("备注", "remarks", "remark", "notes", "note"),
    "status": ("工单状态", "status"),
    "title": ("标题", "title", "subject"),
    "employee_id": ("工号", "员工编号", "employee number", "employee id", "employee_id"),
    "scope": ("影响范围", "scope", "impact scope"),
    "team": ("处理组", "团队", "team"),
    "resolution": ("解决方案", "解决办法", "resolution", "resolution summary", "solution"),
    "resolved_at": ("解决时间", "resolved at", "resolved_at"),
    "speed": ("速度满意度", "响应速度", "speed"),
    "attitude": ("态度满意度", "服务态度", "attitude"),
    "comment": ("回访意见", "回访备注", "comment", "follow-up comment"),
    "ticket_remarks": ("工单备注", "ticket remarks"),
    "later_steps": ("后续记录", "later steps"),
    "record": ("工单记录", "record"),
}
REQUIRED = ("submitted_at", "submitter", "description")


class Outcome(enum.Enum):
    """The result column: what became of the ticket."""

    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"
    CLOSED = "closed"  # closed by force, never resolved


_OUTCOME_LABELS = {
    "zh": {
        Outcome.RESOLVED: "已解决",
        Outcome.FOLLOW_UP: "待跟进",
        Outcome.ESCALATED: "升级处理(厂商协调中)",
        Outcome.CANCELLED: "已取消",
        Outcome.CLOSED: "已关闭(未解决)",
    },
    "en": {
        Outcome.RESOLVED: "resolved",
        Outcome.FOLLOW_UP: "awaiting follow-up",
        Outcome.ESCALATED: "escalated (vendor)",
        Outcome.CANCELLED: "cancelled",
        Outcome.CLOSED: "closed (unresolved)",
    },
}
# Words a sheet may use, matched at the start of the cell ("升级处理(厂商协调中)"); the
# longest match wins, so "已关闭(未解决)" is not "已关闭".
_OUTCOME_WORDS = {
    Outcome.RESOLVED: (
        "已解决",
        "解决",
        "已关闭",
        "处理完成",
        "resolved",
        "solved",
        "closed",
        "done",
    ),
    Outcome.FOLLOW_UP: ("待跟进", "跟进", "处理中", "awaiting", "follow", "open", "in progress"),
    Outcome.ESCALATED: ("升级处理", "升级", "escalated", "vendor"),
    Outcome.CANCELLED: ("已取消", "取消", "cancelled", "canceled"),
    Outcome.CLOSED: (
        "已关闭(未解决)",
        "未解决",
        "closed (unresolved)",
        "closed unresolved",
        "closed without",
        "unresolved",
    ),
}
# The results each status can show (a sheet with a status column must agree with it).
_OUTCOMES_OF_STATUS = {
    Status.PENDING_VENDOR: {Outcome.ESCALATED},
    Status.RESOLVED: {Outcome.RESOLVED},
    Status.CLOSED: {Outcome.RESOLVED, Outcome.CLOSED},
    Status.CANCELLED: {Outcome.CANCELLED},
}
# Statuses reached only through assign (and accept): they need the handler.
_NEEDS_HANDLER = frozenset(
    {
        Status.ASSIGNED,
        Status.IN_PROGRESS,
        Status.PENDING_USER,
        Status.PENDING_VENDOR,
        Status.RESOLVED,
        Status.REOPENED,
    }
)
_NO_FEEDBACK = {"zh": "待回访", "en": "awaiting call-back"}
_NO_FEEDBACK_WORDS = ("待回访", "未回访", "awaiting", "pending", "none")
_VENDOR_REMARK = {"zh": "需跟进厂商解决进度", "en": "follow up on the vendor's progress"}
_SEPARATOR = {"zh": "；", "en": "; "}
_EN_PRIORITY = {
    Priority.P1: "P1 (urgent)",
    Priority.P2: "P2 (important)",
    Priority.P3: "P3 (normal)",
}
_WORK_KINDS = frozenset({LogKind.PHONE, LogKind.REMOTE, LogKind.ONSITE, LogKind.NOTE})
# lifecycle.followup logs the call-back as a phone entry; it is feedback, not a step.
_FOLLOWUP_PREFIX = "follow-up call:"
_STEP_NUMBER = re.compile(r"^\s*(\d+)\s*[.、．)）]\s*")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
IMPORT_VENDOR = "vendor"
E = TypeVar("E")


# ------------------------------------------------------------------------ export


def headers(lang: str, extra: bool = True) -> list[str]:
    """The header row: the form's 13 columns, then (``extra``) the extra ones."""
    lang = "zh" if lang == "zh" else "en"
    return [*HEADERS[lang], *(EXTRA_HEADERS[lang] if extra else ())]


def _when(value: datetime | None, tz: tzinfo) -> Cell:
    """A time as the desk's wall-clock time (a date cell in a workbook), or ''."""
    return value.astimezone(tz).replace(tzinfo=None) if value else ""


def cell_text(cell: Cell) -> str:
    """A cell as CSV text: a time as ``2023-10-25 09:30`` (with seconds when it has any)."""
    if isinstance(cell, datetime):
        return cell.strftime(TIME_FORMAT_SECONDS if cell.second else TIME_FORMAT)
    return cell


def outcome_of(t: Ticket) -> Outcome:
    if t.status is Status.CLOSED and t.resolution is None:
        return Outcome.CLOSED
    if t.status in (Status.RESOLVED, Status.CLOSED):
        return Outcome.RESOLVED
    if t.status is Status.PENDING_VENDOR:
        return Outcome.ESCALATED
    if t.status is Status.CANCELLED:
        return Outcome.CANCELLED
    return Outcome.FOLLOW_UP


def _outcome_index(t: Ticket) -> int | None:
    """The log entry where the ticket reached its result (resolved, handed to the
    vendor, closed, cancelled): work logged before it is a handling step, work logged
    after it (a call telling the employee the vendor's ETA) is a remark."""
    wanted = {
        Status.RESOLVED: (Status.RESOLVED,),
        Status.CLOSED: (Status.RESOLVED, Status.CLOSED),
        Status.PENDING_VENDOR: (Status.PENDING_VENDOR,),
        Status.CANCELLED: (Status.CANCELLED,),
    }.get(t.status)
    if wanted is None:
        return None
    if t.status is Status.CLOSED and t.resolution is None:
        wanted = (Status.CLOSED,)  # reopened and then closed by force
    for status in wanted:
        for i in range(len(t.log) - 1, -1, -1):
            if t.log[i].status is status:
                return i
    return None


def _work(t: Ticket) -> tuple[list[str], list[str]]:
    """(handling steps, later notes): the texts of phone/remote/onsite/note entries."""
    cut = _outcome_index(t)
    steps: list[str] = []
    later: list[str] = []
    for i, entry in enumerate(t.log):
        if entry.kind not in _WORK_KINDS or entry.text.startswith(_FOLLOWUP_PREFIX):
            continue
        text = " ".join(entry.text.split())
        (later if cut is not None and i > cut else steps).append(text)
    return steps, later


def format_steps(steps: Sequence[str]) -> str:
    """``1.检查驱动;2.重置网络配置``; a step already written as ``2.…`` in the second
    place keeps its own number instead of getting a second one."""
    out = []
    for i, step in enumerate(steps, 1):
        m = _STEP_NUMBER.match(step)
        if m and int(m.group(1)) == i:
            step = step[m.end() :]
        out.append(f"{i}.{step}")
    return ";".join(out)


def split_steps(text: str) -> list[str]:
    """The inverse of :func:`format_steps`; also takes one step per line, or ``;``-separated
    steps without numbers. Only the next number in sequence starts a new step, so a step
    may contain ``;`` or a number of its own."""
    text = text.strip()
    first = re.match(r"^\s*1\s*[.、．)）]\s*", text)
    if not first:
        return [s.strip() for s in re.split(r"[;；\n]+", text) if s.strip()]
    rest, steps, k = text[first.end() :], [], 2
    while True:
        m = re.search(rf"[;；\n]\s*{k}\s*[.、．)）]\s*", rest)
        if m is None:
            steps.append(rest)
            break
        steps.append(rest[: m.start()])
        rest, k = rest[m.end() :], k + 1
    return [s.strip().rstrip(";；").strip() for s in steps if s.strip().rstrip(";；").strip()]


def _commas(text: str) -> tuple[str, ...]:
    """The commas that may join a description and its scope, the likeliest first."""
    if "，" in text:
        return ("，",)
    return (",", "，", ", ") if _CJK.search(text) else (", ", ",", "，")


def describe(description: str, title: str, scope: str | None) -> str:
    """Symptom and error text, then the impact's scope (the form's one column)."""
    text = (description or title).strip()
    scope = (scope or "").strip()
    # Added unless the text holds it already; also when the text ends with it after a
    # comma, which import would otherwise take for the added scope and cut off.
    if scope and (scope not in text or _without_scope(text, scope) != text):
        # The text's own comma: full-width, else the document's "," after Chinese.
        text = f"{text}{_commas(text)[0]}{scope}" if text else scope
    return text


def _description(t: Ticket) -> str:
    return describe(t.description, t.title, t.impact.scope)


def _without_scope(text: str, scope: str | None) -> str:
    """The inverse of :func:`describe`: the description without the scope it added."""
    if not scope or text == scope:
        return text
    for comma in _commas(text[: -len(scope)]):
        if text.endswith(comma + scope):
            return text[: -len(comma + scope)].rstrip()
    return text


_TIMES = re.compile(r"(?<!\d)(\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)(?!\d)")


def _as_is(text: str) -> str:
    return text


def _keeping_times(redact: Callable[[str], str]) -> Callable[[str], str]:
    """``redact``, applied around dates and times: its phone-number pattern would
    otherwise mask ``2023-10-26 18:00`` in a remark as ``202*****18:00``."""

    def apply(text: str) -> str:
        parts = _TIMES.split(text)
        return "".join(p if i % 2 else redact(p) for i, p in enumerate(parts))

    return apply


def _label(value: Priority | Category | Satisfaction | Status | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "zh":
        return ZH_LABELS[value]
    if isinstance(value, Priority):
        return _EN_PRIORITY[value]
    return str(value.value)


def ticket_row(
    t: Ticket,
    *,
    lang: str,
    reveal: bool,
    tz: tzinfo,
    personal: frozenset[str] = DEFAULT_PERSONAL,
    extra: bool = True,
    whole: bool = True,
) -> list[Cell]:
    """One row of the record form, in :data:`ALL_COLUMNS` order (:data:`COLUMNS` only
    without ``extra``); without ``whole``, the record cell is left empty (its JSON is
    not made)."""
    lang = "zh" if lang == "zh" else "en"
    # (revealed: the texts as they are, not split around their times for nothing)
    free = _as_is if reveal else _keeping_times(redactor(t.requester, reveal, personal))
    req = t.requester
    hidden = frozenset() if reveal else personal
    name = shown("name", req.name, hidden) or ""
    department = shown("department", req.department, hidden)
    submitter = f"{department}/{name}" if department else name
    contact = shown("contact", req.contact, hidden) or ""
    handler = shown("handler", t.assignee, hidden) or ""
    steps, later = _work(t)
    outcome = outcome_of(t)
    if t.followup is not None:
        feedback = _label(t.followup.overall, lang)
    elif not t.status.is_open:  # closed by force, or cancelled: nobody will call back
        feedback = ""
    else:
        feedback = _NO_FEEDBACK[lang]
    remarks = [x for x in (t.followup.comment if t.followup else None, t.remarks) if x]
    remarks += later
    if outcome is Outcome.ESCALATED and not any(
        phrase in r for r in remarks for phrase in _VENDOR_REMARK.values()
    ):
        remarks.append(_VENDOR_REMARK[lang])
    row: list[Cell] = [
        t.id,
        _when(t.reported_at, tz),
        submitter,
        contact,
        free(_description(t)),
        _label(t.priority, lang),
        _label(t.category, lang),
        handler,
        free(format_steps(steps)),
        _OUTCOME_LABELS[lang][outcome],
        feedback,
        _when(t.closed_at, tz) or EMPTY,
        free(_SEPARATOR[lang].join(dict.fromkeys(remarks))),
    ]
    if not extra:
        return row
    res, fu = t.resolution, t.followup
    row += [
        _label(t.status, lang),
        free(t.title),
        shown("employee_id", req.employee_id, hidden) or "",
        free(t.impact.scope or ""),
        t.team or "",
        free(res.summary) if res else "",
        _when(res.at if res else None, tz),
        _label(fu.speed if fu else None, lang),
        _label(fu.attitude if fu else None, lang),
        free(fu.comment or "") if fu else "",
        free(t.remarks or ""),
        free(format_steps(later)),
        record_cell(t) if reveal and whole else "",
    ]
    return row


CELL_MAX = 32_767  # the most characters a spreadsheet cell holds (Excel's limit)


def record_cell(t: Ticket) -> str:
    """The ticket as compact JSON for the ``record`` column, or "" when it would not fit
    in a cell (the ticket then comes back from the other columns)."""
    import json

    text = json.dumps(ticket_to_dict(t), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= CELL_MAX else ""


# Excel runs a cell that starts with = + - @ as a formula, also after leading spaces,
# tabs or line breaks ("\t=cmd|..."); a number such as -12 or +86 139... is left alone.
_FORMULA = re.compile(r"^\s*(?:[=@]|[+-](?![\d\s-]*$))")


def csv_safe(cell: str) -> str:
    """A cell Excel will not run as a formula (``=HYPERLINK(…)`` typed by a requester):
    such text gets a leading ``'``, which :func:`parse_records` removes again."""
    return "'" + cell if _FORMULA.match(cell) else cell


def id_key(t: Ticket) -> tuple[str, int, str]:
    m = ID_PATTERN.fullmatch(t.id)
    if m is None:
        return ("", 0, t.id)
    return (m.group("date"), int(m.group("seq")), t.id)


def export_rows(
    tickets: Iterable[Ticket],
    *,
    lang: str,
    reveal: bool,
    tz: tzinfo,
    personal: frozenset[str] = DEFAULT_PERSONAL,
    extra: bool = True,
) -> list[list[Cell]]:
    """The header and one row per ticket, in the order of their numbers (day, sequence).
    Without ``extra``, the form's 13 columns only."""
    rows: list[list[Cell]] = [list(headers(lang, extra))]
    for t in sorted(tickets, key=id_key):
        rows.append(ticket_row(t, lang=lang, reveal=reveal, tz=tz, personal=personal, extra=extra))
    return rows


# ------------------------------------------------------------------------ import


class InvalidRecord(UsageError):
    """A row of an imported sheet that cannot become a ticket."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        self.row = row
        self.column = column
        where = ", ".join(x for x in (f"row {row}" if row else "", column or "") if x)
        super().__init__(f"{where}: {message}" if where else message)


class MaskedSheet(InvalidRecord):
    """A sheet exported without --reveal: its names and contacts are masks, not data."""


@dataclass(frozen=True, slots=True)
class Record:
    """One checked row of the sheet; ``row`` is its number in the spreadsheet.

    ``status`` is the status the ticket ends in (the status column's, else the one the
    result implies) and ``resolved`` whether it is resolved on the way. The fields after
    them come from the extra columns (None when empty or absent; ``columns`` says which
    columns the sheet has)."""

    row: int
    number: str | None
    reported_at: datetime
    name: str
    department: str | None
    contact: str | None
    description: str
    priority: Priority | None
    category: Category | None
    handler: str | None
    steps: tuple[str, ...]
    outcome: Outcome
    feedback: Satisfaction | None
    closed_at: datetime | None
    remarks: str | None
    status: Status
    resolved: bool
    title: str | None = None
    employee_id: str | None = None
    scope: str | None = None
    team: str | None = None
    resolution: str | None = None
    resolved_at: datetime | None = None
    speed: Satisfaction | None = None
    attitude: Satisfaction | None = None
    comment: str | None = None
    ticket_remarks: str | None = None
    later_steps: tuple[str, ...] = ()
    columns: frozenset[str] = field(default=frozenset(COLUMNS), repr=False)
    ticket: Ticket | None = field(default=None, repr=False)  # the record column's
    # whether the file of ``ticket`` (its ``ticket_to_dict``) is the very data the schema
    # passed in the record cell: then it needs no second check when written (#12)
    checked: bool = field(default=False, repr=False, compare=False)
    # with ``checked``: that data, in ``ticket_to_dict``'s order, to be written as it is
    data: dict[str, Any] | None = field(default=None, repr=False, compare=False)


class RecordKey(NamedTuple):
    """What an import keeps in memory of each checked row (the records themselves wait
    in a temporary file): enough to number it and to find it on the desk. The
    description is kept only for a row without a number (see :meth:`DeskIndex.holding`)."""

    row: int
    number: str | None
    reported_at: datetime
    name: str
    description: str | None

    @classmethod
    def of(cls, record: Record | WholeRow) -> RecordKey:
        """A row with a record cell is known by its ticket's own time and requester's
        name, as the desk holds them: the submitter column reads "财务部/赵强" as the
        department and the name, and a ticket whose name is all of it was imported
        again as a new one."""
        ticket = record.ticket
        if ticket is not None:
            reported, name = ticket.reported_at, ticket.requester.name
        else:
            reported, name = record.reported_at, record.name
        description = None
        if not isinstance(record, WholeRow) and record.number is None:
            description = record.description
        return cls(record.row, record.number, reported, name, description)


# Fields of a Record that come from a column of another name.
_FIELD_COLUMN = {
    "number": "id",
    "reported_at": "submitted_at",
    "name": "submitter",
    "department": "submitter",
    "outcome": "result",
    "status": "status",
    "resolved": "result",
}


def _shown(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, tuple):
        return repr("; ".join(map(str, value)))
    return "nothing" if value is None else repr(value)


@functools.lru_cache(maxsize=4096)  # the same few words in every row of a big sheet (#12)
def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip().lower()
    return _SPACES.sub(" ", text)


_SPACES = re.compile(r"\s+")


def _without_note(text: str) -> str:
    """``问题分级(紧急/重要/一般)`` -> ``问题分级``."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", text).strip()


def _all_headers(lang: str) -> tuple[str, ...]:
    return HEADERS[lang] + EXTRA_HEADERS[lang]


def _header_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for key, aliases in _ALIASES.items():
        for lang in ("zh", "en"):
            header = _norm(_all_headers(lang)[ALL_COLUMNS.index(key)])
            names[header] = names[_without_note(header)] = key
        for alias in aliases:
            names[_norm(alias)] = key
    names.update({key: key for key in ALL_COLUMNS})
    return names


_HEADER_NAMES = _header_names()


def column_of(header: object) -> str | None:
    """The column key of a header cell, in English or Chinese, or None if unknown."""
    text = _norm(_cell(header))
    if not text:
        return None
    return _HEADER_NAMES.get(text) or _HEADER_NAMES.get(_without_note(text))


def _cell(value: object) -> str:
    if type(value) is str:  # most cells (25 a row of 100,000, #12)
        text = value.strip()
    elif value is None:
        return ""
    elif isinstance(value, bool):
        return str(value)
    elif isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number that a spreadsheet made a number
    elif isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    else:
        text = str(value).strip()
    return text[1:].strip() if text[:1] == "'" and _FORMULA.match(text[1:]) else text


def _text(value: object) -> str | None:
    text = _cell(value)
    return None if text in ("", EMPTY, "—", "－", "/") else text


_DATE_TIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?)?$"
)


def parse_cell_time(value: object, tz: tzinfo) -> datetime:
    """``2023-10-25 09:30`` (also ``2023/10/25 9:30``, the document's ``2023-10-2509:30``,
    ISO 8601 with an offset, or a workbook's date cell); no offset means the desk's zone,
    and a wall time that a daylight-saving change skipped moves to a real one, as
    ``--now`` does (:func:`~itdesk.core.times.parse_time`)."""
    if isinstance(value, datetime):
        # A workbook stores a time as a fraction of a day: round off the float's error.
        value = (value + timedelta(microseconds=500_000)).replace(microsecond=0)
        return _in_zone(value, tz)
    if isinstance(value, date):
        return _in_zone(datetime.combine(value, time()), tz)
    text = _cell(value)
    m = _DATE_TIME.match(text)
    try:
        if m:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            return _in_zone(datetime(y, mo, d, h, mi, s), tz)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidValue(f"bad time {text!r}; accepted: 2023-10-25 09:30 or ISO 8601")
    return _in_zone(parsed, tz)


def _in_zone(value: datetime, tz: tzinfo) -> datetime:
    """``value`` in the zone ``tz`` (naive: a wall time there). Through UTC, so that 02:30
    on a spring-forward night becomes 03:30, written with the offset it has: kept as it
    was, it would be written +01:00 in Berlin and come after a 03:10 (+02:00) in time
    while it comes before it by the wall. With that offset fixed, as a desk's files give
    times: compared, a time of the zone is converted each time, and a ticket's steps
    compare its times ~50 times (#12)."""
    aware = value.replace(tzinfo=tz) if value.tzinfo is None else value
    local = aware.astimezone(UTC).astimezone(tz)
    offset = local.utcoffset()
    return local if offset is None else local.replace(tzinfo=_fixed(offset))


@functools.lru_cache(maxsize=64)
def _fixed(offset: timedelta) -> timezone:
    return timezone(offset)


def _choice(text: str, parse_word: Callable[[str], E], accepted: str) -> E:
    """Parse ``text`` with ``parse_word``, also as ``word (note)`` -> ``word`` / ``note``."""
    found: E = _chosen(text, parse_word, accepted)
    return found


@functools.lru_cache(maxsize=1024)  # the same few words in every row (#12); errors not kept
def _chosen(text: str, parse_word: Callable[[str], Any], accepted: str) -> Any:
    tries = [text]
    m = re.match(r"^(.*?)\s*\((.*)\)\s*$", unicodedata.normalize("NFKC", text))
    if m:
        tries += [m.group(1), m.group(2)]
    for word in tries:
        try:
            return parse_word(word)
        except InvalidValue:
            continue
    raise InvalidValue(f"{text!r} is not one of the accepted values: {accepted}")


@functools.lru_cache(maxsize=1024)  # the same few words in every row (#12); errors not kept
def parse_outcome(text: str) -> Outcome:
    key = _norm(text)
    found = [(len(w), outcome) for outcome, w, normed in _OUTCOME_NORMED if key.startswith(normed)]
    if found:
        return max(found, key=lambda x: x[0])[1]
    raise InvalidValue(
        f"{text!r} is not one of the accepted values: 已解决/待跟进/升级处理/已取消/"
        "已关闭(未解决) (resolved/awaiting follow-up/escalated/cancelled/closed (unresolved))"
    )


# Each outcome's words, as given and normalized once (a sheet of 100,000 rows, #12).
_OUTCOME_NORMED = [(o, w, _norm(w)) for o, words in _OUTCOME_WORDS.items() for w in words]


def parse_feedback(text: str | None) -> Satisfaction | None:
    if text is None or _norm(text).startswith(_NO_FEEDBACK_WORDS):
        return None
    return _choice(
        text,
        parse_satisfaction,
        "满意/一般/不满意 (satisfied/neutral/unsatisfied), or 待回访 (none yet)",
    )


def _requester(text: str) -> tuple[str | None, str]:
    """``研发部/王小明`` -> (``研发部``, ``王小明``); no ``/``: only a name."""
    dept, sep, name = unicodedata.normalize("NFKC", text).rpartition("/")
    if not sep:
        return None, text.strip()
    return dept.strip() or None, name.strip()


def find_header(rows: Sequence[Sequence[object]]) -> tuple[int, list[str | None]]:
    """The index of the header row (a title row above it is allowed) and each column's key."""
    for index, cells in enumerate(rows[:10]):
        keys = [column_of(c) for c in cells]
        if sum(k is not None for k in keys) >= 3:
            return index, keys
    expected = ", ".join(f"{zh} ({en})" for zh, en in zip(_short("zh"), _short("en"), strict=True))
    raise InvalidRecord(f"no header row found; expected the record form's columns: {expected}")


def _short(lang: str, extra: bool = False) -> list[str]:
    return [_without_note(h) for h in (_all_headers(lang) if extra else HEADERS[lang])]


def column_label(key: str) -> str:
    """How a message names a column: ``问题分级 (priority)``."""
    i = ALL_COLUMNS.index(key)
    return f"{_short('zh', True)[i]} ({_short('en', True)[i].lower()})"


# The cells an export without --reveal masks: a "*" there is a mask, not data.
_MASKABLE = ("submitter", "contact", "handler", "employee_id")


def _masked(cells: Sequence[object], seen: Mapping[str, int]) -> str | None:
    """The first masked cell of a row (a ``*`` where an export masks), or None."""
    for key in _MASKABLE:
        i = seen.get(key)
        text = _cell(cells[i]) if i is not None and i < len(cells) else ""
        if "*" in text:
            return text
    return None


def _refuse_masked(masked: list[tuple[int, str]], count: int) -> None:
    """``masked``: the first masked rows (at least 10 of them, when there are), ``count``:
    how many there are."""
    rows = ", ".join(str(row) for row, _ in masked[:10])
    if count > 10:
        rows += f" and {count - 10} more"
    examples = ", ".join(dict.fromkeys(text for _, text in masked[:3]))
    raise MaskedSheet(
        f"{'row' if count == 1 else 'rows'} {rows} hold masked names or contacts "
        f"({examples}): an export without --reveal cannot become tickets; export the "
        "tickets again with `itdesk export --reveal` and import that file; nothing was "
        "imported"
    )


def parse_records(
    rows: Sequence[Sequence[object]],
    tz: tzinfo,
    progress: Callable[[int, int], None] | None = None,
) -> list[Record | WholeRow]:
    """Check every row of a sheet (rows of cells, the header among the first ones);
    ``progress(done, total)`` follows the rows. See :func:`iter_records`."""
    return list(iter_records(rows, len(rows), tz, progress))


def iter_records(
    rows: Iterable[Sequence[object]],
    count: int,
    tz: tzinfo,
    progress: Callable[[int, int], None] | None = None,
    mapper: Mapper = map,
    keep: Callable[[Record | WholeRow], Any] = lambda record: record,
    spans: RowSpans | None = None,
) -> Iterator[Any]:
    """Check every row of a sheet (``count`` rows of cells, the header among the first
    ones) and yield each row's record as it is checked, one at a time (a sheet of
    100,000 rows is never held, #12); ``progress(done, total)`` follows the rows.

    Raises once every row has been read, so a caller must use the records only when
    the iteration ends without an error. A sheet exported without --reveal (names and
    contacts masked) is refused as a whole (:class:`MaskedSheet`). Else raises
    :class:`InvalidRecord` naming the first bad row (its spreadsheet number) and column
    and what is accepted, and how many other rows are bad, so that a sheet is fixed in
    one go and imported whole or not at all.

    ``mapper`` checks the rows, in order: ``map``, or worker processes
    (:func:`itdesk.service.workers.in_order`), whose findings are put together here
    in the rows' order: the same records and the same errors. What is yielded of each
    record is ``keep(record)``, made where the row is checked (a worker sends back
    less than a record). With ``spans`` (the sheet ``rows`` come from, in batches), the
    mapper is given the batches, and who checks a batch reads its rows (a worker
    process: from the sheet's file, #12); else it is given the rows.
    """
    rows = iter(rows)
    head = list(itertools.islice(rows, 10))
    start, seen, columns, lang = _layout(head)
    errors: list[InvalidRecord] = []  # the first few
    bad = 0
    masked: list[tuple[int, str]] = []  # the first few
    masks = 0
    numbers: dict[str, int] = {}
    found = 0
    total = count - start - 1

    def check(item: tuple[int, Sequence[object]]) -> _Checked:
        index, cells = item
        mask = _masked(cells, seen)
        if mask is not None:
            return _Checked(mask=mask)
        values = {k: cells[i] if i < len(cells) else None for k, i in seen.items()}
        if all(_text(v) is None for v in values.values()):
            return _Checked()
        try:
            record = _record(index + 1, values, tz, columns, lang)
        except InvalidRecord as exc:  # as text: the exception's fields do not pickle
            return _Checked(bad=(str(exc), exc.row))
        return _Checked(row=record.row, number=record.number, kept=keep(record))

    if spans is None:
        items = enumerate(itertools.chain(head[start + 1 :], rows), start + 1)
        results = mapper(check, items)
    else:

        def check_span(span: Any) -> list[_Checked]:
            first = span[0]
            rows = spans.load(span)
            return [check((i, cells)) for i, cells in enumerate(rows, first) if i > start]

        results = itertools.chain.from_iterable(mapper(check_span, spans.spans()))
    for index, checked in enumerate(results, start + 1):
        if progress is not None:
            progress(index - start, total)
        if checked.mask is not None:
            masks += 1
            if len(masked) < 10:
                masked.append((index + 1, checked.mask))
        if masks:  # the sheet is refused whole: its rows need no more checking
            continue
        if checked.bad is not None:
            bad += 1
            if len(errors) < 7:
                errors.append(InvalidRecord(checked.bad[0]))
                errors[-1].row = checked.bad[1]
            continue
        if checked.row is None:  # an empty row
            continue
        number = checked.number
        if number is not None:
            if number in numbers:
                bad += 1
                if len(errors) < 7:
                    errors.append(
                        InvalidRecord(
                            f"{number} is also the number of row "
                            f"{numbers[number]}; each row must be a different ticket",
                            checked.row,
                            column_label("id"),
                        )
                    )
                continue
            numbers[number] = checked.row
        found += 1
        if not bad:
            yield checked.kept
    if masks:
        _refuse_masked(masked, masks)
    if errors:
        first = errors[0]
        more = ""
        if bad > 1:
            others = ", ".join(str(e.row) for e in errors[1:6]) + (", …" if bad > 6 else "")
            rows_word = "row" if bad == 2 else "rows"
            more = f" (also bad: {rows_word} {others}); nothing was imported"
        else:
            more = "; nothing was imported"
        raise InvalidRecord(f"{first}{more}")
    if not found:
        raise InvalidRecord("the sheet has a header row but no rows to import")


def _layout(head: Sequence[Sequence[object]]) -> tuple[int, dict[str, int], frozenset[str], str]:
    """A sheet's header among its first rows ``head``: the header row's index, each
    column key's place, the keys, and the header's language; raises on a missing or
    repeated column."""
    start, keys = find_header(head)
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key is None:
            continue
        if key in seen:
            raise InvalidRecord(
                f"the column {column_label(key)} appears twice (columns {seen[key] + 1} "
                f"and {i + 1})",
                start + 1,
            )
        seen[key] = i
    missing = [column_label(k) for k in REQUIRED if k not in seen]
    if missing:
        raise InvalidRecord(f"no column {', '.join(missing)} in the header row", start + 1)
    zh = {_norm(h) for h in _all_headers("zh")}
    lang = "zh" if any(_norm(_cell(h)) in zh for h in head[start]) else "en"
    return start, seen, frozenset(seen), lang


def reread_records(
    rows: Iterable[Sequence[object]], tz: tzinfo, wanted: Container[int]
) -> Iterator[Record | WholeRow]:
    """The records of the rows numbered ``wanted`` (spreadsheet numbers), in row order,
    from a sheet :func:`iter_records` checked already: each one as it was then, read
    again rather than kept (#12)."""
    rows = iter(rows)
    head = list(itertools.islice(rows, 10))
    start, seen, columns, lang = _layout(head)
    for index, cells in enumerate(itertools.chain(head[start + 1 :], rows), start + 1):
        if index + 1 in wanted:
            values = {k: cells[i] if i < len(cells) else None for k, i in seen.items()}
            yield _record(index + 1, values, tz, columns, lang)


class RowSpans(Protocol):
    """A sheet's rows in batches (:class:`itdesk.channels.sheets.Sheet`): each batch
    starts with the index of its first row, and :meth:`load` gives its rows."""

    def spans(self) -> list[tuple[int, int, int]]: ...

    def load(self, span: tuple[int, int, int], /) -> list[list[object]]: ...


class Mapper(Protocol):
    """``map``, or a function that maps as it does (the results in the items' order)."""

    def __call__(self, func: Callable[[Any], Any], items: Iterable[Any], /) -> Iterator[Any]: ...


class _Checked(NamedTuple):
    """What checking one row found: a masked cell, an error (its text and row), the
    record's row and number and what is kept of it, or nothing (an empty row)."""

    mask: str | None = None
    bad: tuple[str, int | None] | None = None
    row: int | None = None
    number: str | None = None
    kept: Any = None


def _implied_status(outcome: Outcome, closed: bool, handler: str | None) -> Status:
    """The status a row of the form without a status column ends in."""
    if outcome is Outcome.RESOLVED:
        return Status.CLOSED if closed else Status.RESOLVED
    return {
        Outcome.CLOSED: Status.CLOSED,
        Outcome.ESCALATED: Status.PENDING_VENDOR,
        Outcome.CANCELLED: Status.CANCELLED,
    }.get(outcome, Status.IN_PROGRESS if handler else Status.ACKNOWLEDGED)


def _outcome_of_status(status: Status, resolved: bool) -> Outcome:
    """The result a status shows (a closed ticket: resolved, or closed by force)."""
    if status is Status.RESOLVED or (status is Status.CLOSED and resolved):
        return Outcome.RESOLVED
    return {
        Status.CLOSED: Outcome.CLOSED,
        Status.PENDING_VENDOR: Outcome.ESCALATED,
        Status.CANCELLED: Outcome.CANCELLED,
    }.get(status, Outcome.FOLLOW_UP)


def _record(
    row: int, values: dict[str, object], tz: tzinfo, columns: frozenset[str], lang: str = "zh"
) -> Record | WholeRow:
    """The record of one row (``row``: its spreadsheet number) of cells ``values`` by
    column key, or the ticket of a row exactly as exported; raises
    :class:`InvalidRecord` naming the column and what it accepts."""
    text = _text(values.get("record")) if "record" in columns else None
    if text is None:
        return _read_record(row, values, tz, columns, lang)
    try:
        whole = _whole_ticket(text)  # (parsed once, whichever way the row is read)
    except InvalidValue as exc:
        return _read_record(row, values, tz, columns, lang, exc)  # said after the cells
    exact = _exact_record(row, values, whole, tz, columns, lang)
    return exact if exact is not None else _read_record(row, values, tz, columns, lang, whole)


def _exact_record(
    row: int,
    values: dict[str, object],
    whole: tuple[Ticket, dict[str, Any] | None],
    tz: tzinfo,
    columns: frozenset[str],
    lang: str,
) -> Record | WholeRow | None:
    """A row whose cells are, text for text, the row its ``record`` cell's ticket
    ``whole`` makes (a row as exported) is that ticket, checked as a ticket is (the
    schema, its log): the rest of the row is read only when asked (:class:`WholeRow`,
    #12). So such a row imports also where the form's rules would not take its cells (a
    new ticket with a handler, which a desk may hold): the export of a desk imports
    whole. None for any other row (it is read cell by cell, to say what is wrong as it
    says it)."""
    ticket, data = whole
    cells = ticket_row(ticket, lang=lang, reveal=True, tz=tz, whole=False)
    made: dict[str, object] = {}
    for key in columns:
        if key != "record":
            wanted = made[key] = cells[_COLUMN_AT[key]]
            given = values.get(key)
            if not (type(given) is type(wanted) and given == wanted):
                if not _time_as_written(given, wanted):
                    return None
    number = _text(made.get("id"))
    if number is None:  # (a sheet without the number column): read it all
        try:
            return _read_record(row, made, tz, columns, lang, whole, agreed=True)
        except InvalidRecord:
            return None
    name, reported = ticket.requester.name, ticket.reported_at
    return WholeRow(row, number, reported, name, ticket, data, made, columns, lang, tz)


class WholeRow(NamedTuple):
    """A row exactly as exported (:func:`_exact_record`): the ticket of its record cell,
    which is what it imports, and the row's key (its number, and the submitted time
    and requester's name as the ticket has them: see :meth:`RecordKey.of`); the rest
    of the row is read only when asked (:meth:`record`): an import of 100,000 rows
    needs no more (#12)."""

    row: int
    number: str
    reported_at: datetime
    name: str
    ticket: Ticket
    data: dict[str, Any] | None  # see Record.data
    cells: dict[str, object]  # the ticket's row, by column
    columns: frozenset[str]
    lang: str
    tz: tzinfo

    @property
    def checked(self) -> bool:
        return self.data is not None

    def record(self) -> Record:
        """The row read cell by cell (InvalidRecord where the form's rules would not
        take its cells)."""
        whole = (self.ticket, self.data)
        return _read_record(self.row, self.cells, self.tz, self.columns, self.lang, whole,
                            agreed=True)  # fmt: skip


def _time_as_written(given: object, wanted: object) -> bool:
    """Whether the cell ``given`` is the time ``wanted`` of an exported row as a CSV has
    it: written as :func:`cell_text` writes it; both are then read alike (a time with a
    fraction of a second or before the year 1000 is not written as it is read)."""
    return (
        type(wanted) is datetime
        and type(given) is str
        and not wanted.microsecond
        and wanted.year >= 1000
        and given == cell_text(wanted)
    )


_STATUSES = ", ".join(f"{s.value} ({ZH_LABELS[s]})" for s in Status)  # what a status may be


def _read_record(
    row: int,
    values: dict[str, object],
    tz: tzinfo,
    columns: frozenset[str],
    lang: str = "zh",
    whole: tuple[Ticket, dict[str, Any] | None] | InvalidValue | None = None,
    *,
    agreed: bool = False,
) -> Record:
    """The record of a row read cell by cell. ``whole``: its ``record`` cell read
    already (:func:`_whole_ticket`: the ticket and its checked data, or why it is not
    one); ``agreed``: the cells are known to be that ticket's (see
    :func:`_exact_record`), not compared again."""
    texts = {key: _text(value) for key, value in values.items()}  # each cell read once
    text = texts.get

    def need(key: str) -> str:
        value = text(key)
        if value is None:
            raise InvalidRecord("empty; this column is required", row, column_label(key))
        return value

    def fail(key: str, message: str) -> InvalidRecord:
        return InvalidRecord(message, row, column_label(key))

    def checked(key: str, parse: Callable[[str], E], accepted: str) -> E | None:
        value = text(key)
        if value is None:
            return None
        try:
            return _choice(value, parse, accepted)
        except InvalidValue as exc:
            raise fail(key, str(exc)) from None

    def when(key: str) -> datetime | None:
        if text(key) is None:
            return None
        try:
            return parse_cell_time(values.get(key), tz)
        except InvalidValue as exc:
            raise fail(key, str(exc)) from None

    need("submitted_at")
    reported = when("submitted_at")
    assert reported is not None
    department, name = _requester(need("submitter"))
    if not name:
        raise fail(
            "submitter", "no name after the '/'; accepted: 部门/姓名 (department/name) or a name"
        )
    description = need("description")
    priority = checked(
        "priority", parse_priority, "一级(紧急)/二级(重要)/三级(一般), 紧急/重要/一般, P1/P2/P3"
    )
    category = checked(
        "category",
        parse_category,
        "硬件/软件/网络/账号/其他 (hardware/software/network/account/other)",
    )
    satisfaction = "满意/一般/不满意 (satisfied/neutral/unsatisfied)"
    status = checked("status", parse_status, _STATUSES)
    status_text = text("status")
    result = text("result")
    try:
        outcome = parse_outcome(result) if result else None
    except InvalidValue as exc:
        raise fail("result", str(exc)) from None
    try:
        feedback = parse_feedback(text("feedback"))
    except InvalidValue as exc:
        raise fail("feedback", str(exc)) from None
    closed_text = text("closed_at")
    closed = when("closed_at")
    handler = text("handler")
    resolution = text("resolution")
    speed = checked("speed", parse_satisfaction, satisfaction)
    attitude = checked("attitude", parse_satisfaction, satisfaction)
    comment = text("comment")
    if closed is not None and instant(closed) < instant(reported):
        raise fail(
            "closed_at", f"{closed_text} is before the submitted time {reported:{TIME_FORMAT}}"
        )
    if status is None:
        if outcome is None:
            outcome = Outcome.RESOLVED if closed is not None else Outcome.FOLLOW_UP
        status = _implied_status(outcome, closed is not None, handler)
        what = f"the result {result or _OUTCOME_LABELS['zh'][outcome].split('(')[0]}"
    else:
        implied = _outcome_of_status(status, resolution is not None or feedback is not None)
        if outcome is None:
            outcome = implied
        elif outcome not in _OUTCOMES_OF_STATUS.get(status, {Outcome.FOLLOW_UP}):
            raise fail(
                "result",
                f"{result}, but the status is {status_text}; give the result "
                f"{_OUTCOME_LABELS['zh'][implied]}, or change the status",
            )
        what = f"the status {status_text}"
    resolved = outcome is Outcome.RESOLVED
    if handler is None and (status in _NEEDS_HANDLER or resolved):
        raise fail("handler", f"empty, but {what} needs the technician who handled it")
    if handler is not None and status in (Status.NEW, Status.ACKNOWLEDGED):
        raise fail("handler", f"{handler}, but {what} has no handler yet; leave it empty")
    if closed is not None and status.is_open:
        fix = "change the status" if "status" in columns else "give the result 已解决 (resolved)"
        raise fail(
            "closed_at",
            f"{closed_text}, but {what} is still open; leave it empty or '-', or {fix}",
        )
    if feedback is not None and not resolved:
        raise fail(
            "feedback",
            f"{text('feedback')}, but {what} is not resolved; feedback is recorded after "
            "已解决 (resolved), else leave it empty or 待回访",
        )
    for key, value in (("speed", speed), ("attitude", attitude), ("comment", comment)):
        if value is not None and feedback is None:
            raise fail(
                key,
                f"{text(key)}, but 用户反馈 (user feedback) is empty; the follow-up call "
                "records the overall verdict there",
            )
    resolved_text = text("resolved_at")
    resolved_at = when("resolved_at")
    for key, given in (("resolution", resolution), ("resolved_at", resolved_at)):
        if given is not None and not resolved:
            raise fail(key, f"{text(key)}, but {what} is not resolved; leave it empty")
    if resolved_at is not None:
        if instant(resolved_at) < instant(reported):
            raise fail(
                "resolved_at",
                f"{resolved_text} is before the submitted time {reported:{TIME_FORMAT}}",
            )
        if closed is not None and instant(resolved_at) > instant(closed):
            raise fail("resolved_at", f"{resolved_text} is after the closed time {closed_text}")
    scope = text("scope")
    title = text("title")
    description = _without_scope(description, scope)
    if description == title:
        description = ""  # the form shows the title where a ticket has no description
    record = Record(
        row=row,
        number=text("id"),
        reported_at=reported,
        name=name,
        department=department,
        contact=text("contact"),
        description=description,
        priority=priority,
        category=category,
        handler=handler,
        steps=tuple(split_steps(text("steps") or "")),
        outcome=outcome,
        feedback=feedback,
        closed_at=closed,
        remarks=text("remarks"),
        status=status,
        resolved=resolved,
        title=title,
        employee_id=text("employee_id"),
        scope=scope,
        team=text("team"),
        resolution=resolution,
        resolved_at=resolved_at,
        speed=speed,
        attitude=attitude,
        comment=comment,
        ticket_remarks=text("ticket_remarks"),
        later_steps=tuple(split_steps(text("later_steps") or "")),
        columns=columns,
    )
    if whole is None:
        whole_text = text("record")
        if whole_text is None:
            return record
        try:
            whole = _whole_ticket(whole_text)
        except InvalidValue as exc:
            whole = exc
    if isinstance(whole, InvalidValue):
        raise fail("record", f"{whole}; clear the cell to import what the other columns say")
    ticket, data = whole
    if not agreed:
        _check_agrees(record, values, ticket, tz, lang, fail)
    return replace(record, ticket=ticket, checked=data is not None, data=data)


def _whole_ticket(text: str) -> tuple[Ticket, dict[str, Any] | None]:
    """The ticket of a ``record`` cell, its data and its history checked, and the
    ticket's data (``ticket_to_dict``) when it is the data checked, as an export writes
    it (else None)."""
    import json

    from ..core.model import ticket_to_dict
    from ..core.status import history_problems
    from ..errors import ItdeskError
    from ..store.schema import check_ticket_data

    if len(text) > CELL_MAX:
        raise InvalidValue(f"longer than a cell holds ({CELL_MAX} characters)")
    exported = _as_exported(text)
    if exported is not None:
        return exported
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidValue("not the JSON of a ticket") from None
    if not isinstance(data, dict):
        raise InvalidValue("not the JSON of a ticket")
    try:
        ticket = check_ticket_data(data, "the ticket")
    except ItdeskError as exc:
        raise InvalidValue(f"not a valid ticket: {exc}") from None
    problems = history_problems(ticket)
    if problems:
        path, why = problems[0]
        raise InvalidValue(f"its {'.'.join(map(str, path))} {why}")
    made = ticket_to_dict(ticket)
    return ticket, made if made == data else None


# msgspec's JSON decoder of a Ticket and its encoder, once made ([None, None]: no msgspec)
_MSGSPEC: list[Any] = []


def _as_exported(text: str) -> tuple[Ticket, dict[str, Any]] | None:
    """:func:`_whole_ticket` of a cell exactly as ``export`` writes it (the ticket's data,
    compact JSON, keys in file order), else None. msgspec decodes the JSON straight into
    the ticket, the model's checks run as they do in ``ticket_from_dict``: 37 us against
    91 us for ``json.loads`` and ``ticket_from_dict`` (a 2.7 KB ticket, #12). The cell
    is taken only when the ticket's data written again is the cell, byte for byte: its
    data is then the ticket's own (``ticket_to_dict``), so the schema's check and the
    history's are what they are for the data ``json`` reads. Any other cell, or any
    error, is read the usual way, which says what is wrong."""
    if not _MSGSPEC:
        try:
            import msgspec

            from ..core.model import Ticket

            _MSGSPEC[:] = [msgspec.json.Decoder(Ticket), msgspec.json.Encoder()]
        except Exception:  # no wheel for this platform, or a model it cannot decode
            _MSGSPEC[:] = [None, None]
    decoder, encoder = _MSGSPEC
    if decoder is None:
        return None
    from ..core.model import ticket_to_dict
    from ..core.status import history_problems
    from ..store.schema import schema_valid

    try:
        ticket = decoder.decode(text)
        made = ticket_to_dict(ticket)
        if encoder.encode(made) != text.encode("utf-8"):
            return None
    except Exception:  # msgspec's errors, the model's, a lone surrogate: said below
        return None
    if not schema_valid(made) or history_problems(ticket):
        return None
    return ticket, made


def _check_agrees(
    record: Record,
    given: Mapping[str, object],
    ticket: Ticket,
    tz: tzinfo,
    lang: str,
    fail: Callable[[str, str], InvalidRecord],
) -> None:
    """Refuse a row whose cells were changed after the export: the row the ticket of its
    ``record`` cell makes (in the sheet's language) must read back as the row does,
    column by column. ``given`` are the row's cells, by column.

    When every cell reads as the ticket's own (:func:`_same_cell`), the row reads back
    as the record: a second :func:`_record` of the ticket's row is not needed (#12)."""
    cells = ticket_row(ticket, lang=lang, reveal=True, tz=tz, whole=False)
    values: dict[str, object] = {k: cells[_COLUMN_AT[k]] for k in record.columns if k != "record"}
    if all(_same_cell(k, given.get(k), v, tz) for k, v in values.items()):
        return
    expected = _record(record.row, values, tz, record.columns - {"record"})
    for key in _COMPARED:
        given_value, wanted = getattr(record, key), getattr(expected, key)
        if given_value != wanted:
            column = _FIELD_COLUMN.get(key, key)
            raise fail(
                "record",
                f"the column {column_label(column)} says {_shown(given_value)} but the "
                f"ticket in this cell says {_shown(wanted)} (changed after the export?); "
                "clear the cell to import what the columns say, or undo the change",
            )


# The columns :func:`_record` reads as times (parse_cell_time); it reads every other
# column as its text (_text), and the time columns' text only to say what is wrong.
_TIME_COLUMNS = frozenset({"submitted_at", "closed_at", "resolved_at"})


def _same_cell(key: str, given: object, wanted: object, tz: tzinfo) -> bool:
    """Whether :func:`_record` reads the cells ``given`` and ``wanted`` of column ``key``
    alike: the same value, the same text, or (a time column) both empty or the same
    time. A record read from cells that are all alike equals, field by field, the
    record read from the others."""
    if type(given) is type(wanted) and given == wanted:
        return True
    if given in ("", None) and wanted in ("", None):  # an empty cell (CSV: "") either way
        return True
    if key not in _TIME_COLUMNS:
        return _cell(given) == _cell(wanted)
    if _text(given) is None or _text(wanted) is None:
        return _text(given) is None and _text(wanted) is None
    try:
        return parse_cell_time(given, tz) == parse_cell_time(wanted, tz)
    except InvalidValue:
        return False


_COMPARED = [
    f.name for f in fields(Record) if f.name not in ("row", "columns", "ticket", "checked", "data")
]


def title_of(description: str) -> str:
    """A short title: the description's first clause (``电脑无法连接公司WiFi``)."""
    line = description.strip().splitlines()[0] if description.strip() else ""
    clause = re.split(r"[,，。;；!！?？]", line, maxsplit=1)[0].strip()
    return (clause if len(clause) >= 4 else line)[:80] or "imported ticket"


def _origin(number: str | None) -> str:
    return f"imported from {number}" if number else "imported"


def build_ticket(
    record: Record | WholeRow,
    ticket_id: str,
    *,
    by: str,
    policy: Policy,
    source: str | None = None,
) -> Change:
    """The ticket of one row, taken through the lifecycle steps that end in its status.

    Intake, acknowledgement, triage and assignment happen at the submitted time, and a
    ``system`` log entry records where the ticket came from (the sheet's number and row,
    and ``source``, the file's name), which is how a second import of the sheet
    recognizes it. Each handling step becomes a note by the handler; the resolution
    happens at the resolved time (else the closed time, else the submitted time), the
    follow-up, closing or cancellation at the closed time. ``by`` is the technician who
    imports.
    """
    if isinstance(record, WholeRow) or record.ticket is not None:
        return _whole(record, ticket_id, by, source)
    t0 = record.reported_at
    resolved_at = record.resolved_at or record.closed_at or t0
    end = record.closed_at or resolved_at
    target = record.status
    origin = _origin(record.number)
    t = open_ticket(
        ticket_id,
        title=record.title or title_of(record.description),
        requester=Requester(record.name, record.employee_id, record.department, record.contact),
        now=t0,
        by=by,
        reported_at=t0,
        description=record.description,
        impact=Impact(scope=record.scope) if record.scope else None,
    ).ticket
    where = f"row {record.row}" + (f" of {source}" if source else "")
    t = evolve(t, log=t.log + (LogEntry(t0, by, LogKind.SYSTEM, f"{origin} ({where})"),))
    if target is not Status.NEW:
        t = acknowledge(t, now=t0, by=by).ticket
    team = record.team
    if team is None and record.category is not None:
        routed = policy.team_for(record.category)
        team = routed.name if routed else None
    if record.priority or record.category:
        supervisor = policy.supervisor_for(team)
        t = classify(
            t,
            now=t0,
            by=by,
            priority=record.priority,
            category=record.category,
            supervisor=supervisor,
        ).ticket
    worker = record.handler or by
    if record.handler:
        t = assign(t, now=t0, by=by, to=record.handler, team=team).ticket
        if target is not Status.ASSIGNED:
            t = accept(t, now=t0, by=record.handler).ticket
    for step in record.steps:
        t = log_work(t, now=t0, by=worker, via="note", text=step).ticket

    def later(t: Ticket, now: datetime) -> Ticket:
        for step in record.later_steps:
            t = log_work(t, now=now, by=worker, via="note", text=step).ticket
        return t

    extended = "ticket_remarks" in record.columns
    remarks = record.ticket_remarks if extended else record.remarks
    if not extended and target is Status.PENDING_VENDOR and remarks in _VENDOR_REMARK.values():
        remarks = None  # the export writes it for every ticket with a vendor (any language)
    if target is Status.PENDING_VENDOR:
        t = later(escalate(t, now=t0, by=worker, vendor=IMPORT_VENDOR, reason=origin).ticket, t0)
    elif target is Status.PENDING_USER:
        t = later(pending(t, now=t0, by=worker, on="user").ticket, t0)
    elif target is Status.REOPENED:
        t = resolve(t, now=t0, by=worker, summary=origin).ticket
        t = later(reopen(t, now=t0, by=by, reason=origin).ticket, t0)
    elif target is Status.CANCELLED:
        t = cancel(later(t, t0), now=end, by=by, reason=origin).ticket
    elif record.resolved:
        summary = record.resolution or (record.steps[-1] if record.steps else origin)
        t = later(resolve(t, now=resolved_at, by=worker, summary=summary).ticket, resolved_at)
        if record.feedback is not None:
            fb = record.feedback
            # Without the speed and attitude columns the form has one verdict for all three.
            comment = record.comment if "comment" in record.columns else record.remarks
            t = followup(
                t,
                now=end,
                by=by,
                speed=record.speed or fb,
                attitude=record.attitude or fb,
                overall=fb,
                comment=comment,
            ).ticket
            if not extended and "comment" not in record.columns:
                remarks = None  # kept as the follow-up's comment, where the form found it
        if target is Status.CLOSED:
            forced = record.feedback is None
            reason = f"{origin} as closed without feedback" if forced else None
            t = close(t, now=end, by=by, force=forced, reason=reason).ticket
    elif target is Status.CLOSED:
        reason = f"{origin} as closed without a resolution"
        t = close(later(t, t0), now=end, by=by, force=True, reason=reason).ticket
    else:
        t = later(t, t0)
    parts = [remarks] if remarks else []
    if record.number and record.number != ticket_id and origin not in (remarks or ""):
        parts.append(origin)
    t = evolve(t, remarks="; ".join(parts) or None)
    source_text = f"{record.number}, row {record.row}" if record.number else f"row {record.row}"
    return Change(t, Action.NEW, f"import ({source_text})")


def _whole(record: Record | WholeRow, ticket_id: str, by: str, source: str | None) -> Change:
    """The ticket of a row's ``record`` cell, as it was exported; renumbered (with a
    ``system`` entry naming its old number, at its last event) when its own number is
    taken on this desk."""
    t = record.ticket
    assert t is not None
    if t.id != ticket_id:
        where = f"row {record.row}" + (f" of {source}" if source else "")
        at = t.log[-1].at if t.log else t.reported_at
        entry = LogEntry(at, by, LogKind.SYSTEM, f"{_origin(t.id)} ({where})")
        t = evolve(t, id=ticket_id, log=(*t.log, entry))
    source_text = f"{record.number}, row {record.row}" if record.number else f"row {record.row}"
    return Change(t, Action.NEW, f"import ({source_text})")


# ---------------------------------------------------------- a sheet and a desk

_SOURCE_ENTRY = re.compile(r"^imported from (.+?) \(row \d+")
_SOURCE_REMARK = re.compile(r"imported from ([^\s;；,，]+)")


def own_number(number: str | None, prefix: str, digits: int) -> str | None:
    """``number`` as a ticket number of this desk's form (``IT-20231025-001`` for the
    prefix ``IT`` and 3 digits, any letter case), else None: such a row keeps its
    number on import, so an export and import give the same numbers back."""
    if number is None:
        return None
    canonical = number.strip().upper()
    m = ID_PATTERN.fullmatch(canonical)
    if m is None or m.group("prefix") != prefix:
        return None
    d, seq_text = m.group("date", "seq")
    seq = int(seq_text)
    if seq < 1:
        return None
    try:
        day = date(int(d[:4]), int(d[4:6]), int(d[6:]))
    except ValueError:
        return None
    if day.year >= 1000 and d.isascii():  # its date written as format_id writes it (#12)
        return canonical if seq_text == f"{seq:0{digits}d}" else None
    return canonical if canonical == format_id(prefix, day, seq, digits) else None


def _minute(value: datetime, tz: tzinfo) -> str:
    v = value.astimezone(tz)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}"


@dataclass(frozen=True, slots=True)
class DeskIndex:
    """What a desk holds already, to recognize the rows of a sheet imported before.

    A row is on the desk when its number is a ticket's number there and it is the same
    ticket (submitted at the same minute by the same requester), or when a ticket
    submitted at the same minute was imported from that number (the document's numbers,
    IT001..., repeat from sheet to sheet); a row without a number, when a ticket has
    its submitted minute, requester and description."""

    tz: tzinfo
    ids: dict[str, tuple[str, str]]  # ticket number -> (submitted minute, requester)
    sources: dict[tuple[str, str], str]  # (number in a sheet, minute) -> ticket made of it
    contents: dict[tuple[str, str, str], str]  # (minute, requester, description) -> ticket

    @classmethod
    def of(cls, tickets: Iterable[Mapping[str, Any]], tz: tzinfo) -> DeskIndex:
        """From tickets as plain data (the YAML's keys), archived ones included."""
        ids: dict[str, tuple[str, str]] = {}
        sources: dict[tuple[str, str], str] = {}
        contents: dict[tuple[str, str, str], str] = {}
        for d in tickets:
            tid = str(d["id"])
            minute = _minute(datetime.fromisoformat(str(d["reported_at"])), tz)
            name = str((d.get("requester") or {}).get("name") or "")
            ids[tid] = (minute, name)
            description = str(d.get("description") or "")
            scope = (d.get("impact") or {}).get("scope")
            for text in {description, describe(description, str(d.get("title") or ""), scope)}:
                contents.setdefault((minute, name, text), tid)
            numbers = _SOURCE_REMARK.findall(str(d.get("remarks") or ""))
            for entry in d.get("log") or ():
                if entry.get("kind") == "system":
                    m = _SOURCE_ENTRY.match(str(entry.get("text") or ""))
                    numbers += [m.group(1)] if m else []
            for number in numbers:
                sources.setdefault((number, minute), tid)
        return cls(tz, ids, sources, contents)

    def holding(self, record: Record | RecordKey) -> str | None:
        """The number of the ticket on the desk that ``record`` already is, or None."""
        if not self.ids:  # an empty desk (each ticket gives ids, sources and contents)
            return None
        minute = _minute(record.reported_at, self.tz)
        if record.number is None:
            return self.contents.get((minute, record.name, record.description or ""))
        found = self.sources.get((record.number, minute))
        if found is not None:
            return found
        number = record.number.strip().upper()
        if self.ids.get(number) == (minute, record.name):
            return number
        return None
