"""Notifications against real servers on 127.0.0.1: bodies, signatures, splitting, failures.

Every server runs inside the test on a free port (tests/servers.py); nothing leaves the
machine. Signatures are recomputed here from the documented recipes with a fixed ``now``
rather than with itdesk's own helpers.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import re
import socket
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from conftest import make_ticket
from servers import (
    HOST,
    HttpRecorder,
    SmtpServer,
    closed_port,
    reply_json,
    self_signed_cert,
    server_context,
)

from itdesk.channels.notify import Delivery, Message, deliver, render, shown_recipient
from itdesk.core.model import ticket_to_dict
from itdesk.errors import InvalidPolicy, InvalidValue

SHANGHAI = timezone(timedelta(hours=8))
NOW = datetime(2023, 10, 25, 9, 30, 15, 250000, tzinfo=SHANGHAI)
NOW_MS = 1698197415250  # NOW in milliseconds since the epoch
NOW_S = 1698197415
SECRETS = {"DING_SECRET": "SEC0123456789abcdef", "FEISHU_SECRET": "feishu-密钥", "SMTP_PW": "pw"}

FEISHU_OK = {"code": 0, "msg": "success", "data": {}}


def secret(name: str) -> str | None:
    return SECRETS.get(name)


def no_secret(name: str) -> str | None:
    return None


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy from the environment would carry 127.0.0.1 requests off the machine."""
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)


def msg(
    event: str = "created",
    ticket: str = "IT-20231025-001",
    text: str = "Hello, ticket IT-20231025-001 is received.",
    subject: str = "[IT-20231025-001] received",
    to: tuple[str, ...] = (),
    priority: str | None = "P3",
    key: str = "",
) -> Message:
    return Message(event, ticket, subject, text, to, priority, key)


def hook(url: str, style: str = "generic", **kw: Any) -> dict[str, Any]:
    return {"url": url, "style": style, **kw}


def send(config: dict[str, Any], messages: list[Message], **kw: Any) -> list[Delivery]:
    kw.setdefault("secret", secret)
    kw.setdefault("clock", lambda: NOW)
    kw.setdefault("timeout", 2.0)
    return deliver(config, messages, **kw)


@pytest.fixture
def server() -> Iterator[HttpRecorder]:
    with HttpRecorder() as s:
        yield s


# ----------------------------------------------------------------- webhook shapes


def test_generic_posts_json_with_event_ticket_text(server: HttpRecorder) -> None:
    m = msg(priority="P1")
    result = send({"webhooks": [hook(server.url())]}, [m])
    assert result == [Delivery(server.url(), True, None, ("IT-20231025-001",), ("",))]
    [request] = server.requests
    assert request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.json == {
        "event": "created",
        "ticket": "IT-20231025-001",
        "subject": "[IT-20231025-001] received",
        "text": "Hello, ticket IT-20231025-001 is received.",
        "messages": [
            {
                "event": "created",
                "ticket": "IT-20231025-001",
                "priority": "P1",
                "subject": "[IT-20231025-001] received",
                "text": "Hello, ticket IT-20231025-001 is received.",
            }
        ],
    }


def test_five_messages_make_one_digest_per_robot() -> None:
    messages = [
        msg("escalated", f"IT-20231025-00{i}", f"工单 IT-20231025-00{i} 已超时 {i}0 分钟", f"S{i}")
        for i in range(1, 6)
    ]
    joined = "\n\n".join(m.text for m in messages)
    with (
        HttpRecorder() as generic,
        HttpRecorder(lambda r: (200, b"ok")) as slack,
        HttpRecorder() as wecom,
        HttpRecorder() as ding,
        HttpRecorder(reply_json(FEISHU_OK)) as feishu,
    ):
        config = {
            "webhooks": [
                hook(generic.url()),
                hook(slack.url("/services/T0/B0/x"), "slack"),
                hook(wecom.url("/cgi-bin/webhook/send?key=k1"), "wecom"),
                hook(ding.url("/robot/send?access_token=t1"), "dingtalk"),
                hook(feishu.url("/open-apis/bot/v2/hook/h1"), "feishu"),
            ]
        }
        result = send(config, messages)
    tickets = tuple(m.ticket for m in messages)
    assert [d.ok for d in result] == [True] * 25  # each message, to each robot
    assert [d.tickets[0] for d in result] == [t for _ in range(5) for t in tickets]
    assert result[10].recipient == wecom.url("/cgi-bin/webhook/send?key=k1")  # the whole URL
    for recorder in (generic, slack, wecom, ding, feishu):
        assert len(recorder.requests) == 1
    body = generic.requests[0].json
    assert (body["event"], body["ticket"], body["subject"]) == ("escalated", tickets[0], "S1")
    assert body["text"] == joined
    assert [(x["ticket"], x["text"]) for x in body["messages"]] == [
        (m.ticket, m.text) for m in messages
    ]
    assert slack.requests[0].json == {"text": joined}
    assert wecom.requests[0].json == {"msgtype": "text", "text": {"content": joined}}
    assert wecom.requests[0].query == "key=k1"
    assert ding.requests[0].json == {"msgtype": "text", "text": {"content": joined}}
    assert ding.requests[0].query == "access_token=t1"  # no secret, no signature
    assert feishu.requests[0].json == {"msg_type": "text", "content": {"text": joined}}
    # The raw body is UTF-8, not \\u escapes.
    assert "工单".encode() in slack.requests[0].body


