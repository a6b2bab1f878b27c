"""The statistics (itdesk.core.stats) on ticket dicts built by hand or by the lifecycle
functions: percentiles, title groups, rates, SLA compliance against the engine's own
evaluate(), privacy, and their layouts for people (itdesk.channels.statsreport); edge
cases (an empty desk, nothing resolved, unclassified tickets, logs out of order)."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from itdesk.channels.statsreport import bar, bar_chart, render_markdown, render_text
from itdesk.channels.table import width
from itdesk.core.lifecycle import (
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
from itdesk.core.model import (
    Category,
    Priority,
    Requester,
    Satisfaction,
    Status,
    Ticket,
    ticket_from_dict,
    ticket_to_dict,
)
from itdesk.core.policy import Policy, Sla
from itdesk.core.sla import CLOCKS, build_calendars, evaluate, evaluate_closed
from itdesk.core.stats import Period, compute, group_titles, month_period, percentile, terms
from itdesk.core.times import zone
from itdesk.errors import InvalidValue

TZ = timezone(timedelta(hours=8))
T0 = datetime(2023, 10, 25, 9, 0, tzinfo=TZ)
NOW = datetime(2023, 11, 30, 12, 0, tzinfo=TZ)
POLICY = Policy(timezone="Asia/Shanghai", supervisors=("chen",))
CALENDARS = build_calendars({}, "Asia/Shanghai")
OFFICE = Policy(
    timezone="Asia/Shanghai",
    sla=Sla(
        calendars={Priority.P2: "office", Priority.P3: "office"},
        pause_on=frozenset({Status.PENDING_USER, Status.PENDING_VENDOR}),
        reopen_grace=timedelta(hours=8),
    ),
    calendars={"office": {"hours": {"mon-fri": ["09:00-12:00", "13:00-18:00"]}}},
)
OFFICE_CALENDARS = build_calendars(OFFICE.calendars, "Asia/Shanghai")
PAUSING = Policy(timezone="Asia/Shanghai", sla=Sla(pause_on=frozenset({Status.PENDING_USER})))


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class Play:
    """A ticket taken through the lifecycle functions, each step ``gap`` minutes on."""

    def __init__(self, n: int = 1, title: str = "WiFi authentication fails", **kw: Any):
        self.now = kw.pop("at", T0)
        requester = kw.pop("requester", Requester("王小明", "E1", "研发部", "13956785678"))
        self.t: Ticket = open_ticket(
            f"IT-20231025-{n:03d}",
            title=title,
            requester=requester,
            now=self.now,
            by="desk",
            **kw,
        ).ticket

    def __call__(self, gap: float, step: Callable[..., Any], **kw: Any) -> Play:
        self.now += minutes(gap)
        self.t = step(self.t, now=self.now, by=kw.pop("by", "zhang"), **kw).ticket
        return self

    def classified(
        self, priority: Priority = Priority.P2, cat: Category = Category.NETWORK
    ) -> Play:
        self(5, acknowledge)(1, classify, priority=priority, category=cat)
        return self

    def worked(self, to: str = "wang", **kw: Any) -> Play:
        self.classified(**kw)(5, assign, to=to, team="network")(10, accept, by=to)
        return self(20, log_work, via="remote", text="reset the adapter", by=to)

    @property
    def d(self) -> dict[str, Any]:
        return ticket_to_dict(self.t)


def stats_of(tickets: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    kw.setdefault("policy", POLICY)
    kw.setdefault("calendars", CALENDARS)
    kw.setdefault("now", NOW)
    return compute(tickets, **kw)


# ----------------------------------------------------------------- small maths


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5  # the two middle values
    assert percentile([float(x) for x in range(1, 11)], 0.9) == pytest.approx(9.1)
    assert percentile([1.0, 100.0], 0.0) == 1.0
    assert percentile([1.0, 100.0], 1.0) == 100.0


def test_month_period_is_the_calendar_month_in_the_desks_zone() -> None:
    shanghai = zone("Asia/Shanghai")
    p = month_period("2023-10", shanghai)
    assert p.since == datetime(2023, 10, 1, tzinfo=shanghai)
    assert p.until == datetime(2023, 11, 1, tzinfo=shanghai)
    assert p.month == "2023-10"
    december = month_period(" 2023-12 ", shanghai)
    assert december.until == datetime(2024, 1, 1, tzinfo=shanghai)
    assert month_period("2024-2", shanghai).month == "2024-02"


@pytest.mark.parametrize("text", ["2023-13", "2023-00", "2023/10", "October", "2023-10-01", ""])
def test_month_period_refuses_what_is_not_a_month(text: str) -> None:
    with pytest.raises(InvalidValue, match="YYYY-MM"):
        month_period(text, zone("Asia/Shanghai"))


# -------------------------------------------------------------- similar titles


def test_similar_titles_group_by_shared_words_and_bigrams() -> None:
    groups, grouped = group_titles(
        {
            "打印机卡纸，无法打印": 5,
            "打印机卡纸，无法打印（3楼东区）": 2,
            "VPN 连接超时": 3,
            "VPN connection timed out": 1,
            "vpn connection timed out again": 1,
            "VPN 客户端启动闪退": 2,
            "???": 1,
        }
    )
    assert [(g.title, g.count, g.variants) for g in groups] == [
        ("打印机卡纸，无法打印", 7, 2),
        ("VPN 连接超时", 3, 1),
        ("VPN 客户端启动闪退", 2, 1),  # ties: the group formed first
        ("VPN connection timed out", 2, 2),
        ("???", 1, 1),
    ]
    assert grouped == 7


@pytest.mark.parametrize(
    ("titles", "together"),
    [
        (["VPN连接失败", "VPN连不上", "VPN连接报错809", "VPN无法连接"], True),
        (["邮箱登录失败", "邮箱登录不了", "邮箱登不上"], True),
        (["打印失败", "无法打印", "打印报错"], True),
        (["上不了网", "上网异常"], True),
        (["Outlook cannot connect", "Outlook connection error", "Outlook连接失败"], True),
        (["Printer offline", "打印机脱机"], False),
        (["VPN连接失败", "WiFi连接失败"], False),  # the failure is not the problem
    ],
)
def test_similar_titles_read_past_the_words_of_failure(titles: list[str], together: bool) -> None:
    groups, _ = group_titles(dict.fromkeys(titles, 1))
    assert (len(groups) == 1) is together, [(g.title, g.variants) for g in groups]


def test_similar_titles_keep_the_top_groups_and_are_deterministic() -> None:
    titles = {f"problem number {i} of the day": 1 for i in range(30)}
    titles |= {f"distinct{i} issue{i} here{i}": 2 for i in range(15)}
    first, _ = group_titles(titles, limit=10)
    assert len(first) == 10
    assert first[0].title == "problem number 0 of the day" and first[0].count == 30
    assert group_titles({}) == ([], 0)


def test_similar_titles_work_is_bounded() -> None:
    titles = {f"printer {i} jams on floor {i % 7}": 1 for i in range(500)}
    groups, grouped = group_titles(titles, budget=1000)  # reads 50 titles
    assert grouped <= 50
    assert sum(g.count for g in groups) <= grouped
    st = stats_of([Play(i, f"VPN error {i}").d for i in range(1, 30)])
    assert st["title_grouping"] == {"distinct": 29, "grouped": 29}


@pytest.mark.parametrize("seed", range(3))
def test_terms_are_the_knowledge_bases_tokens(seed: int) -> None:
    from itdesk.core.kb import tokenize

    rng = random.Random(seed)
    alphabet = (
        "abcXYZ019 _-.,，。（）()打印机共享无法连接ｖｐｎＶＰＮ①Ⅻéß한국어ひらがなカタカナ"
        "𠀀𠀁\u00a0\t\nthe is a printers class'"
    )
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert terms(text) == tokenize(text), text


def test_similar_title_prefix_filter_finds_every_match() -> None:
    """The candidate search (prefix filtering) must not miss a group a full comparison
    would find: compare with a brute-force leader clustering."""
    from itdesk.core.kb import tokenize

    rng = random.Random(5)
    words = "printer vpn wifi outlook password locked slow screen driver update".split()
    titles = Counter(" ".join(rng.sample(words, rng.randint(1, 4))) for _ in range(300))

    def brute(threshold: float = 0.5) -> list[tuple[str, int]]:
        leaders: list[tuple[frozenset[str], str, int]] = []
        for title, count in sorted(titles.items(), key=lambda kv: -kv[1]):
            terms = frozenset(tokenize(title))
            scored = [
                (len(terms & lt) / len(terms | lt), -i) for i, (lt, _, _) in enumerate(leaders)
            ]
            best = max((s for s in scored if s[0] >= threshold), default=None)
            if best is None:
                leaders.append((terms, title, count))
            else:
                lt, name, n = leaders[-best[1]]
                leaders[-best[1]] = (lt, name, n + count)
        ranked = sorted(range(len(leaders)), key=lambda i: (-leaders[i][2], i))
        return [(leaders[i][1], leaders[i][2]) for i in ranked]

    groups, _ = group_titles(titles, limit=None)
    assert [(g.title, g.count) for g in groups] == brute()


# ----------------------------------------------------------------- edge cases


def test_an_empty_desk_has_zeros_and_no_shares() -> None:
    st = stats_of([])
    assert st["tickets"] == {"total": 0, "open": 0, "resolved": 0, "closed": 0, "cancelled": 0}
    assert st["by_category"]["network"] == {"count": 0, "share": None}
    assert st["times"]["all"]["response"] == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
    }
    assert st["sla"]["ack"] == {
        "stopped": 0,
        "met": 0,
        "breached": 0,
        "met_share": None,
        "running": 0,
    }
    assert st["reopen"]["rate"] is None
    assert st["satisfaction"]["overall"]["satisfied_share"] is None
    assert st["similar_titles"] == [] and st["technicians"] == [] and st["kb"] == []
    json.dumps(st)  # plain data
    assert "No tickets were reported in this period." in render_text(st)
    assert render_markdown(st).startswith("# IT service desk report\n")
    assert "本期间没有提报的工单" in render_markdown(st, "zh")


def test_unclassified_tickets_and_nothing_resolved() -> None:
    a = Play(1)
    b = Play(2)(5, acknowledge)(30, log_work, via="phone", text="called back")
    st = stats_of([a.d, b.d])
    assert st["by_category"]["unclassified"] == {"count": 2, "share": 1.0}
    assert st["by_priority"]["unclassified"] == {"count": 2, "share": 1.0}
    assert st["times"]["unclassified"]["response"]["count"] == 1
    assert st["times"]["unclassified"]["response"]["median_seconds"] == 35 * 60
    assert st["times"]["all"]["resolution"]["count"] == 0
    assert st["tickets"]["resolved"] == 0 and st["reopen"]["rate"] is None
    # unclassified tickets run on the default priority's clocks (P3: respond in 24 h)
    assert st["sla"]["response"]["met"] == 1 and st["sla"]["response"]["running"] == 1
    assert st["sla"]["ack"] == {
        "stopped": 1,
        "met": 1,
        "breached": 0,
        "met_share": 1.0,
        "running": 1,
    }
    text = render_text(st)
    assert "unclassified" in text and "Resolution median" in text


# ------------------------------------------------------------- the figures


def _desk() -> list[dict[str, Any]]:
    """Four tickets: a normal one, a reopened one, a P1 escalated to a vendor that was
    slow, and a cancelled duplicate."""
    ok = Play(1).worked()(30, resolve, summary="new certificate", by="wang")
    ok(
        10,
        followup,
        speed=Satisfaction.SATISFIED,
        attitude=Satisfaction.SATISFIED,
        overall=Satisfaction.SATISFIED,
        by="desk",
    )(5, close, by="desk")
    again = Play(2, "Printer jams", requester=Requester("李四", contact="li@example.com"))
    again.worked(to="zhao", cat=Category.HARDWARE)(60, resolve, summary="cleaned", by="zhao")
    again(
        20,
        followup,
        speed=Satisfaction.NEUTRAL,
        attitude=Satisfaction.SATISFIED,
        overall=Satisfaction.UNSATISFIED,
        by="desk",
    )
    again(5, close, by="desk")(60, reopen, reason="jams again", by="desk")
    again(10, accept, by="zhao")(120, resolve, summary="new roller", by="zhang")
    slow = Play(3, "OA down for everyone").classified(Priority.P1, Category.SOFTWARE)
    slow(40, assign, to="wang", team="desk")(200, accept, by="wang")
    slow(10, escalate, vendor="OA vendor", reason="server error", by="wang")
    dup = Play(4, "Printer jams")(3, cancel, reason="duplicate of 002", by="desk")
    tickets = [ok.d, again.d, slow.d, dup.d]
    tickets[0]["kb"] = ["wifi-certificate"]
    tickets[1]["kb"] = ["printer-roller", "wifi-certificate", "printer-roller"]
    return tickets


def test_counts_shares_and_status() -> None:
    st = stats_of(_desk())
    assert st["tickets"] == {"total": 4, "open": 2, "resolved": 2, "closed": 1, "cancelled": 1}
    assert st["by_status"]["resolved"] == 1 and st["by_status"]["in_progress"] == 0
    assert st["by_status"]["pending_vendor"] == 1
    # The cancelled duplicate (unclassified, "Printer jams") is in no problem figure.
    assert st["by_category"]["network"] == {"count": 1, "share": 0.3333}
    assert st["by_category"]["unclassified"] == {"count": 0, "share": 0.0}
    assert st["by_priority"]["P2"] == {"count": 2, "share": 0.6667}
    assert list(st["by_category"]) == [*(c.value for c in Category), "unclassified"]
    jams = [g for g in st["similar_titles"] if g["title"] == "Printer jams"]
    assert jams == [{"title": "Printer jams", "count": 1, "share": 0.3333, "variants": 1}]


def test_response_and_resolution_times_per_priority() -> None:
    st = stats_of(_desk())
    p2 = st["times"]["P2"]
    # worked(): ack +5, classify +1, assign +5, accept +10 -> responded after 21 min
    assert p2["response"] == {"count": 2, "median_seconds": 21 * 60, "p90_seconds": 21 * 60}
    # resolved 30 and 60 minutes after the remote session (+20): 71 and 101 minutes
    assert p2["resolution"]["median_seconds"] == 86 * 60
    assert p2["resolution"]["p90_seconds"] == round((71 + 0.9 * 30) * 60)
    assert st["times"]["P1"]["response"]["median_seconds"] == (6 + 240) * 60
    assert st["times"]["P1"]["resolution"]["count"] == 0
    assert st["times"]["all"]["response"]["count"] == 3


def test_reopen_rate_technicians_satisfaction_escalations_kb() -> None:
    st = stats_of(_desk(), articles={"wifi-certificate": "WiFi certificate", "vpn": "VPN"})
    assert st["reopen"] == {"reopened": 1, "resolved": 2, "rate": 0.5}
    techs = {t["name"]: t for t in st["technicians"]}
    assert techs["wang"] == {
        "name": "wang",
        "assigned": 2,
        "resolved": 1,
        "open": 1,
        "median_resolution_seconds": 71 * 60,
    }
    assert techs["zhao"]["assigned"] == 1 and techs["zhao"]["open"] == 0
    # zhang resolved the reopened ticket without being its assignee
    assert techs["zhang"]["assigned"] == 0 and techs["zhang"]["resolved"] == 1
    assert [t["name"] for t in st["technicians"]][0] == "wang"
    sat = st["satisfaction"]
    assert sat["speed"] == {
        "satisfied": 1,
        "neutral": 0,
        "unsatisfied": 0,
        "rated": 1,
        "satisfied_share": 1.0,
    }
    assert st["escalations"]["tickets"] == 1
    assert st["escalations"]["at_risk_warnings"] == 0
    assert st["escalations"]["by_level"] == {
        "supervisor": 1,
        "manager": 0,
        "vendor": 1,
    }
    assert st["escalations"]["by_clock"]["manual"] == 2
    assert st["kb"] == [
        {"slug": "wifi-certificate", "title": "WiFi certificate", "exists": True, "tickets": 2},
        {"slug": "printer-roller", "title": None, "exists": False, "tickets": 1},
        {"slug": "vpn", "title": "VPN", "exists": True, "tickets": 0},
    ]


def test_sla_compliance_counts_clocks_that_stopped() -> None:
    st = stats_of(_desk())
    sla = st["sla"]
    # ack (10 min): all three non-cancelled tickets within 5 minutes
    assert sla["ack"] == {"stopped": 3, "met": 3, "breached": 0, "met_share": 1.0, "running": 0}
    # P1 response 15 min: accepted after 246 min -> breached; the P2s met theirs
    assert sla["response"]["met"] == 2 and sla["response"]["breached"] == 1
    assert sla["accept"]["breached"] == 1  # 200 minutes to accept the P1
    # the closed ticket's follow-up is taken at its close; the reopened one's resolution
    # clock restarted at the reopening and stopped again
    assert sla["followup"] == {
        "stopped": 1,
        "met": 1,
        "breached": 0,
        "met_share": 1.0,
        "running": 1,
    }
    assert sla["resolution"]["stopped"] == 2 and sla["resolution"]["running"] == 1
    assert st["sla_overall"]["stopped"] == sum(v["stopped"] for v in sla.values())


def test_period_keeps_the_tickets_reported_in_it() -> None:
    early = Play(1, at=T0)
    late = Play(2, at=T0 + timedelta(days=5))
    tickets = [early.d, late.d]
    assert stats_of(tickets, period=Period(T0 + timedelta(days=1)))["tickets"]["total"] == 1
    november = month_period("2023-11", zone("Asia/Shanghai"))
    assert stats_of(tickets, period=november)["tickets"]["total"] == 0
    assert stats_of(tickets, period=Period(None, T0 + minutes(1)))["tickets"]["total"] == 1
    # until is exclusive
    assert stats_of(tickets, period=Period(None, T0))["tickets"]["total"] == 0
    october = month_period("2023-10", zone("Asia/Shanghai"))
    st = stats_of(tickets, period=october)
    assert st["tickets"]["total"] == 2
    assert st["period"]["month"] == "2023-10"
    assert st["period"]["since"] == "2023-10-01T00:00:00+08:00"


def test_log_out_of_order_or_in_other_offsets_is_read_by_time() -> None:
    play = Play(1).worked()
    d = play.d
    mixed = json.loads(json.dumps(d))
    # the same instants, some written in UTC, and the log shuffled
    for e in mixed["log"][1:]:
        e["at"] = datetime.fromisoformat(e["at"]).astimezone(UTC).isoformat()
    mixed["log"] = [mixed["log"][0], *reversed(mixed["log"][1:])]
    assert stats_of([mixed])["times"] == stats_of([d])["times"]
    assert stats_of([mixed])["sla"] == stats_of([d])["sla"]


# ------------------------------------------------- SLA: the engine's own verdicts


def _random_tickets(seed: int, n: int) -> list[Ticket]:
    """Tickets with random paths and gaps: pauses, vendors, reopenings, forced closes,
    cancellations, expected times, late and early steps."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        at = T0 + timedelta(minutes=rng.randint(0, 60 * 24 * 14))
        expected = at + timedelta(hours=rng.choice([1, 4, 30])) if rng.random() < 0.5 else None
        p = Play(
            i + 1,
            rng.choice(["VPN drops", "打印机卡纸", "邮箱无法登录"]),
            at=at,
            expected_by=expected,
        )

        def gap() -> float:
            return rng.choice([1, 5, 20, 90, 300, 1500, 3000])

        if rng.random() < 0.08:
            out.append(p(gap(), cancel, reason="duplicate").t)
            continue
        if rng.random() < 0.1:
            out.append(p.t)  # still new
            continue
        p(gap(), acknowledge)
        p(gap(), classify, priority=rng.choice(list(Priority)), category=Category.NETWORK)
        if rng.random() < 0.1:
            out.append(p(gap(), close, force=True, reason="solved itself").t)
            continue
        p(gap(), assign, to="wang", team="network")
        if rng.random() < 0.15:
            out.append(p.t)
            continue
        p(gap(), accept, by="wang")
        if rng.random() < 0.5:
            p(gap(), log_work, via=rng.choice(["phone", "note", "onsite"]), text="step")
        if rng.random() < 0.3:
            p(gap(), pending, on="user")(gap(), accept, by="wang")
        if rng.random() < 0.2:
            p(gap(), escalate, vendor="vendor", reason="broken")
            if rng.random() < 0.3:
                out.append(p.t)
                continue
            p(gap(), accept, by="wang")
        p(gap(), resolve, summary="fixed", by="wang")
        if rng.random() < 0.2:
            out.append(p.t)
            continue
        s = Satisfaction.SATISFIED
        p(gap(), followup, speed=s, attitude=s, overall=s)
        if rng.random() < 0.2:
            out.append(p.t)
            continue
        p(gap(), close)
        if rng.random() < 0.2:
            p(gap(), reopen, reason="again")
            if rng.random() < 0.5:
                p(gap(), accept, by="wang")(gap(), resolve, summary="fixed again", by="wang")
        out.append(p.t)
    return out


