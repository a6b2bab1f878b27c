"""The record form (问题处理记录表): tickets to its 13 columns and sheets back to tickets.

The process document keeps its records in a spreadsheet with 13 columns (ticket number,
submitted at, submitter, contact, description, priority, category, handler, handling
steps, result, feedback, closed at, remarks). :func:`ticket_row` fills one row the way
the document writes it (``二级(重要)``, ``1.…;2.…``, ``升级处理(厂商协调中)``, ``待回访``),
with personal data masked unless revealed. :func:`parse_records` reads such a sheet back,
checking every row before anything is made (an import is all or nothing), and
:func:`build_ticket` replays a row through the lifecycle functions, so that an imported
ticket's status history is one the status machine allows.

Pure: cells come in as values (text, numbers, datetimes from a workbook), rows go out as
text; reading and writing files is the command's job.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, tzinfo
from typing import TypeVar

from ..core.ids import ID_PATTERN
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
    resolve,
)
from ..core.model import (
    ZH_LABELS,
    Category,
    LogKind,
    Priority,
    Requester,
    Satisfaction,
    Status,
    Ticket,
    parse_category,
    parse_priority,
    parse_satisfaction,
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
SHEET_TITLE = {"zh": "问题处理记录表", "en": "Record form"}
TIME_FORMAT = "%Y-%m-%d %H:%M"
EMPTY = "-"  # the document's mark for "no closing time yet"

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
}
REQUIRED = ("submitted_at", "submitter", "description")


class Outcome(enum.Enum):
    """The result column: what became of the ticket."""

    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"


_OUTCOME_LABELS = {
    "zh": {
        Outcome.RESOLVED: "已解决",
        Outcome.FOLLOW_UP: "待跟进",
        Outcome.ESCALATED: "升级处理(厂商协调中)",
        Outcome.CANCELLED: "已取消",
    },
    "en": {
        Outcome.RESOLVED: "resolved",
        Outcome.FOLLOW_UP: "awaiting follow-up",
        Outcome.ESCALATED: "escalated (vendor)",
        Outcome.CANCELLED: "cancelled",
    },
}
# Words a sheet may use, matched at the start of the cell ("升级处理(厂商协调中)").
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
}
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


def headers(lang: str) -> list[str]:
    return list(HEADERS["zh" if lang == "zh" else "en"])


def _when(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime(TIME_FORMAT) if value else ""


def outcome_of(t: Ticket) -> Outcome:
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


def _description(t: Ticket) -> str:
    """Symptom and error text, then the impact's scope (the form's one column)."""
    text = (t.description or t.title).strip()
    scope = (t.impact.scope or "").strip()
    if scope and scope not in text:
        # The text's own comma: full-width, else the document's "," after Chinese.
        comma = "，" if "，" in text else "," if _CJK.search(text) else ", "
        text = f"{text}{comma}{scope}" if text else scope
    return text


_TIMES = re.compile(r"(?<!\d)(\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)(?!\d)")


def _keeping_times(redact: Callable[[str], str]) -> Callable[[str], str]:
    """``redact``, applied around dates and times: its phone-number pattern would
    otherwise mask ``2023-10-26 18:00`` in a remark as ``202*****18:00``."""

    def apply(text: str) -> str:
        parts = _TIMES.split(text)
        return "".join(p if i % 2 else redact(p) for i, p in enumerate(parts))

    return apply


def _label(value: Priority | Category | Satisfaction | None, lang: str) -> str:
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
) -> list[str]:
    """One row of the record form, in :data:`COLUMNS` order."""
    lang = "zh" if lang == "zh" else "en"
    free = _keeping_times(redactor(t.requester, reveal, personal))
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
    elif outcome is Outcome.CANCELLED:
        feedback = ""
    else:
        feedback = _NO_FEEDBACK[lang]
    remarks = [x for x in (t.followup.comment if t.followup else None, t.remarks) if x]
    remarks += later
    if outcome is Outcome.ESCALATED and not any(
        phrase in r for r in remarks for phrase in _VENDOR_REMARK.values()
    ):
        remarks.append(_VENDOR_REMARK[lang])
    return [
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


# Excel runs a cell that starts with = + - @ as a formula, also after leading spaces,
# tabs or line breaks ("\t=cmd|..."); a number such as -12 or +86 139... is left alone.
_FORMULA = re.compile(r"^\s*(?:[=@]|[+-](?![\d\s-]*$))")


def csv_safe(cell: str) -> str:
    """A cell Excel will not run as a formula (``=HYPERLINK(…)`` typed by a requester):
    such text gets a leading ``'``, which :func:`parse_records` removes again."""
    return "'" + cell if _FORMULA.match(cell) else cell