def test_dingtalk_signs_timestamp_and_secret_in_the_query(server: HttpRecorder) -> None:
    url = server.url("/robot/send?access_token=tok")
    config = {"webhooks": [hook(url, "dingtalk", secret_env="DING_SECRET")]}
    [result] = send(config, [msg(text="网络中断")])
    assert result == Delivery(url, True, None, ("IT-20231025-001",), ("",))
    [request] = server.requests
    key = SECRETS["DING_SECRET"]
    expected = base64.b64encode(
        hmac.new(key.encode(), f"{NOW_MS}\n{key}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.params == {"access_token": "tok", "timestamp": str(NOW_MS), "sign": expected}
    # urlencoded on the wire: '+', '/' and '=' of base64 are escaped.
    assert request.query.endswith("&sign=" + urllib.parse.quote_plus(expected))
    assert request.json == {"msgtype": "text", "text": {"content": "网络中断"}}


def test_feishu_signs_in_the_body(server: HttpRecorder) -> None:
    server.reply = reply_json(FEISHU_OK)
    config = {"webhooks": [hook(server.url("/hook/abc"), "feishu", secret_env="FEISHU_SECRET")]}
    [result] = send(config, [msg(text="打印机卡纸")])
    assert result.ok, result.error
    key = f"{NOW_S}\n{SECRETS['FEISHU_SECRET']}".encode()
    sign = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    [request] = server.requests
    assert request.query == ""
    assert request.json == {
        "timestamp": str(NOW_S),
        "sign": sign,
        "msg_type": "text",
        "content": {"text": "打印机卡纸"},
    }


def test_feishu_legacy_status_code_reply_is_understood(server: HttpRecorder) -> None:
    server.reply = reply_json({"Extra": None, "StatusCode": 0, "StatusMessage": "success"})
    [result] = send({"webhooks": [hook(server.url(), "feishu")]}, [msg()])
    assert result.ok


def _text(i: int) -> str:
    # 300 bytes of UTF-8: "T001" + 98 three-byte characters + "xx".
    return f"T{i:03d}" + "网" * 98 + "xx"


def test_wecom_splits_a_long_digest_at_line_boundaries(server: HttpRecorder) -> None:
    messages = [msg("at_risk", f"IT-{i:03d}", _text(i)) for i in range(14)]
    texts = [m.text for m in messages]
    assert {len(t.encode()) for t in texts} == {300}
    result = send({"webhooks": [hook(server.url("/send?key=k"), "wecom")]}, messages)
    assert all(d.ok for d in result)
    assert [d.tickets for d in result] == [(m.ticket,) for m in messages]
    contents = [r.json["text"]["content"] for r in server.requests]
    # 6 texts and 5 blank lines make 1,810 bytes; a 7th would pass 2,048.
    assert contents == ["\n\n".join(texts[0:6]), "\n\n".join(texts[6:12]), "\n\n".join(texts[12:])]
    assert all(len(c.encode()) <= 2048 for c in contents)
    assert all(r.json["msgtype"] == "text" for r in server.requests)


def test_wecom_cuts_an_overlong_line_between_characters(server: HttpRecorder) -> None:
    line = "服务器宕机" * 200  # 1,000 characters, 3,000 bytes, no newline
    send({"webhooks": [hook(server.url(), "wecom")]}, [msg(text=line)])
    contents = [r.json["text"]["content"] for r in server.requests]
    assert contents == [line[:682], line[682:]]  # 682 * 3 = 2,046 bytes
    assert "".join(contents) == line


def test_wecom_sends_at_most_20_parts_a_call_and_defers_the_rest(server: HttpRecorder) -> None:
    messages = [msg("escalated", f"IT-{i:03d}", _text(i)) for i in range(150)]  # 25 parts
    result = send({"webhooks": [hook(server.url(), "wecom")]}, messages)
    contents = [r.json["text"]["content"] for r in server.requests]
    assert len(contents) == 20
    assert contents[19] == "\n\n".join(m.text for m in messages[114:120])
    # Nothing is cut off: the last 30 messages wait for the next run, untried.
    assert [d.ok for d in result] == [True] * 120 + [False] * 30
    assert all(d.deferred and not d.permanent for d in result[120:])


def test_webhook_events_filter_messages() -> None:
    created = msg("created", "IT-001", "created one")
    p1 = msg("p1", "IT-002", "urgent two", priority="P1")
    resolved = msg("resolved", "IT-003", "resolved three")
    with HttpRecorder(lambda r: (200, b"ok")) as only_p1, HttpRecorder() as everything:
        config = {
            "webhooks": [
                hook(only_p1.url(), "slack", events=["p1", "escalated"]),
                hook(everything.url(), "generic"),
                hook(everything.url("/none"), "generic", events=["followup_due"]),
            ]
        }
        result = send(config, [created, p1, resolved])
    assert [(d.recipient, d.tickets) for d in result] == [
        (only_p1.url(), ("IT-002",)),
        (everything.url(), ("IT-001",)),
        (everything.url(), ("IT-002",)),
        (everything.url(), ("IT-003",)),
    ]
    assert [r.json for r in only_p1.requests] == [{"text": "urgent two"}]
    [request] = everything.requests
    assert request.json["text"] == "created one\n\nurgent two\n\nresolved three"


def test_no_messages_no_traffic(server: HttpRecorder) -> None:
    with SmtpServer() as smtp:
        config = {
            "smtp": {"host": HOST, "port": smtp.port, "sender": "desk@example.com"},
            "webhooks": [hook(server.url())],
        }
        assert send(config, []) == []
        # Messages without recipients send no mail; a hook that wants none of them, no POST.
        config["webhooks"] = [hook(server.url(), events=["p1"])]
        assert send(config, [msg()]) == []
    assert smtp.sessions == 0
    assert server.requests == []


# ------------------------------------------------------------------- failures


def _one_line(d: Delivery) -> str:
    assert not d.ok
    assert d.error and "\n" not in d.error and len(d.error) <= 300
    return d.error


def test_refused_connections_are_failed_deliveries() -> None:
    port = closed_port()
    config = {
        "smtp": {"host": HOST, "port": port, "sender": "desk@example.com"},
        "webhooks": [hook(f"http://{HOST}:{port}/hook?key=SECRETKEY", "wecom")],
    }
    result = send(config, [msg(to=("a@example.com",)), msg("p1", "IT-2", to=("b@example.com",))])
    assert [(d.recipient, d.tickets) for d in result] == [
        ("mailto:a@example.com", ("IT-20231025-001",)),
        ("mailto:b@example.com", ("IT-2",)),
        (f"http://{HOST}:{port}/hook?key=SECRETKEY", ("IT-20231025-001",)),
        (f"http://{HOST}:{port}/hook?key=SECRETKEY", ("IT-2",)),
    ]
    for d in result:
        assert "refused" in _one_line(d).lower()
        assert "SECRETKEY" not in _one_line(d)


def test_http_500_is_a_failed_delivery(server: HttpRecorder) -> None:
    server.reply = lambda r: (500, b"boom\nat line 2")
    [result] = send({"webhooks": [hook(server.url())]}, [msg()])
    assert _one_line(result) == "HTTP 500 Internal Server Error: boom at line 2"


def test_redirect_is_not_followed(server: HttpRecorder) -> None:
    server.reply = lambda r: (302, b"")
    [result] = send({"webhooks": [hook(server.url())]}, [msg()])
    assert _one_line(result).startswith("HTTP 302")
    assert len(server.requests) == 1


ROBOT_ERRORS = [
    ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, "errcode 310000: sign not match"),
    ("wecom", {"errcode": 45009, "errmsg": "api freq out of limit"}, "errcode 45009: api freq out"),
    (
        "feishu",
        {"code": 19021, "msg": "sign match fail", "data": {}},
        "code 19021: sign match fail",
    ),
    ("feishu", {"StatusCode": 9499, "StatusMessage": "Bad Request"}, "code 9499: Bad Request"),
    ("dingtalk", ["not", "an", "object"], 'unexpected reply: ["not", "an", "object"]'),
]


@pytest.mark.parametrize(("style", "reply", "error"), ROBOT_ERRORS)
def test_robot_error_codes_are_failures(
    server: HttpRecorder, style: str, reply: Any, error: str
) -> None:
    server.reply = reply_json(reply)
    [result] = send({"webhooks": [hook(server.url(), style)]}, [msg()])
    assert _one_line(result).startswith(error)


def test_a_failed_wecom_part_fails_the_delivery(server: HttpRecorder) -> None:
    replies = iter([{"errcode": 0, "errmsg": "ok"}, {"errcode": 45009, "errmsg": "freq"}])
    server.reply = lambda r: (200, reply_json(next(replies))(r)[1])
    messages = [msg("at_risk", f"IT-{i:03d}", _text(i)) for i in range(14)]  # 3 parts
    result = send({"webhooks": [hook(server.url(), "wecom")]}, messages)
    # The first part's six messages arrived; the others are owed, and only they.
    assert [d.ok for d in result] == [True] * 6 + [False] * 8
    assert {_one_line(d) for d in result[6:]} == {"part 2 of 3: errcode 45009: freq"}
    assert len(server.requests) == 2


def test_timeout_is_a_failed_delivery() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind((HOST, 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        [result] = send({"webhooks": [hook(f"http://{HOST}:{port}/")]}, [msg()], timeout=0.3)
    assert "timed out" in _one_line(result)


def test_a_missing_secret_sends_nothing(server: HttpRecorder) -> None:
    config = {"webhooks": [hook(server.url(), "dingtalk", secret_env="DING_SECRET")]}
    [result] = send(config, [msg()], secret=no_secret)
    assert _one_line(result) == "secret DING_SECRET is not set"
    assert server.requests == []


# ----------------------------------------------------------------------- SMTP


def _parse(data: bytes) -> EmailMessage:
    # SMTP carries CRLF line ends; compare texts with plain newlines.
    parsed = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_smtp_sends_one_utf8_mail_per_message() -> None:
    first = msg(
        "created",
        subject="【IT-20231025-001】您的问题已受理：无法连接 WiFi",
        text="您好，您的问题已受理，工单编号 IT-20231025-001。\n处理完成后会第一时间联系您。",
        to=("wang@example.com",),
    )
    nobody = msg("followup_due", "IT-9")  # no recipients: no mail
    urgent = msg(
        "p1", "IT-2", "P1 ticket IT-2", "[IT-2] P1", ("boss@example.com", "li@example.com"), "P1"
    )
    with SmtpServer() as smtp:
        config = {"smtp": {"host": HOST, "port": smtp.port, "sender": "desk@example.com"}}
        result = send(config, [first, nobody, urgent])
    assert [(d.recipient, d.ok, d.tickets) for d in result] == [
        ("mailto:wang@example.com", True, ("IT-20231025-001",)),
        ("mailto:boss@example.com", True, ("IT-2",)),
        ("mailto:li@example.com", True, ("IT-2",)),
    ]
    assert smtp.sessions == 1
    one, two = smtp.mails
    assert (one.mail_from, one.rcpt_to, one.tls, one.user) == (
        "desk@example.com", ["wang@example.com"], False, None
    )  # fmt: skip
    assert one.data.isascii()  # encoded for any relay, Chinese decoded below
    mail = _parse(one.data)
    assert mail["Subject"] == "【IT-20231025-001】您的问题已受理：无法连接 WiFi"
    assert mail["From"] == "desk@example.com"
    assert mail["To"] == "wang@example.com"
    assert mail["Date"] == "Wed, 25 Oct 2023 09:30:15 +0800"  # the clock's, not --now's
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content() == first.text + "\n"
    assert mail["X-Priority"] is None
    assert two.rcpt_to == ["boss@example.com", "li@example.com"]
    urgent_mail = _parse(two.data)
    assert urgent_mail["To"] == "boss@example.com, li@example.com"
    assert (urgent_mail["X-Priority"], urgent_mail["Importance"]) == ("1", "high")
    assert urgent_mail.get_content() == "P1 ticket IT-2\n"


def test_smtp_refused_recipient_fails_only_that_mail() -> None:
    with SmtpServer(reject=frozenset({"gone@example.com"})) as smtp:
        config = {"smtp": {"host": HOST, "port": smtp.port, "sender": "desk@example.com"}}
        bad, good = send(config, [msg(to=("gone@example.com",)), msg("p1", "IT-2", to=("a@x.cn",))])
    assert _one_line(bad).startswith("refused: 550 5.1.1 no such user")
    assert bad.permanent and bad.recipient == "mailto:gone@example.com"
    assert good.ok
    assert [m.rcpt_to for m in smtp.mails] == [["a@x.cn"]]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


def _tls_config(port: int, cafile: Path | None, **kw: Any) -> dict[str, Any]:
    smtp = {"host": HOST, "port": port, "sender": "desk@example.com", "starttls": True, **kw}
    if cafile is not None:
        smtp["cafile"] = str(cafile)
    return {"smtp": smtp}


def test_smtp_starttls_and_login(cert: tuple[Path, Path]) -> None:
    with SmtpServer(tls=server_context(*cert), auth=("desk", "pw")) as smtp:
        config = _tls_config(smtp.port, cert[0], user="desk", password_env="SMTP_PW")
        [result] = send(config, [msg(text="密码已重置", to=("wang@example.com",))])
    assert result.ok, result.error
    [mail] = smtp.mails
    assert (mail.tls, mail.user) == (True, "desk")
    assert _parse(mail.data).get_content() == "密码已重置\n"


def test_smtp_wrong_password_is_a_failed_delivery(cert: tuple[Path, Path]) -> None:
    with SmtpServer(tls=server_context(*cert), auth=("desk", "right")) as smtp:
        config = _tls_config(smtp.port, cert[0], user="desk", password_env="SMTP_PW")
        [result] = send(config, [msg(to=("wang@example.com",))])
    assert _one_line(result) == f"{HOST}:{smtp.port}: SMTP 535: 5.7.8 bad credentials"
    assert smtp.mails == []


def test_smtp_verifies_the_certificate_by_default(cert: tuple[Path, Path]) -> None:
    with SmtpServer(tls=server_context(*cert)) as smtp:
        [result] = send(_tls_config(smtp.port, None), [msg(to=("wang@example.com",))])
    assert "certificate verify failed" in _one_line(result)
    assert smtp.mails == []


def test_smtp_password_secret_missing_connects_nowhere() -> None:
    with SmtpServer(auth=("desk", "pw")) as smtp:
        config = {
            "smtp": {
                "host": HOST, "port": smtp.port, "sender": "desk@example.com",
                "user": "desk", "password_env": "SMTP_PW",
            }
        }  # fmt: skip
        [result] = send(config, [msg(to=("a@example.com",))], secret=no_secret)
    assert _one_line(result) == "password: secret SMTP_PW is not set"
    assert smtp.sessions == 0


# ---------------------------------------------------------------------- config


SMTP_OK = {"host": HOST, "port": 2525, "sender": "desk@example.com"}


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"smtp": "mail.example.com"}, "notify.smtp:"),
        ({"smtp": {**SMTP_OK, "port": "25x"}}, "notify.smtp.port:"),
        ({"smtp": {**SMTP_OK, "port": 70000}}, "notify.smtp.port:"),
        ({"smtp": {**SMTP_OK, "port": True}}, "notify.smtp.port:"),
        ({"smtp": {"port": 25, "sender": "desk@example.com"}}, "notify.smtp.host:"),
        ({"smtp": {**SMTP_OK, "sender": "desk"}}, "notify.smtp.sender:"),
        ({"smtp": {**SMTP_OK, "starttls": "yes"}}, "notify.smtp.starttls:"),
        ({"smtp": {**SMTP_OK, "user": "desk"}}, "notify.smtp.password_env:"),
        ({"smtp": {**SMTP_OK, "passwd": "x"}}, "notify.smtp.passwd: unknown key"),
        ({"webhooks": {"url": "http://x"}}, "notify.webhooks:"),
        ({"webhooks": ["http://x"]}, "notify.webhooks[0]:"),
        ({"webhooks": [{"url": "ftp://x/"}]}, "notify.webhooks[0].url:"),
        ({"webhooks": [{"url": "http://x/", "style": "teams"}]}, "notify.webhooks[0].style:"),
        ({"webhooks": [{"url": "http://x/", "events": ["closed"]}]}, "notify.webhooks[0].events:"),
        ({"webhooks": [{"url": "http://x/", "events": "p1"}]}, "notify.webhooks[0].events:"),
        (
            {"webhooks": [{"url": "http://x/", "style": "wecom", "secret_env": "S"}]},
            "notify.webhooks[0].secret_env:",
        ),
        ({"link": "https://desk.example/tickets/"}, "notify.link:"),
        ({"smtp": SMTP_OK, "webhook": []}, "notify.webhook: unknown key"),
    ],
)
def test_malformed_config_raises_naming_the_key(config: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidPolicy, match="^itdesk.yaml: " + key.replace("[", r"\[")):
        send(config, [msg(to=("a@example.com",))])


