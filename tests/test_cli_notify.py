"""Notifications of the lifecycle commands, received by real servers on 127.0.0.1:
created (to the requester), P1 (supervisor), resolved and follow-up due, quiet hours,
and secrets from the environment or the clone's git config."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Itdesk, git
from servers import HttpRecorder, SmtpServer


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def hook() -> Iterator[HttpRecorder]:
    with HttpRecorder() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def configure(desk: Path, notify: dict[str, Any], **extra: Any) -> None:
    path = desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text())
    data["notify"] = notify
    data.update(extra)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    git(desk, "commit", "-qam", "notify")


def quiet_office_hours(desk: Path, url: str) -> None:
    """A generic webhook, and notifications held outside Mon-Fri 09:00-18:00."""
    office = {"timezone": "Asia/Shanghai", "hours": {"mon-fri": "09:00-18:00"}}
    configure(desk, {"webhooks": [{"url": url, "style": "generic"}]}, calendars={"office": office})
    path = desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text())
    data["sla"]["quiet_hours"] = "office"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    git(desk, "commit", "-qam", "quiet")


def test_created_p1_resolved_and_followup_due(desk: Itdesk, hook: HttpRecorder) -> None:
    configure(desk.desk, {"webhooks": [{"url": hook.url(), "style": "generic"}]}, locale="zh")
    tid = desk.new(now="2023-10-25T10:15", requester="刘丽", contact="13956785678")
    assert [r.json["event"] for r in hook.requests] == ["created"]
    created = hook.requests[0].json
    assert created["ticket"] == tid
    assert f"工单编号 {tid}" in created["text"] and "您好" in created["text"]
    assert "13956785678" not in str(created)  # chat groups get masked data
    desk.ok("ack", tid, "--now", "2023-10-25T10:16")
    assert len(hook.requests) == 1  # nothing to say on ack
    desk.ok("classify", tid, "-p", "紧急", "-c", "软件", "--now", "2023-10-25T10:17")
    assert hook.requests[-1].json["event"] == "p1"
    desk.ok("assign", tid, "--to", "li", "--now", "2023-10-25T10:18")
    desk.ok("accept", tid, "--as", "li", "--now", "2023-10-25T10:20")
    desk.ok("resolve", tid, "--summary", "重启应用服务", "--as", "li", "--now", "2023-10-25T11:00")
    events = [r.json["event"] for r in hook.requests]
    assert events[-1] == "resolved"  # one digest: resolved + followup_due
    digest = hook.requests[-1].json
    assert [m["event"] for m in digest["messages"]] == ["resolved", "followup_due"]
    assert "12:00" in digest["messages"][1]["text"]


def test_created_mail_goes_to_the_requester(desk: Itdesk, smtp: SmtpServer) -> None:
    configure(
        desk.desk,
        {"smtp": {"host": "127.0.0.1", "port": smtp.port, "sender": "desk@example.com"}},
    )
    tid = desk.new(now="2023-10-25T10:15", contact="liu.li@example.com")
    assert len(smtp.mails) == 1
    mail = smtp.mails[0]
    assert mail.rcpt_to == ["liu.li@example.com"]
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert tid in str(message["Subject"])
    assert tid in message.get_body().get_content()  # type: ignore[union-attr]


def test_a_server_that_is_down_never_blocks_the_change(desk: Itdesk) -> None:
    configure(desk.desk, {"webhooks": [{"url": "http://127.0.0.1:9/hook", "style": "slack"}]})
    result = desk("new", "--now", "2023-10-25T10:15", "--title", "x", "--requester", "y")
    assert result.exit_code == 0
    assert result.stdout.strip() == "IT-20231025-001"
    assert "will retry" in result.stderr
    assert (desk.desk / "tickets" / "IT-20231025-001.yaml").exists()


def test_quiet_hours_hold_non_p1_until_the_next_working_window(
    desk: Itdesk, hook: HttpRecorder
) -> None:
    quiet_office_hours(desk.desk, hook.url())
    desk.new(now="2023-10-27T22:00")  # Friday night
    assert hook.requests == []
    desk("check", "--now", "2023-10-28T10:00")  # Saturday: still quiet (exit 1: ack breached)
    assert hook.requests == []
    desk("check", "--now", "2023-10-30T09:01")  # Monday morning
    assert [r.json["event"] for r in hook.requests] == ["created"]


def test_signing_secret_from_the_clones_git_config(desk: Itdesk, hook: HttpRecorder) -> None:
    configure(
        desk.desk,
        {"webhooks": [{"url": hook.url(), "style": "dingtalk", "secret_env": "DESK_DING"}]},
    )
    git(desk.desk, "config", "itdesk.DESK_DING.secret", "SEC123")
    desk.new(now="2023-10-25T10:15")
    assert len(hook.requests) == 1
    params = hook.requests[0].params
    assert "sign" in params and "timestamp" in params
    assert "SEC123" not in (desk.desk / "itdesk.yaml").read_text()


def test_held_notice_of_a_ticket_cancelled_meanwhile_is_dropped(
    desk: Itdesk, hook: HttpRecorder
) -> None:
    quiet_office_hours(desk.desk, hook.url())
    tid = desk.new(now="2023-10-27T22:00")
    desk.ok("cancel", tid, "--reason", "sent twice", "--now", "2023-10-27T22:05")
    desk("check", "--now", "2023-10-30T09:01")
    assert hook.requests == []


def test_bad_notify_config_is_a_warning_for_changes_and_a_finding_for_validate(
    desk: Itdesk,
) -> None:
    configure(desk.desk, {"webhooks": [{"url": "http://127.0.0.1:9/x", "style": "telegram"}]})
    result = desk("new", "--now", "2023-10-25T10:15", "--title", "x", "--requester", "y")
    assert result.exit_code == 0 and result.stdout.strip() == "IT-20231025-001"
    assert "notifications not sent" in result.stderr and "style" in result.stderr
    result = desk("validate")
    assert result.exit_code == 1 and "notify.webhooks" in result.stdout
