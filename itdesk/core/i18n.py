"""What itdesk says, in Chinese when the desk's locale (or ``--lang``) is ``zh``.

Tickets and commits keep their English words: they are data, read by programs
(``Action:`` trailers, ``git log --grep``) and diffed across a team. What a person
reads is translated when it is shown: clock names and states, durations
(``12天8小时``), the log lines the lifecycle writes (``reported via phone`` ->
``经电话提报``) and the success messages of the commands. Text a person typed (a
reason, a summary) is kept as typed. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

CLOCKS_ZH = {
    "ack": "受理",
    "response": "响应",
    "accept": "接单",
    "resolution": "解决",
    "followup": "回访",
    "expected": "期望时间",
}
STATES_ZH = {
    "met": "已达标",
    "running": "计时中",
    "at_risk": "临近超时",
    "breached": "已超时",
    "paused": "已暂停",
}
KINDS_ZH = {
    "note": "备注",
    "phone": "电话",
    "remote": "远程",
    "onsite": "现场",
    "status": "状态",
    "assign": "分配",
    "escalate": "升级",
    "system": "系统",
}
LEVELS_ZH = {"supervisor": "主管", "manager": "经理", "vendor": "厂商", "assignee": "处理人"}
STATUSES_ZH = {
    "new": "新建",
    "acknowledged": "已受理",
    "assigned": "已分配",
    "in_progress": "处理中",
    "pending_vendor": "待厂商",
    "pending_user": "待用户",
    "resolved": "处理完成",
    "closed": "已关闭",
    "reopened": "重新打开",
    "cancelled": "已取消",
}
CATEGORIES_ZH = {
    "hardware": "硬件",
    "software": "软件",
    "network": "网络",
    "account": "账号",
    "other": "其他",
}
SATISFACTION_ZH = {"satisfied": "满意", "neutral": "一般", "unsatisfied": "不满意"}
CHANNELS_ZH = {"portal": "门户", "chat": "沟通群组", "phone": "电话", "mail": "邮件",
               "walk-in": "现场"}  # fmt: skip
FIELDS_ZH = {
    "title": "标题",
    "description": "问题描述",
    "requester": "提交人",
    "employee_id": "工号",
    "department": "部门",
    "contact": "联系方式",
    "blocks_work": "是否影响工作",
    "scope": "影响范围",
    "devices": "设备",
    "expected_by": "期望解决时间",
}
YES_NO_ZH = {"yes": "是", "no": "否"}
ACTIONS_ZH = {
    "new": "新建",
    "ack": "受理",
    "classify": "定级分类",
    "assign": "分配",
    "accept": "接单",
    "log": "记录",
    "escalate": "升级",
    "pending": "挂起",
    "resolve": "处理完成",
    "followup": "回访",
    "close": "关闭",
    "reopen": "重新打开",
    "cancel": "取消",
    "kb": "知识库",
    "archive": "归档",
    "edit": "修改",
    "attach": "附件",
    "import": "导入",
    "renumber": "重新编号",
    "sync": "同步",
}
# A ticket's keys (what `history` says a commit changed).
KEYS_ZH = {
    **FIELDS_ZH,
    "id": "工单编号",
    "status": "状态",
    "priority": "问题分级",
    "category": "问题类型",
    "impact": "影响",
    "channel": "渠道",
    "reported_at": "提交时间",
    "acknowledged_at": "受理时间",
    "team": "处理组",
    "assignee": "处理人",
    "assigned_at": "分配时间",
    "accepted_at": "接单时间",
    "escalations": "升级记录",
    "log": "处理过程",
    "resolution": "解决方案",
    "followup": "回访",
    "closed_at": "关闭时间",
    "kb": "知识库",
    "attachments": "附件",
    "remarks": "备注",
    "(created)": "（新建）",
    "(removed)": "（移除）",
}


def escalation_reason(reason: str, lang: str) -> str:
    """An automatic escalation's reason (``target missed by 30m``) in ``lang``."""
    return _auto_reason(reason) if lang == "zh" else reason


def word(value: str | None, lang: str, table: dict[str, str]) -> str:
    """``value`` from ``table`` in zh, else as it is (``-`` for nothing)."""
    if value is None:
        return "-"
    return table.get(value, value) if lang == "zh" else value


def clock(name: str, lang: str) -> str:
    return word(name, lang, CLOCKS_ZH)


def state(name: str, lang: str) -> str:
    return word(name, lang, STATES_ZH)