def test_config_is_checked_before_anything_is_sent() -> None:
    with SmtpServer() as smtp:
        config = {
            "smtp": {"host": HOST, "port": smtp.port, "sender": "desk@example.com"},
            "webhooks": [{"url": f"http://{HOST}:1/", "style": "telegram"}],
        }
        with pytest.raises(InvalidPolicy, match="accepted: generic, slack, wecom, dingtalk"):
            send(config, [msg(to=("a@example.com",))])
    assert smtp.sessions == 0


# --------------------------------------------------------------------- templates


@pytest.fixture
def ticket() -> dict[str, Any]:
    data = ticket_to_dict(make_ticket())
    data["priority"] = "P1"
    return data


def test_render_created_zh_is_the_courteous_acknowledgement(ticket: dict[str, Any]) -> None:
    subject, text = render("created", ticket, "zh")
    assert subject == "【IT-20231025-001】您的问题已受理：WiFi authentication fails"
    assert text == (
        "您好，您的问题已受理，工单编号 IT-20231025-001，"
        "我们会尽快处理，处理完成后会第一时间联系您。"
    )
    assert render("created", ticket, "zh-CN") == (subject, text)


def test_render_en_flattens_nested_fields(ticket: dict[str, Any]) -> None:
    subject, text = render("p1", ticket, "en")
    assert subject == "[IT-20231025-001] P1 (urgent): WiFi authentication fails"
    assert text == (
        "Urgent ticket IT-20231025-001 (P1): WiFi authentication fails."
        " Reported by 王小明 (研发部, 13956785678); assignee: -. Please take charge now: -"
    )


