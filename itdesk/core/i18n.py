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
from collections.abc import Callable, Iterator
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

# The keys inside a ticket's mappings (requester.contact, resolution.summary, ...).
SUBKEYS_ZH = {
    **FIELDS_ZH,
    "name": "姓名",
    "summary": "摘要",
    "at": "时间",
    "by": "经办人",
    "verified_by_requester": "已与用户确认",
    "speed": "处理速度",
    "attitude": "服务态度",
    "overall": "总体评价",
    "comment": "意见",
}

EVENTS_ZH = {  # what a notification tells of (itdesk.channels.notify.EVENTS)
    "created": "新建",
    "p1": "一级(紧急)",
    "escalated": "升级",
    "at_risk": "临近超时",
    "resolved": "处理完成",
    "followup_due": "待回访",
    "renumbered": "重新编号",
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


class _Rules:
    """Patterns compiled when first used: an English desk never pays for them."""

    def __init__(self, pairs: list[tuple[str, Callable[[re.Match[str]], str]]]):
        self.pairs = pairs
        self.compiled: list[Rule] | None = None

    def __iter__(self) -> Iterator[Rule]:
        if self.compiled is None:
            self.compiled = [(re.compile(p, re.S), f) for p, f in self.pairs]
        return iter(self.compiled)


def _rules(pairs: list[tuple[str, Callable[[re.Match[str]], str]]]) -> _Rules:
    return _Rules(pairs)


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
        (r"(.+) \(with a screenshot\)", lambda m: f"{_subject_summary(m[1])}（附截图）"),
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
        (r"(\d{4}-\d{2}), (\d+) tickets?", lambda m: f"{m[1]}，{m[2]} 张工单"),
        (r"purge (\d{4}-\d{2}), (\d+) tickets?", lambda m: f"清除 {m[1]}，{m[2]} 张工单"),
        (r"escalate (.+)", lambda m: "升级：" + "，".join(_auto_step(x) for x in m[1].split(", "))),
        (r"(archive|purge) (\S+), (\d+) tickets?", lambda m: (
            f"{'归档' if m[1] == 'archive' else '清除'} {m[2]}，{m[3]} 张工单")),
        (r"(\d+) tickets? from (.+)", lambda m: f"{m[1]} 张工单，来自 {m[2]}"),
        (r"(\d+) tickets?", lambda m: f"{m[1]} 张工单"),
        (r"renumber (.+)", lambda m: "重新编号：" + "，".join(
            x.replace(" to ", " → ") for x in m[1].split(", "))),
        (r"(.+) open again, back from the archive", lambda m: f"{m[1]} 已重新打开，移回工单目录"),
        (r"merge (\S+)", lambda m: f"合并 {m[1]}"),
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


def _subject_summary(summary: str) -> str:
    found = _apply(_SUBJECT_RULES, summary)
    return found if found is not None else summary


def _apply(rules: _Rules, text: str) -> str | None:
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
        m = re.fullmatch(r"init desk \((.+)\)", line)
        return f"新建服务台（{m[1]}）" if m else line
    found = _apply(_SUBJECT_RULES, summary)
    return f"{_SOURCES_ZH.get(ticket, ticket)}：{found}" if found is not None else line


# -- error and warning lines ------------------------------------------------------------

_ACTIONS_EN_ZH = {
    "acknowledge": "受理",
    "accept": "接单",
    "resolve": "标记处理完成",
    "close": "关闭",
    "reopen": "重新打开",
    "cancel": "取消",
    "classify": "定级分类",
    "log work": "记录处理过程",
    "escalate": "升级",
    "edit": "修改",
    "attach a file": "添加附件",
    "record a follow-up": "记录回访",
}
_WHAT_ZH = {
    "the summary": "解决方案",
    "the reason": "原因",
    "the log text": "记录内容",
    "the title": "标题",
    "the requester": "提交人",
    "the requester's name": "提交人姓名",
    "the assignee": "处理人",
    "the vendor": "厂商",
    "the supervisor": "主管",
    "--force needs --reason; the reason": "--force 需要 --reason；原因",
}
_KINDS_OF_VALUE = {"priority": "问题分级", "category": "问题类型", "satisfaction": "满意度",
                   "channel": "渠道", "status": "状态"}  # fmt: skip


def _action_zh(action: str) -> str:
    if action in _ACTIONS_EN_ZH:
        return _ACTIONS_EN_ZH[action]
    m = re.fullmatch(r"assign to (.+)", action)
    if m:
        return f"分配给 {m[1]}"
    m = re.fullmatch(r"wait on the (user|vendor)", action)
    if m:
        return f"转为等待{'用户' if m[1] == 'user' else '厂商'}"
    m = re.fullmatch(r"escalate to vendor (.+)", action)
    if m:
        return f"升级至厂商 {m[1]}"
    return action


def _hints_zh(hints: str) -> str:
    parts = re.findall(r"(\w+) \(([^)]+)\)", hints)
    return "、".join(f"{STATUSES_ZH.get(s, s)}（itdesk {c}）" for s, c in parts) or hints


_ERROR_RULES = _rules(
    [
        (
            r"(\S+) is (\w+): cannot (.+?); from \w+ it can go to: (.+)",
            lambda m: (
                f"{m[1]} 当前为{STATUSES_ZH.get(m[2], m[2])}，不能{_action_zh(m[3])}；"
                f"可转为：{_hints_zh(m[4])}"
            ),
        ),
        (
            r"(\S+) is (\w+): cannot (.+?); (?:it is final|\w+ is final)",
            lambda m: f"{m[1]} 当前为{STATUSES_ZH.get(m[2], m[2])}（终态），不能{_action_zh(m[3])}",
        ),
        (
            r"(\S+) is (\w+): cannot (.+?); reopen it first \(itdesk reopen\)",
            lambda m: (
                f"{m[1]} 当前为{STATUSES_ZH.get(m[2], m[2])}，不能{_action_zh(m[3])}；"
                "请先重新打开（itdesk reopen）"
            ),
        ),
        (
            r"(\S+) is (\w+): cannot close before it is resolved \(itdesk resolve\), or use "
            r"--force --reason",
            lambda m: (
                f"{m[1]} 当前为{STATUSES_ZH.get(m[2], m[2])}，不能关闭：请先标记处理完成"
                "（itdesk resolve），或使用 --force --reason"
            ),
        ),
        (
            r"(\S+) is (\w+): cannot record a follow-up; .+",
            lambda m: (
                f"{m[1]} 当前为{STATUSES_ZH.get(m[2], m[2])}，不能记录回访："
                "回访在处理完成后进行（itdesk resolve）"
            ),
        ),
        (
            r"(\S+) has no assignee: assign it first \(itdesk assign \S+ --to NAME\)",
            lambda m: f"{m[1]} 尚无处理人：请先分配（itdesk assign {m[1]} --to NAME）",
        ),
        (
            r"no ticket (\S+) on this desk \(itdesk list --all shows them\)",
            lambda m: f"服务台上没有工单 {m[1]}（itdesk list --all 列出全部工单）",
        ),
        (
            r"(.+) is not a ticket number; expected the form (\S+)",
            lambda m: f"{m[1]} 不是工单编号；格式应为 {m[2]}",
        ),
        (
            r"unknown (priority|category|satisfaction|channel|status) (.+?); accepted: (.+)",
            lambda m: f"未知的{_KINDS_OF_VALUE[m[1]]} {m[2]}；可用：{m[3]}",
        ),
        (r"missing --requester: .+", lambda m: "缺少 --requester：必须填写提交人姓名"),
        (r"missing --title: .+", lambda m: "缺少 --title：请用几个字说明问题"),
        (
            r"unknown --via (.+?); accepted: .+",
            lambda m: (
                f"未知的 --via {m[1]}；可用：phone、remote、onsite、note（电话、远程、现场、备注）"
            ),
        ),
        (r"(.+) must not be empty", lambda m: f"{_WHAT_ZH.get(m[1], m[1])}不能为空"),
        (
            r"--as (.+?): not someone this desk knows \((.*)\); .+",
            lambda m: (
                f"--as {m[1]}：服务台不认识此人（{m[2]}）；请在 itdesk.yaml 的团队、"
                "people: 或（机器人）robots: 中添加"
            ),
        ),
        (
            r"(\S+): the time of this step \((\S+)\) is before the ticket's last recorded "
            r"event \((\S+)\); .+",
            lambda m: (
                f"{m[1]}：本步骤时间（{m[2]}）早于工单最后记录的时间（{m[3]}）；"
                "工单时间不能倒流，请给出更晚的 --now"
            ),
        ),
        (
            r"no desk here: .+",
            lambda m: (
                "这里没有服务台（当前目录及上级目录都没有 itdesk.yaml）；"
                "请用 --desk PATH、设置 ITDESK_DESK，或新建：itdesk init PATH"
            ),
        ),
        (
            r"no desk at (\S+) \(no itdesk\.yaml\); .+",
            lambda m: f"{m[1]} 不是服务台（没有 itdesk.yaml）；新建：itdesk init PATH",
        ),
        (
            r"(\S+) has no follow-up: .+",
            lambda m: (
                f"{m[1]} 尚未回访：请先记录回访（itdesk followup {m[1]} --speed S "
                "--attitude S --overall S），或使用 --force --reason"
            ),
        ),
        (
            r"(\S+): nothing to change \(the fields already hold these values\)",
            lambda m: f"{m[1]}：没有需要修改的内容（字段已是这些值）",
        ),
        (
            r"(.+?) has (\d+) bytes; the desk takes attachments up to (\d+) .+",
            lambda m: (
                f"{m[1]} 有 {m[2]} 字节；附件上限为 {m[3]} 字节"
                "（itdesk.yaml 的 attachments: max_bytes）"
            ),
        ),
        (r"(.+) is a symbolic link; .+", lambda m: f"{m[1]} 是符号链接；请附加它指向的文件"),
        (r"(.+): no such file", lambda m: f"{m[1]}：文件不存在"),
        (
            r"calendar (\S+): holidays are known until (\S+), but (.+?) (?:is|are) due after "
            r"it; .+",
            lambda m: (
                f"日历 {m[1]} 的节假日数据只到 {m[2]}，而 {m[3]} 的到期时间在其后；"
                "这些日子被当作普通工作日：请更新 chinesecalendar（pip install -U chinesecalendar）"
                "或在 itdesk.yaml 的 holidays/workdays 中补充日期"
            ),
        ),
        # the lifecycle's less common refusals
        (
            r"bad time (.+?); use ISO 8601 .+",
            lambda m: (
                f"无法识别的时间 {m[1]}；请用 ISO 8601 格式，如 2023-10-25T09:30 或 "
                "2023-10-25T09:30+08:00，或 now、+2h、today 18:00、tomorrow 9:00、eod"
            ),
        ),
        (r"bad time (.+?); accepted: (.+)", lambda m: f"无法识别的时间 {m[1]}；可用：{m[2]}"),
        (r"give --mine or --assignee, not both", lambda m: "--mine 与 --assignee 只能给一个"),
        (r"give --priority and/or --category", lambda m: "请给出 --priority 和/或 --category"),
        (
            r"(\S+) is already (\S+) (\S+); nothing to change",
            lambda m: f"{m[1]} 已是 {m[2]} {CATEGORIES_ZH.get(m[3], m[3])}；没有需要修改的内容",
        ),
        (r"(\S+) is already assigned to (.+)", lambda m: f"{m[1]} 已分配给 {m[2]}"),
        (r"give either --to NAME or --auto", lambda m: "请给出 --to NAME 或 --auto（二选一）"),
        (
            r"(?:give|escalate to) either --supervisor or --vendor NAME",
            lambda m: "请给出 --supervisor 或 --vendor NAME（二选一）",
        ),
        (
            r"no supervisor in itdesk\.yaml .+",
            lambda m: "itdesk.yaml 中没有主管（supervisors: 或处理组的 supervisor）",
        ),
        (r"--reason goes with --force", lambda m: "--reason 需与 --force 一起使用"),
        (
            r"--now (\S+) is more than a day ahead of this machine's clock; .+",
            lambda m: f"--now {m[1]} 比本机时钟快一天以上；工单记录的是步骤发生的时间",
        ),
        (
            r"reported_at is later than now; give --now or fix the time",
            lambda m: "提交时间晚于当前时间；请给出 --now 或更正时间",
        ),
        (
            r"give at least one field to change \(itdesk edit --help\)",
            lambda m: "请至少给出一个要修改的字段（itdesk edit --help）",
        ),
        (
            r"cannot edit (.+?); intake fields: (.+)",
            lambda m: f"不能修改 {m[1]}；可修改的登记字段：{m[2]}",
        ),
        (
            r"--expected-by (\S+): (\S+) is before the report \((\S+)\); give a later time",
            lambda m: f"--expected-by {m[1]}：{m[2]} 早于提交时间（{m[3]}）；请给出更晚的时间",
        ),
        (
            r"blocks_work: (.+) is not true or false",
            lambda m: f"blocks_work：{m[1]} 不是 true 或 false",
        ),
        # attachments
        (
            r"(.+) is not a regular file; attach a file",
            lambda m: f"{m[1]} 不是普通文件；请附加文件",
        ),
        (r"(.+) is larger than (\d+) bytes", lambda m: f"{m[1]} 大于 {m[2]} 字节"),
        (
            r"(\S+) exists already; give another --name",
            lambda m: f"{m[1]} 已存在；请用 --name 另起一个名字",
        ),
        (r"cannot read (.+?): (.+)", lambda m: f"无法读取 {m[1]}：{os_error(m[2])}"),
        (r"cannot write (.+?): (.+)", lambda m: f"无法写入 {m[1]}：{os_error(m[2])}"),
        # the knowledge base
        (r"no article kb/(\S+)\.md", lambda m: f"没有文章 kb/{m[1]}.md"),
        (r"the query is empty; give words to search for", lambda m: "查询为空；请给出要搜索的词"),
        (
            r"no article kb/(\S+)\.md \(itdesk kb list shows them\)",
            lambda m: f"没有文章 kb/{m[1]}.md（itdesk kb list 列出全部文章）",
        ),
        (
            r"(.+) is not a valid article name; .+",
            lambda m: (
                f"{m[1]} 不是有效的文章名；请用 1-80 个小写字母、数字和 -，以字母或数字开头"
                "（如 wifi-certificate）"
            ),
        ),
        (
            r"--into links to an existing article; it goes without --slug and --new",
            lambda m: "--into 关联已有文章，不能与 --slug、--new 同用",
        ),
        (
            r"kb/(\S+)\.md exists; link the ticket to it \(--into \S+\) or choose another --slug",
            lambda m: f"kb/{m[1]}.md 已存在；请关联它（--into {m[1]}）或另选 --slug",
        ),
        (
            r"(\S+) is (\w+): only a resolved or closed ticket can become a KB article; .+",
            lambda m: (
                f"{m[1]} 当前为{STATUSES_ZH.get(m[2], m[2])}：只有处理完成或已关闭的工单"
                f"才能整理为知识库文章；请先标记处理完成（itdesk resolve {m[1]} --summary TEXT）"
            ),
        ),
        (
            r"(\S+) was closed without a resolution or handling steps: .+",
            lambda m: f"{m[1]} 关闭时没有解决方案和处理过程：没有可整理的解决方法",
        ),
        (
            r"the edited article is empty: .+",
            lambda m: "编辑后的文章为空：已中止整理，未做任何更改",
        ),
        (r"the edited article is not valid: (.+)", lambda m: f"编辑后的文章无效：{m[1]}"),
        (
            r"(\S+) appeared meanwhile; run the command again",
            lambda m: f"{m[1]} 在此期间出现了；请重新运行命令",
        ),
        # archive, export, import, stats
        (
            r"bad (--month|month) (.+?); (?:expected|use) YYYY-MM.*",
            lambda m: f"无法识别的月份 {m[2]}；请用 YYYY-MM 格式，如 2023-10",
        ),
        (
            r"--month (\S+) is not over yet \(it is (\S+) now\); .+",
            lambda m: f"--month {m[1]} 尚未结束（现在是 {m[2]}）；只能归档 {m[2]} 之前的月份",
        ),
        (
            r"--month (\S+) is younger than the retention \((\S+)\): it may be purged from "
            r"(\S+); nothing was removed",
            lambda m: (
                f"--month {m[1]} 未满保留期（{retention_zh(m[2])}）：{m[3]} 起才可清除；"
                "未删除任何内容"
            ),
        ),
        (
            r"closed_at: (.+?) is not a time with an offset, and purging needs it .+",
            lambda m: (
                f"closed_at：{m[1]} 不是带时区偏移的时间，清除需要它（itdesk validate）；"
                "未删除任何内容"
            ),
        ),
        (r"give --all or --status, not both", lambda m: "--all 与 --status 只能给一个"),
        (
            r"--output (.+?): cannot tell the format from (.+?); name a \.csv or \.xlsx file",
            lambda m: f"--output {m[1]}：无法从 {m[2]} 判断格式；请给出 .csv 或 .xlsx 文件",
        ),
        (
            r"--format (\S+) does not match --output (.+?); they must agree",
            lambda m: f"--format {m[1]} 与 --output {m[2]} 不一致；两者须相符",
        ),
        (
            r"--format xlsx writes a workbook: give --output FILE\.xlsx",
            lambda m: "--format xlsx 写出的是工作簿：请给出 --output FILE.xlsx",
        ),
        (
            r"(--\w+) (.+?): name a (.+?) file \(that is what is written\)",
            lambda m: (
                f"{m[1]} {m[2]}：请给出 {m[3].replace(' or ', '、')} 文件（写出的就是这种格式）"
            ),
        ),
        (r"(--\w+) (.+?): no folder (.+)", lambda m: f"{m[1]} {m[2]}：没有文件夹 {m[3]}"),
        (
            r"(--\w+) (.+?) is a folder; give a file name",
            lambda m: f"{m[1]} {m[2]} 是文件夹；请给出文件名",
        ),
        (r"(--\w+) (.+?): not writable", lambda m: f"{m[1]} {m[2]}：不可写"),
        (
            r"row (\d+): (.+); nothing was imported",
            lambda m: f"第 {m[1]} 行：{message(m[2], 'zh')}；未导入任何内容",
        ),
        (
            r"no header row found; expected the record form's columns: (.+)",
            lambda m: f"没有找到表头；应为记录表的各列：{m[1]}",
        ),
        (
            r"rows? (.+?) hold masked names or contacts \((.+?)\): an export without --reveal "
            r"cannot become tickets; .+",
            lambda m: (
                f"第 {m[1].replace(' and ', '，另 ').replace(' more', ' 行')} 行含有已遮盖的"
                f"姓名或联系方式（{m[2]}）：未加 --reveal 的导出不能变成工单；请用 itdesk export "
                "--reveal 重新导出，再导入该文件；未导入任何内容"
            ),
        ),
        (
            r"give either --month or --since/--until, not both",
            lambda m: "--month 与 --since/--until 只能给一种",
        ),
        (
            r"--since (\S+) is not before --until (\S+): the period is empty",
            lambda m: f"--since {m[1]} 不早于 --until {m[2]}：时间段为空",
        ),
        (
            r"--markdown and --format json exclude each other; choose one",
            lambda m: "--markdown 与 --format json 不能同用；请选一个",
        ),
        # a ticket file that is not valid, or not committed
        (
            r"(\S+?\.yaml) has uncommitted changes; .+",
            lambda m: (
                f"{m[1]} 有未提交的更改；请用 git 提交（先运行 itdesk validate）"
                "或放弃（git checkout -- 该文件），再重试"
            ),
        ),
        (r"(\S+?\.yaml(?::\d+)?): (.+)", lambda m: f"{m[1]}: {_ticket_problem(m[2])}"),
        # notifications and the outbox
        (
            r"notification not sent, will retry on the next check: (.+)",
            lambda m: f"通知未发出，下次检查时重试：{_notice(m[1])}",
        ),
        (
            r"notification given up, kept for a person: (.+)",
            lambda m: f"通知已放弃，留待人工处理：{_notice(m[1])}",
        ),
        (r"notification not sent: (.+)", lambda m: f"通知未发出：{_notice(m[1])}"),
        (
            r"(\d+) undeliverable notification\(s\) in the dead letters; see: itdesk outbox list",
            lambda m: f"死信中有 {m[1]} 条无法送达的通知；参见：itdesk outbox list",
        ),
        (
            r"its webhook is no longer in itdesk\.yaml \(removed or its URL changed\)",
            lambda m: "它的 webhook 已不在 itdesk.yaml 中（已删除或 URL 已更改）",
        ),
        (
            r"its webhook no longer takes (\S+)",
            lambda m: f"它的 webhook 已不再接收 {EVENTS_ZH.get(m[1], m[1])} 通知",
        ),
        (
            r"(notify:|notify\.smtp) is no longer in itdesk\.yaml",
            lambda m: f"{m[1]} 已不在 itdesk.yaml 中",
        ),
        (r"not an e-mail address: (.+)", lambda m: f"不是电子邮件地址：{m[1]}"),
        (r"the ticket cannot be read", lambda m: "工单无法读取"),
        (r"the ticket is (\w+)", lambda m: f"工单{STATUSES_ZH.get(m[1], m[1])}"),
        (r"its escalation was not committed", lambda m: "其升级记录未提交"),
        (
            r"give the dead letters to (retry|discard) \(their ids\) or --all",
            lambda m: (
                f"请给出要{'重新发送' if m[1] == 'retry' else '丢弃'}的死信编号，或使用 --all"
            ),
        ),
        (
            r"no dead letter (.+?); dead letters: (.+)",
            lambda m: f"没有死信 {m[1]}；现有死信：{'无' if m[2] == 'none' else m[2]}",
        ),
        # the merge driver's conflicts
        (
            r"(\S+): status: the merged log ends in '(\w+)' but the sides leave it '(.+?)'; .+",
            lambda m: (
                f"{m[1]}：状态：合并后的处理过程以{STATUSES_ZH.get(m[2], m[2])}结束，而两边的"
                f"状态为 {STATUSES_ZH.get(m[3], m[3])}；请手工合并，然后运行 itdesk validate"
            ),
        ),
        (
            r"(\S+): \(file\): removed on one side and changed on the other",
            lambda m: f"{m[1]}：一边删除了文件，另一边修改了它",
        ),
        (r"(\S+): id: one side calls it (.+)", lambda m: f"{m[1]}：编号：一边称它为 {m[2]}"),
        (
            r"(\S+): id: the number was given to two different tickets, .+",
            lambda m: (
                f"{m[1]}：编号：同一编号给了两张不同的工单，各在一边；"
                "itdesk sync 会为尚未到达远程仓库的那张重新编号"
            ),
        ),
        (
            r"(\S+): (\S+): (.+); merge it by hand",
            lambda m: f"{m[1]}：{KEYS_ZH.get(m[2], m[2])}：{message(m[3], 'zh')}；请手工合并",
        ),
        # the team: sync, guard, setup, serve
        (
            r"the branch (\S+) has no remote to sync with; set one: (.+)",
            lambda m: f"分支 {m[1]} 没有可同步的远程仓库；请设置：{m[2]}",
        ),
        (
            r"the branch (\S+) follows a local branch; sync needs a remote",
            lambda m: f"分支 {m[1]} 跟踪的是本地分支；同步需要远程仓库",
        ),
        (
            r"the clone has uncommitted changes; .+",
            lambda m: (
                "本克隆有未提交的更改；请用 git 提交（先运行 itdesk validate）或放弃它们，再同步"
            ),
        ),
        (r"cannot fetch from (\S+): (.+)", lambda m: f"无法从 {m[1]} 拉取：{m[2]}"),
        (r"cannot push to (\S+): (.+)", lambda m: f"无法推送到 {m[1]}：{m[2]}"),
        (r"(\S+) refused the push: (.+)", lambda m: f"{m[1]} 拒绝了推送：{team_text(m[2], 'zh')}"),
        (
            r"(\S+) kept moving: (\d+) tries to push failed; .+",
            lambda m: f"{m[1]} 一直在变化：{m[2]} 次推送均失败；本克隆保持原样，请再次同步",
        ),
        (
            r"sync stopped, the clone is as it was: (.+)",
            lambda m: f"同步已停止，本克隆保持原样：{team_text(m[1], 'zh')}",
        ),
        (
            r"no folder (\S+); give the bare repository of the desk",
            lambda m: f"没有文件夹 {m[1]}；请给出服务台的裸仓库",
        ),
        (
            r"(\S+) is not a bare git repository \(the remote the clones push to\)",
            lambda m: f"{m[1]} 不是裸 git 仓库（各克隆推送的远程仓库）",
        ),
        (
            r"(\S+) exists and is not itdesk's; merge them by hand",
            lambda m: f"{m[1]} 已存在且不是 itdesk 的；请手工合并",
        ),
        (r"cannot listen on (\S+): (.+)", lambda m: f"无法在 {m[1]} 上监听：{m[2]}"),
        (
            r"mail intake acts as itdesk-mail; --as is not taken here",
            lambda m: "邮件登记以 itdesk-mail 身份操作；这里不接受 --as",
        ),
        (
            r"give either --maildir PATH or --imap HOST\[:PORT\]",
            lambda m: "请给出 --maildir PATH 或 --imap HOST[:PORT]（二选一）",
        ),
        (
            r"--imap needs --user U and --password-env VAR",
            lambda m: "--imap 需要 --user U 和 --password-env VAR",
        ),
        (
            r"--user and --password-env go with --imap",
            lambda m: "--user 和 --password-env 需与 --imap 一起使用",
        ),
        (
            r"--password-env (\S+): the variable is not set",
            lambda m: f"--password-env {m[1]}：该变量未设置",
        ),
        (
            r"the portal acts as itdesk-portal; --as is not taken here",
            lambda m: "门户以 itdesk-portal 身份操作；这里不接受 --as",
        ),
    ]
)


_NETWORK_ZH = {  # what the system says of a failed connection, the common ones
    "Connection refused": "连接被拒绝",
    "timed out": "连接超时",
    "Connection reset by peer": "连接被对方重置",
    "Name or service not known": "无法解析主机名",
    "Network is unreachable": "网络不可达",
    "No route to host": "没有到主机的路由",
}


def _network(text: str) -> str:
    for english, chinese in _NETWORK_ZH.items():
        text = text.replace(english, chinese)
    return text


_PROBLEM_RULES = _rules(
    [
        (r"not valid YAML: (.+)", lambda m: f"不是有效的 YAML：{m[1]}"),
        (r"(.+?) is not one of \[(.+)\]", lambda m: f"{m[1]} 不是可用的值；可用：{m[2]}"),
        (r"(.+?) is not of type (.+)", lambda m: f"{m[1]} 的类型不对，应为 {m[2]}"),
        (r"(.+?) is too short", lambda m: f"{m[1]} 太短"),
        (r"'(.+?)' is a required property", lambda m: f"缺少必填项 {m[1]}"),
        (r"Additional properties are not allowed \('(.+?)' was unexpected\)",
         lambda m: f"不允许的字段 {m[1]}"),
        (r"(.+?) is valid under more than one alternative", lambda m: f"{m[1]} 同时符合多种格式"),
        (r"(.+?) is not (.+)", lambda m: f"{m[1]} 不符合：{m[2]}"),
    ]
)  # fmt: skip


def _ticket_problem(text: str) -> str:
    """What is wrong in a ticket file (``status: 'x' is not one of [...]``)."""
    field, sep, rest = text.partition(": ")
    if field == "(top level)":
        field = "（顶层）"
    if sep and " " not in field:  # status: ..., log[0].status: ...
        found = _apply(_PROBLEM_RULES, rest)
        return f"{KEYS_ZH.get(field, field)}：{found if found is not None else message(rest, 'zh')}"
    found = _apply(_PROBLEM_RULES, text)
    return found if found is not None else message(text, "zh")


def problem(text: str, lang: str) -> str:
    """A problem ``validate`` found, ``PATH:LINE: what``, in ``lang``: the prefix stays as
    it is (editors and scripts read it), what is wrong is translated."""
    if lang != "zh":
        return text
    m = re.fullmatch(r"(\S+?\.ya?ml(?::\d+)?): (.+)", text, re.S)
    return f"{m[1]}: {_ticket_problem(m[2])}" if m else message(text, lang)


def retention_zh(text: str) -> str:
    """A retention as itdesk writes it (``2y6m10d``) in Chinese (``2年6个月10天``)."""
    units = {"y": "年", "m": "个月", "d": "天"}
    return re.sub(r"(\d+)([ymd])", lambda m: m[1] + units[m[2]], text)


_OS_ZH = {
    "No such file or directory": "文件不存在",
    "Permission denied": "没有权限",
    "Is a directory": "是目录",
    "No space left on device": "磁盘已满",
}


def os_error(text: str) -> str:
    """The system's words for a failed file operation, in Chinese when known."""
    return _OS_ZH.get(text, text)


def _notice(text: str) -> str:
    """``created of IT-... to RECIPIENT (#3): why`` (a notification that failed)."""
    m = re.fullmatch(r"(\w+) of (\S+) to (.+?)(?: \((#\d+)\))?(?:: (.+))?", text, re.S)
    if not m:
        m2 = re.fullmatch(r"(.+?): (.+) \((.+)\)", text, re.S)  # recipient: error (ids)
        return f"{m2[1]}：{_network(m2[2])}（{m2[3]}）" if m2 else _network(text)
    said = f"{m[2]} 的{EVENTS_ZH.get(m[1], m[1])}通知，发给 {m[3]}"
    said += f"（{m[4]}）" if m[4] else ""
    return said + (f"：{_network(message(m[5], 'zh'))}" if m[5] else "")


def message(text: str, lang: str) -> str:
    """An error or warning line in ``lang`` (the common ones; the rest as written)."""
    if lang != "zh":
        return text
    body, sep, tail = text.partition("; nothing was changed")
    found = _apply(_ERROR_RULES, body)
    if found is None:
        return text
    return found + ("；未做任何更改" if sep else "") + tail


# -- click's own usage errors (unknown option, missing argument, bad choice) -------------


def _click_value(text: str) -> str:
    """The reason inside click's ``Invalid value for X: REASON``."""
    found = _apply(_CLICK_VALUE_RULES, text)
    return found if found is not None else message(text, "zh")


_NUMBER_TYPES_ZH = {"integer": "整数", "float": "数字", "UUID": "UUID", "boolean": "是/否值"}
_CLICK_VALUE_RULES = _rules(
    [
        (r"(.+?) is not one of (.+)\.", lambda m: f"{m[1]} 不是可用的值；可用：{m[2]}"),
        (r"(.+?) is not a valid (integer|float|UUID|boolean)\.",
         lambda m: f"{m[1]} 不是有效的{_NUMBER_TYPES_ZH[m[2]]}"),
        (r"(.+?) is not in the range (.+)\.", lambda m: f"{m[1]} 超出范围 {m[2]}"),
        (r"(File|Directory|Path) (.+?) does not exist\.", lambda m: f"{m[2]} 不存在"),
        (r"(File|Directory|Path) (.+?) is a file\.", lambda m: f"{m[2]} 是文件，应为目录"),
        (r"(File|Directory|Path) (.+?) is a directory\.", lambda m: f"{m[2]} 是目录，应为文件"),
        (r"(File|Directory|Path) (.+?) is not (readable|writable)\.", lambda m: (
            f"{m[2]} 不可{'读' if m[3] == 'readable' else '写'}")),
    ]
)  # fmt: skip

_CLICK_RULES = _rules(
    [
        (r"No such option:? '?(.+?)'?\.?(?: Did you mean '?(.+?)'?\?)?(?: \(Possible options: "
         r"(.+)\))?", lambda m: f"没有选项 {m[1]}" + (f"；是否想用 {m[2]}？" if m[2] else "")
         + (f"；可能的选项：{m[3]}" if m[3] else "")),
        (
            r"No such command '(.+?)'\.(?: Did you mean '?(.+?)'?\?)?",
            lambda m: f"没有命令 {m[1]}" + (f"；是否想用 {m[2]}？" if m[2] else ""),
        ),
        (r"Missing command\.", lambda m: "缺少子命令"),
        (r"Missing (argument|option|parameter) '?(.+?)'?\.(?: Choose from: ?(.+?)\.?)?",
         lambda m: f"缺少{'选项' if m[1] == 'option' else '参数'} {m[2]}"
         + (f"；可用：{m[3]}" if m[3] else "")),
        (r"Invalid value for (.+?): (.+)", lambda m: f"{m[1]} 的值无效：{_click_value(m[2])}"),
        (r"Invalid value: (.+)", lambda m: f"值无效：{_click_value(m[1])}"),
        (r"Option '(.+?)' requires an argument\.", lambda m: f"选项 {m[1]} 需要一个值"),
        (r"Option '(.+?)' does not take a value\.", lambda m: f"选项 {m[1]} 不接受值"),
        (r"Argument '(.+?)' takes (\d+) values\.", lambda m: f"参数 {m[1]} 需要 {m[2]} 个值"),
        (r"Got unexpected extra arguments? \((.+)\)", lambda m: f"多余的参数：{m[1]}"),
        (r"Option '(.+?)' requires (\d+) arguments\.", lambda m: f"选项 {m[1]} 需要 {m[2]} 个值"),
    ]
)  # fmt: skip


def usage_message(text: str, lang: str) -> str:
    """One of click's usage errors in ``lang`` (itdesk's own ones through :func:`message`)."""
    if lang != "zh":
        return text
    found = _apply(_CLICK_RULES, text)
    return found if found is not None else message(text, lang)


# -- the team's commands: sync, audit, guard, setup, outbox, the merge driver -------------

AUDIT_KINDS_ZH = {
    "hand-edit": "手工修改",
    "log-rewritten": "改写处理过程",
    "closed-changed": "关闭后被修改",
    "time-backwards": "时间倒流",
    "number-reused": "编号重复",
    "unsigned": "未签名",
}
OUTBOX_STATES_ZH = {"dead": "死信", "queued": "待发送"}

_TEAM_RULES = _rules(
    [
        (r"(\S+) by (.+) changed (\S+) without itdesk \(no Ticket:/Action: trailers\)",
         lambda m: f"{m[1]}（{m[2]}）未经 itdesk 修改了 {m[3]}（没有 Ticket:/Action: 尾注）"),
        (r"(\S+) by (.+) has no good signature", lambda m: f"{m[1]}（{m[2]}）没有有效签名"),
        (r"(\S+) gave (\S+) to a second, different ticket",
         lambda m: f"{m[1]} 把编号 {m[2]} 给了另一张工单"),
        (r"(\S+) changed or removed the log entry of (.+) by (.+)",
         lambda m: f"{m[1]} 修改或删除了 {m[3]} 在 {m[2]} 的处理记录"),
        (r"(\S+) changed (\S+), (\w+), without reopening it",
         lambda m: f"{m[1]} 修改了{STATUSES_ZH.get(m[3], m[3])}的 {m[2]}，却没有重新打开"),
        (r"(\S+): log entry (\d+) \((.+)\) is before the one above it",
         lambda m: f"{m[1]}：第 {m[2]} 条处理记录（{m[3]}）早于上一条"),
        (r"(\S+): deleting the desk's branch is refused",
         lambda m: f"{m[1]}：不允许删除服务台的分支"),
        (r"(\S+): a force push over the desk's history is refused \((\S+) is not in (\S+)\); "
         r"pull \(itdesk sync\), then push",
         lambda m: f"{m[1]}：不允许强制推送覆盖服务台的历史（{m[2]} 不在 {m[3]} 中）；"
         "请先拉取（itdesk sync）再推送"),
        (r"(\S+): (\S+): not UTF-8 text", lambda m: f"{m[1]}：{m[2]}：不是 UTF-8 文本"),
        (r"(\S+): invalid ticket: (\S+): id (.+) is not its name",
         lambda m: f"{m[1]}：无效的工单：{m[2]}：编号 {m[3]} 与文件名不符"),
        (r"(\S+): invalid ticket: (.+)", lambda m: f"{m[1]}：无效的工单：{m[2]}"),
        (r"(\S+): (\S+): ([a-z-]+): (.+)", lambda m: (
            f"{m[1]}：{m[2]}：{AUDIT_KINDS_ZH.get(m[3], m[3])}：{team_text(m[4], 'zh')}")),
        (r"(.+?): (\S+) changed on both sides; kept (.+)",
         lambda m: f"{m[1]}：两边都修改了{KEYS_ZH.get(m[2], m[2])}；保留 {m[3]}"),
        (r"merge of (.+?) stopped: (.+)", lambda m: f"合并 {m[1]} 停止：{message(m[2], 'zh')}"),
    ]
)  # fmt: skip


def team_text(text: str, lang: str) -> str:
    """An audit finding, a guard refusal or a merge driver line in ``lang``."""
    if lang != "zh":
        return text
    found = _apply(_TEAM_RULES, text)
    return found if found is not None else text
