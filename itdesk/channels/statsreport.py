"""``itdesk stats`` for people: the figures of :func:`itdesk.core.stats.compute` laid out
as a terminal page or a Markdown report, in English or Chinese.

The figures are computed in the core as plain data (what ``--format json`` prints);
this module only words and draws them: a heading per section, tables, and bar charts
where a picture says it faster (in the terminal a chart replaces the table it draws;
in Markdown it follows it, in a code block, as a chart needs a fixed-width font).
Chinese labels take two columns each, so tables and charts line up on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..core.model import ZH_LABELS, Category, Priority, Satisfaction, Status
from ..core.stats import MANUAL, RATINGS, UNCLASSIFIED
from ..core.times import format_duration
from .table import render, width

__all__ = ["bar", "bar_chart", "render_markdown", "render_text"]

BAR_WIDTH = 30
MARKDOWN_BAR_WIDTH = 20
BLOCK = "█"


def bar(value: float, peak: float, columns: int = BAR_WIDTH) -> str:
    """``value`` as a run of █ blocks, ``peak`` taking ``columns``; never empty for a
    positive value."""
    if value <= 0 or peak <= 0:
        return ""
    return BLOCK * max(1, round(value / peak * columns))


def bar_chart(rows: Sequence[tuple[str, float, str]], columns: int = BAR_WIDTH) -> list[str]:
    """One line per (label, value, note): labels padded to the widest on screen (a
    Chinese character takes two columns), then the bar and the note."""
    if not rows:
        return []
    label_width = max(width(label) for label, _, _ in rows)
    peak = max(value for _, value, _ in rows)
    out = []
    for label, value, note in rows:
        blocks = bar(value, peak, columns)
        pad = " " * (label_width - width(label))
        out.append(f"{label}{pad}  {blocks}{' ' if blocks else ''}{note}".rstrip())
    return out


_EN = {
    "title": "IT service desk statistics",
    "report": "IT service desk report",
    "all_time": "all tickets",
    "open": "open",
    "resolved": "resolved",
    "closed": "closed",
    "cancelled": "cancelled",
    "none": "No tickets were reported in this period.",
    "by_category": "By category",
    "by_priority": "By priority",
    "by_status": "By status",
    "category": "Category",
    "priority": "Priority",
    "status": "Status",
    "count": "Tickets",
    "share": "Share",
    "similar": "Most frequent problems (similar titles)",
    "rank": "#",
    "problem": "Title",
    "variants": "Variants",
    "times": "First response and resolution times",
    "responded": "Responded",
    "resolved_n": "Resolved",
    "resp_median": "Response median",
    "resp_p90": "Response P90",
    "res_median": "Resolution median",
    "res_p90": "Resolution P90",
    "all": "all",
    "sla": "SLA compliance (clocks that stopped)",
    "clock": "Clock",
    "stopped": "Stopped",
    "met": "Met",
    "breached": "Breached",
    "met_share": "Met in time",
    "running": "Still running",
    "overall": "overall",
    "escalations": "Escalations",
    "level": "Level",
    "records": "Records",
    "escalation_line": "{total} escalation records on {tickets} tickets",
    "satisfaction": "Satisfaction",
    "aspect": "Aspect",
    "rated": "Rated",
    "satisfied_share": "Satisfied",
    "technicians": "Technicians",
    "technician": "Technician",
    "assigned": "Assigned",
    "open_now": "Open now",
    "median_resolution": "Median resolution",
    "reopen": "Reopen rate",
    "reopen_line": "{reopened} reopened of {resolved} resolved tickets: {rate}",
    "kb": "Knowledge base: tickets solved per article",
    "article": "Article",
    "article_title": "Title",
    "solved": "Tickets solved",
    "missing": "(no such article)",
    "sla_met": "SLA clocks met in time",
    "satisfied_overall": "Satisfied overall",
    "no_articles": "No article has solved a ticket yet, and the knowledge base is empty.",
    "manual": "not tied to a clock",
    "load_note": "{assigned} assigned, {open} open",
    "grouped_line": "(the {grouped:,} commonest of {distinct:,} distinct titles)",
    "month_span": "{month} ({span})",
    "sep": ", ",
    "colon": ": ",
    "period_line": "Period: {span} [{zone}]; as of {now}",
    "tickets_line": "Tickets: {total} ({counts})",
}
_ZH = {
    "title": "IT 服务台统计",
    "report": "IT 服务台月度报告",
    "all_time": "全部工单",
    "open": "未关闭",
    "resolved": "已解决",
    "closed": "已关闭",
    "cancelled": "已取消",
    "none": "本期间没有提报的工单。",
    "by_category": "按问题类型",
    "by_priority": "按问题分级",
    "by_status": "按状态",
    "category": "问题类型",
    "priority": "问题分级",
    "status": "状态",
    "count": "工单数",
    "share": "占比",
    "similar": "高频问题（相似标题）",
    "rank": "序号",
    "problem": "标题",
    "variants": "标题数",
    "times": "首次响应与解决时间",
    "responded": "已响应",
    "resolved_n": "已解决",
    "resp_median": "响应中位数",
    "resp_p90": "响应 P90",
    "res_median": "解决中位数",
    "res_p90": "解决 P90",
    "all": "全部",
    "sla": "SLA 达成率（已停止的时限）",
    "clock": "时限",
    "stopped": "已停止",
    "met": "按时",
    "breached": "超时",
    "met_share": "按时率",
    "running": "仍在计时",
    "overall": "合计",
    "escalations": "升级",
    "level": "级别",
    "records": "次数",
    "escalation_line": "共 {total} 条升级记录，涉及 {tickets} 张工单",
    "satisfaction": "满意度",
    "aspect": "评价项",
    "rated": "已评价",
    "satisfied_share": "满意率",
    "technicians": "技术人员工作量",
    "technician": "技术人员",
    "assigned": "分配",
    "open_now": "处理中",
    "median_resolution": "解决时间中位数",
    "reopen": "重新打开率",
    "reopen_line": "已解决 {resolved} 张，其中重新打开 {reopened} 张：{rate}",
    "kb": "知识库：各文章解决的工单数",
    "article": "文章",
    "article_title": "标题",
    "solved": "解决工单数",
    "missing": "（文章不存在）",
    "sla_met": "SLA 按时率",
    "satisfied_overall": "总体满意率",
    "no_articles": "知识库为空，尚无文章解决过工单。",
    "manual": "非时限升级",
    "load_note": "分配 {assigned}，处理中 {open}",
    "grouped_line": "（取 {distinct:,} 个不同标题中最常见的 {grouped:,} 个分组）",
    "month_span": "{month}（{span}）",
    "sep": "，",
    "colon": "：",
    "period_line": "统计期间：{span}（{zone}）；统计时间 {now}",
    "tickets_line": "工单：{total} 张（{counts}）",
}
_CLOCK_NAMES = {
    "en": {
        "ack": "acknowledge",
        "response": "first response",
        "accept": "accept",
        "resolution": "resolution",
        "followup": "follow-up",
        "expected": "requester's expected time",
    },
    "zh": {
        "ack": "受理",
        "response": "首次响应",
        "accept": "接单",
        "resolution": "解决",
        "followup": "回访",
        "expected": "期望解决时间",
    },
}
_LEVEL_NAMES = {"supervisor": "主管", "manager": "经理", "vendor": "厂商", "assignee": "处理人预警"}
_ASPECT_NAMES = {"speed": "处理速度", "attitude": "服务态度", "overall": "总体评价"}


def _words(lang: str) -> dict[str, str]:
    return _ZH if lang == "zh" else _EN


def _label(kind: type[Category] | type[Priority] | type[Status], key: str, lang: str) -> str:
    if key == UNCLASSIFIED:
        return "未分类" if lang == "zh" else UNCLASSIFIED
    if lang == "zh":
        try:
            return ZH_LABELS[kind(key)]
        except (ValueError, KeyError):
            return key
    return key


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _duration(seconds: int | None, lang: str) -> str:
    if seconds is None:
        return "-"
    text = format_duration(timedelta(seconds=seconds))
    if seconds < 60:
        text = f"{seconds}s"
    if lang == "zh":
        for en, zh in (("d", "天"), ("h", "小时"), ("m", "分"), ("s", "秒")):
            text = text.replace(en, zh)
    return text


def _when(iso: str | None) -> str:
    return "-" if iso is None else iso[:16].replace("T", " ")


@dataclass(frozen=True, slots=True)
class _Section:
    heading: str
    lines: tuple[str, ...] = ()  # sentences before the tables
    chart: tuple[tuple[str, float, str], ...] = ()  # (label, value, note)
    tables: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...] = ()
    chart_replaces_table: bool = False  # in the terminal, the chart says it all


def _sections(st: Mapping[str, Any], lang: str) -> list[_Section]:
    w = _words(lang)
    zh = lang == "zh"
    out: list[_Section] = []

    def dist(key: str, kind: type[Category] | type[Priority], column: str, sort: bool) -> _Section:
        items = [(k, v) for k, v in st[key].items() if v["count"]]
        if sort:
            items.sort(key=lambda kv: -kv[1]["count"])
        rows = tuple((_label(kind, k, lang), str(v["count"]), _pct(v["share"])) for k, v in items)
        chart = tuple(
            (_label(kind, k, lang), float(v["count"]), f"{v['count']} ({_pct(v['share'])})")
            for k, v in items
        )
        table = ((w[column], w["count"], w["share"]), rows)
        return _Section(w[key], chart=chart, tables=(table,), chart_replaces_table=True)

    out.append(dist("by_category", Category, "category", True))
    out.append(dist("by_priority", Priority, "priority", False))
    statuses = tuple((_label(Status, k, lang), str(v)) for k, v in st["by_status"].items() if v)
    out.append(_Section(w["by_status"], tables=(((w["status"], w["count"]), statuses),)))

    similar = tuple(
        (str(i), g["title"], str(g["count"]), _pct(g["share"]), str(g["variants"]))
        for i, g in enumerate(st["similar_titles"], 1)
    )
    headers: tuple[str, ...] = (w["rank"], w["problem"], w["count"], w["share"], w["variants"])
    scope = st["title_grouping"]
    note = () if scope["grouped"] >= scope["distinct"] else (w["grouped_line"].format(**scope),)
    out.append(_Section(w["similar"], lines=note, tables=((headers, similar),)))

    time_rows = []
    for key, v in st["times"].items():
        if key != "all" and not v["response"]["count"] and not v["resolution"]["count"]:
            continue
        r, s = v["response"], v["resolution"]
        time_rows.append(
            (
                w["all"] if key == "all" else _label(Priority, key, lang),
                str(r["count"]),
                _duration(r["median_seconds"], lang),
                _duration(r["p90_seconds"], lang),
                str(s["count"]),
                _duration(s["median_seconds"], lang),
                _duration(s["p90_seconds"], lang),
            )
        )
    headers = (
        w["priority"],
        w["responded"],
        w["resp_median"],
        w["resp_p90"],
        w["resolved_n"],
        w["res_median"],
        w["res_p90"],
    )
    out.append(_Section(w["times"], tables=((headers, tuple(time_rows)),)))

    names = _CLOCK_NAMES[lang]
    sla_rows = [
        (
            names[c],
            str(v["stopped"]),
            str(v["met"]),
            str(v["breached"]),
            _pct(v["met_share"]),
            str(v["running"]),
        )
        for c, v in st["sla"].items()
        if v["stopped"] or v["running"]
    ]
    o = st["sla_overall"]
    sla_rows.append(
        (
            w["overall"],
            str(o["stopped"]),
            str(o["met"]),
            str(o["stopped"] - o["met"]),
            _pct(o["met_share"]),
            "",
        )
    )
    headers = (w["clock"], w["stopped"], w["met"], w["breached"], w["met_share"], w["running"])
    out.append(_Section(w["sla"], tables=((headers, tuple(sla_rows)),)))

    e = st["escalations"]
    levels = tuple(
        (_LEVEL_NAMES.get(k, k) if zh else k, str(n)) for k, n in e["by_level"].items() if n
    )
    clocks = tuple(
        (names.get(k) or (w["manual"] if k == MANUAL else k), str(n))
        for k, n in e["by_clock"].items()
        if n
    )
    out.append(
        _Section(
            w["escalations"],
            lines=(w["escalation_line"].format(total=e["total"], tickets=e["tickets"]),),
            tables=(((w["level"], w["records"]), levels), ((w["clock"], w["records"]), clocks))
            if e["total"]
            else (),
        )
    )

    ratings = tuple(_label_rating(r, lang) for r in RATINGS)
    sat_rows = tuple(
        (
            _ASPECT_NAMES[a] if zh else a,
            *(str(v[r]) for r in RATINGS),
            str(v["rated"]),
            _pct(v["satisfied_share"]),
        )
        for a, v in st["satisfaction"].items()
    )
    headers = (w["aspect"], *ratings, w["rated"], w["satisfied_share"])
    out.append(_Section(w["satisfaction"], tables=((headers, sat_rows),)))

    techs = st["technicians"]
    tech_rows = tuple(
        (
            x["name"],
            str(x["assigned"]),
            str(x["resolved"]),
            str(x["open"]),
            _duration(x["median_resolution_seconds"], lang),
        )
        for x in techs
    )
    chart = tuple(
        (
            x["name"],
            float(x["assigned"]),
            w["load_note"].format(assigned=x["assigned"], open=x["open"]),
        )
        for x in techs
        if x["assigned"]
    )
    headers = (
        w["technician"],
        w["assigned"],
        w["resolved_n"],
        w["open_now"],
        w["median_resolution"],
    )
    out.append(_Section(w["technicians"], chart=chart, tables=((headers, tech_rows),)))

    rp = st["reopen"]
    line = w["reopen_line"].format(
        reopened=rp["reopened"], resolved=rp["resolved"], rate=_pct(rp["rate"])
    )
    out.append(_Section(w["reopen"], lines=(line,)))

    kb_rows = tuple(
        (a["slug"], a["title"] or ("" if a["exists"] else w["missing"]), str(a["tickets"]))
        for a in st["kb"]
    )
    out.append(
        _Section(
            w["kb"],
            lines=() if kb_rows else (w["no_articles"],),
            tables=(((w["article"], w["article_title"], w["solved"]), kb_rows),) if kb_rows else (),
        )
    )
    return out


def _label_rating(rating: str, lang: str) -> str:
    return ZH_LABELS[Satisfaction(rating)] if lang == "zh" else rating


def _overview(st: Mapping[str, Any], lang: str) -> list[str]:
    w = _words(lang)
    p, t = st["period"], st["tickets"]
    if p["since"] is None and p["until"] is None:
        span = w["all_time"]
    else:
        span = f"{_when(p['since'])} – {_when(p['until'])}"
        if p["month"]:
            span = w["month_span"].format(month=p["month"], span=span)
    counts = w["sep"].join(f"{w[k]} {t[k]}" for k in ("open", "resolved", "closed", "cancelled"))
    return [
        w["period_line"].format(span=span, zone=p["timezone"], now=_when(p["now"])),
        w["tickets_line"].format(total=t["total"], counts=counts),
    ]


def render_text(st: Mapping[str, Any], lang: str = "en") -> str:
    """The figures for people at a terminal: a heading per section, tables, and bar
    charts where a picture says it faster."""
    w = _words(lang)
    out = [w["title"], "=" * width(w["title"]), *_overview(st, lang)]
    if not st["tickets"]["total"]:
        return "\n".join([*out, "", w["none"]])
    for sec in _sections(st, lang):
        out += ["", sec.heading, "-" * width(sec.heading), *sec.lines]
        if sec.chart:
            out += bar_chart(sec.chart)
            if sec.chart_replaces_table:
                continue
        for i, (headers, rows) in enumerate(sec.tables):
            if rows:
                if i or sec.chart or sec.lines:
                    out.append("")
                out.append(render(headers, rows))
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or " "


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(_md_cell(h) for h in headers) + " |"]
    out.append("|" + "|".join("---" for _ in headers) + "|")
    out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return out


def render_markdown(st: Mapping[str, Any], lang: str = "en") -> str:
    """A report a supervisor can send on: headings, Markdown tables, and short bar charts
    in code blocks (they need a fixed-width font)."""
    w = _words(lang)
    p, t = st["period"], st["tickets"]
    title = w["report"] + (w["colon"] + p["month"] if p["month"] else "")
    out = [f"# {title}", ""]
    out += [f"- {line}" for line in _overview(st, lang)]
    if not t["total"]:
        return "\n".join([*out, "", w["none"], ""])
    sat = st["satisfaction"]["overall"]
    out += [
        f"- {w['sla_met']}{w['colon']}{_pct(st['sla_overall']['met_share'])}",
        f"- {w['satisfied_overall']}{w['colon']}{_pct(sat['satisfied_share'])}",
        f"- {w['reopen']}{w['colon']}{_pct(st['reopen']['rate'])}",
    ]
    for sec in _sections(st, lang):
        out += ["", f"## {sec.heading}"]
        if sec.lines:
            out += ["", *sec.lines]
        for headers, rows in sec.tables:
            if rows:
                out += ["", *_md_table(headers, rows)]
        if sec.chart:
            out += ["", "```", *bar_chart(sec.chart, MARKDOWN_BAR_WIDTH), "```"]
    return "\n".join(out) + "\n"