def test_render_escalated_uses_extra_fields(ticket: dict[str, Any]) -> None:
    extra = {"clock": "首次响应", "late": "25m", "to": "zhao", "due": "2023-10-25 09:45"}
    extra |= {"reason": "target missed by 25m", "link": "https://desk/IT-20231025-001"}
    subject, text = render("escalated", ticket, "zh", extra)
    assert subject == "【IT-20231025-001】已升级至 zhao：首次响应 超时 25m"
    assert text == (
        "工单 IT-20231025-001（P1，WiFi authentication fails）已升级至 zhao：首次响应 时限应于"
        " 2023-10-25 09:45 完成，已超时 25m。原因：target missed by 25m。处理人：-。"
        "提报人：王小明（13956785678）。https://desk/IT-20231025-001"
    )


def test_render_missing_fields_show_a_dash(ticket: dict[str, Any]) -> None:
    subject, text = render("followup_due", {"id": "IT-7"}, "en")
    assert subject == "[IT-7] Follow-up call due by -"
    assert text == (
        "Ticket IT-7 (-) is resolved. Please call - (-) back by - and record how the service"
        " went. Assignee: -. -"
    )


def test_render_every_event_in_both_languages(ticket: dict[str, Any]) -> None:
    """Every placeholder of the shipped texts is one the sender fills: with the fields
    the outbox adds, no text keeps a brace, an empty value or a "-" for a value."""
    ticket = {**ticket, "assignee": "wang", "resolution": {"summary": "重启交换机"}}
    extra = {"clock": "ack", "late": "5m", "to": "zhao", "due": "2023-10-25 10:30"}
    extra |= {"reason": "target missed by 5m", "link": "https://desk/t/IT-20231025-001"}
    for lang in ("en", "zh"):
        for event in ("created", "p1", "escalated", "at_risk", "resolved", "followup_due"):
            subject, text = render(event, ticket, lang, extra)
            assert "IT-20231025-001" in subject and "IT-20231025-001" in text
            assert "\n" not in subject and "{" not in subject + text
            assert not re.search(r"(?<![\w*-])-(?![\w-])", subject + " " + text), (event, text)
            assert "()" not in text and "（）" not in text and "None" not in text
            assert len(text) < 400