def _reference(tickets: list[Ticket], policy: Policy, calendars: Any) -> dict[str, Counter[str]]:
    """What itdesk.core.sla says, ticket by ticket: open tickets by evaluate at NOW,
    closed ones after the fact (evaluate_closed: at their closing, in the status they
    were closed from, a clock still running then stopped there); cancelled ones not at
    all."""
    out: dict[str, Counter[str]] = {c: Counter() for c in CLOCKS}
    for t in tickets:
        if t.status is Status.CANCELLED:
            continue
        closed = t.status is Status.CLOSED
        states = (
            evaluate_closed(t, policy, calendars) if closed else evaluate(t, policy, NOW, calendars)
        )
        for c in states:
            out[c.clock]["running" if c.stopped is None else c.state] += 1
    return out


@pytest.mark.parametrize(
    ("policy", "calendars"),
    [(POLICY, CALENDARS), (PAUSING, CALENDARS), (OFFICE, OFFICE_CALENDARS)],
    ids=["24x7", "24x7-pausing", "office"],
)
def test_sla_compliance_agrees_with_the_engine(policy: Policy, calendars: Any) -> None:
    tickets = _random_tickets(11, 160)
    st = stats_of([ticket_to_dict(t) for t in tickets], policy=policy, calendars=calendars)
    ref = _reference(tickets, policy, calendars)
    for clock in CLOCKS:
        mine = st["sla"][clock]
        assert (mine["met"], mine["breached"], mine["running"]) == (
            ref[clock]["met"],
            ref[clock]["breached"],
            ref[clock]["running"],
        ), clock
    assert sum(st["sla"][c]["stopped"] for c in CLOCKS) > 300
    assert sum(st["sla"][c]["breached"] for c in CLOCKS) > 50


