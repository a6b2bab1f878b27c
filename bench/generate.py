"""Realistic desks for the benchmarks, built fast and cached between runs.

A desk is made the way a user makes one (``itdesk init`` in a subprocess), then filled
with ``n`` ticket files written directly: each ticket is taken through
:mod:`itdesk.core.lifecycle` step by step (so it passes the schema and the status machine),
turned into plain data by :func:`itdesk.core.model.ticket_to_dict` and written with
:func:`itdesk.store.yamlio.dump_yaml`, byte for byte what ``itdesk`` itself would write. One
``git add -A`` and one commit follow. Running one ``itdesk`` command per ticket would
take hours at 100,000 tickets; this takes seconds.

The desk looks like a real one: tickets arrive at ~137 a day (50,000 a year), mostly
in working hours; the newer a ticket, the likelier it is still open, so a desk of two
years has about 1,000 active tickets; every status, priority, category and channel
occurs; each ticket has 3-10 log entries and Chinese text. Everything is drawn from
``random.Random(seed)`` with a fixed end time, so a desk is the same on every machine.

Desks are cached under ``bench/.cache/<name>``, the name keyed by size, archive count,
seed and :data:`GENERATOR_VERSION`: bump the version whenever the output changes.

    .venv/bin/python bench/generate.py 1000            # build (or find) the cached desk
    .venv/bin/python bench/generate.py 100 --out /tmp/d
"""

from __future__ import annotations

import argparse
import enum
import math
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from itdesk.core import lifecycle
from itdesk.core.lifecycle import Change
from itdesk.core.model import (
    Category,
    Channel,
    Impact,
    Priority,
    Requester,
    Satisfaction,
    Status,
    Ticket,
    ticket_to_dict,
)
from itdesk.core.status import history_problems
from itdesk.store import check_ticket_data, dump_yaml

GENERATOR_VERSION = 1
DEFAULT_SEED = 20261125
BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
TIMEZONE = "Asia/Shanghai"
TZ = ZoneInfo(TIMEZONE)
# The generated desk's "now": every ticket is reported and handled before it. Fixed,
# so that a desk does not depend on the day it is built.
END = datetime(2026, 11, 25, 17, 0, tzinfo=TZ)
TICKETS_PER_DAY = 50_000 / 365
TECHNICIAN = "zhang"
# Written into itdesk.yaml: a desk with one technician is not what a company runs.
TEAMS = {
    "hardware": ["zhang", "zhao", "liu"],
    "network": ["zhang", "wang", "chen"],
    "desk": ["li", "zhang", "sun", "zhou"],
}
TEAM_OF = {
    Category.HARDWARE: "hardware",
    Category.NETWORK: "network",
    Category.SOFTWARE: "desk",
    Category.ACCOUNT: "desk",
    Category.OTHER: "desk",
}
MARKER = "itdesk-bench-desk"  # under .git/: written last, so a half-built desk is never reused

# ------------------------------------------------------------------- the words

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘"
GIVEN = ["小明", "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军",
         "杰", "娟", "涛", "明辉", "秀英", "建国", "海燕", "志强", "晓东", "雪梅", "思远",
         "子涵"]  # fmt: skip
DEPARTMENTS = ["研发部", "财务部", "人力资源部", "市场部", "销售部", "行政部", "法务部",
               "采购部", "客服中心", "生产部", "质量部", "总经办"]  # fmt: skip
PLACES = ["3楼东区", "5楼会议室", "1号楼大厅", "2楼财务室", "研发中心B座", "上海分公司",
          "深圳办事处", "7楼开放办公区"]  # fmt: skip