def test_render_desk_overrides_per_event(ticket: dict[str, Any]) -> None:
    templates = {
        "resolved": {"text": "{requester_name}，{id} 已解决：{resolution_summary}，请回复“确认”。"},
        "created": {"subject": "Ticket {id}\nreceived {nope}", "text": "Got it: {title}"},
    }
    subject, text = render("resolved", ticket, "zh", None, templates)
    assert subject == "【IT-20231025-001】处理完成，请确认：WiFi authentication fails"
    assert text == "王小明，IT-20231025-001 已解决：-，请回复“确认”。"
    assert render("created", ticket, "en", None, templates) == (
        "Ticket IT-20231025-001 received -",
        "Got it: WiFi authentication fails",
    )
    # Events the desk does not override keep the shipped text.
    assert render("p1", ticket, "en", None, templates) == render("p1", ticket, "en")


def test_render_rejects_bad_templates_and_names(ticket: dict[str, Any]) -> None:
    with pytest.raises(InvalidPolicy, match="notify template en.created.text"):
        render("created", ticket, "en", None, {"created": {"text": "unbalanced {id"}})
    with pytest.raises(InvalidPolicy, match="notify template created"):
        render("created", ticket, "en", None, {"created": "just a string"})
    with pytest.raises(InvalidValue, match="unknown notification event 'closed'"):
        render("closed", ticket, "en")
    with pytest.raises(InvalidValue, match="unknown language 'fr'"):
        render("created", ticket, "fr")
    with pytest.raises(InvalidValue, match="unknown notification event"):
        Message("breached", "IT-1", "s", "t")


