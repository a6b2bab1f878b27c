"""report.py: the problem-handling report (问题处理报告) of one ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import T0, make_ticket

from itdesk.channels.report import handling_time, people_involved, problem_report
from itdesk.core import lifecycle as lc
from itdesk.core.model import Category, Channel, Priority, Requester, Satisfaction, Ticket


def at(minutes: int) -> object:
    return T0 + timedelta(minutes=minutes)


def sample_ticket(until: str = "close") -> Ticket:
    """The record form's first sample row: a P2 network ticket reported at 09:30, resolved,
    called back and closed at 11:00 (1.5 h)."""
    t = make_ticket(
        requester=Requester("王小明", "E1001", "研发部", "13956785678"),
        description="笔记本无法连接公司 WiFi，提示认证失败；回信 wang.xm@example.com",
        channel=Channel.CHAT,
    )
    steps = [
        ("ack", lambda t: lc.acknowledge(t, now=at(5), by="desk")),
        ("classify", lambda t: lc.classify(t, now=at(6), by="desk", priority=Priority.P2,
                                           category=Category.NETWORK)),
        ("assign", lambda t: lc.assign(t, now=at(10), by="desk", to="zhang", team="network")),
        ("accept", lambda t: lc.accept(t, now=at(15), by="zhang")),
        ("log", lambda t: lc.log_work(t, now=at(30), by="zhang", via="remote",
                                      text="远程重置网络配置")),
        ("resolve", lambda t: lc.resolve(t, now=at(90), by="zhang", summary="更新 WiFi 证书",
                                         verified=True)),
        ("followup", lambda t: lc.followup(t, now=at(90), by="desk",
                                           speed=Satisfaction.SATISFIED,
                                           attitude=Satisfaction.SATISFIED,
                                           overall=Satisfaction.SATISFIED, comment="很快")),
        ("close", lambda t: lc.close(t, now=at(90), by="desk")),
    ]  # fmt: skip
    for name, step in steps:
        t = step(t).ticket
        if name == until:
            break
    return t


def test_handling_time_runs_from_report_to_resolution() -> None:
    t = sample_ticket()
    assert t.reported_at.strftime("%H:%M") == "09:30"
    assert t.resolution is not None and t.resolution.at.strftime("%H:%M") == "11:00"
    assert handling_time(t) == "1h30m"


def test_handling_time_of_a_resolved_ticket_not_yet_closed() -> None:
    t = sample_ticket("resolve")
    assert t.closed_at is None
    assert handling_time(t) == "1h30m"
    assert "| Handling time | 1h30m |" in problem_report(t)


def test_handling_time_of_an_open_ticket_is_a_dash() -> None:
    assert handling_time(make_ticket()) == "-"


def test_handling_time_of_a_ticket_closed_by_force_runs_to_closing() -> None:
    t = lc.close(make_ticket(), now=at(45), by="desk", force=True, reason="duplicate").ticket
    assert handling_time(t) == "45m"


def test_english_report() -> None:
    text = problem_report(sample_ticket())
    assert text.startswith("# Problem-handling report: IT-20231025-001\n")
    assert "| Ticket number | IT-20231025-001 |" in text
    assert "| Priority | P2 |" in text
    assert "| Category | network |" in text
    assert "| Status | closed |" in text
    assert "| Reported at | 2023-10-25 09:30 |" in text
    assert "| Resolved at | 2023-10-25 11:00 |" in text
    assert "| Closed at | 2023-10-25 11:00 |" in text
    assert "| Handling time | 1h30m |" in text
    assert "## Solution\n\n更新 WiFi 证书 (verified with the requester)" in text
    assert "speed: satisfied; attitude: satisfied; overall: satisfied — 很快" in text


def test_chinese_report() -> None:
    text = problem_report(sample_ticket(), lang="zh")
    assert text.startswith("# 问题处理报告: IT-20231025-001\n")
    assert "| 工单编号 | IT-20231025-001 |" in text
    assert "| 问题分级 | 二级(重要) |" in text
    assert "| 问题类型 | 网络 |" in text
    assert "| 状态 | 已关闭 |" in text
    assert "| 处理时长 | 1小时30分 |" in text
    assert "## 解决方案" in text and "## 处理过程" in text and "## 用户反馈" in text
    assert "处理速度: 满意; 服务态度: 满意; 总体评价: 满意" in text
    assert "Problem-handling report" not in text


def test_steps_are_listed_in_order_with_time_author_and_kind() -> None:
    t = sample_ticket()
    text = problem_report(t)
    steps = text.split("## Handling steps\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(steps) == len(t.log)
    assert steps[0].startswith("1. 2023-10-25 09:30 desk (status): ")
    assert "2023-10-25 10:00 zhang (remote): 远程重置网络配置" in steps[5]
    assert [s.split(".", 1)[0] for s in steps] == [str(i) for i in range(1, len(t.log) + 1)]


def test_people_involved() -> None:
    assert people_involved(sample_ticket()) == ["zhang", "desk"]
    assert "| People involved | zhang, desk |" in problem_report(sample_ticket())


def test_report_masks_personal_data_by_default() -> None:
    text = problem_report(sample_ticket())
    assert "| Requester | 研发部 / 王*明 |" in text
    assert "139****5678" in text
    assert "w******@example.com" in text
    assert "13956785678" not in text
    assert "wang.xm" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_masked_report_does_not_leak_the_name_anywhere(lang: str) -> None:
    # The steps repeat log texts such as "reported by 王小明": masking the table
    # alone is not enough; the name must not leave the desk in any line.
    text = problem_report(sample_ticket(), lang=lang)
    assert "王小明" not in text


def test_reveal_shows_personal_data() -> None:
    text = problem_report(sample_ticket(), reveal=True)
    assert "| Requester | 研发部 / 王小明 |" in text
    assert "13956785678" in text


def test_report_of_an_escalated_unresolved_ticket() -> None:
    """The record form's second sample: P1 software, escalated to a vendor, awaiting follow-up."""
    t = sample_ticket("accept")
    t = lc.escalate(t, now=at(60), by="zhang", vendor="OA vendor", reason="接口报错需厂商处理",
                    eta=at(60 * 24)).ticket  # fmt: skip
    text = problem_report(t)
    assert "| Handling time | - |" in text
    assert "## Solution\n\nnone" in text
    assert "## Escalations" in text
    assert "vendor OA vendor: 接口报错需厂商处理, ETA 2023-10-26 09:30" in text
    assert "no follow-up recorded" in text
    assert "| Status | pending_vendor |" in text


def test_masked_report_masks_the_requester_in_free_text_too() -> None:
    t = sample_ticket("accept")
    t = lc.log_work(t, now=at(20), by="zhang", via="phone",
                    text="called 王小明 on 13956785678; asked to restart").ticket  # fmt: skip
    text = problem_report(t)
    assert "13956785678" not in text and "王小明" not in text
    assert "asked to restart" in text
    revealed = problem_report(t, reveal=True)
    assert "called 王小明 on 13956785678" in revealed