def test_tickets_round_trip_through_the_model() -> None:
    """The dicts the tests feed in are what the store serves (valid tickets)."""
    for d in _desk():
        assert ticket_to_dict(ticket_from_dict(d)) == d


# ------------------------------------------------------------------ privacy


def test_requester_names_and_contacts_never_appear() -> None:
    p = Play(1, "王小明的电脑蓝屏，请回电 13956785678")
    q = Play(2, "王小明的电脑蓝屏，请回电 13956785678", requester=Requester("Zhang San"))
    st = stats_of([p.worked().d, q.d])
    assert st["similar_titles"][0]["title"] == "王*明的电脑蓝屏，请回电 139****5678"
    for out in (json.dumps(st, ensure_ascii=False), render_text(st), render_markdown(st, "zh")):
        assert "王小明" not in out and "13956785678" not in out and "Zhang San" not in out
    assert "wang" in render_text(st)  # technicians are named


# --------------------------------------------------------------------- layout


def test_bars_scale_to_the_widest() -> None:
    assert bar(10, 10, 20) == "█" * 20
    assert bar(5, 10, 20) == "█" * 10
    assert bar(1, 1000, 20) == "█"  # a positive value always shows
    assert bar(0, 10) == "" and bar(3, 0) == ""


def test_bar_chart_lines_up_chinese_labels() -> None:
    lines = bar_chart([("网络", 4.0, "4"), ("other", 2.0, "2"), ("未分类", 1.0, "1")], 8)
    starts = [width(line.split("█", 1)[0]) for line in lines]
    assert len(set(starts)) == 1
    assert lines[0].endswith("████████ 4")
    assert lines[1].endswith("████ 2")
    assert bar_chart([]) == []