# ------------------------------------------------------------ issue 10: mail


def test_smtp_implicit_tls_with_login_and_a_display_name(cert: tuple[Path, Path]) -> None:
    """Port-465 style: TLS from the first byte, then AUTH; the sender has a name."""
    with SmtpServer(implicit_tls=server_context(*cert), auth=("desk", "pw")) as smtp:
        config = {
            "smtp": {
                "host": HOST, "port": smtp.port, "ssl": True, "cafile": str(cert[0]),
                "sender": "IT服务台 <desk@corp.example>", "user": "desk", "password_env": "SMTP_PW",
            }
        }  # fmt: skip
        [result] = send(config, [msg(text="密码已重置", to=("wang@example.com",))])
    assert result.ok, result.error
    [mail] = smtp.mails
    assert (mail.tls, mail.user, mail.mail_from) == (True, "desk", "desk@corp.example")
    parsed = _parse(mail.data)
    assert parsed["From"].addresses[0].display_name == "IT服务台"
    assert parsed["From"].addresses[0].addr_spec == "desk@corp.example"


def test_smtp_implicit_tls_verifies_the_certificate(cert: tuple[Path, Path]) -> None:
    with SmtpServer(implicit_tls=server_context(*cert)) as smtp:
        config = {"smtp": {"host": HOST, "port": smtp.port, "ssl": True, "sender": "d@x.cn"}}
        [result] = send(config, [msg(to=("wang@example.com",))])
    assert "certificate verify failed" in _one_line(result)
    assert smtp.mails == []