def _id_key(t: Ticket) -> tuple[str, int, str]:
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
) -> list[list[str]]:
    """The header and one row per ticket, in the order of their numbers (day, sequence),
    which is the order an import gives them their numbers again."""
    rows = [headers(lang)]
    for t in sorted(tickets, key=_id_key):
        rows.append(ticket_row(t, lang=lang, reveal=reveal, tz=tz, personal=personal))
    return rows


# ------------------------------------------------------------------------ import


class InvalidRecord(UsageError):
    """A row of an imported sheet that cannot become a ticket."""

    def __init__(self, message: str, row: int | None = None, column: str | None = None):
        self.row = row
        self.column = column
        where = ", ".join(x for x in (f"row {row}" if row else "", column or "") if x)
        super().__init__(f"{where}: {message}" if where else message)


@dataclass(frozen=True, slots=True)
class Record:
    """One checked row of the sheet; ``row`` is its number in the spreadsheet."""

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

    @property
    def masked(self) -> bool:
        """Does the row hold masked personal data (an export made without --reveal)?"""
        return any("*" in (x or "") for x in (self.name, self.contact, self.handler))


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\ufeff", "").strip().lower()
    return re.sub(r"\s+", " ", text)


def _without_note(text: str) -> str:
    """``问题分级(紧急/重要/一般)`` -> ``问题分级``."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", text).strip()


def _header_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for key, aliases in _ALIASES.items():
        for lang in ("zh", "en"):
            header = _norm(HEADERS[lang][COLUMNS.index(key)])
            names[header] = names[_without_note(header)] = key
        for alias in aliases:
            names[_norm(alias)] = key
    names.update({key: key for key in COLUMNS})
    return names


_HEADER_NAMES = _header_names()


def column_of(header: object) -> str | None:
    """The column key of a header cell, in English or Chinese, or None if unknown."""
    text = _norm(_cell(header))
    if not text:
        return None
    return _HEADER_NAMES.get(text) or _HEADER_NAMES.get(_without_note(text))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone number that a spreadsheet made a number
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    text = str(value).strip()
    return text[1:].strip() if text.startswith("'") and _FORMULA.match(text[1:]) else text


def _text(value: object) -> str | None:
    text = _cell(value)
    return None if text in ("", EMPTY, "—", "－", "/") else text


_DATE_TIME = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:\s*T?\s*(\d{1,2})\s*[:：]\s*(\d{2})(?:\s*[:：]\s*(\d{2}))?)?$"
)


def parse_cell_time(value: object, tz: tzinfo) -> datetime:
    """``2023-10-25 09:30`` (also ``2023/10/25 9:30``, the document's ``2023-10-2509:30``,
    ISO 8601 with an offset, or a workbook's date cell); no offset means the desk's zone."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    text = _cell(value)
    m = _DATE_TIME.match(text)
    try:
        if m:
            y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
            return datetime(y, mo, d, h, mi, s, tzinfo=tz)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidValue(f"bad time {text!r}; accepted: 2023-10-25 09:30 or ISO 8601")
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed.astimezone(tz)


def _choice(text: str, parse_word: Callable[[str], E], accepted: str) -> E:
    """Parse ``text`` with ``parse_word``, also as ``word (note)`` -> ``word`` / ``note``."""
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


def parse_outcome(text: str) -> Outcome:
    key = _norm(text)
    for outcome, words in _OUTCOME_WORDS.items():
        if any(key.startswith(w) for w in words):
            return outcome
    raise InvalidValue(
        f"{text!r} is not one of the accepted values: 已解决/待跟进/升级处理/已取消 "
        "(resolved/awaiting follow-up/escalated/cancelled)"
    )


def parse_feedback(text: str | None) -> Satisfaction | None:
    if text is None or any(_norm(text).startswith(w) for w in _NO_FEEDBACK_WORDS):
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


def _short(lang: str) -> list[str]:
    return [_without_note(h) for h in HEADERS[lang]]


def column_label(key: str) -> str:
    """How a message names a column: ``问题分级 (priority)``."""
    i = COLUMNS.index(key)
    return f"{_short('zh')[i]} ({_short('en')[i].lower()})"


def parse_records(rows: Sequence[Sequence[object]], tz: tzinfo) -> list[Record]:
    """Check every row of a sheet (rows of cells, the header among the first ones).

    Raises :class:`InvalidRecord` naming the first bad row (its spreadsheet number) and
    column and what is accepted, and how many other rows are bad, so that a sheet is
    fixed in one go and imported whole or not at all.
    """
    start, keys = find_header(rows)
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
    records: list[Record] = []
    errors: list[InvalidRecord] = []
    numbers: dict[str, int] = {}
    for index in range(start + 1, len(rows)):
        cells = rows[index]
        values = {k: cells[i] if i < len(cells) else None for k, i in seen.items()}
        if all(_text(v) is None for v in values.values()):
            continue
        try:
            record = _record(index + 1, values, tz)
        except InvalidRecord as exc:
            errors.append(exc)
            continue
        if record.number is not None:
            if record.number in numbers:
                errors.append(
                    InvalidRecord(
                        f"{record.number} is also the number of row {numbers[record.number]}; "
                        "each row must be a different ticket",
                        record.row,
                        column_label("id"),
                    )
                )
                continue
            numbers[record.number] = record.row
        records.append(record)
    if errors:
        first = errors[0]
        more = ""
        if len(errors) > 1:
            others = ", ".join(str(e.row) for e in errors[1:6]) + (", …" if len(errors) > 6 else "")
            rows_word = "row" if len(errors) == 2 else "rows"
            more = f" (also bad: {rows_word} {others}); nothing was imported"
        else:
            more = "; nothing was imported"
        raise InvalidRecord(f"{first}{more}")
    if not records:
        raise InvalidRecord("the sheet has a header row but no rows to import")
    return records


def _record(row: int, values: dict[str, object], tz: tzinfo) -> Record:
    def text(key: str) -> str | None:
        return _text(values.get(key))

    def need(key: str) -> str:
        value = text(key)
        if value is None:
            raise InvalidRecord("empty; this column is required", row, column_label(key))
        return value

    def checked(key: str, parse: Callable[[str], E], accepted: str) -> E | None:
        value = text(key)
        if value is None:
            return None
        try:
            return _choice(value, parse, accepted)
        except InvalidValue as exc:
            raise InvalidRecord(str(exc), row, column_label(key)) from None

    def when(key: str) -> datetime | None:
        if text(key) is None:
            return None
        try:
            return parse_cell_time(values.get(key), tz)
        except InvalidValue as exc:
            raise InvalidRecord(str(exc), row, column_label(key)) from None

    need("submitted_at")
    reported = when("submitted_at")
    assert reported is not None
    department, name = _requester(need("submitter"))
    if not name:
        raise InvalidRecord(
            "no name after the '/'; accepted: 部门/姓名 (department/name) or a name",
            row,
            column_label("submitter"),
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
    result = text("result")
    try:
        outcome = parse_outcome(result) if result else Outcome.FOLLOW_UP
    except InvalidValue as exc:
        raise InvalidRecord(str(exc), row, column_label("result")) from None
    try:
        feedback = parse_feedback(text("feedback"))
    except InvalidValue as exc:
        raise InvalidRecord(str(exc), row, column_label("feedback")) from None
    closed_text = text("closed_at")
    closed = when("closed_at")
    handler = text("handler")
    if closed is not None and closed < reported:
        raise InvalidRecord(
            f"{closed_text} is before the submitted time {reported:{TIME_FORMAT}}",
            row,
            column_label("closed_at"),
        )
    if result is None and closed is not None:
        outcome = Outcome.RESOLVED
    label = _OUTCOME_LABELS["zh"][outcome].split("(")[0]
    if outcome in (Outcome.RESOLVED, Outcome.ESCALATED) and handler is None:
        raise InvalidRecord(
            f"empty, but the result {result or label} needs the technician who handled it",
            row,
            column_label("handler"),
        )
    if closed is not None and outcome not in (Outcome.RESOLVED, Outcome.CANCELLED):
        raise InvalidRecord(
            f"{closed_text}, but the result {result} is still open; leave it empty or '-', "
            "or give the result 已解决 (resolved)",
            row,
            column_label("closed_at"),
        )
    if feedback is not None and outcome is not Outcome.RESOLVED:
        raise InvalidRecord(
            f"{text('feedback')}, but the result {result or label} is not resolved; feedback "
            "is recorded after 已解决 (resolved), else leave it empty or 待回访",
            row,
            column_label("feedback"),
        )
    steps = split_steps(text("steps") or "")
    return Record(
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
        steps=tuple(steps),
        outcome=outcome,
        feedback=feedback,
        closed_at=closed,
        remarks=text("remarks"),
    )


def title_of(description: str) -> str:
    """A short title: the description's first clause (``电脑无法连接公司WiFi``)."""
    line = description.strip().splitlines()[0] if description.strip() else ""
    clause = re.split(r"[,，。;；!！?？]", line, maxsplit=1)[0].strip()
    return (clause if len(clause) >= 4 else line)[:80] or "imported ticket"


def build_ticket(record: Record, ticket_id: str, *, by: str, policy: Policy) -> Change:
    """The ticket of one row, taken through the lifecycle steps its result implies.

    Intake, acknowledgement, triage and assignment happen at the submitted time; each
    handling step becomes a note by the handler; the resolution, follow-up, closing or
    cancellation happen at the closed time (else the submitted time). ``by`` is the
    technician who imports.
    """
    t0 = record.reported_at
    end = record.closed_at or t0
    t = open_ticket(
        ticket_id,
        title=title_of(record.description),
        requester=Requester(record.name, None, record.department, record.contact),
        now=t0,
        by=by,
        reported_at=t0,
        description=record.description,
    ).ticket
    t = acknowledge(t, now=t0, by=by).ticket
    team = policy.team_for(record.category) if record.category else None
    if record.priority or record.category:
        supervisor = policy.supervisor_for(team.name if team else None)
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
        t = assign(t, now=t0, by=by, to=record.handler, team=team.name if team else None).ticket
        t = accept(t, now=t0, by=record.handler).ticket
    for step in record.steps:
        t = log_work(t, now=t0, by=worker, via="note", text=step).ticket
    remarks = record.remarks
    if record.outcome is Outcome.ESCALATED and remarks in _VENDOR_REMARK.values():
        remarks = None  # the export writes it for every ticket with a vendor (any language)
    origin = f"imported from {record.number}" if record.number else "imported"
    if record.outcome is Outcome.ESCALATED:
        t = escalate(t, now=t0, by=worker, vendor=IMPORT_VENDOR, reason=origin).ticket
    elif record.outcome is Outcome.CANCELLED:
        t = cancel(t, now=end, by=by, reason=origin).ticket
    elif record.outcome is Outcome.RESOLVED:
        summary = record.steps[-1] if record.steps else origin
        t = resolve(t, now=end, by=worker, summary=summary).ticket
        if record.feedback is not None:
            fb = record.feedback
            # The form has one verdict; it stands for speed and attitude as well.
            t = followup(
                t, now=end, by=by, speed=fb, attitude=fb, overall=fb, comment=record.remarks
            ).ticket
            remarks = None  # kept as the follow-up's comment, where the form found it
        if record.closed_at is not None:
            forced = record.feedback is None
            reason = f"{origin} as closed without feedback" if forced else None
            t = close(t, now=end, by=by, force=forced, reason=reason).ticket
    parts = [remarks] if remarks else []
    if record.number and record.number != ticket_id:
        parts.append(f"imported from {record.number}")
    t = replace(t, remarks="; ".join(parts) or None)
    source = f"{record.number}, row {record.row}" if record.number else f"row {record.row}"
    return Change(t, Action.NEW, f"import ({source})")
