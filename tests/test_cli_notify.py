"""Notifications of the lifecycle commands, received by real servers on 127.0.0.1:
created (to the requester), P1 (supervisor), resolved and follow-up due, quiet hours,
and secrets from the environment or the clone's git config."""

from __future__ import annotations

import base64
import email
import email.policy
import email.utils
import hashlib
import hmac
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Itdesk, git
from servers import HttpRecorder, Request, SmtpServer, closed_port


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


# ------------------------------------------------------------------ issue 10
# Real servers on 127.0.0.1, many cron runs: each message reaches each recipient once.

PEOPLE = {n: {"email": f"{n}@example.com"} for n in ("chen", "zhang", "zhao", "wang", "li")}


def step(start: str, minutes: int) -> str:
    return (datetime.fromisoformat(start) + timedelta(minutes=minutes)).isoformat()


def mail_counts(smtp: SmtpServer) -> Counter[tuple[str, str]]:
    """(recipient, Message-ID) -> how many times that recipient received that mail."""
    out: Counter[tuple[str, str]] = Counter()
    for mail in smtp.mails:
        message = email.message_from_bytes(mail.data, policy=email.policy.default)
        for rcpt in mail.rcpt_to:
            out[(rcpt, str(message["Message-ID"]))] += 1
    return out


def hook_counts(requests: list[Request]) -> Counter[tuple[str, str, str]]:
    """(event, ticket, text) -> how many times a generic webhook received that message."""
    out: Counter[tuple[str, str, str]] = Counter()
    for r in requests:
        for m in r.json["messages"]:
            out[(m["event"], m["ticket"], m["text"])] += 1
    return out


def smtp_config(port: int) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "sender": "IT服务台 <desk@corp.example>"}


def outbox(desk: Itdesk) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(desk.ok("outbox", "list", "--format", "json").stdout)
    return rows


def test_a_refused_address_is_retried_alone_then_shown_as_a_dead_letter(desk: Itdesk) -> None:
    people = {**PEOPLE, "zhou": {"email": "zhou@exmaple.com"}}  # mistyped: the server says 550
    with SmtpServer(reject=frozenset({"zhou@exmaple.com"})) as smtp:
        configure(
            desk.desk, {"smtp": smtp_config(smtp.port)}, supervisors=["chen", "zhou"], people=people
        )
        tid = desk.new(now="2023-10-25T09:30", contact="liu.li@example.com")
        desk.ok("classify", tid, "-p", "P1", "--now", "2023-10-25T09:31")
        runs = [
            desk("check", "--escalate", "--now", step("2023-10-25T09:35", 5 * i)) for i in range(10)
        ]
    counts = mail_counts(smtp)
    assert counts and set(counts.values()) == {1}  # nobody got anything twice
    assert all(rcpt != "zhou@exmaple.com" for rcpt, _ in counts)
    got = {rcpt for rcpt, _ in counts}
    assert got == {"liu.li@example.com", "chen@example.com"}
    chen = [m for m in smtp.mails if "chen@example.com" in m.rcpt_to]
    assert len(chen) >= 2  # the P1 alert and the escalation(s), each once
    # Three tries (09:31, 09:35, 09:40), then a dead letter that every run reports.
    [dead] = outbox(desk)
    assert (dead["state"], dead["event"], dead["recipient"]) == ("dead", "p1", "zhou@exmaple.com")
    assert dead["attempts"] == 3 and "550" in dead["note"]
    assert "given up, kept for a person" in runs[1].stderr
    for run in runs[2:]:
        lines = [x for x in run.stderr.splitlines() if "dead letter" in x]
        assert lines == [
            "itdesk: warning: 1 undeliverable notification(s) in the dead letters;"
            " see: itdesk outbox list"
        ]
    result = desk.ok("outbox", "discard", str(dead["id"]))
    assert f"discarded #{dead['id']} p1 of {tid} to zhou@exmaple.com" in result.stdout
    assert outbox(desk) == []
    assert "dead letters" not in desk("check", "--now", "2023-10-25T10:30").stderr