DEVICES = {
    Category.HARDWARE: ["ThinkPad X1 Carbon", "Dell Latitude 7420", "HP LaserJet M404",
                        "Dell U2720Q", "华为 MateBook 14", "罗技 C930e", "爱普生 CB-X49"],
    Category.SOFTWARE: ["ThinkPad T14", "MacBook Pro 14", "Windows 11 台式机"],
    Category.NETWORK: ["华为 AR6140", "H3C S5130", "ThinkPad T14", "iPhone 14"],
    Category.ACCOUNT: [],
    Category.OTHER: ["联想 ThinkCentre M90t"],
}  # fmt: skip
PROBLEMS: dict[Category, list[tuple[str, str, str]]] = {
    # (title, symptom / error text, solution)
    Category.HARDWARE: [
        (
            "打印机卡纸，无法打印",
            "打印机提示卡纸，取出纸张后仍报错 E-13。",
            "清理定影单元并更换搓纸轮",
        ),
        ("笔记本电脑无法开机", "按电源键无反应，充电指示灯不亮。", "更换电源适配器，电池重新校准"),
        ("显示器闪屏", "外接显示器每隔几分钟黑屏一次。", "更换 DP 线并更新显卡驱动"),
        ("键盘部分按键失灵", "键盘 F、G、H 键按下无反应，外接键盘正常。", "更换键盘"),
        ("扩展坞无法识别外接显示器", "连接扩展坞后只有一台显示器有信号。", "升级扩展坞固件"),
        ("会议室投影仪无信号", "HDMI 接入后投影显示“无信号”。", "更换 HDMI 转接头"),
        ("电脑运行缓慢，风扇噪音大", "开机后 CPU 占用高，风扇持续高速运转。", "清灰并更换导热硅脂"),
    ],
    Category.SOFTWARE: [
        (
            "Outlook 无法接收邮件",
            "Outlook 一直显示“正在尝试连接”，网页版邮箱正常。",
            "重建 Outlook 配置文件",
        ),
        (
            "OA 系统提交审批报错 500",
            "提交报销单时页面提示“服务器内部错误 500”。",
            "OA 厂商修复接口后重新提交",
        ),
        (
            "Office 激活失败",
            "打开 Word 提示“产品未激活”，错误码 0xC004F074。",
            "重新指向 KMS 服务器并激活",
        ),
        ("VPN 客户端启动闪退", "双击 VPN 客户端后窗口闪一下就退出。", "卸载旧版本后重装最新客户端"),
        ("财务系统导出报表卡死", "导出月度报表时进度条停在 99%。", "清理临时文件并调整导出分页"),
        ("企业微信无法同步通讯录", "新同事在通讯录里搜不到。", "重新触发通讯录同步"),
    ],
    Category.NETWORK: [
        ("WiFi 认证失败", "连接公司 WiFi 时提示“认证失败”，手机可以正常连接。", "更新 WiFi 证书"),
        (
            "会议室网络断断续续",
            "视频会议时频繁掉线，ping 网关丢包 30%。",
            "更换会议室 AP 并调整信道",
        ),
        ("无法访问内网共享盘", "打开 \\\\fs01\\share 提示“找不到网络路径”。", "修复 DNS 记录"),
        ("VPN 连接超时", "在家连接 VPN 一直超时，错误 809。", "放行 UDP 500/4500 端口"),
        (
            "网口无法获取 IP 地址",
            "插上网线后显示“未识别的网络”，169.254 地址。",
            "交换机端口重新划分 VLAN",
        ),
    ],
    Category.ACCOUNT: [
        ("域账号被锁定", "登录电脑提示“账户已被锁定”。", "解锁账号并清除手机上的旧密码"),
        ("忘记邮箱密码", "邮箱密码忘记，无法登录网页版。", "核实身份后重置密码"),
        (
            "新员工账号开通",
            "新员工入职，需要开通域账号、邮箱和 OA。",
            "已开通全部账号并发送初始密码",
        ),
        (
            "申请访问财务共享目录权限",
            "因工作需要申请财务共享目录只读权限，已获主管批准。",
            "已加入财务只读组",
        ),
        ("OA 账号无法登录", "输入正确密码后提示“用户不存在”。", "同步 HR 系统后账号恢复"),
    ],
    Category.OTHER: [
        ("申请新员工电脑", "下周一新员工入职，需要准备一台笔记本。", "已配置并交付笔记本"),
        (
            "会议室视频会议设备调试",
            "明天上午有重要客户会议，需要提前调试设备。",
            "调试完成并现场保障",
        ),
        ("咨询软件采购流程", "想采购一套设计软件，不清楚流程。", "已告知采购流程并转采购部"),
        ("工位搬迁网络调整", "部门搬到 6 楼，需要调整网络端口。", "已完成端口跳线"),
    ],
}
NOTES = {
    "phone": ["电话联系用户，确认故障现象", "电话指导用户重启设备", "与用户确认问题已复现",
              "电话回访中，用户反馈仍有问题"],
    "remote": ["远程协助：重置网络配置", "远程查看事件日志，发现驱动报错",
               "远程清理缓存并重新登录", "远程安装补丁 KB5031356"],
    "onsite": ["现场检查：更换网线", "到工位检查硬件，已拆机排查", "现场测试备用设备正常",
               "现场协助用户完成配置"],
    "note": ["查询知识库，疑似证书过期", "已联系厂商确认是否为已知问题",
             "同类问题今日第三起，关注是否为批量故障", "等待备件到货"],
}  # fmt: skip
VENDORS = ["OA 厂商", "联想服务站", "电信运营商", "华为售后", "金蝶技术支持"]
COMMENTS = [None, None, "处理很及时，谢谢", "希望下次能更快一点", "工程师很耐心", None]