def test_mails_of_one_ticket_thread_and_silence_auto_responders() -> None:
    created = msg("created", key="1", to=("wang@example.com",), priority="P1")
    resolved = msg("resolved", key="7", to=("wang@example.com",), priority="P1")
    p1 = msg("p1", key="3", to=("boss@example.com",), priority="P1")
    with SmtpServer() as smtp:
        config = {"smtp": {"host": HOST, "port": smtp.port, "sender": "desk@corp.example"}}
        assert all(d.ok for d in send(config, [created, p1, resolved]))
    first, urgent, done = (_parse(m.data) for m in smtp.mails)
    root = "<IT-20231025-001.itdesk@corp.example>"
    assert first["Message-ID"] == root and first["In-Reply-To"] is None
    for reply in (urgent, done):
        assert reply["In-Reply-To"] == root and reply["References"] == root
        assert reply["Message-ID"] != root
    assert {m["Auto-Submitted"] for m in (first, urgent, done)} == {"auto-generated"}
    # The supervisor's P1 alert is urgent; the requester's mails about a P1 are not.
    assert urgent["X-Priority"] == "1"
    assert first["X-Priority"] is None and done["X-Priority"] is None


def test_an_address_with_a_line_break_is_never_sent_and_fails_nobody_else() -> None:
    evil = "a@example.com\r\nRCPT TO:<evil@example.com>"
    with SmtpServer() as smtp:
        config = {"smtp": {"host": HOST, "port": smtp.port, "sender": "desk@example.com"}}
        bad, good = send(config, [msg(to=(evil, "li@example.com"))])
    assert bad.permanent and "not an e-mail address" in _one_line(bad)
    assert good.ok and good.recipient == "mailto:li@example.com"
    assert [m.rcpt_to for m in smtp.mails] == [["li@example.com"]]
    assert b"evil" not in smtp.mails[0].data