def duration(delta: timedelta, lang: str = "en") -> str:
    """``1d2h30m`` in English, ``1天2小时30分`` in Chinese (negative: a leading ``-``)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    units = ("天", "小时", "分") if lang == "zh" else ("d", "h", "m")
    text = "".join(f"{n}{u}" for n, u in zip((days, hours, minutes), units, strict=True) if n)
    return sign + (text or f"0{units[2]}")


# -- the lines the lifecycle writes into a ticket's log, and the commit subjects ----------

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def _zh_duration(text: str) -> str:
    m = _DURATION.fullmatch(text)
    if not m or not text:
        return text
    d, h, mi = (int(x or 0) for x in m.groups())
    return duration(timedelta(days=d, hours=h, minutes=mi), "zh")


def _classified(what: str) -> str:
    return " ".join(CATEGORIES_ZH.get(w, w) for w in what.split())


def _fields(names: str) -> str:
    return "、".join(FIELDS_ZH.get(n.strip(), n.strip()) for n in names.split(","))


def _eta(text: str | None) -> str:
    return f"，预计 {text}" if text else ""


_REASONS_ZH = {
    "P1 (紧急): core business affected, supervisor informed at once": (
        "一级(紧急)：核心业务受影响，已即时通知主管"
    ),
}


def _auto_reason(reason: str) -> str:
    if reason in _REASONS_ZH:
        return _REASONS_ZH[reason]
    m = re.fullmatch(r"target missed by (\S+)(, still open)?", reason)
    if m:
        return f"超时 {_zh_duration(m.group(1))}" + ("，仍未解决" if m.group(2) else "")
    m = re.fullmatch(r"at risk, due (.+)", reason)
    if m:
        return f"临近超时，到期 {m.group(1)}"
    return reason


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rules(pairs: list[tuple[str, Callable[[re.Match[str]], str]]]) -> list[Rule]:
    return [(re.compile(p, re.S), f) for p, f in pairs]


_LOG_RULES = _rules(
    [
        (r"reported", lambda m: "提报"),
        (r"reported via (\S+)", lambda m: f"经{CHANNELS_ZH.get(m[1], m[1])}提报"),
        (
            r"acknowledged; ticket number (\S+) given to the requester",
            lambda m: f"已受理，工单编号 {m[1]} 已告知提交人",
        ),
        (r"classified (.+)", lambda m: f"定级分类：{_classified(m[1])}"),
        (r"P1: supervisor (.+) informed", lambda m: f"一级(紧急)：已通知主管 {m[1]}"),
        (r"assigned to (.+?) \((.+)\)", lambda m: f"分配给 {m[1]}（{m[2]}）"),
        (r"assigned to (.+)", lambda m: f"分配给 {m[1]}"),
        (r"accepted by (.+?) for (.+)", lambda m: f"{m[1]} 代 {m[2]} 接单"),
        (r"accepted by (.+)", lambda m: f"{m[1]} 已接单"),
        (
            r"work resumed \((\S+) -> (\S+)\)",
            lambda m: f"恢复处理（{STATUSES_ZH.get(m[1], m[1])} → {STATUSES_ZH.get(m[2], m[2])}）",
        ),
        (
            r"escalated to (vendor|supervisor) (.+?): (.+?)(?:, ETA (\S+))?",
            lambda m: f"升级至{LEVELS_ZH[m[1]]} {m[2]}：{m[3]}{_eta(m[4])}",
        ),
        (r"waiting on the (user|vendor)", lambda m: f"等待{'用户' if m[1] == 'user' else '厂商'}"),
        (
            r"waiting on the (user|vendor): (.+)",
            lambda m: f"等待{'用户' if m[1] == 'user' else '厂商'}：{m[2]}",
        ),
        (
            r"resolved \(verified with the requester\): (.+)",
            lambda m: f"处理完成（已与用户确认）：{m[1]}",
        ),
        (r"resolved: (.+)", lambda m: f"处理完成：{m[1]}"),
        (
            r"follow-up call: speed (\S+), attitude (\S+), overall (\S+?)(?:; (.+))?",
            lambda m: (
                f"回访：处理速度 {SATISFACTION_ZH.get(m[1], m[1])}，服务态度 "
                f"{SATISFACTION_ZH.get(m[2], m[2])}，总体评价 {SATISFACTION_ZH.get(m[3], m[3])}"
                + (f"；{m[4]}" if m[4] else "")
            ),
        ),
        (r"closed without the normal steps: (.+)", lambda m: f"未经正常流程关闭：{m[1]}"),
        (r"closed after follow-up", lambda m: "回访后关闭"),
        (r"reopened: (.+)", lambda m: f"重新打开：{m[1]}"),
        (r"cancelled: (.+)", lambda m: f"已取消：{m[1]}"),
        (
            r"(\w+) clock: (.+); (\w+) (.+) notified",
            lambda m: (
                f"{CLOCKS_ZH.get(m[1], m[1])}时限：{_auto_reason(m[2])}；"
                f"已通知{LEVELS_ZH.get(m[3], m[3])} {m[4]}"
            ),
        ),
        (r"edited (.+)", lambda m: f"修改了{_fields(m[1])}"),
        (r"attached (\S+) \((\d+) bytes\)", lambda m: f"添加附件 {m[1]}（{m[2]} 字节）"),
    ]
)

_SUBJECT_RULES = _rules(
    [
        (r"new: (.+)", lambda m: f"新建工单：{m[1]}"),
        (r"acknowledge", lambda m: "已受理"),
        (r"classify (.+?)(?:, inform (.+))?", lambda m: (
            f"定级分类：{_classified(m[1])}" + (f"，已通知主管 {m[2]}" if m[2] else ""))),
        (r"assign to (.+?) \((.+)\)", lambda m: f"分配给 {m[1]}（{m[2]}）"),
        (r"assign to (.+)", lambda m: f"分配给 {m[1]}"),
        (r"accept \((.+)\)", lambda m: f"{m[1]} 已接单"),
        (r"resume work", lambda m: "恢复处理"),
        (r"log (\w+): (.+)", lambda m: f"记录{KINDS_ZH.get(m[1], m[1])}：{m[2]}"),
        (r"escalate to (vendor|supervisor) (.+)", lambda m: f"升级至{LEVELS_ZH[m[1]]} {m[2]}"),
        (r"pending on (user|vendor)", lambda m: f"等待{'用户' if m[1] == 'user' else '厂商'}"),
        (r"resolve \(verified\)(.*)", lambda m: f"处理完成（已与用户确认）{m[1]}"),
        (r"resolve(.*)", lambda m: f"处理完成{m[1]}"),
        (r"follow-up: (\S+)", lambda m: f"回访：{SATISFACTION_ZH.get(m[1], m[1])}"),
        (r"close \(forced\)", lambda m: "强制关闭"),
        (r"close", lambda m: "已关闭"),
        (r"reopen", lambda m: "重新打开"),
        (r"cancel", lambda m: "已取消"),
        (r"edit (.+)", lambda m: f"修改了{_fields(m[1])}"),
        (r"attach (.+)", lambda m: f"添加附件 {m[1]}"),
        (r"promote to (\S+)", lambda m: f"整理为知识库文章 {m[1]}"),
        (r"link to (\S+)", lambda m: f"关联知识库文章 {m[1]}"),
        (r"escalate (\d+) tickets?", lambda m: f"升级 {m[1]} 张工单"),
        (r"escalate (.+)", lambda m: "升级：" + "，".join(_auto_step(x) for x in m[1].split(", "))),
        (r"(archive|purge) (\S+), (\d+) tickets?", lambda m: (
            f"{'归档' if m[1] == 'archive' else '清除'} {m[2]}，{m[3]} 张工单")),
        (
            r"recorded (\d+) escalation\(s\) and (\d+) warning\(s\) on (\d+) ticket\(s\)",
            lambda m: f"已记录 {m[1]} 次升级、{m[2]} 次预警，涉及 {m[3]} 张工单",
        ),
    ]
)  # fmt: skip


def _auto_step(text: str) -> str:
    """``resolution to supervisor zhang`` (one step of ``check --escalate``)."""
    m = re.fullmatch(r"(\w+) to (\w+) (.+)", text)
    if not m:
        return text
    return f"{CLOCKS_ZH.get(m[1], m[1])}时限 → {LEVELS_ZH.get(m[2], m[2])} {m[3]}"


_SOURCES_ZH = {"check": "检查", "archive": "归档", "import": "导入", "sync": "同步"}


def _apply(rules: list[Rule], text: str) -> str | None:
    for pattern, make in rules:
        m = pattern.fullmatch(text)
        if m:
            return make(m)
    return None


def log_text(text: str, lang: str) -> str:
    """A log line as the lifecycle wrote it, in ``lang`` (typed text stays as typed)."""
    if lang != "zh":
        return text
    found = _apply(_LOG_RULES, text)
    return found if found is not None else text


def subject(line: str, lang: str) -> str:
    """A commit subject (``IT-20231025-001: acknowledge``) in ``lang``, for a person."""
    if lang != "zh":
        return line
    ticket, sep, summary = line.partition(": ")
    if not sep:
        return line
    found = _apply(_SUBJECT_RULES, summary)
    return f"{_SOURCES_ZH.get(ticket, ticket)}：{found}" if found is not None else line