# Weights of the open statuses, and of the two final ones.
OPEN_WEIGHTS = {
    Status.NEW: 8, Status.ACKNOWLEDGED: 8, Status.ASSIGNED: 15, Status.IN_PROGRESS: 30,
    Status.PENDING_USER: 10, Status.PENDING_VENDOR: 10, Status.RESOLVED: 14, Status.REOPENED: 5,
}  # fmt: skip
# Minutes between steps (low, high), before any squeezing to fit before END.
GAPS = {
    "ack": (1, 12), "classify": (1, 10), "assign": (2, 30), "accept": (5, 110),
    "note": (10, 120), "pending_user": (10, 60), "vendor": (30, 240), "resume": (30, 600),
    "resolve": (10, 240), "followup": (10, 55), "close": (30, 1440), "reopen": (60, 2880),
    "cancel": (5, 600), "close_force": (60, 600),
}  # fmt: skip


# ------------------------------------------------------------------ generation


@dataclass(frozen=True)
class _Draft:
    """What is decided about a ticket before it is numbered and played through."""

    reported_at: datetime
    status: Status
    category: Category
    priority: Priority


def _reported_times(
    rng: random.Random, n: int, per_day: float = TICKETS_PER_DAY
) -> list[datetime]:
    """``n`` arrival times before END, ~``per_day`` a day (137: 50,000 a year), four in
    five in working hours."""
    span = max(n / per_day, 1 / 24) * 86400
    out: list[datetime] = []
    while len(out) < n:
        t = END - timedelta(seconds=int(rng.uniform(60, span)))
        minute = t.hour * 60 + t.minute
        working = t.weekday() < 5 and 8 * 60 + 30 <= minute < 18 * 60 + 30
        if working or rng.random() < 0.08:
            out.append(t)
    return sorted(out)


