"""``itdesk stats`` end to end on a real desk in tmp_path: tickets made through the CLI
with --now (categories, priorities, a reopen, follow-ups, a KB article, an escalation,
one ticket archived by hand), then the table, JSON, Markdown (en, zh, the desk's
locale), the period options, progress on a first run, and bad input."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Itdesk, git

NOW = "2023-11-30T12:00"
ARTICLE = """\
---
title: Replace the printer's feed roller
category: hardware
tags: [printer]
tickets: []
---
# Symptom

Paper jams on every page.
"""
_BUILT: dict[str, Path] = {}


def _build(d: Itdesk) -> dict[str, str]:
    """Five tickets, October and November 2023; returns their numbers by name."""
    (d.desk / "kb").mkdir(exist_ok=True)
    (d.desk / "kb" / "printer-roller.md").write_text(ARTICLE, encoding="utf-8")
    git(d.desk, "add", "kb")
    git(d.desk, "commit", "-qm", "add an article")
    ids: dict[str, str] = {}

    # network P2, resolved and closed in 40 minutes (conftest's walk), then archived
    ids["wifi"] = d.new("2023-10-25T09:30", title="WiFi authentication fails")
    d.walk(ids["wifi"], "close")
    archived = d.desk / "tickets" / "archive" / "2023-10"
    archived.mkdir(parents=True)
    git(d.desk, "mv", f"tickets/{ids['wifi']}.yaml", f"tickets/archive/2023-10/{ids['wifi']}.yaml")
    git(d.desk, "commit", "-qm", "archive 2023-10 by hand")

    # hardware P3, solved by a KB article, closed, reopened and solved again by zhang
    t = ids["printer"] = d.new("2023-10-25T10:00", title="Printer jams", requester="李四")
    for at, *argv in [
        ("10:05", "ack", t),
        ("10:06", "classify", t, "--priority", "P3", "--category", "hardware"),
        ("10:10", "assign", t, "--to", "zhao"),
        ("10:30", "accept", t, "--as", "zhao"),
        ("11:00", "resolve", t, "--summary", "roller", "--kb", "printer-roller", "--as", "zhao"),
        ("11:20", "followup", t, "--speed", "一般", "--attitude", "满意", "--overall", "不满意"),
        ("11:30", "close", t),
        ("14:00", "reopen", t, "--reason", "jams again"),
        ("14:10", "accept", t, "--as", "zhao"),
        ("15:00", "resolve", t, "--summary", "new fuser", "--as", "zhang"),
    ]:
        d.ok(*argv, "--now", f"2023-10-25T{at}")

    # software P1 (the supervisor is told at once), then handed to a vendor
    t = ids["oa"] = d.new("2023-10-26T09:00", title="OA system down for everyone")
    for at, *argv in [
        ("09:02", "ack", t),
        ("09:03", "classify", t, "--priority", "P1", "--category", "software"),
        ("09:05", "assign", t, "--to", "li"),
        ("09:40", "accept", t, "--as", "li"),
        (
            "10:00",
            "escalate",
            t,
            "--vendor",
            "OA vendor",
            "--reason",
            "server error 500",
            "--as",
            "li",
        ),
    ]:
        d.ok(*argv, "--now", f"2023-10-26T{at}")

    ids["new"] = d.new("2023-10-27T09:00", title="Printer jams again")  # left unclassified
    ids["november"] = d.new("2023-11-02T09:00", title="WiFi drops in room 5")
    d.ok("ack", ids["november"], "--now", "2023-11-02T09:04")
    return ids


@pytest.fixture
def stats_desk(make_desk: Callable[..., Itdesk], tmp_path: Path) -> tuple[Itdesk, dict[str, str]]:
    """A copy of the desk of :func:`_build`, built once for the module (28 commands)."""
    if "desk" not in _BUILT:
        d = make_desk()
        ids = _build(d)
        _BUILT["desk"] = d.desk
        _BUILT.update({f"id:{k}": Path(v) for k, v in ids.items()})
    copy = tmp_path / "stats-desk"
    shutil.copytree(_BUILT["desk"], copy, symlinks=True)
    ids = {k[3:]: str(v) for k, v in _BUILT.items() if k.startswith("id:")}
    return Itdesk(copy), ids


def stats(d: Itdesk, *args: str) -> Any:
    return d.ok("stats", "--now", NOW, *args)


def figures(d: Itdesk, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stats(d, "--format", "json", *args).stdout)
    return data


# --------------------------------------------------------------------------- table


def test_table_has_every_section_and_bars(stats_desk: tuple[Itdesk, dict[str, str]]) -> None:
    d, _ = stats_desk
    out = stats(d).stdout
    assert "Tickets: 5 (open 4, resolved 2, closed 1, cancelled 0)" in out  # archived counted
    for heading in (
        "By category",
        "By priority",
        "By status",
        "Most frequent problems (similar titles)",
        "First response and resolution times",
        "SLA compliance (clocks that stopped)",
        "Escalations",
        "Satisfaction",
        "Technicians",
        "Reopen rate",
        "Knowledge base: tickets solved per article",
    ):
        assert f"\n{heading}\n" in out, heading
    assert "unclassified  " + "█" * 30 + " 2 (40.0%)" in out
    assert "network       " + "█" * 15 + " 1 (20.0%)" in out
    assert "P1            " + "█" * 15 + " 1 (20.0%)" in out
    assert "wang  " in out and "zhao  " in out and "█" in out.split("Technicians")[1]
    assert "printer-roller  Replace the printer's feed roller  1" in out
    assert "王小明" not in out and "李四" not in out  # requesters never appear
    assert "Printer jams" in out


# ---------------------------------------------------------------------------- json


def test_json_keys_and_values(stats_desk: tuple[Itdesk, dict[str, str]]) -> None:
    d, _ = stats_desk
    st = figures(d)
    assert list(st) == [
        "period",
        "tickets",
        "by_status",
        "by_category",
        "by_priority",
        "similar_titles",
        "title_grouping",
        "times",
        "sla",
        "sla_overall",
        "escalations",
        "satisfaction",
        "technicians",
        "reopen",
        "kb",
    ]
    assert st["period"] == {
        "since": None,
        "until": None,
        "month": None,
        "now": "2023-11-30T12:00:00+08:00",
        "timezone": "Asia/Shanghai",
    }
    assert st["tickets"] == {"total": 5, "open": 4, "resolved": 2, "closed": 1, "cancelled": 0}
    assert st["by_category"]["network"] == {"count": 1, "share": 0.2}
    assert st["by_category"]["unclassified"] == {"count": 2, "share": 0.4}
    assert st["by_priority"]["P1"] == {"count": 1, "share": 0.2}
    assert st["by_status"]["resolved"] == 1 and st["by_status"]["pending_vendor"] == 1
    assert st["similar_titles"][0] == {
        "title": "Printer jams",
        "count": 2,
        "share": 0.4,
        "variants": 2,
    }
    # the walk: accepted 20 minutes after the report, resolved after 30
    assert st["times"]["P2"]["response"] == {
        "count": 1,
        "median_seconds": 1200,
        "p90_seconds": 1200,
    }
    assert st["times"]["P2"]["resolution"]["median_seconds"] == 1800
    assert st["times"]["P1"]["response"]["median_seconds"] == 40 * 60
    assert st["times"]["P3"]["resolution"]["median_seconds"] == 60 * 60  # the first "resolved"
    assert st["sla"]["response"] == {
        "stopped": 3,
        "met": 2,
        "breached": 1,
        "met_share": 0.6667,
        "running": 2,
    }
    assert set(st["sla"]) == {"ack", "response", "accept", "resolution", "followup", "expected"}
    assert st["escalations"]["by_level"]["supervisor"] == 1
    assert st["escalations"]["by_level"]["vendor"] == 1
    assert st["escalations"]["tickets"] == 1
    # the reopened ticket's follow-up went with its reopening
    assert st["satisfaction"]["overall"] == {
        "satisfied": 1,
        "neutral": 0,
        "unsatisfied": 0,
        "rated": 1,
        "satisfied_share": 1.0,
    }
    techs = {t["name"]: t for t in st["technicians"]}
    assert techs["zhao"]["assigned"] == 1 and techs["zhao"]["resolved"] == 1
    assert techs["zhang"]["resolved"] == 1 and techs["li"]["open"] == 1
    assert techs["wang"]["median_resolution_seconds"] == 1800
    assert st["reopen"] == {"reopened": 1, "resolved": 2, "rate": 0.5}
    assert st["kb"] == [
        {
            "slug": "printer-roller",
            "title": "Replace the printer's feed roller",
            "exists": True,
            "tickets": 1,
        },
    ]


def test_help_documents_the_json_keys() -> None:
    from click.testing import CliRunner

    from itdesk.cli import cli

    out = CliRunner().invoke(cli, ["stats", "--help"]).output
    for key in (
        "period",
        "by_category",
        "similar_titles",
        "median_seconds",
        "met_share",
        "by_clock",
        "satisfied_share",
        "median_resolution_seconds",
        "reopen",
        "kb",
    ):
        assert key in out, key


# ------------------------------------------------------------------------- periods


def test_month_and_dates_pick_the_tickets_reported_then(
    stats_desk: tuple[Itdesk, dict[str, str]],
) -> None:
    d, _ = stats_desk
    october = figures(d, "--month", "2023-10")
    assert october["tickets"]["total"] == 4
    assert october["period"]["since"] == "2023-10-01T00:00:00+08:00"
    assert october["period"]["until"] == "2023-11-01T00:00:00+08:00"
    assert figures(d, "--month", "2023-11")["tickets"]["total"] == 1
    assert figures(d, "--month", "2023-09")["tickets"]["total"] == 0
    # a date for --until takes in that whole day
    one_day = figures(d, "--since", "2023-10-26", "--until", "2023-10-26")
    assert one_day["tickets"]["total"] == 1 and one_day["by_priority"]["P1"]["count"] == 1
    assert figures(d, "--since", "2023-10-25T09:45")["tickets"]["total"] == 4
    assert figures(d, "--until", "2023-10-25T10:00")["tickets"]["total"] == 1
    out = stats(d, "--month", "2023-09").stdout
    assert "No tickets were reported in this period." in out


# ------------------------------------------------------------------------ markdown


def test_markdown_report_in_english_and_chinese(
    stats_desk: tuple[Itdesk, dict[str, str]],
) -> None:
    d, _ = stats_desk
    en = stats(d, "--month", "2023-10", "--markdown").stdout
    assert en.startswith("# IT service desk report: 2023-10\n")
    assert "\n## By category\n" in en and "\n## Technicians\n" in en
    assert "| network | 1 | 25.0% |" in en
    assert "\n```\n" in en and "█" in en
    zh = stats(d, "--month", "2023-10", "--markdown", "--lang", "zh").stdout
    assert zh.startswith("# IT 服务台月度报告：2023-10\n")
    for heading in (
        "按问题类型",
        "按问题分级",
        "高频问题（相似标题）",
        "首次响应与解决时间",
        "SLA 达成率（已停止的时限）",
        "满意度",
        "技术人员工作量",
        "重新打开率",
    ):
        assert f"\n## {heading}\n" in zh, heading
    assert "| 网络 | 1 | 25.0% |" in zh and "| 一级(紧急) | 1 | 25.0% |" in zh
    for text in (en, zh):
        assert "王小明" not in text and "李四" not in text


def test_markdown_follows_the_desks_locale(stats_desk: tuple[Itdesk, dict[str, str]]) -> None:
    d, _ = stats_desk
    policy = d.desk / "itdesk.yaml"
    policy.write_text(
        policy.read_text(encoding="utf-8").replace("locale: en", "locale: zh"), encoding="utf-8"
    )
    assert stats(d, "--markdown").stdout.startswith("# IT 服务台月度报告\n")
    assert stats(d).stdout.startswith("IT 服务台统计\n")
    assert stats(d, "--lang", "en").stdout.startswith("IT service desk statistics\n")


# -------------------------------------------------------------------- first run


def test_first_run_shows_progress_on_a_terminal_then_the_cache_serves(
    stats_desk: tuple[Itdesk, dict[str, str]],
) -> None:
    """The first run over a desk parses every file: a bar on a terminal, nothing in
    pipes and cron; later runs read the cache, and say the same."""
    from test_table import at_terminal

    d, _ = stats_desk
    shutil.rmtree(d.desk / ".git" / "itdesk" / "cache", ignore_errors=True)
    first = stats(d, "--format", "json")
    assert first.stderr == ""  # piped: no bar
    assert json.loads(first.stdout)["tickets"]["total"] == 5
    shutil.rmtree(d.desk / ".git" / "itdesk" / "cache", ignore_errors=True)
    seen = at_terminal(["stats", "--desk", str(d.desk), "--format", "json"])
    assert b"reading tickets" in seen and b'"total": 5' in seen
    # Files written within the last two seconds are not cached (itdesk.store.cache: racy git);
    # make them old enough, as they would be on a real desk.
    import os

    for path in (d.desk / "tickets").rglob("*.yaml"):
        os.utime(path, (1_600_000_000, 1_600_000_000))
    stats(d, "--format", "json")  # fills the cache
    again = stats(d, "--format", "json")
    assert again.stderr == ""
    assert again.stdout == first.stdout


def test_an_empty_desk(make_desk: Callable[..., Itdesk]) -> None:
    d = make_desk()
    assert "No tickets were reported in this period." in stats(d).stdout
    assert figures(d)["tickets"]["total"] == 0


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2023-13"], "bad month '2023-13'; use YYYY-MM like 2023-10"),
        (["--month", "oct"], "bad month 'oct'"),
        (["--since", "last tuesday-ish"], "--since: bad time 'last tuesday-ish'"),
        (["--until", "2023-02-30"], "--until: bad time '2023-02-30'"),
        (["--month", "2023-10", "--since", "2023-10-01"], "either --month or --since/--until"),
        (["--since", "2023-10-05", "--until", "2023-10-01T00:00"], "is not before --until"),
        (["--markdown", "--format", "json"], "exclude each other"),
        (["--format", "csv"], "'csv' is not one of 'table', 'json'"),
    ],
)
def test_bad_period_exits_2_with_one_line(
    make_desk: Callable[..., Itdesk], args: list[str], message: str
) -> None:
    d = make_desk(members=None)
    result = d("stats", "--now", NOW, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("itdesk: error: ")
    assert message in result.stderr
