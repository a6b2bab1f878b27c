"""Notifications: e-mail over SMTP and chat webhooks, with texts from templates.

This is shell code: it talks to mail servers and chat robots with the standard library
only (smtplib, urllib.request, hmac), so a desk needs no extra package to notify.

The rules that shape it (issues 4 and 10):

- A notification that fails must never block a ticket change or an escalation record,
  so :func:`deliver` never raises for a server that is down, slow or says no: each
  recipient's outcome comes back as a :class:`Delivery` with ``ok=False`` and a
  one-line reason, and the outbox retries that recipient alone. Only a malformed
  ``notify:`` section raises :class:`InvalidPolicy`, before anything is sent.
- A recipient is an e-mail address (``mailto:ADDRESS``) or a webhook's whole URL: the
  ``?key=``/``?access_token=`` of a WeCom or DingTalk robot is part of who it is, so two
  robots that differ only by token are two recipients.
- DingTalk and WeCom robots accept 20 messages a minute, so a run sends one digest per
  webhook (its messages joined), and a WeCom digest is cut at message boundaries into
  parts of at most 2,048 bytes, at most 20 a run; what does not fit waits for the next.
- What leaves the machine carries the real clock (``clock()``): the robots' signature
  timestamps (DingTalk and Feishu refuse one more than an hour off) and the mail's
  ``Date:``. The desk's ``--now`` never reaches a server.
- Secrets (the SMTP password, robot signing keys) arrive through ``secret(name)``: the
  caller reads them from the environment or the clone's git config, never from the desk,
  which every clone shares.

The robots' formats follow their documentation: DingTalk signs ``f"{ms}\\n{secret}"`` with
HMAC-SHA256 keyed by the secret and sends ``timestamp``/``sign`` as URL parameters; Feishu
uses that string as the HMAC *key* over an empty message and puts ``timestamp`` (seconds)
and ``sign`` in the JSON body; WeCom does not sign and caps a text at 2,048 bytes. Slack
reads ``&``, ``<`` and ``>`` as markup (``<!channel>``, ``<url|label>``), so they are
escaped; Feishu's text messages read ``<at ...>`` tags, so those are broken.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import hashlib
import hmac
import http.client
import json
import re
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

from ..core.policy import POLICY_FILE
from ..errors import InvalidPolicy, InvalidValue
from ..store import yamlio

EVENTS = ("created", "p1", "escalated", "at_risk", "resolved", "followup_due", "renumbered")
STYLES = ("generic", "slack", "wecom", "dingtalk", "feishu")
LANGS = ("en", "zh")
# WeCom's documented limits for a group robot's text message.
WECOM_MAX_BYTES = 2048
ROBOT_MAX_PER_MINUTE = 20
# Events that are urgent for the desk's own people; a requester's mail is never flagged.
_URGENT_EVENTS = frozenset({"p1", "escalated", "at_risk"})

_SIGNED_STYLES = frozenset({"dingtalk", "feishu"})
_NOTIFY_KEYS = ("smtp", "webhooks", "templates", "link")
_SMTP_KEYS = ("host", "port", "sender", "starttls", "ssl", "user", "password_env", "cafile")
_HOOK_KEYS = ("url", "style", "secret_env", "events")
_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ERROR = 300
# An address as it may go into RCPT TO: no spaces, line breaks or control characters,
# none of the characters that separate or quote addresses in a header.
_ADDRESS = re.compile(r"[^\s\x00-\x1f\x7f<>,;:\"()\[\]\\@]+@[^\s\x00-\x1f\x7f<>,;:\"()\[\]\\@]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def valid_address(text: str) -> bool:
    """``text`` is one plain e-mail address, safe to hand to a mail server."""
    return _ADDRESS.fullmatch(text) is not None


def find_address(text: str | None) -> str | None:
    """The e-mail address in a contact (``王小明 wang@corp.example``), else None. A contact
    holding a line break or a control character gives none: it could smuggle commands."""
    if not text or _CONTROL.search(text):
        return None
    found = _ADDRESS.search(text)
    return found.group(0) if found else None


def mail_recipient(address: str) -> str:
    return f"mailto:{address}"


def shown_recipient(recipient: str) -> str:
    """A recipient as a person may see it: a robot's token cut to its last four characters
    (enough to tell two robots apart, not enough to post to them)."""
    if recipient.startswith("mailto:"):
        return recipient[len("mailto:") :]
    parts = urllib.parse.urlsplit(recipient)
    if not parts.query:
        return recipient
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    shown = "&".join(f"{k}=…{v[-4:]}" if len(v) > 4 else f"{k}=…" for k, v in query)
    return parts._replace(query=shown, fragment="").geturl()


@dataclass(frozen=True, slots=True)
class Message:
    """One notification: to the ``to_email`` addresses, and to every webhook that wants
    it (``hooks``: only these webhook URLs; None: all whose ``events`` take it).
    ``key`` names it in the outbox (and in its mail's Message-ID)."""

    event: str
    ticket: str
    subject: str
    text: str
    to_email: tuple[str, ...] = ()
    priority: str | None = None
    key: str = ""
    hooks: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise InvalidValue(
                f"unknown notification event {self.event!r}; accepted: {', '.join(EVENTS)}"
            )


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one message (or, for a digest, several) to one recipient:
    ``mailto:ADDRESS`` or the webhook's whole URL. ``permanent``: the server refused it
    for good (a 550 on RCPT, an address that is not one); ``deferred``: not tried this
    run (a robot's per-minute limit), to be sent on the next."""

    recipient: str
    ok: bool
    error: str | None
    tickets: tuple[str, ...]
    keys: tuple[str, ...] = ()
    permanent: bool = False
    deferred: bool = False


@dataclass(frozen=True, slots=True)
class _Smtp:
    host: str
    port: int
    sender: str  # as the From: header shows it, display name included
    address: str  # the envelope sender
    starttls: bool
    ssl: bool
    user: str | None
    password_env: str | None
    cafile: str | None


@dataclass(frozen=True, slots=True)
class _Hook:
    url: str
    style: str
    secret_env: str | None
    events: frozenset[str]


# ------------------------------------------------------------------------- config


def _fail(key: str, why: str) -> InvalidPolicy:
    return InvalidPolicy(f"{POLICY_FILE}: {key}: {why}")


def _known_keys(data: Mapping[str, Any], accepted: tuple[str, ...], key: str) -> None:
    for name in data:
        if name not in accepted:
            raise _fail(f"{key}.{name}", f"unknown key; accepted: {', '.join(accepted)}")


def _text(data: Mapping[str, Any], name: str, key: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        what = "an environment variable name" if name.endswith("_env") else "a value"
        raise _fail(f"{key}.{name}", f"expected {what} without spaces, got {value!r}")
    return value


def _flag(data: Mapping[str, Any], name: str, key: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise _fail(f"{key}.{name}", f"expected true or false, got {value!r}")
    return value


def _sender(value: Any, key: str) -> tuple[str, str]:
    """(header, address) of ``sender``: ``desk@corp.example``, ``IT服务台 <desk@corp.example>``."""
    bad = _fail(
        f"{key}.sender",
        f"expected an e-mail address, or a name and <address>, got {value!r}",
    )
    if not isinstance(value, str) or _CONTROL.search(value):
        raise bad
    name, address = email.utils.parseaddr(value)
    if not valid_address(address):
        raise bad
    if not name:
        return address, address
    if "<" not in value:  # parseaddr reads "desk@x (IT)" as a comment: not a sender
        raise bad
    return str(Address(display_name=name, addr_spec=address)), address


def _parse_smtp(value: Any) -> _Smtp:
    key = "notify.smtp"
    if not isinstance(value, Mapping):
        raise _fail(
            key, "expected a mapping (host, port, sender, starttls, ssl, user, password_env)"
        )
    _known_keys(value, _SMTP_KEYS, key)
    host = _text(value, "host", key, required=True)
    assert host is not None
    sender, address = _sender(value.get("sender"), key)
    starttls = _flag(value, "starttls", key)
    implicit = _flag(value, "ssl", key)
    if starttls and implicit:
        raise _fail(
            f"{key}.ssl", "ssl (TLS from the start, port 465) and starttls exclude each other"
        )
    port = value.get("port", 465 if implicit else 587 if starttls else 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise _fail(f"{key}.port", f"expected a port number from 1 to 65535, got {port!r}")
    user = _text(value, "user", key, required=False)
    password_env = _text(value, "password_env", key, required=user is not None)
    cafile = value.get("cafile")
    if cafile is not None and (not isinstance(cafile, str) or not cafile):
        raise _fail(f"{key}.cafile", f"expected the path of a PEM file, got {cafile!r}")
    return _Smtp(host, port, sender, address, starttls, implicit, user, password_env, cafile)


def _parse_hook(value: Any, index: int) -> _Hook:
    key = f"notify.webhooks[{index}]"
    if not isinstance(value, Mapping):
        raise _fail(key, "expected a mapping (url, style, secret_env, events)")
    _known_keys(value, _HOOK_KEYS, key)
    url = value.get("url")
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(f"{key}.url", f"expected an http:// or https:// URL, got {url!r}")
    assert isinstance(url, str)
    if _CONTROL.search(url) or any(c.isspace() for c in url):
        raise _fail(f"{key}.url", "a URL holds no spaces or line breaks")
    style = value.get("style", "generic")
    if style not in STYLES:
        raise _fail(f"{key}.style", f"unknown style {style!r}; accepted: {', '.join(STYLES)}")
    secret_env = _text(value, "secret_env", key, required=False)
    if secret_env is not None and style not in _SIGNED_STYLES:
        raise _fail(f"{key}.secret_env", f"{style} webhooks are not signed; only dingtalk, feishu")
    events = value.get("events")
    if events is None:
        chosen = frozenset(EVENTS)
    elif isinstance(events, list):
        for word in events:
            if word not in EVENTS:
                raise _fail(
                    f"{key}.events", f"unknown event {word!r}; accepted: {', '.join(EVENTS)}"
                )
        chosen = frozenset(events)
    else:
        raise _fail(f"{key}.events", f"expected a list of events ({', '.join(EVENTS)})")
    return _Hook(url, str(style), secret_env, chosen)


def _parse_config(config: Mapping[str, Any]) -> tuple[_Smtp | None, tuple[_Hook, ...]]:
    if not isinstance(config, Mapping):
        raise _fail("notify", "expected a mapping with smtp and/or webhooks")
    _known_keys(config, _NOTIFY_KEYS, "notify")
    smtp = None if config.get("smtp") is None else _parse_smtp(config["smtp"])
    hooks = config.get("webhooks")
    if hooks is None:
        hooks = []
    if not isinstance(hooks, list):
        raise _fail("notify.webhooks", "expected a list of webhooks")
    parsed = tuple(_parse_hook(h, i) for i, h in enumerate(hooks))
    seen: dict[str, int] = {}
    for i, hook in enumerate(parsed):
        if hook.url in seen:  # the URL is the robot: listed twice, it would get all twice
            raise _fail(
                f"notify.webhooks[{i}].url", f"the same URL as notify.webhooks[{seen[hook.url]}]"
            )
        seen[hook.url] = i
    link = config.get("link")
    if link is not None and (not isinstance(link, str) or "{id}" not in link):
        raise _fail("notify.link", f"expected a URL with {{id}} in it, got {link!r}")
    return smtp, parsed


def check_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidPolicy` naming the first bad key of a ``notify:`` mapping."""
    _parse_config(config)


def webhooks(config: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Each webhook's URL (its identity) and the events it takes, from a valid config."""
    return {h.url: h.events for h in _parse_config(config)[1]}


def has_smtp(config: Mapping[str, Any]) -> bool:
    return _parse_config(config)[0] is not None


# -------------------------------------------------------------------- delivering


def deliver(
    config: Mapping[str, Any],
    messages: Sequence[Message],
    *,
    secret: Callable[[str], str | None],
    clock: Callable[[], datetime],
    timeout: float = 5.0,
) -> list[Delivery]:
    """Send ``messages`` through every channel of ``config`` (the ``notify:`` mapping).

    E-mail: one mail per message to its ``to_email``, one Delivery per address (a server
    that refuses one address does not fail the others). Webhooks: one digest per webhook
    of the messages it takes, one Delivery per message. ``clock()`` is the real time,
    for the robots' signatures and the mail's ``Date:``. Failures are Deliveries, never
    exceptions.
    """
    smtp, hooks = _parse_config(config)
    results: list[Delivery] = []
    if not messages:
        return results
    if smtp is not None:
        results.extend(
            _send_mail(smtp, [m for m in messages if m.to_email], secret, clock, timeout)
        )
    for hook in hooks:
        chosen = [
            m
            for m in messages
            if m.event in hook.events and (m.hooks is None or hook.url in m.hooks)
        ]
        if chosen:
            results.extend(_post_digest(hook, chosen, secret, clock, timeout))
    return results


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the clock must give an aware datetime")
    return when


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_ERROR else line[: _MAX_ERROR - 1] + "…"


def _decoded(detail: bytes | str) -> str:
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else detail


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{addr}: {code} {_decoded(msg)}" for addr, (code, msg) in exc.recipients.items()
        )
        return _one_line(f"recipients refused: {refused}")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _one_line(f"SMTP {exc.smtp_code}: {_decoded(exc.smtp_error)}")
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        reason = exc.reason
        return _reason(reason) if isinstance(reason, BaseException) else _one_line(str(reason))
    if isinstance(exc, TimeoutError):
        return "timed out"
    return _one_line(str(exc) or type(exc).__name__)


# ---- e-mail


def _send_mail(
    cfg: _Smtp,
    messages: Sequence[Message],
    secret: Callable[[str], str | None],
    clock: Callable[[], datetime],
    timeout: float,
) -> list[Delivery]:
    results: list[Delivery] = []
    sendable: list[tuple[Message, list[str]]] = []
    for m in messages:
        good = []
        for address in dict.fromkeys(m.to_email):
            if valid_address(address):
                good.append(address)
            else:  # never handed to the server: a line break in it could forge commands
                why = f"not an e-mail address: {address!r}"
                results.append(
                    Delivery(mail_recipient(address), False, why, (m.ticket,), (m.key,), True)
                )
        if good:
            sendable.append((m, good))
    if not sendable:
        return results

    def failed(why: str) -> list[Delivery]:
        return [
            Delivery(mail_recipient(a), False, why, (m.ticket,), (m.key,))
            for m, good in sendable
            for a in good
        ]

    password = None
    if cfg.user is not None:
        assert cfg.password_env is not None
        password = secret(cfg.password_env)
        if not password:
            return results + failed(f"password: secret {cfg.password_env} is not set")
    try:
        client = _connect(cfg, password, timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return results + failed(f"{cfg.host}:{cfg.port}: {_reason(exc)}")
    try:
        for m, good in sendable:
            results.extend(_send_one(client, cfg, m, good, clock))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return results


def _send_one(
    client: smtplib.SMTP, cfg: _Smtp, m: Message, to: list[str], clock: Callable[[], datetime]
) -> list[Delivery]:
    """One mail, to the addresses ``to``; a Delivery for each of them."""
    refused: dict[str, tuple[int, bytes]]
    try:
        refused = client.send_message(
            _mail(cfg, m, to, _aware(clock())), from_addr=cfg.address, to_addrs=to
        )
    except smtplib.SMTPRecipientsRefused as exc:
        refused = exc.recipients
    except (OSError, ValueError, smtplib.SMTPException) as exc:
        return [Delivery(mail_recipient(a), False, _reason(exc), (m.ticket,), (m.key,)) for a in to]
    out = []
    for a in to:
        if a in refused:
            code, why = refused[a]
            error = _one_line(f"refused: {code} {_decoded(why)}")
            # 5xx is the server's final word on this address (a mistyped mailbox).
            out.append(
                Delivery(mail_recipient(a), False, error, (m.ticket,), (m.key,), code >= 500)
            )
        else:
            out.append(Delivery(mail_recipient(a), True, None, (m.ticket,), (m.key,)))
    return out


def _connect(cfg: _Smtp, password: str | None, timeout: float) -> smtplib.SMTP:
    # Certificates are verified; cafile adds a private CA (or a test's own).
    context = ssl.create_default_context(cafile=cfg.cafile) if cfg.ssl or cfg.starttls else None
    client: smtplib.SMTP
    if cfg.ssl:  # TLS from the first byte (port 465), as many enterprise mail services want
        client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
    try:
        client.ehlo()
        if cfg.starttls:
            client.starttls(context=context)
            client.ehlo()
        if cfg.user is not None:
            assert password is not None
            client.login(cfg.user, password)
    except BaseException:
        client.close()
        raise
    return client


def thread_id(ticket: str, sender_address: str) -> str:
    """The Message-ID every mail about ``ticket`` refers to, so mail clients thread them."""
    return f"<{ticket}.itdesk@{sender_address.rpartition('@')[2]}>"


def _mail(cfg: _Smtp, m: Message, to: Sequence[str], now: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = " ".join(m.subject.split())
    mail["From"] = cfg.sender
    mail["To"] = ", ".join(to)
    mail["Date"] = email.utils.format_datetime(now)
    domain = cfg.address.rpartition("@")[2]
    root = thread_id(m.ticket, cfg.address)
    if m.event == "created":  # the first mail of the ticket is the thread's root
        mail["Message-ID"] = root
    else:
        key = re.sub(r"[^A-Za-z0-9.-]", "", m.key)
        mail["Message-ID"] = (
            f"<{m.ticket}.{m.event}.{key}@{domain}>"
            if key
            else email.utils.make_msgid(domain=domain)
        )
        mail["In-Reply-To"] = root
        mail["References"] = root
    # RFC 3834: auto-responders (out-of-office) must not answer; Outlook reads the second.
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    if m.priority == "P1" and m.event in _URGENT_EVENTS:
        mail["X-Priority"] = "1"
        mail["Importance"] = "high"
    # base64 keeps Chinese text 7-bit clean for servers without 8BITMIME.
    mail.set_content(m.text, cte=None if m.text.isascii() else "base64")
    return mail


# ---- webhooks


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirected POST would arrive as a bodiless GET and still look delivered."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def digest_text(messages: Sequence[Message]) -> str:
    """The messages' texts as one chat message, a blank line between them."""
    return "\n\n".join(m.text.strip() for m in messages)


def slack_escape(text: str) -> str:
    """Slack's three control characters: ``<!channel>`` and ``<url|label>`` stay text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def feishu_escape(text: str) -> str:
    """Feishu's text messages turn ``<at user_id="all">`` into a mention of everyone;
    a zero-width space after ``<`` leaves the text as it reads and mentions nobody."""
    return re.sub(r"<(?=/?\s*at\b)", "<\u200b", text, flags=re.IGNORECASE)


def wecom_parts(text: str, limit: int = WECOM_MAX_BYTES) -> list[str]:
    """``text`` cut at line boundaries into parts of at most ``limit`` UTF-8 bytes; a line
    longer than ``limit`` is cut between characters, never inside one."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            n = len(piece.encode("utf-8"))
            if current and size + 1 + n > limit:
                parts.append("\n".join(current))
                current, size = [], 0
            size += n + (1 if current else 0)
            current.append(piece)
    if current:
        parts.append("\n".join(current))
    return [p.strip("\n") for p in parts if p.strip()]


def _cut_line(line: str, limit: int) -> Iterator[str]:
    if len(line.encode("utf-8")) <= limit:
        yield line
        return
    start, size = 0, 0
    for i, char in enumerate(line):
        n = len(char.encode("utf-8"))
        if size + n > limit:
            yield line[start:i]
            start, size = i, 0
        size += n
    yield line[start:]


def _wecom_packs(
    messages: Sequence[Message], limit: int = WECOM_MAX_BYTES
) -> list[tuple[str, tuple[int, ...]]]:
    """(text, indexes of the messages in it): whole messages packed into parts of at most
    ``limit`` bytes, so a part that fails names exactly the messages to send again."""
    packs: list[tuple[str, tuple[int, ...]]] = []
    current: list[int] = []
    size = 0
    for i, m in enumerate(messages):
        text = m.text.strip()
        n = len(text.encode("utf-8"))
        if n > limit:  # a message too long for one part goes alone, in pieces
            if current:
                packs.append(
                    ("\n\n".join(messages[j].text.strip() for j in current), tuple(current))
                )
                current, size = [], 0
            packs.extend((piece, (i,)) for piece in wecom_parts(text, limit))
            continue
        if current and size + 2 + n > limit:
            packs.append(("\n\n".join(messages[j].text.strip() for j in current), tuple(current)))
            current, size = [], 0
        size += n + (2 if current else 0)
        current.append(i)
    if current:
        packs.append(("\n\n".join(messages[j].text.strip() for j in current), tuple(current)))
    return packs


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), before URL-encoding."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


_Call = tuple[str, dict[str, Any], tuple[int, ...]]  # url, body, the messages it carries


def _requests(
    hook: _Hook, messages: Sequence[Message], key: str | None, clock: Callable[[], datetime]
) -> list[_Call]:
    every = tuple(range(len(messages)))
    text = digest_text(messages)
    if hook.style == "slack":
        return [(hook.url, {"text": slack_escape(text)}, every)]
    if hook.style == "wecom":
        return [
            (hook.url, {"msgtype": "text", "text": {"content": part}}, which)
            for part, which in _wecom_packs(messages)
        ]
    if hook.style == "dingtalk":
        url = hook.url
        if key is not None:
            ms = (_aware(clock()) - _EPOCH) // timedelta(milliseconds=1)
            parts = urllib.parse.urlsplit(url)
            signed = urllib.parse.urlencode({"timestamp": ms, "sign": dingtalk_sign(key, ms)})
            url = parts._replace(
                query=f"{parts.query}&{signed}" if parts.query else signed
            ).geturl()
        return [(url, {"msgtype": "text", "text": {"content": text}}, every)]
    if hook.style == "feishu":
        body: dict[str, Any] = {}
        if key is not None:
            seconds = (_aware(clock()) - _EPOCH) // timedelta(seconds=1)
            body = {"timestamp": str(seconds), "sign": feishu_sign(key, seconds)}
        body.update({"msg_type": "text", "content": {"text": feishu_escape(text)}})
        return [(hook.url, body, every)]
    first = messages[0]
    generic = {
        "event": first.event,
        "ticket": first.ticket,
        "subject": first.subject,
        "text": text,
        "messages": [
            {
                "event": m.event,
                "ticket": m.ticket,
                "priority": m.priority,
                "subject": m.subject,
                "text": m.text,
            }
            for m in messages
        ],
    }
    return [(hook.url, generic, every)]


def _post_digest(
    hook: _Hook,
    messages: Sequence[Message],
    secret: Callable[[str], str | None],
    clock: Callable[[], datetime],
    timeout: float,
) -> list[Delivery]:
    """One Delivery per message: sent, failed, or deferred past the robot's limit."""

    def each(ok: bool, error: str | None, which: Sequence[int], **kw: bool) -> list[Delivery]:
        return [
            Delivery(hook.url, ok, error, (messages[i].ticket,), (messages[i].key,), **kw)
            for i in which
        ]

    key = None
    if hook.secret_env is not None:
        key = secret(hook.secret_env)
        if not key:
            return each(False, f"secret {hook.secret_env} is not set", range(len(messages)))
    calls = _requests(hook, messages, key, clock)
    later: list[_Call] = []
    if len(calls) > ROBOT_MAX_PER_MINUTE:
        calls, later = calls[:ROBOT_MAX_PER_MINUTE], calls[ROBOT_MAX_PER_MINUTE:]
    failed: dict[int, str] = {}
    for number, (url, body, _which) in enumerate(calls, 1):
        error = _post(url, body, hook.style, timeout)
        if error is not None:
            where = f"part {number} of {len(calls)}: " if len(calls) > 1 else ""
            for _url, _body, rest in calls[number - 1 :]:
                failed.update((i, where + error) for i in rest)
            break
    deferred = {i for _u, _b, which in later for i in which} - set(failed)
    out: list[Delivery] = []
    for i in range(len(messages)):
        if i in failed:
            out += each(False, failed[i], (i,))
        elif i in deferred:
            out += each(False, "robot limit of 20 a minute: sent next run", (i,), deferred=True)
        else:
            out += each(True, None, (i,))
    return out


def _post(url: str, body: Mapping[str, Any], style: str, timeout: float) -> str | None:
    """POST ``body`` as JSON; the reason it failed, or None."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "itdesk"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            reply = response.read(65536)
    except urllib.error.HTTPError as exc:
        try:
            detail = exc.read(200).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            detail = ""
        return _one_line(f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else ""))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return _reason(exc)
    return _robot_error(style, reply)


def _robot_error(style: str, reply: bytes) -> str | None:
    """The robots answer HTTP 200 with an error code in the JSON body."""
    if style in ("generic", "slack"):
        return None
    try:
        data = json.loads(reply)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _one_line(f"unexpected reply: {reply[:200].decode('utf-8', 'replace')}")
    if style == "feishu":
        code = data.get("code", data.get("StatusCode"))
        why = data.get("msg", data.get("StatusMessage"))
    else:
        code, why = data.get("errcode"), data.get("errmsg")
    if code is None:
        return _one_line(f"unexpected reply: {reply[:200].decode('utf-8', 'replace')}")
    if code != 0:
        name = "code" if style == "feishu" else "errcode"
        return _one_line(f"{name} {code}: {why}")
    return None


# -------------------------------------------------------------------- templates


@functools.cache
def shipped_templates(lang: str) -> Mapping[str, Mapping[str, str]]:
    """The default templates of ``lang`` shipped in ``itdesk/templates/notify.LANG.yaml``."""
    path = _TEMPLATE_DIR / f"notify.{lang}.yaml"
    data: Mapping[str, Mapping[str, str]] = yamlio.parse(path.read_text(encoding="utf-8"))
    return data


def _lang(lang: str) -> str:
    base = lang.strip().lower().replace("_", "-").split("-")[0]
    if base not in LANGS:
        raise InvalidValue(f"unknown language {lang!r}; accepted: {', '.join(LANGS)}")
    return base


class _Fields(dict[str, Any]):
    """A field the ticket does not have renders as ``-`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return "-"


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}_"))
        elif isinstance(value, list | tuple):
            # Lists of records (log, escalations) have no one-line form; leave them out.
            if not any(isinstance(v, Mapping | list | tuple) for v in value):
                out[name] = ", ".join(str(v) for v in value) or None
        else:
            out[name] = value
    return out


def _template(event: str, lang: str, templates: Mapping[str, Any] | None) -> tuple[str, str]:
    base = shipped_templates(lang)[event]
    subject, text = base["subject"], base["text"]
    override = (templates or {}).get(event)
    if override is None:
        return subject, text
    if not isinstance(override, Mapping) or not set(override) <= {"subject", "text"}:
        raise InvalidPolicy(f"notify template {event}: expected a mapping with subject and/or text")
    for name in ("subject", "text"):
        if name in override and not isinstance(override[name], str):
            raise InvalidPolicy(f"notify template {event}.{name}: expected a string")
    return override.get("subject", subject), override.get("text", text)


def render(
    event: str,
    ticket: Mapping[str, Any],
    lang: str,
    extra: Mapping[str, Any] | None = None,
    templates: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """(subject, text) of ``event`` for ``ticket`` (plain data, as ``ticket_to_dict``).

    Fields are the ticket's keys with nested ones joined by ``_`` (``{requester_name}``,
    ``{resolution_summary}``) plus ``extra`` (``{clock}``, ``{late}``, ``{to}``, ``{due}``);
    an absent or empty field renders as ``-``. ``templates`` is the desk's own mapping of
    event -> {subject, text} for ``lang``, each key overriding the shipped default.
    """
    if event not in EVENTS:
        raise InvalidValue(f"unknown notification event {event!r}; accepted: {', '.join(EVENTS)}")
    lang = _lang(lang)
    subject_t, text_t = _template(event, lang, templates)
    values = _flatten(ticket)
    values.update(extra or {})
    fields = _Fields({k: "-" if v is None or v == "" else v for k, v in values.items()})
    out = []
    for name, template in (("subject", subject_t), ("text", text_t)):
        try:
            out.append(template.format_map(fields))
        except (ValueError, AttributeError, IndexError, TypeError, KeyError) as exc:
            raise InvalidPolicy(f"notify template {lang}.{event}.{name}: {exc}") from None
    return " ".join(out[0].split()), out[1].strip()