def _status_for(rng: random.Random, reported_at: datetime) -> Status:
    """The newer the ticket, the likelier it is open (~1,000 open on a two-year desk)."""
    age = (END - reported_at).total_seconds() / 86400
    if rng.random() < 0.85 * math.exp(-age / 3) + 0.005:
        return rng.choices(list(OPEN_WEIGHTS), weights=list(OPEN_WEIGHTS.values()))[0]
    return Status.CLOSED if rng.random() < 0.92 else Status.CANCELLED


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _plan(rng: random.Random, status: Status, p1: bool) -> list[str]:
    """The steps that take a new ticket to ``status``; "work" marks where notes go."""
    work = ["ack", "classify", "assign", "accept", "work"]
    if status is Status.NEW:
        return ["work"]
    if status is Status.ACKNOWLEDGED:
        return ["ack", "work"]
    if status is Status.ASSIGNED:
        return ["ack", "classify", "assign", "work"]
    if status is Status.CANCELLED:
        return rng.choice([["work", "cancel"], ["ack", "work", "cancel"],
                           ["ack", "classify", "assign", "work", "cancel"]])  # fmt: skip
    if status is Status.IN_PROGRESS:
        return work + rng.choice([[], [], ["pending_user", "resume"]])
    if status is Status.PENDING_USER:
        return work + ["pending_user"]
    if status is Status.PENDING_VENDOR:
        return work + ["vendor"]
    if status is Status.RESOLVED:
        return work + rng.choice([["resolve"], ["resolve"], ["vendor", "resolve"]])
    if status is Status.CLOSED:
        if rng.random() < 0.08:
            return ["ack", "classify", "work", "close_force"]
        detour = ["vendor"] if rng.random() < 0.15 and not p1 else []
        return work + detour + ["resolve", "followup", "close"]
    if status is Status.REOPENED:
        return work + rng.choice([["resolve", "reopen"],
                                  ["resolve", "followup", "close", "reopen"]])  # fmt: skip
    raise AssertionError(status)


def _entries(step: str, p1: bool) -> int:
    """Log entries a step adds (classify to P1 also logs the supervisor being informed)."""
    return 2 if step == "classify" and p1 else 0 if step == "work" else 1


def _play(rng: random.Random, ticket_id: str, draft: _Draft) -> Ticket:
    """Take a new ticket through the lifecycle functions up to ``draft.status``."""
    category, priority = draft.category, draft.priority
    p1 = priority is Priority.P1
    plan = _plan(rng, draft.status, p1)
    base = 1 + sum(_entries(s, p1) for s in plan)  # 1: the "reported" entry
    notes = rng.randint(max(3, base), 10) - base
    steps = [x for s in plan for x in ([s] if s != "work" else ["note"] * notes)]

    # Times: random gaps, squeezed to end before END (a young ticket was handled fast).
    gaps = [rng.uniform(*GAPS[s]) * 60 for s in steps]
    room = (END - draft.reported_at).total_seconds() - 30
    scale = min(1.0, room / sum(gaps)) if gaps else 1.0
    times, at = [], draft.reported_at
    for gap in gaps:
        at += timedelta(seconds=max(1, int(gap * scale)))
        times.append(min(at, END))

    title, symptom, solution = rng.choice(PROBLEMS[category])
    if rng.random() < 0.3:
        title += f"（{rng.choice(PLACES)}）"
    description = symptom
    if rng.random() < 0.4:
        description += f"\n从{rng.choice(['今天早上', '昨天下午', '上周', '升级系统后'])}开始出现。"
    devices = tuple(rng.sample(DEVICES[category], k=min(len(DEVICES[category]),
                                                         rng.randint(0, 2))))  # fmt: skip
    requester = Requester(
        name=_name(rng),
        employee_id=f"E{rng.randint(10000, 99999)}" if rng.random() < 0.8 else None,
        department=rng.choice(DEPARTMENTS),
        contact=rng.choice([f"139{rng.randint(10_000_000, 99_999_999)}",
                            f"u{rng.randint(1000, 9999)}@example.com", None]),
    )  # fmt: skip
    blocks = rng.random() < (0.9 if p1 else 0.3)
    impact = Impact(blocks, rng.choice(["本人", "整个部门", "会议室", "3 人", None]), devices)
    expected = None
    if rng.random() < 0.5:
        expected = draft.reported_at + timedelta(hours=rng.choice([1, 2, 4, 24]))
    desk_staff = rng.choice(TEAMS["desk"])
    team = TEAM_OF[category]
    assignee = rng.choice(TEAMS[team])

    change = lifecycle.open_ticket(
        ticket_id, title=title, requester=requester, now=draft.reported_at, by=desk_staff,
        description=description, impact=impact, channel=rng.choice(list(Channel)),
        expected_by=expected,
    )  # fmt: skip
    t = change.ticket
    for step, now in zip(steps, times, strict=True):
        t = _step(rng, t, step, now, desk_staff, assignee, team, priority, category, solution)
    return t


