"""Chat-group intake: the outgoing callbacks of the DingTalk, Feishu and WeCom group robots
(``POST /hooks/<platform>`` of the portal; issue #13).

A message that @-mentions the desk's robot becomes a ticket (channel ``chat``), or a log
entry on the ticket whose number it quotes; the robot answers in the group with the
number. Each callback is checked as its platform documents it before anything is read:

- DingTalk: headers ``timestamp`` (ms) and ``sign`` = base64 HMAC-SHA256 keyed with the
  robot's appSecret over ``timestamp + "\\n" + appSecret``; a timestamp more than an hour
  off the clock is refused. The answer is the synchronous JSON reply.
- Feishu: the ``url_verification`` challenge is answered; the verification token must
  match; with an encrypt key the body is AES-256-CBC encrypted (key: SHA-256 of the
  encrypt key, the IV in front) and ``X-Lark-Signature`` = SHA-256 hex of timestamp,
  nonce, encrypt key and body. Feishu shows nothing a callback answers: the number
  reaches the group through the desk's notifications (a ``feishu`` webhook under
  ``notify: webhooks:`` with the ``created`` event), if the desk has one.
- WeCom: ``msg_signature`` = SHA-1 of the sorted token, timestamp, nonce and ciphertext;
  the body is AES-256-CBC with the EncodingAESKey (random 16 bytes, length, message,
  receive id; PKCS#7 to 32 bytes); the URL check (``GET`` with ``echostr``) is answered.
  The answer is the encrypted passive reply.

Settings under ``intake:`` in ``itdesk.yaml`` name environment variables, never secrets:
``dingtalk: {secret_env}``, ``feishu: {verification_token_env, encrypt_key_env}``,
``wecom: {token_env, aes_key_env, receive_id}``. A platform not set up answers 404, a
bad signature 403 (and records nothing). A platform's retry of one message is recorded
once (:mod:`itdesk.service.once`, keyed by the platform's message id) and answered with
the same number. The desk acts as the robot :data:`CHAT_ROBOT` with an ``Employee:``
trailer naming the sender.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ItdeskError, UsageError
from .mailin import clean_line, clean_text
from .once import intake_lock, key_of, record_once

if TYPE_CHECKING:
    from ..store.desk import Desk
    from .session import Session

CHAT_ROBOT = "itdesk-chat"
PLATFORMS = ("dingtalk", "feishu", "wecom")
MAX_BODY = 64 * 1024
TEXT_MAX = 4_000
MAX_SKEW_MS = 3_600_000  # DingTalk: an hour
_KEYS = {
    "dingtalk": ("secret_env",),
    "feishu": ("verification_token_env", "encrypt_key_env", "bot_open_id"),
    "wecom": ("token_env", "aes_key_env", "receive_id"),
}


class Refused(Exception):
    """A callback refused: ``status`` is the HTTP answer (403 forged, 400 malformed)."""

    def __init__(self, status: int, why: str):
        super().__init__(why)
        self.status = status


@dataclass(frozen=True)
class Answer:
    body: str
    mimetype: str = "application/json"


@dataclass(frozen=True)
class ChatMessage:
    platform: str
    msg_id: str
    sender_id: str
    sender_name: str
    text: str


@dataclass(frozen=True)
class Request:
    method: str
    headers: Mapping[str, str]  # names in lower case
    args: Mapping[str, str]
    body: bytes


def settings(raw: Mapping[str, Any], platform: str, env: Mapping[str, str]) -> dict[str, str]:
    """The platform's secrets (read from the environment variables named in itdesk.yaml);
    empty when the platform is not set up (the route then answers 404)."""
    conf = None
    for section in ("intake", "chat"):  # chat: is read too (see core.policy._intake)
        found = raw.get(section)
        if isinstance(found, Mapping) and isinstance(found.get(platform), Mapping):
            conf = found[platform]
    if not isinstance(conf, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, value in conf.items():
        if key not in _KEYS[platform] or not isinstance(value, str):
            return {}  # not reached: itdesk.yaml's intake: is checked when it is read
        if key.endswith("_env"):
            secret = env.get(value, "")
            if secret:
                out[key[: -len("_env")]] = secret
        else:
            out[key] = value
    required = {"dingtalk": ("secret",), "feishu": ("verification_token",),
                "wecom": ("token", "aes_key")}[platform]  # fmt: skip
    return out if all(out.get(k) for k in required) else {}


def check_known(desk: Desk) -> None:
    if not desk.policy.knows(CHAT_ROBOT):
        raise UsageError(
            f"the desk does not know {CHAT_ROBOT!r}, who the chat robots act as; add it "
            f"under robots: in {desk.root / 'itdesk.yaml'}"
        )


# ------------------------------------------------------------------ AES, both platforms


def _aes_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def _unpad(data: bytes, block: int) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= block or data[-n:] != bytes([n]) * n:
        raise Refused(403, "bad padding")
    return data[:-n]


def _pad(data: bytes, block: int) -> bytes:
    n = block - len(data) % block
    return data + bytes([n]) * n


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise Refused(403, "not base64") from None


# ------------------------------------------------------------------ DingTalk


def dingtalk_sign(secret: str, timestamp: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def _dingtalk(conf: Mapping[str, str], req: Request, wall_ms: int) -> ChatMessage | None:
    from urllib.parse import unquote

    ts, sign = req.headers.get("timestamp", ""), req.headers.get("sign", "")  # lower-cased
    if not ts.isdigit() or not sign:
        raise Refused(403, "no timestamp and sign headers")
    if abs(wall_ms - int(ts)) > MAX_SKEW_MS:
        raise Refused(403, "timestamp more than an hour off")
    good = dingtalk_sign(conf["secret"], ts)
    if not (hmac.compare_digest(sign, good) or hmac.compare_digest(unquote(sign), good)):
        raise Refused(403, "bad sign")
    data = _json(req.body)
    if data.get("msgtype") != "text" or data.get("isInAtList") is False:
        return None
    text = _get(data, "text", "content")
    sender = str(data.get("senderStaffId") or data.get("senderId") or "")
    return _message("dingtalk", data.get("msgId"), sender, data.get("senderNick"), text)


def _dingtalk_answer(text: str) -> Answer:
    return Answer(json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False))


# ------------------------------------------------------------------ Feishu


def feishu_decrypt(encrypt_key: str, encrypted: str) -> bytes:
    data = _b64(encrypted)
    if len(data) < 32 or len(data) % 16:
        raise Refused(403, "bad ciphertext")
    key = hashlib.sha256(encrypt_key.encode()).digest()
    return _unpad(_aes_cbc(key, data[:16], data[16:], encrypt=False), 16)


def _feishu(
    conf: Mapping[str, str], req: Request, wall_ms: int
) -> tuple[ChatMessage | None, Answer | None]:
    data = _json(req.body)
    key = conf.get("encrypt_key")
    if key:
        if not isinstance(data.get("encrypt"), str):
            raise Refused(403, "not encrypted, and the desk has an encrypt key")
        signature = req.headers.get("x-lark-signature", "")
        ts = req.headers.get("x-lark-request-timestamp", "")
        nonce = req.headers.get("x-lark-request-nonce", "")
        if signature:
            basis = (ts + nonce + key).encode() + req.body
            if not hmac.compare_digest(signature, hashlib.sha256(basis).hexdigest()):
                raise Refused(403, "bad X-Lark-Signature")
            if not ts.isdigit() or abs(wall_ms // 1000 - int(ts)) > MAX_SKEW_MS // 1000:
                raise Refused(403, "timestamp more than an hour off")
        data = _json(feishu_decrypt(key, data["encrypt"]))
        if not signature and data.get("type") != "url_verification":
            raise Refused(403, "no X-Lark-Signature")  # only the URL check comes without
    elif "encrypt" in data:
        raise Refused(403, "encrypted, and the desk has no encrypt key")
    header = _dict(data.get("header"))
    token = str(header.get("token") or data.get("token") or "")
    if not hmac.compare_digest(token, conf["verification_token"]):
        raise Refused(403, "bad verification token")
    if data.get("type") == "url_verification":
        return None, Answer(json.dumps({"challenge": str(data.get("challenge", ""))}))
    if header.get("event_type") != "im.message.receive_v1":
        return None, None
    event = _dict(data.get("event"))
    message = _dict(event.get("message"))
    if message.get("message_type") != "text" or _get(event, "sender", "sender_type") == "app":
        return None, None  # not text, or a robot's own message (no loops)
    mentions = message.get("mentions")
    mentions = mentions if isinstance(mentions, list) else []
    if message.get("chat_type") != "p2p":
        bot = conf.get("bot_open_id")
        ids = [_get(m, "id", "open_id") for m in mentions if isinstance(m, dict)]
        if not ids or (bot and bot not in ids):
            return None, None
    try:
        content = json.loads(str(message.get("content") or "{}"))
    except ValueError:
        raise Refused(400, "message content is not JSON") from None
    text = str(content.get("text", "")) if isinstance(content, dict) else ""
    text = re.sub(r"@_user_\d+", " ", text)
    sender_ids = _get(event, "sender", "sender_id")
    sender = ""
    if isinstance(sender_ids, dict):
        sender = str(sender_ids.get("user_id") or sender_ids.get("open_id") or "")
    return _message("feishu", message.get("message_id"), sender, None, text), None


# ------------------------------------------------------------------ WeCom


def wecom_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def _wecom_key(conf: Mapping[str, str]) -> bytes:
    key = conf["aes_key"]
    try:
        raw = base64.b64decode(key + "=", validate=True)
    except ValueError:
        raw = b""
    if len(key) != 43 or len(raw) != 32:
        raise Refused(404, "the EncodingAESKey is not 43 characters of base64")
    return raw


def wecom_decrypt(conf: Mapping[str, str], encrypted: str) -> bytes:
    key = _wecom_key(conf)
    data = _b64(encrypted)
    if not data or len(data) % 16:
        raise Refused(403, "bad ciphertext")
    plain = _unpad(_aes_cbc(key, key[:16], data, encrypt=False), 32)
    if len(plain) < 20:
        raise Refused(403, "bad plaintext")
    (size,) = struct.unpack(">I", plain[16:20])
    msg, receive_id = plain[20 : 20 + size], plain[20 + size :]
    if len(msg) != size:
        raise Refused(403, "bad length")
    wanted = conf.get("receive_id")
    if wanted and receive_id.decode("utf-8", "replace") != wanted:
        raise Refused(403, "another receive id")
    return msg


def wecom_encrypt(conf: Mapping[str, str], msg: bytes, random16: bytes | None = None) -> str:
    key = _wecom_key(conf)
    receive_id = conf.get("receive_id", "").encode()
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(msg)) + msg + receive_id
    return base64.b64encode(_aes_cbc(key, key[:16], _pad(plain, 32), encrypt=True)).decode()


def _xml(data: bytes) -> Any:
    import xml.etree.ElementTree as ET

    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise Refused(400, "a DOCTYPE or ENTITY in XML")
    try:
        return ET.fromstring(data)
    except ET.ParseError:
        raise Refused(400, "not XML") from None


def _wecom(conf: Mapping[str, str], req: Request) -> tuple[ChatMessage | None, Answer | None]:
    sig = req.args.get("msg_signature", "")
    ts, nonce = req.args.get("timestamp", ""), req.args.get("nonce", "")
    if req.method == "GET":
        echo = req.args.get("echostr", "")
        if not echo or not hmac.compare_digest(
            sig, wecom_signature(conf["token"], ts, nonce, echo)
        ):
            raise Refused(403, "bad msg_signature")
        return None, Answer(wecom_decrypt(conf, echo).decode("utf-8", "replace"), "text/plain")
    as_json = req.body.lstrip().startswith(b"{")
    if as_json:
        encrypted = str(_json(req.body).get("encrypt") or "")
    else:
        found = _xml(req.body).find("Encrypt")
        encrypted = (found.text or "") if found is not None else ""
    if not encrypted or not hmac.compare_digest(
        sig, wecom_signature(conf["token"], ts, nonce, encrypted)
    ):
        raise Refused(403, "bad msg_signature")
    plain = wecom_decrypt(conf, encrypted)
    if plain.lstrip().startswith(b"{"):
        data = _json(plain)
        if data.get("msgtype") != "text":
            return None, None
        sender = _get(data, "from", "userid")
        name = _get(data, "from", "name")
        text = _get(data, "text", "content")
        msg_id = data.get("msgid")
    else:
        root = _xml(plain)
        if (root.findtext("MsgType") or "") != "text":
            return None, None
        sender = root.findtext("From/UserId") or ""
        name = root.findtext("From/Name") or root.findtext("From/Alias") or ""
        text = root.findtext("Text/Content") or ""
        msg_id = root.findtext("MsgId")
    text = re.sub(r"^(\s*@\S+)+", " ", str(text or ""))
    return _message("wecom", msg_id, str(sender or ""), str(name or ""), text), None


def _wecom_answer(conf: Mapping[str, str], req: Request, text: str) -> Answer:
    """The passive reply, encrypted (XML as the callback came, or JSON)."""
    import time

    nonce = base64.b32encode(os.urandom(10)).decode().lower()
    ts = str(int(time.time()))
    if req.body.lstrip().startswith(b"{"):
        plain = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False)
        encrypted = wecom_encrypt(conf, plain.encode())
        sig = wecom_signature(conf["token"], ts, nonce, encrypted)
        body = {"encrypt": encrypted, "msgsignature": sig, "timestamp": ts, "nonce": nonce}
        return Answer(json.dumps(body))
    # the text is the desk's own words and a ticket number: no "]]>" can end the CDATA
    plain = (
        "<xml><MsgType><![CDATA[text]]></MsgType>"
        f"<Text><Content><![CDATA[{text}]]></Content></Text></xml>"
    )
    encrypted = wecom_encrypt(conf, plain.encode())
    sig = wecom_signature(conf["token"], ts, nonce, encrypted)
    return Answer(
        f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]>"
        f"</MsgSignature><TimeStamp>{ts}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>",
        "application/xml",
    )


# ------------------------------------------------------------------ shared


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body is not a JSON object")
    return data


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _get(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _message(platform: str, msg_id: Any, sender: str, name: Any, text: Any) -> ChatMessage | None:
    msg_id = clean_line(str(msg_id or ""), 200)
    if not msg_id:
        raise Refused(400, "no message id")
    sender = clean_line(sender, 100)
    shown = clean_line(str(name or ""), 60) or sender or "unknown"
    body = clean_text(str(text or ""), TEXT_MAX)
    if not body:
        return None  # an @-mention and nothing said: nothing to record
    return ChatMessage(platform, msg_id, sender, shown, body)


_WORDS = {
    "en": {
        "new": "Received: ticket {id}. We will handle it as soon as possible.",
        "log": "Added to ticket {id}.",
        "closed": "Ticket {id} is {status}; please report a new problem.",
    },
    "zh": {
        "new": "已受理，工单编号 {id}，我们会尽快处理。",
        "log": "已记入工单 {id}。",
        "closed": "工单 {id} 已{status}，如有新问题请重新提报。",
    },
}


def handle(
    desk: Desk,
    platform: str,
    env: Mapping[str, str],
    req: Request,
    wall_ms: int,
    open_session: Callable[[], Session],
) -> Answer:
    """One callback of ``platform``: verified, recorded once, answered. Raises
    :class:`Refused` (403 forged, 400 malformed, 404 not set up)."""
    if platform not in PLATFORMS:
        raise Refused(404, "no such platform")
    conf = settings(desk.policy.raw, platform, env)
    if not conf:
        raise Refused(404, f"{platform} is not set up under intake: in itdesk.yaml")
    if len(req.body) > MAX_BODY:
        raise Refused(413, "too large")
    answer: Answer | None = None
    if platform == "dingtalk":
        message = _dingtalk(conf, req, wall_ms)
    elif platform == "feishu":
        message, answer = _feishu(conf, req, wall_ms)
    else:
        message, answer = _wecom(conf, req)
    if answer is not None:
        return answer
    if message is None:
        return Answer("{}")
    check_known(desk)
    text = _record(desk, message, open_session)
    if platform == "dingtalk":
        return _dingtalk_answer(text)
    if platform == "wecom":
        return _wecom_answer(conf, req, text)
    return Answer(json.dumps({"code": 0, "msg": text}, ensure_ascii=False))


def _number_in(text: str, prefix: str) -> str | None:
    m = re.search(rf"(?<![A-Za-z0-9]){re.escape(prefix)}-\d{{8}}-\d{{1,9}}(?!\d)", text, re.I)
    return m.group(0).upper() if m else None


def _record(desk: Desk, message: ChatMessage, open_session: Callable[[], Session]) -> str:
    words = _WORDS["zh" if desk.policy.locale == "zh" else "en"]
    key = key_of(message.platform, message.msg_id)
    who = f"{message.platform}:{message.sender_id}" if message.sender_id else message.platform
    target = _number_in(message.text, desk.policy.prefix)
    with intake_lock(desk):
        ticket = None
        if target is not None:
            try:
                ticket = desk.read(target)
            except ItdeskError:
                ticket = None
        if ticket is not None and not ticket.status.is_open:
            return words["closed"].format(id=ticket.id, status=ticket.status.value)
        session = open_session()
        session.trailers["Employee"] = f"{message.sender_name} ({who})"
        session.trailers["Intake-Key"] = key
        session.trailers["Chat-Message"] = f"{message.platform}:{message.msg_id}"
        if ticket is not None:
            tid = ticket.id
            entry = f"chat from {message.sender_name} ({who}): {message.text}"

            def record_log(committed: Callable[[str], None]) -> str:
                session.log(tid, entry)
                return tid

            outcome = record_once(desk, key, record_log)
            return words["log"].format(id=outcome.ticket)
        values = {
            "description": message.text,
            "requester": message.sender_name,
            "employee_id": message.sender_id[:64] or None,
            "channel": "chat",
        }

        def record_new(committed: Callable[[str], None]) -> str:
            change = session.new(values, on_committed=lambda c: committed(c.ticket.id))
            return change.ticket.id

        outcome = record_once(desk, key, record_new)
        return words["new"].format(id=outcome.ticket)