def test_text_and_markdown_layouts() -> None:
    st = stats_of(_desk(), articles={"wifi-certificate": "WiFi certificate"})
    text = render_text(st)
    for heading in (
        "By category",
        "By priority",
        "By status",
        "Most frequent problems",
        "First response and resolution times",
        "SLA compliance",
        "Escalations",
        "Satisfaction",
        "Technicians",
        "Reopen rate",
        "Knowledge base",
    ):
        assert f"\n{heading}" in text
    assert "network   ██████████████████████████████ 1 (33.3%)" in text
    assert "1 reopened of 2 resolved tickets: 50.0%" in text
    md = render_markdown(st, "zh")
    assert md.startswith("# IT 服务台月度报告\n")
    assert "\n## 按问题类型\n" in md and "\n## SLA 达成率（已停止的时限）\n" in md
    assert "| 网络 | 1 | 33.3% |" in md
    assert "\n网络  ████████████████████ 1 (33.3%)\n" in md
    assert "| wifi-certificate | WiFi certificate | 2 |" in md
    assert "已解决 2 张，其中重新打开 1 张：50.0%" in md


@pytest.mark.parametrize("seed", range(4))
def test_the_tallies_of_parts_make_the_figures_of_the_whole(seed: int) -> None:
    """stats tallies a month of the archive at a time and keeps the tallies of finished
    months: merged in order, they must give exactly the figures of one pass, for any
    cut of the tickets into parts and any period (the whole or a part of a month)."""
    from itdesk.core.sla import Rules
    from itdesk.core.stats import Period, figures, finished_tally, tally, within

    rng = random.Random(seed)
    made = [ticket_to_dict(t) for t in _random_tickets(20 + seed, 120)]
    rules = Rules.of(POLICY, CALENDARS)
    # finished tickets in months of the archive (by report here), then the open ones
    done = sorted((d for d in made if d["status"] in ("closed", "cancelled")),
                  key=lambda d: d["reported_at"])  # fmt: skip
    cuts = sorted(rng.sample(range(1, len(done)), 5))
    parts = [done[a:b] for a, b in zip([0, *cuts], [*cuts, len(done)], strict=True)]
    parts.append([d for d in made if d["status"] not in ("closed", "cancelled")])
    tickets = [d for part in parts for d in part]
    start = T0 + timedelta(days=rng.randint(0, 6))
    periods = [Period(), Period(start, start + timedelta(days=rng.randint(1, 6))), Period(start)]
    for period in periods:
        whole = compute(tickets, POLICY, NOW, CALENDARS, period)
        kept = [finished_tally(p, rules) for p in parts]
        assert all(k is not None for k in kept[:-1]) and kept[-1] is None
        tallies = []
        for part, finished in zip(parts, kept, strict=True):
            inside = None if finished is None else within(finished, period)
            if finished is not None and inside:
                tallies.append(finished)
            elif inside is None:
                tallies.append(tally(part, rules, period.since, period.until))
        assert figures(tallies, POLICY, NOW, period) == whole
    finished = [d for d in tickets if d["status"] in ("closed", "cancelled")]
    assert finished and finished_tally(finished, rules) is not None
    assert finished_tally(tickets, rules) is None  # open tickets: figures change with time