def _step(rng: random.Random, t: Ticket, step: str, now: datetime, desk_staff: str,
          assignee: str, team: str, priority: Priority, category: Category,
          solution: str) -> Ticket:  # fmt: skip
    calls: dict[str, Callable[[], Change]] = {
        "ack": lambda: lifecycle.acknowledge(t, now=now, by=desk_staff),
        "classify": lambda: lifecycle.classify(
            t, now=now, by=desk_staff, priority=priority, category=category, supervisor=TECHNICIAN
        ),  # fmt: skip
        "assign": lambda: lifecycle.assign(t, now=now, by=desk_staff, to=assignee, team=team),
        "accept": lambda: lifecycle.accept(t, now=now, by=assignee),
        "resume": lambda: lifecycle.accept(t, now=now, by=assignee),
        "note": lambda: _note(rng, t, now, assignee if t.assignee else desk_staff),
        "pending_user": lambda: lifecycle.pending(
            t,
            on="user",
            reason=rng.choice(["用户在开会", "等待用户提供截图", "用户出差"]),
            now=now,
            by=assignee,
        ),  # fmt: skip
        "vendor": lambda: lifecycle.escalate(
            t,
            vendor=rng.choice(VENDORS),
            reason="需要厂商排查接口问题",
            eta=now + timedelta(days=1),
            now=now,
            by=assignee,
        ),  # fmt: skip
        "resolve": lambda: lifecycle.resolve(
            t, summary=solution, verified=rng.random() < 0.7, now=now, by=assignee
        ),
        "followup": lambda: lifecycle.followup(
            t,
            now=now,
            by=desk_staff,
            speed=_satisfaction(rng),
            attitude=_satisfaction(rng),
            overall=_satisfaction(rng),
            comment=rng.choice(COMMENTS),
        ),  # fmt: skip
        "close": lambda: lifecycle.close(t, now=now, by=desk_staff),
        "close_force": lambda: lifecycle.close(
            t, now=now, by=desk_staff, force=True, reason="用户已自行解决，确认关闭"
        ),
        "reopen": lambda: lifecycle.reopen(t, now=now, by=desk_staff, reason="问题再次出现"),
        "cancel": lambda: lifecycle.cancel(
            t, now=now, by=desk_staff, reason="重复提交，与上一张工单相同"
        ),  # fmt: skip
    }
    return calls[step]().ticket


def _note(rng: random.Random, t: Ticket, now: datetime, by: str) -> Change:
    via = rng.choices(["phone", "remote", "onsite", "note"], weights=(3, 4, 2, 3))[0]
    return lifecycle.log_work(t, now=now, by=by, via=via, text=rng.choice(NOTES[via]))


def _satisfaction(rng: random.Random) -> Satisfaction:
    return rng.choices(list(Satisfaction), weights=(8, 2, 1))[0]


def _cover(drafts: list[_Draft]) -> None:
    """Every status, and every priority and category among classified tickets, at least
    once: the missing ones go to evenly spaced tickets whose value is the commonest."""

    def give(field: str, values: list[enum.Enum], eligible: Callable[[_Draft], bool]) -> None:
        for i, value in enumerate(values):
            if any(getattr(d, field) is value and eligible(d) for d in drafts):
                continue
            common = max(values, key=lambda v: sum(getattr(d, field) is v for d in drafts))
            spots = [k for k, d in enumerate(drafts) if getattr(d, field) is common
                     and eligible(d)]  # fmt: skip
            k = spots[(i * 7919) % len(spots)]
            change: dict[str, Any] = {field: value}
            drafts[k] = replace(drafts[k], **change)

    give("status", list(Status), lambda d: True)
    unclassified = (Status.NEW, Status.ACKNOWLEDGED, Status.CANCELLED)
    give("category", list(Category), lambda d: d.status not in unclassified)
    give("priority", list(Priority), lambda d: d.status not in unclassified)