def test_one_refused_address_of_a_mail_fails_only_that_address() -> None:
    with SmtpServer(reject=frozenset({"gone@example.com"})) as smtp:
        config = {"smtp": {"host": HOST, "port": smtp.port, "sender": "desk@example.com"}}
        result = send(config, [msg("p1", to=("li@example.com", "gone@example.com"))])
    assert [(d.recipient, d.ok, d.permanent) for d in result] == [
        ("mailto:li@example.com", True, False),
        ("mailto:gone@example.com", False, True),
    ]
    assert [m.rcpt_to for m in smtp.mails] == [["li@example.com"]]


@pytest.mark.parametrize(
    ("smtp", "key"),
    [
        ({**SMTP_OK, "ssl": True, "starttls": True}, "notify.smtp.ssl:"),
        ({**SMTP_OK, "ssl": "yes"}, "notify.smtp.ssl:"),
        ({**SMTP_OK, "sender": "IT desk <desk>"}, "notify.smtp.sender:"),
        ({**SMTP_OK, "sender": "desk@x.cn\r\nBcc: evil@x.cn"}, "notify.smtp.sender:"),
    ],
)
def test_malformed_smtp_ssl_and_sender(smtp: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidPolicy, match="^itdesk.yaml: " + key):
        send({"smtp": smtp}, [msg(to=("a@example.com",))])


def test_a_webhook_listed_twice_is_refused() -> None:
    hooks = [hook("http://x/send?key=A"), hook("http://x/send?key=B"), hook("http://x/send?key=A")]
    with pytest.raises(InvalidPolicy, match=r"webhooks\[2\]\.url: the same URL as .*\[0\]"):
        send({"webhooks": hooks}, [msg()])


# ------------------------------------------------------- issue 10: webhooks


def test_two_robots_differing_only_by_token_are_two_recipients(server: HttpRecorder) -> None:
    a, b = server.url("/send?key=AAAA1111"), server.url("/send?key=BBBB2222")
    result = send({"webhooks": [hook(a, "wecom"), hook(b, "wecom")]}, [msg()])
    assert [(d.recipient, d.ok) for d in result] == [(a, True), (b, True)]
    assert [r.query for r in server.requests] == ["key=AAAA1111", "key=BBBB2222"]


def test_signatures_carry_the_clock_not_the_desk_time(server: HttpRecorder) -> None:
    real = datetime(2026, 12, 2, 13, 0, 0, tzinfo=UTC)
    config = {"webhooks": [hook(server.url(), "dingtalk", secret_env="DING_SECRET")]}
    send(config, [msg()], clock=lambda: real)
    assert server.requests[0].params["timestamp"] == str(int(real.timestamp() * 1000))


def test_slack_text_is_escaped() -> None:
    text = "IT-1: <!channel> & <https://evil.example|your bank>"
    with HttpRecorder(lambda r: (200, b"ok")) as slack:
        send({"webhooks": [hook(slack.url(), "slack")]}, [msg(text=text)])
    assert slack.requests[0].json == {
        "text": "IT-1: &lt;!channel&gt; &amp; &lt;https://evil.example|your bank&gt;"
    }


def test_feishu_at_tags_in_a_title_mention_nobody(server: HttpRecorder) -> None:
    server.reply = reply_json(FEISHU_OK)
    text = '打印机 <at user_id="all">所有人</at>'
    send({"webhooks": [hook(server.url(), "feishu")]}, [msg(text=text)])
    sent = server.requests[0].json["content"]["text"]
    assert '<at user_id="all">' not in sent and "所有人" in sent


def test_shown_recipient_keeps_four_characters_of_a_token() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
    assert shown_recipient(url) == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…5aaa"
    assert shown_recipient("mailto:li@example.com") == "li@example.com"
