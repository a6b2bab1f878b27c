"""The chat robots' callbacks over real HTTP (waitress on 127.0.0.1): DingTalk, Feishu and
WeCom, signed as each platform documents it (computed here, independently of the
desk's code), signed wrong, retried, and for a platform the desk has not set up."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
import yaml
from conftest import SHANGHAI, Itdesk, git, git_state
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from itdesk.web.app import create_app

NOW = datetime(2024, 5, 6, 9, 30, tzinfo=SHANGHAI)
DING_SECRET = "SECding0123456789"
FEISHU_TOKEN = "feishu-verify-token"
FEISHU_KEY = "feishu-encrypt-key"
WECOM_TOKEN = "wecomtoken"
WECOM_AES = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters
ENV = {
    "DING_SECRET": DING_SECRET,
    "FEISHU_TOKEN": FEISHU_TOKEN,
    "FEISHU_KEY": FEISHU_KEY,
    "WECOM_TOKEN": WECOM_TOKEN,
    "WECOM_AES": WECOM_AES,
}


def set_up(desk: Itdesk, section: str = "intake", **intake: Any) -> None:
    path = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[section] = intake
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    git(desk.desk, "commit", "-qam", "intake")


ALL = {
    "dingtalk": {"secret_env": "DING_SECRET"},
    "feishu": {"verification_token_env": "FEISHU_TOKEN", "encrypt_key_env": "FEISHU_KEY"},
    "wecom": {"token_env": "WECOM_TOKEN", "aes_key_env": "WECOM_AES"},
}


class Hooks:
    def __init__(self, desk: Itdesk, base: str):
        self.desk = desk
        self.base = base

    def send(
        self,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        method: str = "POST",
    ) -> tuple[int, str]:
        req = urllib.request.Request(
            self.base + path, data=body if method == "POST" else None, method=method
        )
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@pytest.fixture
def hooks(desk: Itdesk) -> Iterator[Callable[..., Hooks]]:
    from waitress import create_server

    servers = []

    def start(env: dict[str, str] | None = None, section: str = "intake", **intake: Any) -> Hooks:
        set_up(desk, section, **(intake or ALL))
        app = create_app(desk.desk, clock=lambda: NOW, env=ENV if env is None else env)
        server = create_server(app, host="127.0.0.1", port=0, threads=4)

        def run() -> None:
            try:
                server.run()
            except OSError:
                pass

        threading.Thread(target=run, daemon=True).start()
        servers.append(server)
        return Hooks(desk, f"http://127.0.0.1:{server.effective_port}")

    yield start
    for server in servers:
        server.close()


def tickets(desk: Itdesk) -> list[dict[str, Any]]:
    return [desk.ticket(p.stem) for p in sorted((desk.desk / "tickets").glob("IT-*.yaml"))]


# ------------------------------------------------------------------ DingTalk


def ding(text: str, msg_id: str = "msgA1", ts: int | None = None, secret: str = DING_SECRET,
         **more: Any) -> tuple[bytes, dict[str, str]]:  # fmt: skip
    stamp = str(ts if ts is not None else int(time.time() * 1000))
    sign = base64.b64encode(
        hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    body = {
        "msgtype": "text", "text": {"content": text}, "msgId": msg_id,
        "senderNick": "王小明", "senderStaffId": "E1001", "conversationType": "2",
        "isInAtList": True, **more,
    }  # fmt: skip
    return json.dumps(body, ensure_ascii=False).encode(), {
        "timestamp": stamp, "sign": sign, "Content-Type": "application/json"
    }  # fmt: skip


def test_dingtalk_a_mention_is_a_ticket_answered_with_its_number(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks()
    body, headers = ding(" 打印机卡纸了，三楼")
    status, text = h.send("/hooks/dingtalk", body, headers)
    assert status == 200, text
    answer = json.loads(text)
    assert answer["msgtype"] == "text" and "IT-20240506-001" in answer["text"]["content"]
    (t,) = tickets(desk)
    assert t["channel"] == "chat" and t["title"] == "打印机卡纸了，三楼"
    assert t["requester"]["name"] == "王小明" and t["requester"]["employee_id"] == "E1001"
    assert git(desk.desk, "log", "-1", "--format=%an").strip() == "itdesk-chat"
    trailers = git(desk.desk, "log", "-1", "--format=%(trailers)")
    assert "Employee: 王小明 (dingtalk:E1001)" in trailers
    assert "Chat-Message: dingtalk:msgA1" in trailers
    # the platform retries the same message: one ticket, the same number
    state = git_state(desk.desk)
    status, again = h.send("/hooks/dingtalk", body, headers)
    assert status == 200 and "IT-20240506-001" in again
    assert git_state(desk.desk) == state
    assert desk("audit").exit_code == 0 and desk("validate").exit_code == 0


def test_dingtalk_forged_or_stale_callbacks_are_refused_and_record_nothing(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks()
    state = git_state(desk.desk)
    body, headers = ding("hello", secret="SECwrong")
    assert h.send("/hooks/dingtalk", body, headers)[0] == 403
    body, headers = ding("hello", ts=int(time.time() * 1000) - 2 * 3600 * 1000)
    assert h.send("/hooks/dingtalk", body, headers)[0] == 403
    body, headers = ding("hello")
    assert h.send("/hooks/dingtalk", body)[0] == 403  # no headers
    headers["sign"] = headers["sign"][:-4] + "AAA="
    assert h.send("/hooks/dingtalk", body, headers)[0] == 403
    assert git_state(desk.desk) == state


def test_a_quoted_number_is_logged_on_its_ticket(desk: Itdesk, hooks: Callable[..., Hooks]) -> None:
    h = hooks()
    h.send("/hooks/dingtalk", *ding("VPN 连不上", msg_id="m1"))
    status, text = h.send("/hooks/dingtalk", *ding("it-20240506-001 还是不行", msg_id="m2"))
    assert status == 200 and "IT-20240506-001" in json.loads(text)["text"]["content"]
    (t,) = tickets(desk)
    assert t["log"][-1]["text"] == "chat from 王小明 (dingtalk:E1001): it-20240506-001 还是不行"


def test_a_platform_not_set_up_answers_404(desk: Itdesk, hooks: Callable[..., Hooks]) -> None:
    h = hooks(env={}, **ALL)  # named in itdesk.yaml, but no secret in the environment
    assert h.send("/hooks/dingtalk", *ding("x"))[0] == 404
    assert h.send("/hooks/slack", b"{}")[0] == 404
    h2 = hooks(dingtalk={"secret_env": "DING_SECRET"})
    assert h2.send("/hooks/feishu", b"{}")[0] == 404
    assert h2.send("/hooks/wecom", b"<xml/>")[0] == 404


# ------------------------------------------------------------------ Feishu


def feishu_encrypt(plain: dict[str, Any], key: str = FEISHU_KEY) -> bytes:
    raw = json.dumps(plain, ensure_ascii=False).encode()
    iv = os.urandom(16)
    n = 16 - len(raw) % 16
    enc = Cipher(algorithms.AES(hashlib.sha256(key.encode()).digest()), modes.CBC(iv)).encryptor()
    data = iv + enc.update(raw + bytes([n]) * n) + enc.finalize()
    return json.dumps({"encrypt": base64.b64encode(data).decode()}).encode()


def feishu_headers(body: bytes, key: str = FEISHU_KEY) -> dict[str, str]:
    ts, nonce = str(int(time.time())), "n0nce"
    sig = hashlib.sha256((ts + nonce + key).encode() + body).hexdigest()
    return {"X-Lark-Request-Timestamp": ts, "X-Lark-Request-Nonce": nonce,
            "X-Lark-Signature": sig, "Content-Type": "application/json"}  # fmt: skip


def feishu_event(text: str, message_id: str = "om_1", token: str = FEISHU_TOKEN) -> dict[str, Any]:
    return {
        "schema": "2.0",
        "header": {"event_id": "ev1", "event_type": "im.message.receive_v1", "token": token},
        "event": {
            "sender": {"sender_id": {"open_id": "ou_abc", "user_id": "lisi"}},
            "message": {
                "message_id": message_id, "chat_type": "group", "message_type": "text",
                "content": json.dumps({"text": f"@_user_1 {text}"}),
                "mentions": [{"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "IT"}],
            },
        },
    }  # fmt: skip


def test_feishu_challenge_signature_and_encrypted_events(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks()
    challenge = feishu_encrypt(
        {"challenge": "c-123", "token": FEISHU_TOKEN, "type": "url_verification"}
    )
    status, text = h.send("/hooks/feishu", challenge, {"Content-Type": "application/json"})
    assert status == 200 and json.loads(text) == {"challenge": "c-123"}
    body = feishu_encrypt(feishu_event("邮箱收不到邮件"))
    status, text = h.send("/hooks/feishu", body, feishu_headers(body))
    assert status == 200, text
    (t,) = tickets(desk)
    assert t["title"] == "邮箱收不到邮件" and t["requester"]["employee_id"] == "lisi"
    # a retry (same message id): no second ticket
    body2 = feishu_encrypt(feishu_event("邮箱收不到邮件"))
    assert h.send("/hooks/feishu", body2, feishu_headers(body2))[0] == 200
    assert len(tickets(desk)) == 1


def test_feishu_forgeries_are_refused(desk: Itdesk, hooks: Callable[..., Hooks]) -> None:
    h = hooks()
    state = git_state(desk.desk)
    body = feishu_encrypt(feishu_event("x", "om_2"))
    assert h.send("/hooks/feishu", body, feishu_headers(body, key="other"))[0] == 403
    wrong_key = feishu_encrypt(feishu_event("x", "om_3"), key="other")
    assert h.send("/hooks/feishu", wrong_key, feishu_headers(wrong_key))[0] == 403
    wrong_token = feishu_encrypt(feishu_event("x", "om_4", token="nope"))
    assert h.send("/hooks/feishu", wrong_token, feishu_headers(wrong_token))[0] == 403
    plain = json.dumps(feishu_event("x", "om_5")).encode()
    assert h.send("/hooks/feishu", plain, feishu_headers(plain))[0] == 403
    assert h.send("/hooks/feishu", b"not json", feishu_headers(b"not json"))[0] == 400
    assert git_state(desk.desk) == state


def test_feishu_without_an_encrypt_key_checks_the_token(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks(feishu={"verification_token_env": "FEISHU_TOKEN"})
    plain = {"challenge": "c-9", "token": FEISHU_TOKEN, "type": "url_verification"}
    assert json.loads(h.send("/hooks/feishu", json.dumps(plain).encode())[1]) == {
        "challenge": "c-9"
    }
    assert h.send("/hooks/feishu", json.dumps({**plain, "token": "x"}).encode())[0] == 403
    status, _ = h.send("/hooks/feishu", json.dumps(feishu_event("键盘坏了")).encode())
    assert status == 200 and tickets(desk)[0]["title"] == "键盘坏了"


# ------------------------------------------------------------------ WeCom


def _wecom_key() -> bytes:
    return base64.b64decode(WECOM_AES + "=")


def wecom_encrypt(msg: bytes) -> str:
    key = _wecom_key()
    plain = os.urandom(16) + struct.pack(">I", len(msg)) + msg + b""
    n = 32 - len(plain) % 32
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain + bytes([n]) * n) + enc.finalize()).decode()


def wecom_decrypt(text: str) -> bytes:
    key = _wecom_key()
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = dec.update(base64.b64decode(text)) + dec.finalize()
    plain = plain[: -plain[-1]]
    (size,) = struct.unpack(">I", plain[16:20])
    return plain[20 : 20 + size]


def wecom_sig(*parts: str, token: str = WECOM_TOKEN) -> str:
    return hashlib.sha1("".join(sorted([token, *parts])).encode()).hexdigest()


def wecom_xml(text: str, msg_id: str = "wx1") -> bytes:
    return (
        "<xml><WebhookUrl><![CDATA[https://example.invalid/x]]></WebhookUrl>"
        "<ChatId><![CDATA[wrkSFfCgAAxxxx]]></ChatId><ChatType>group</ChatType>"
        "<From><UserId>zhaoliu</UserId><Name>赵六</Name><Alias>zl</Alias></From>"
        f"<MsgType>text</MsgType><Text><Content><![CDATA[@IT服务台 {text}]]></Content></Text>"
        f"<MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def test_wecom_url_check_and_an_encrypted_message_with_a_passive_reply(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks()
    ts, nonce = str(int(time.time())), "nonce1"
    echo = wecom_encrypt(b"echo-12345")
    query = urllib.parse.urlencode(
        {
            "msg_signature": wecom_sig(ts, nonce, echo),
            "timestamp": ts,
            "nonce": nonce,
            "echostr": echo,
        }  # fmt: skip
    )
    assert h.send(f"/hooks/wecom?{query}", method="GET") == (200, "echo-12345")
    bad = query.replace("msg_signature=", "msg_signature=0")
    assert h.send(f"/hooks/wecom?{bad}", method="GET")[0] == 403

    encrypted = wecom_encrypt(wecom_xml("显示器不亮"))
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    query = urllib.parse.urlencode(
        {"msg_signature": wecom_sig(ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    )
    status, text = h.send(f"/hooks/wecom?{query}", body)
    assert status == 200, text
    reply = ET.fromstring(text)
    enc = reply.findtext("Encrypt") or ""
    assert reply.findtext("MsgSignature") == wecom_sig(
        reply.findtext("TimeStamp") or "", reply.findtext("Nonce") or "", enc
    )
    content = ET.fromstring(wecom_decrypt(enc)).findtext("Text/Content") or ""
    assert "IT-20240506-001" in content
    (t,) = tickets(desk)
    assert t["title"] == "显示器不亮" and t["requester"]["name"] == "赵六"
    assert t["requester"]["employee_id"] == "zhaoliu"
    # the retry: the same number again, no second ticket
    status, again = h.send(f"/hooks/wecom?{query}", body)
    assert status == 200 and len(tickets(desk)) == 1


def test_wecom_forgeries_are_refused(desk: Itdesk, hooks: Callable[..., Hooks]) -> None:
    h = hooks()
    state = git_state(desk.desk)
    ts, nonce = "1700000000", "n"
    encrypted = wecom_encrypt(wecom_xml("x", "wx9"))
    body = f"<xml><Encrypt>{encrypted}</Encrypt></xml>".encode()
    wrong = urllib.parse.urlencode(
        {
            "msg_signature": wecom_sig(ts, nonce, encrypted, token="other"),
            "timestamp": ts,
            "nonce": nonce,
        }  # fmt: skip
    )
    assert h.send(f"/hooks/wecom?{wrong}", body)[0] == 403
    garbage = base64.b64encode(os.urandom(64)).decode()
    body = f"<xml><Encrypt>{garbage}</Encrypt></xml>".encode()
    signed = urllib.parse.urlencode(
        {"msg_signature": wecom_sig(ts, nonce, garbage), "timestamp": ts, "nonce": nonce}
    )
    assert h.send(f"/hooks/wecom?{signed}", body)[0] in (400, 403)
    evil = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    assert h.send(f"/hooks/wecom?{signed}", evil)[0] == 400
    assert git_state(desk.desk) == state


def test_messages_without_a_mention_or_text_record_nothing(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks()
    state = git_state(desk.desk)
    assert h.send("/hooks/dingtalk", *ding("hi all", isInAtList=False)) == (200, "{}")
    assert h.send("/hooks/dingtalk", *ding("   ", msg_id="empty"))[0] == 200
    event = feishu_event("just chatting", "om_7")
    event["event"]["message"]["mentions"] = []
    body = feishu_encrypt(event)
    assert h.send("/hooks/feishu", body, feishu_headers(body))[0] == 200
    big = b"{" + b" " * (70 * 1024) + b"}"
    assert h.send("/hooks/dingtalk", big, ding("x")[1])[0] == 413
    assert git_state(desk.desk) == state


def test_a_number_of_a_closed_ticket_gets_a_polite_no(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks()
    h.send("/hooks/dingtalk", *ding("鼠标坏了", msg_id="c1"))
    desk.ok("cancel", "IT-20240506-001", "--reason", "duplicate", "--now", "2024-05-06T09:40")
    state = git_state(desk.desk)
    status, text = h.send("/hooks/dingtalk", *ding("IT-20240506-001 还在吗", msg_id="c2"))
    assert status == 200 and "cancelled" in json.loads(text)["text"]["content"]
    assert git_state(desk.desk) == state


def test_wecom_json_callbacks_get_a_json_passive_reply(
    desk: Itdesk, hooks: Callable[..., Hooks]
) -> None:
    h = hooks(wecom={"token_env": "WECOM_TOKEN", "aes_key_env": "WECOM_AES"})
    ts, nonce = str(int(time.time())), "nonce2"
    plain = {"msgid": "j1", "msgtype": "text", "from": {"userid": "sunqi"},
             "text": {"content": "@IT 投影仪没信号"}}  # fmt: skip
    encrypted = wecom_encrypt(json.dumps(plain, ensure_ascii=False).encode())
    query = urllib.parse.urlencode(
        {"msg_signature": wecom_sig(ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}
    )
    status, text = h.send(f"/hooks/wecom?{query}", json.dumps({"encrypt": encrypted}).encode())
    assert status == 200, text
    reply = json.loads(text)
    assert reply["msgsignature"] == wecom_sig(reply["timestamp"], reply["nonce"], reply["encrypt"])
    assert "IT-20240506-001" in json.loads(wecom_decrypt(reply["encrypt"]))["text"]["content"]
    (t,) = tickets(desk)
    assert t["title"] == "投影仪没信号" and t["requester"]["employee_id"] == "sunqi"


def test_the_robots_may_be_set_up_under_chat_too(desk: Itdesk, hooks: Callable[..., Hooks]) -> None:
    h = hooks(section="chat", dingtalk={"secret_env": "DING_SECRET"})
    status, text = h.send("/hooks/dingtalk", *ding("耳机没声音"))
    assert status == 200 and "IT-20240506-001" in text
    assert h.send("/hooks/wecom", b"<xml/>")[0] == 404


def test_a_mistyped_robot_setting_is_one_clear_line(desk: Itdesk) -> None:
    set_up(desk, dingtalk={"secret": "SEC-in-the-file"})
    assert "intake.dingtalk.secret" in desk("validate").output  # a finding
    result = desk("list")
    assert result.exit_code == 2 and "intake.dingtalk.secret" in result.stderr
    assert result.stderr.count("\n") == 1