def generate_tickets(
    n: int, seed: int = DEFAULT_SEED, per_day: float = TICKETS_PER_DAY
) -> list[Ticket]:
    """``n`` valid tickets, numbered per day in order of arrival; every status occurs.
    ``per_day``: arrivals a day (a busier desk packs more tickets into a month)."""
    rng = random.Random(seed)
    drafts = [
        _Draft(at, _status_for(rng, at), rng.choice(list(Category)),
               rng.choices(list(Priority), weights=(1, 4, 10))[0])
        for at in _reported_times(rng, n, per_day)
    ]  # fmt: skip
    if n >= 20:
        _cover(drafts)
    tickets, seq, day = [], 0, None
    for draft in drafts:
        local = draft.reported_at.astimezone(TZ).date()
        seq = seq + 1 if local == day else 1
        day = local
        tickets.append(_play(rng, f"IT-{local:%Y%m%d}-{seq:03d}", draft))
    return tickets


# ------------------------------------------------------------------------ desks


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every process the benchmark starts: git reads only a config of
    ours (no hooks, signing or fsmonitor of the machine), no desk is inherited, and
    Python may write byte-code (the warm-up run compiles it)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    config = CACHE / "gitconfig"
    text = ("[user]\n\tname = zhang\n\temail = zhang@example.com\n"
            "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")  # fmt: skip
    if not config.is_file() or config.read_text() != text:
        config.write_text(text)
    # PYTHONDONTWRITEBYTECODE (set in some shells and CI images) would make every run
    # compile itdesk's modules from source again; users' installs have byte-code.
    dropped = ("ITDESK_DESK", "ITDESK_DEBUG", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in dropped}
    env |= {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(config), "LC_ALL": "C.UTF-8"}
    env |= extra or {}
    return env


def itdesk_script() -> Path:
    """The installed ``itdesk`` script of this interpreter's environment (the venv)."""
    script = Path(sys.executable).parent / "itdesk"
    if not script.is_file():
        sys.exit(f"no itdesk script beside {sys.executable}; install the project: "
                 f"{sys.executable} -m pip install -e .")  # fmt: skip
    return script


def _git(root: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                   env=bench_env(env))  # fmt: skip


def _add_teams(root: Path) -> None:
    """Give init's one-person teams the members of TEAMS (a text edit keeps the comments)."""
    path = root / "itdesk.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    team = None
    for i, line in enumerate(lines):
        if line.startswith("  - name: "):
            team = line.split(":", 1)[1].strip()
        elif line.startswith("    members: ") and team in TEAMS:
            lines[i] = f"    members: [{', '.join(TEAMS[team])}]\n"
    text = "".join(lines)
    people = sorted({m for ms in TEAMS.values() for m in ms})
    text = text.replace(f"people:\n  {TECHNICIAN}: {{email: null}}\n", "people:\n" + "".join(
        f"  {p}: {{email: {p}@example.com}}\n" for p in people))  # fmt: skip
    path.write_text(text, encoding="utf-8")


def _month(t: Ticket) -> str:
    assert t.closed_at is not None
    return f"{t.closed_at.astimezone(TZ):%Y-%m}"