def test_mail_and_webhook_down_for_many_cron_runs_then_back(desk: Itdesk) -> None:
    port = closed_port()  # the mail server is down: connections are refused
    down = [True]
    with HttpRecorder(lambda r: (503, b"down") if down[0] else (200, b"{}")) as hook:
        notify = {"smtp": smtp_config(port), "webhooks": [{"url": hook.url(), "style": "generic"}]}
        configure(desk.desk, notify, people=PEOPLE, supervisors=["chen"])
        ids = [
            desk.new(now=f"2023-10-25T09:3{i}", contact=f"user{i}@example.com") for i in range(3)
        ]
        desk.ok("classify", ids[0], "-p", "P1", "--now", "2023-10-25T09:34")
        for i in range(40):  # 09:35 ... 11:05, every two minutes and a quarter
            now = step("2023-10-25T09:35", i * 9 // 4)
            result = desk("check", "--escalate", "--now", now)
            assert "dead letters" not in result.stderr
        owed = outbox(desk)
        assert owed and {r["state"] for r in owed} == {"queued"}
        # Backoff in time (1, 2, 4, then 5 minutes): the first message was tried on
        # fewer than half of the 41 commands since it was made.
        first = [r for r in owed if r["ticket"] == ids[0] and r["event"] == "created"]
        assert {r["attempts"] for r in first} <= set(range(15, 21))
        tried = len(hook.requests)
        down[0] = False
        with SmtpServer(port=port) as smtp:
            desk("check", "--escalate", "--now", "2023-10-25T11:10")
            assert outbox(desk) == []  # the first run after it came back sent everything
            for i in range(5):
                desk("check", "--escalate", "--now", step("2023-10-25T11:15", 5 * i))
    mails = mail_counts(smtp)
    posts = hook_counts(hook.requests[tried:])  # the ones answered 200
    assert set(mails.values()) == {1} and set(posts.values()) == {1}
    assert {rcpt for rcpt, _ in mails} == {f"user{i}@example.com" for i in range(3)} | {
        "chen@example.com"
    }
    events = Counter(event for event, _ticket, _text in posts)
    assert events["created"] == 3 and events["p1"] == 1 and events["escalated"] >= 3
    # Each message had one addressee (the requester, or chen: nobody is assigned).
    assert len(mails) == sum(events.values())
    assert outbox(desk) == []


def test_two_robots_of_one_platform_each_get_each_message_once(desk: Itdesk) -> None:
    busy = [3]  # robot B answers "too many requests" three times

    def reply(request: Any) -> tuple[int, bytes]:
        if "BBBB" in request.query and busy[0] > 0:
            busy[0] -= 1
            return 200, b'{"errcode": 45009, "errmsg": "api freq out of limit"}'
        return 200, b'{"errcode": 0, "errmsg": "ok"}'

    with HttpRecorder(reply) as server:
        a, b = (
            server.url("/cgi-bin/webhook/send?key=AAAA"),
            server.url("/cgi-bin/webhook/send?key=BBBB"),
        )
        configure(
            desk.desk, {"webhooks": [{"url": a, "style": "wecom"}, {"url": b, "style": "wecom"}]}
        )
        tid = desk.new(now="2023-10-25T09:30")
        for i in range(8):
            desk("check", "--now", step("2023-10-25T09:31", 5 * i))
    received = Counter(r.query for r in server.requests if r.json["text"]["content"])
    assert received == {"key=AAAA": 1, "key=BBBB": 4}  # three refused, one taken
    taken = [r for r in server.requests if "BBBB" in r.query][-1]
    assert tid in taken.json["text"]["content"]
    assert outbox(desk) == []


def test_a_changed_webhook_url_moves_its_messages_to_dead_letters(desk: Itdesk) -> None:
    with HttpRecorder(lambda r: (503, b"")) as old, HttpRecorder() as new:
        configure(
            desk.desk, {"webhooks": [{"url": old.url("/hook?token=OLDOLD01"), "style": "generic"}]}
        )
        tid = desk.new(now="2023-10-25T09:30")
        configure(
            desk.desk, {"webhooks": [{"url": new.url("/hook?token=NEWNEW02"), "style": "generic"}]}
        )
        result = desk("check", "--now", "2023-10-25T09:35")
        assert "given up, kept for a person" in result.stderr
        assert "removed or its URL changed" in result.stderr and "token=…LD01" in result.stderr
        [dead] = outbox(desk)
        assert dead["recipient"].endswith("/hook?token=…LD01") and dead["event"] == "created"
        assert new.requests == []
        result = desk.ok("outbox", "retry", "--all")
        assert f"retrying #{dead['id']} created of {tid}" in result.stdout
        assert "0 still owed, 0 dead letter(s)" in result.stdout
        desk("check", "--now", "2023-10-25T09:40")
    assert [(m["event"], m["ticket"]) for r in new.requests for m in r.json["messages"]] == [
        ("created", tid)
    ]
    assert outbox(desk) == []


def test_outbox_commands_refuse_bad_input(desk: Itdesk) -> None:
    assert desk("outbox", "retry").exit_code == 2
    result = desk("outbox", "discard", "7")
    assert result.exit_code == 2 and "no dead letter 7" in result.stderr
    assert desk.ok("outbox", "list").stdout.strip() == "The outbox is empty."


def test_signatures_and_date_carry_the_real_clock(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--now is 2023; DingTalk and Feishu refuse a timestamp an hour off the real time."""
    monkeypatch.setenv("DING", "SECding")
    monkeypatch.setenv("FEI", "fei-密钥")
    with (
        HttpRecorder() as ding,
        HttpRecorder(lambda r: (200, b'{"code": 0, "msg": "ok"}')) as feishu,
        SmtpServer() as smtp,
    ):
        hooks = [
            {
                "url": ding.url("/robot/send?access_token=t"),
                "style": "dingtalk",
                "secret_env": "DING",
            },
            {"url": feishu.url("/open-apis/bot/v2/hook/x"), "style": "feishu", "secret_env": "FEI"},
        ]
        configure(desk.desk, {"smtp": smtp_config(smtp.port), "webhooks": hooks})
        desk.new(now="2023-10-25T10:15", contact="liu.li@example.com")
    real = time.time()
    params = ding.requests[0].params
    ms = int(params["timestamp"])
    assert abs(ms / 1000 - real) < 300
    expected = hmac.new(b"SECding", f"{ms}\nSECding".encode(), hashlib.sha256).digest()
    assert params["sign"] == base64.b64encode(expected).decode()
    body = feishu.requests[0].json
    seconds = int(body["timestamp"])
    assert abs(seconds - real) < 300
    key = f"{seconds}\nfei-密钥".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    mail = email.message_from_bytes(smtp.mails[0].data, policy=email.policy.default)
    assert abs(email.utils.parsedate_to_datetime(str(mail["Date"])).timestamp() - real) < 300


_DASH = re.compile(r"(?<![\w*-])-(?![\w-])")  # a "-" standing where a value belongs


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_event_is_filled_in_both_languages(desk: Itdesk, lang: str) -> None:
    with SmtpServer() as smtp, HttpRecorder() as hook:
        notify = {
            "smtp": smtp_config(smtp.port),
            "webhooks": [{"url": hook.url(), "style": "generic"}],
            "link": "https://desk.corp.example/tickets/{id}",
        }
        configure(desk.desk, notify, people=PEOPLE, locale=lang)
        tid = desk.new(now="2023-10-25T09:30", contact="liu.li@example.com")
        desk.ok("classify", tid, "-p", "P1", "-c", "network", "--now", "2023-10-25T09:31")
        desk("check", "--escalate", "--now", "2023-10-25T09:38")  # ack at risk
        desk("check", "--escalate", "--now", "2023-10-25T09:46")  # ack breached
        desk.ok("ack", tid, "--now", "2023-10-25T09:47")
        desk.ok("assign", tid, "--to", "wang", "--now", "2023-10-25T09:48")
        desk.ok("accept", tid, "--as", "wang", "--now", "2023-10-25T09:49")
        desk.ok(
            "resolve", tid, "--summary", "重启交换机", "--as", "wang", "--now", "2023-10-25T10:00"
        )
    mails: dict[str, list[tuple[str, str]]] = {}
    for m in smtp.mails:
        parsed = email.message_from_bytes(m.data, policy=email.policy.default)
        body = parsed.get_body()
        assert body is not None
        event = next(e for e in EVENT_WORDS[lang] if EVENT_WORDS[lang][e] in str(parsed["Subject"]))
        mails.setdefault(event, []).append((str(parsed["Subject"]), body.get_content()))
    chats = {
        (m["event"], m["subject"], m["text"]) for r in hook.requests for m in r.json["messages"]
    }
    assert {e for e, _s, _t in chats} == set(EVENT_WORDS[lang])
    assert set(mails) == set(EVENT_WORDS[lang])
    texts = [t for ts in mails.values() for t in ts] + [(s, t) for _e, s, t in chats]
    for subject, text in texts:
        for part in (subject, text):
            assert "{" not in part and "}" not in part and "None" not in part, part
            assert not _DASH.search(part), part
    link = f"https://desk.corp.example/tickets/{tid}"
    for event in ("p1", "escalated", "at_risk", "followup_due"):
        assert all(link in text for _s, text in mails[event]), event
    [(_s, escalated)] = [t for t in mails["escalated"] if "09:40" in t[1]]  # ack was due 09:40
    assert "6m" in escalated  # late by, at 09:46
    # The desk's people see the requester's number; the chat group sees it masked.
    assert all("liu.li@example.com" in text for _s, text in mails["followup_due"])
    assert all("liu.li@example.com" in text for _s, text in mails["p1"])
    chat_texts = " ".join(t for _e, _s, t in chats)
    assert "liu.li@example.com" not in chat_texts and "l*****@example.com" in chat_texts


EVENT_WORDS = {
    "en": {
        "created": "received",
        "p1": "P1 (urgent)",
        "at_risk": "due at",
        "escalated": "Escalated",
        "resolved": "Resolved",
        "followup_due": "Follow-up",
    },
    "zh": {
        "created": "已受理",
        "p1": "一级(紧急)",
        "at_risk": "将于",
        "escalated": "已升级",
        "resolved": "处理完成",
        "followup_due": "回访",
    },
}


def test_a_people_address_with_a_line_break_is_refused_not_sent(desk: Itdesk) -> None:
    people = {**PEOPLE, "chen": {"email": "chen@example.com\r\nRCPT TO:<evil@example.com>"}}
    with SmtpServer() as smtp:
        configure(desk.desk, {"smtp": smtp_config(smtp.port)}, people=people, supervisors=["chen"])
        tid = desk.new(now="2023-10-25T09:30", contact="liu.li@example.com")
        result = desk.ok("classify", tid, "-p", "P1", "--now", "2023-10-25T09:31")
    assert "not an e-mail address" in result.stderr and "\r" not in result.stderr
    assert [m.rcpt_to for m in smtp.mails] == [["liu.li@example.com"]]
    [dead] = outbox(desk)
    assert dead["event"] == "p1" and "not an e-mail address" in dead["note"]
    table = desk.ok("outbox", "list").stdout
    assert "\r" not in table and len(table.splitlines()) == 3  # header, rule, one row
    result = desk.ok("outbox", "retry", str(dead["id"]))  # a person insists: refused again
    assert "0 still owed, 1 dead letter(s)" in result.stdout
    assert [m.rcpt_to for m in smtp.mails] == [["liu.li@example.com"]]


def test_an_outbox_of_the_old_format_is_still_sent(desk: Itdesk) -> None:
    """Version 1 kept a list of entries owing channels named without their query."""
    with HttpRecorder() as server:
        a, b = server.url("/send?key=AAAA1111"), server.url("/send?key=BBBB2222")
        hooks = [{"url": a, "style": "wecom"}, {"url": b, "style": "wecom"}]
        configure(desk.desk, {"webhooks": hooks})
        tid = desk.new(now="2023-10-25T09:30")
        server.requests.clear()
        old = [
            {
                "event": "created", "ticket": tid, "priority": None, "to_email": [], "extra": {},
                "requires": None, "not_before": "2023-10-25T09:30:00+08:00",
                "pending": [server.url("/send"), "http://gone.example/hook"], "attempts": 3,
                "error": "HTTP 503",
            }
        ]  # fmt: skip
        (desk.desk / ".git" / "itdesk" / "outbox.json").write_text(json.dumps(old))
        result = desk("check", "--now", "2023-10-25T09:35")
        desk("check", "--now", "2023-10-25T09:40")
    assert sorted(r.query for r in server.requests) == ["key=AAAA1111", "key=BBBB2222"]
    assert "http://gone.example/hook" in result.stderr
    [dead] = outbox(desk)
    assert dead["recipient"] == "http://gone.example/hook" and "removed" in dead["note"]


def test_retries_wait_for_the_real_clock_too(desk: Itdesk) -> None:
    """The same --now over and over (a replayed command, a burst of commands) does not
    make tries; the real clock passing the wait does. The clock is injected: no sleep."""
    from itdesk.service.session import Session

    with HttpRecorder(lambda r: (503, b"")) as server:
        configure(desk.desk, {"webhooks": [{"url": server.url(), "style": "generic"}]})
        desk.new(now="2023-10-25T09:30")
        assert len(server.requests) == 1
        session = Session.open(desk.desk, now="2023-10-25T09:30")
        for seconds in (0, 10, 30, 50):  # within the first minute's wait
            session.clock = lambda s=seconds: datetime.now(UTC) + timedelta(seconds=s)
            session.flush()
        assert len(server.requests) == 1
        session.clock = lambda: datetime.now(UTC) + timedelta(seconds=65)
        session.flush()
        assert len(server.requests) == 2
        session.flush()  # now two minutes' wait, counted from the real 65 s
        assert len(server.requests) == 2
    [row] = outbox(desk)
    assert row["attempts"] == 2 and row["state"] == "queued"


def test_messages_owed_to_a_removed_channel_become_dead_letters(desk: Itdesk) -> None:
    port = closed_port()
    with HttpRecorder(lambda r: (503, b"")) as server:
        notify = {"smtp": smtp_config(port), "webhooks": [{"url": server.url(), "style": "slack"}]}
        configure(desk.desk, notify)
        tid = desk.new(now="2023-10-25T09:30", contact="liu.li@example.com")
        configure(desk.desk, {"webhooks": [{"url": server.url(), "style": "slack"}]})
        result = desk("check", "--now", "2023-10-25T09:35")
        assert "notify.smtp is no longer in itdesk.yaml" in result.stderr
        path = desk.desk / "itdesk.yaml"
        data = yaml.safe_load(path.read_text())
        del data["notify"]
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        git(desk.desk, "commit", "-qam", "no notify")
        result = desk("check", "--now", "2023-10-25T09:40")
    assert "notify: is no longer in itdesk.yaml" in result.stderr
    assert "2 undeliverable notification(s) in the dead letters" in result.stderr
    rows = outbox(desk)
    assert [(r["state"], r["ticket"], r["recipient"]) for r in rows] == [
        ("dead", tid, "liu.li@example.com"),
        ("dead", tid, server.url()),
    ]


def test_a_broken_outbox_is_reported_and_kept(desk: Itdesk) -> None:
    with HttpRecorder() as server:
        configure(desk.desk, {"webhooks": [{"url": server.url(), "style": "generic"}]})
        box = desk.desk / ".git" / "itdesk" / "outbox.json"
        box.parent.mkdir(parents=True, exist_ok=True)
        box.write_text('{"version": 2, "queue": [')
        result = desk("new", "--now", "2023-10-25T09:30", "--title", "x", "--requester", "y")
        assert result.exit_code == 0 and result.stdout.strip() == "IT-20231025-001"
        assert "outbox.json: not readable" in result.stderr
        assert "outbox.json: not readable" in desk("check", "--now", "2023-10-25T09:35").stderr
    assert box.read_text() == '{"version": 2, "queue": ['
