"""The desk's words: statuses, priorities, categories, channels, satisfaction, log kinds
(their Chinese labels and the words each is typed as), and the rules of one field's
value (a line, a text, a contact). :mod:`itdesk.core.model` builds the ticket of them
and names them all again; what only reads the desk (its policy, ``list``, ``check``)
imports this alone: the model's dataclasses cost ~6 ms to define at every start.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import TypeVar

from ..errors import InvalidTicket, InvalidValue

E = TypeVar("E", bound=enum.Enum)

# ------------------------------------------------------------------ field rules
# One-line fields (title, names, contact, department...) hold no line break, tab or
# other control character, nor a Unicode line separator or bidirectional override: so
# nothing typed into a ticket can forge a commit trailer, split a table row, or reach
# a terminal as an escape sequence. Text fields (description, log, reasons) may hold
# line breaks and tabs, nothing else of the kind. Both have a length limit.
LINE_MAX = 200  # a title
NAME_MAX = 100  # a name, a department, a team, a contact, a device
TEXT_MAX = 20_000  # a description, a log entry, a summary
NOTE_MAX = 2_000  # a reason, a comment, remarks, the scope
# Also the invisible format characters (zero-width, directional marks, BOM) that make
# two names look the same or reorder what is shown.
_NOT_IN_LINE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]"
)
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CHAR_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab", "\x00": "a NUL"}


def _bad_char(char: str) -> str:
    return _CHAR_NAMES.get(char, f"the control character U+{ord(char):04X}")


# (Each field of every ticket read passes here: one call a field, #12.)
def check_line(value: str | None, what: str, limit: int = LINE_MAX) -> None:
    """A one-line field: no line break or control character, at most ``limit`` long."""
    if value is not None and (len(value) > limit or _NOT_IN_LINE.search(value)):
        _refuse(value, what, limit, _NOT_IN_LINE, "; it must be one line of text")


def check_text(value: str | None, what: str, limit: int = TEXT_MAX) -> None:
    """A text field: line breaks and tabs allowed, other control characters not."""
    if value is not None and (len(value) > limit or _NOT_IN_TEXT.search(value)):
        _refuse(value, what, limit, _NOT_IN_TEXT, ", which text may not hold")


def _refuse(value: str, what: str, limit: int, bad: re.Pattern[str], why: str) -> None:
    if len(value) > limit:
        raise InvalidTicket(f"{what} is {len(value)} characters long; at most {limit}")
    m = bad.search(value)
    assert m is not None
    raise InvalidTicket(f"{what} holds {_bad_char(m.group())}{why}")


# A contact is one phone number (with an optional extension), an extension alone, or
# one e-mail address: notifications go to it, so a list would mail several people.
_PHONE = re.compile(
    r"(?:\+?[0-9][0-9 ()\-]{1,28}[0-9]"
    r"(?:\s*(?:ext\.?|x|转|分机|#)\s*[0-9]{1,6})?"
    r"|(?:ext\.?|x|转|分机)\s*[0-9]{2,6})",  # an extension alone: ext 1234, 分机 1234
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[^@\s,;:<>()\[\]\\\"*]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def check_contact(value: str | None) -> None:
    if value is None:
        return
    check_line(value, "the contact", NAME_MAX)
    if "*" in value:
        raise InvalidTicket(
            f"the contact {value!r} is masked; give the full phone number or e-mail address"
        )
    if not (_PHONE.fullmatch(value) or _EMAIL.fullmatch(value)):
        raise InvalidTicket(
            f"the contact {value!r} is not one phone number, extension or e-mail address "
            "(such as 13956785678, 8021, 010-6543 2100 ext 12, wang@example.com)"
        )


class Status(enum.Enum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    PENDING_VENDOR = "pending_vendor"
    PENDING_USER = "pending_user"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (Status.CLOSED, Status.CANCELLED)


class Priority(enum.Enum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Category(enum.Enum):
    HARDWARE = "hardware"
    SOFTWARE = "software"
    NETWORK = "network"
    ACCOUNT = "account"
    OTHER = "other"


class Channel(enum.Enum):
    PORTAL = "portal"
    CHAT = "chat"
    PHONE = "phone"
    MAIL = "mail"
    WALK_IN = "walk-in"


class Satisfaction(enum.Enum):
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    UNSATISFIED = "unsatisfied"


class LogKind(enum.Enum):
    NOTE = "note"
    PHONE = "phone"
    REMOTE = "remote"
    ONSITE = "onsite"
    STATUS = "status"
    ASSIGN = "assign"
    ESCALATE = "escalate"
    SYSTEM = "system"


# Work done with the requester: these count as a technician's first response.
CONTACT_KINDS = frozenset({LogKind.PHONE, LogKind.REMOTE, LogKind.ONSITE})

_PRIORITY_ALIASES = {
    Priority.P1: ("p1", "1", "urgent", "critical", "紧急", "一级", "一级(紧急)", "一级（紧急）"),
    Priority.P2: ("p2", "2", "important", "high", "重要", "二级", "二级(重要)", "二级（重要）"),
    Priority.P3: (
        "p3",
        "3",
        "normal",
        "general",
        "low",
        "一般",
        "三级",
        "三级(一般)",
        "三级（一般）",
    ),
}
_CATEGORY_ALIASES = {
    Category.HARDWARE: ("hardware", "hw", "硬件"),
    Category.SOFTWARE: ("software", "sw", "软件"),
    Category.NETWORK: ("network", "net", "网络"),
    Category.ACCOUNT: ("account", "账号", "帐号", "账户"),
    Category.OTHER: ("other", "其他", "其它"),
}
_SATISFACTION_ALIASES = {
    Satisfaction.SATISFIED: ("satisfied", "满意", "good", "yes"),
    Satisfaction.NEUTRAL: ("neutral", "一般", "ok"),
    Satisfaction.UNSATISFIED: ("unsatisfied", "不满意", "dissatisfied", "bad", "no"),
}
_CHANNEL_ALIASES = {
    Channel.PORTAL: ("portal", "web", "门户", "工单系统"),
    Channel.CHAT: ("chat", "im", "群组", "沟通群组"),
    Channel.PHONE: ("phone", "tel", "电话"),
    Channel.MAIL: ("mail", "email", "e-mail", "邮件"),
    Channel.WALK_IN: ("walk-in", "walkin", "walk_in", "现场"),
}

ZH_LABELS: dict[enum.Enum, str] = {
    Priority.P1: "一级(紧急)",
    Priority.P2: "二级(重要)",
    Priority.P3: "三级(一般)",
    Category.HARDWARE: "硬件",
    Category.SOFTWARE: "软件",
    Category.NETWORK: "网络",
    Category.ACCOUNT: "账号",
    Category.OTHER: "其他",
    Satisfaction.SATISFIED: "满意",
    Satisfaction.NEUTRAL: "一般",
    Satisfaction.UNSATISFIED: "不满意",
    Status.NEW: "新建",
    Status.ACKNOWLEDGED: "已受理",
    Status.ASSIGNED: "已分配",
    Status.IN_PROGRESS: "处理中",
    Status.PENDING_VENDOR: "待厂商",
    Status.PENDING_USER: "待用户",
    Status.RESOLVED: "处理完成",
    Status.CLOSED: "已关闭",
    Status.REOPENED: "重新打开",
    Status.CANCELLED: "已取消",
}


def _lookup(aliases: Mapping[E, tuple[str, ...]], word: str, what: str) -> E:
    key = str(word).strip().lower()
    for member, names in aliases.items():
        if key == member.value.lower() or key in names:
            return member
    accepted = ", ".join(f"{m.value} ({'/'.join(n[1:3])})" for m, n in aliases.items())
    raise InvalidValue(f"unknown {what} {word!r}; accepted: {accepted}")


def parse_priority(word: str) -> Priority:
    """``P1``, ``1``, ``urgent``, ``紧急`` ... -> :class:`Priority`."""
    return _lookup(_PRIORITY_ALIASES, word, "priority")


def parse_category(word: str) -> Category:
    return _lookup(_CATEGORY_ALIASES, word, "category")


def parse_satisfaction(word: str) -> Satisfaction:
    return _lookup(_SATISFACTION_ALIASES, word, "satisfaction")


def parse_channel(word: str) -> Channel:
    return _lookup(_CHANNEL_ALIASES, word, "channel")


def parse_status(word: str) -> Status:
    key = str(word).strip().lower().replace("-", "_")
    for member in Status:
        if key in (member.value, ZH_LABELS[member]):
            return member
    accepted = ", ".join(s.value for s in Status)
    raise InvalidValue(f"unknown status {word!r}; accepted: {accepted}")