def build_desk(
    path: Path,
    n_tickets: int,
    seed: int = DEFAULT_SEED,
    archived: int = 0,
    per_day: float = TICKETS_PER_DAY,
) -> Path:
    """Make a desk at ``path`` (which must not exist) holding ``n_tickets`` tickets.

    The ``archived`` oldest closed or cancelled tickets go under
    ``tickets/archive/YYYY-MM/`` (month of closing), the rest under ``tickets/``.
    ``per_day``: tickets arriving a day (default ~137, 50,000 a year).
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; build_desk makes a new desk")
    start = END - timedelta(days=n_tickets / per_day + 1)
    subprocess.run(
        [str(itdesk_script()), "init", str(path), "--timezone", TIMEZONE, "--as", TECHNICIAN,
         "--now", start.isoformat(timespec="seconds")],
        check=True, capture_output=True, env=bench_env(),
    )  # fmt: skip
    _add_teams(path)
    tickets = generate_tickets(n_tickets, seed, per_day)
    final = [t for t in tickets if not t.status.is_open]
    if archived > len(final):
        raise ValueError(f"archived={archived}, but only {len(final)} tickets are closed")
    to_archive = {t.id for t in sorted(final, key=lambda t: (t.closed_at, t.id))[:archived]}

    sample_every = max(1, n_tickets // 200)  # the schema is slow: check a sample
    folders: set[Path] = set()
    for i, t in enumerate(tickets):
        problems = history_problems(t)
        if problems:
            raise AssertionError(f"generated {t.id} breaks the status machine: {problems}")
        data = ticket_to_dict(t)
        if i % sample_every == 0:
            check_ticket_data(data, t.id)
        folder = path / "tickets"
        if t.id in to_archive:
            folder = folder / "archive" / _month(t)
        if folder not in folders:
            folder.mkdir(parents=True, exist_ok=True)
            folders.add(folder)
        with open(folder / f"{t.id}.yaml", "w", encoding="utf-8", newline="\n") as fh:
            fh.write(dump_yaml(data))

    when = END.isoformat(timespec="seconds")
    identity = {"GIT_AUTHOR_NAME": TECHNICIAN, "GIT_AUTHOR_EMAIL": "zhang@example.com",
                "GIT_COMMITTER_NAME": TECHNICIAN, "GIT_COMMITTER_EMAIL": "zhang@example.com",
                "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}  # fmt: skip
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m",
         f"bench: {n_tickets} generated tickets ({archived} archived, seed {seed}, "
         f"generator v{GENERATOR_VERSION})", env=identity)  # fmt: skip
    # A desk in use has packed objects; thousands of loose ones would also make the
    # first timed commit start `git gc --auto`.
    _git(path, "repack", "-a", "-d", "-q")
    return path


def cache_name(
    n_tickets: int, seed: int = DEFAULT_SEED, archived: int = 0, per_day: float = TICKETS_PER_DAY
) -> str:
    rate = "" if per_day == TICKETS_PER_DAY else f"-d{per_day:g}"
    return f"desk-{n_tickets}-a{archived}-s{seed}{rate}-v{GENERATOR_VERSION}"


def cached_desk(n_tickets: int, seed: int = DEFAULT_SEED, archived: int = 0,
                log: Callable[[str], None] | None = None,
                per_day: float = TICKETS_PER_DAY) -> Path:  # fmt: skip
    """The cached desk of this size (built on first use); treat it as read-only."""
    name = cache_name(n_tickets, seed, archived, per_day)
    path = CACHE / name
    if (path / ".git" / MARKER).is_file():
        return path
    if path.exists():  # a build that was interrupted
        shutil.rmtree(path)
    if log:
        log(f"building {path.name} (once; cached in {CACHE}) ...")
    tmp = CACHE / f"{path.name}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    build_desk(tmp, n_tickets, seed, archived, per_day)
    (tmp / ".git" / MARKER).write_text(f"{name}\n")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Build (or find) a generated benchmark desk.")
    ap.add_argument("n_tickets", type=int)
    ap.add_argument("--archived", type=int, default=0, help="Tickets put under tickets/archive/.")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--per-day", type=float, default=TICKETS_PER_DAY,
                    help="Tickets arriving a day (default ~137: 50,000 a year).")  # fmt: skip
    ap.add_argument("--out", type=Path, help="Build here instead of the cache.")
    args = ap.parse_args(argv)
    if args.out:
        print(build_desk(args.out, args.n_tickets, args.seed, args.archived, args.per_day))
    else:
        print(cached_desk(args.n_tickets, args.seed, args.archived,
                          log=lambda m: print(m, file=sys.stderr),
                          per_day=args.per_day))  # fmt: skip


if __name__ == "__main__":
    main()
