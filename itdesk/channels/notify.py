"""Notifications: e-mail over SMTP and chat webhooks, with texts from templates.

This is shell code: it talks to mail servers and chat robots with the standard library
only (smtplib, urllib.request, hmac), so a desk needs no extra package to notify.

Three rules shape it (issue 4):

- A notification that fails must never block a ticket change or an escalation record,
  so :func:`deliver` never raises for a server that is down, slow or says no: each
  attempt comes back as a :class:`Delivery` with ``ok=False`` and a one-line reason, and
  the caller retries it on the next run. Only a malformed ``notify:`` section raises
  :class:`InvalidPolicy`, before anything is sent.
- DingTalk and WeCom robots accept 20 messages a minute, so a run sends one digest per
  webhook (all of its messages joined), not one message per ticket.
- Secrets (the SMTP password, robot signing keys) arrive through ``secret(name)``: the
  caller reads them from the environment or the clone's git config, never from the desk,
  which every clone shares.

The robots' formats follow their documentation: DingTalk signs ``f"{ms}\\n{secret}"`` with
HMAC-SHA256 keyed by the secret and sends ``timestamp``/``sign`` as URL parameters; Feishu
uses that string as the HMAC *key* over an empty message and puts ``timestamp`` (seconds)
and ``sign`` in the JSON body; WeCom does not sign and caps a text at 2,048 bytes.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import hashlib
import hmac
import http.client
import json
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

from ..core.policy import POLICY_FILE
from ..errors import InvalidPolicy, InvalidValue
from ..store import yamlio

EVENTS = ("created", "p1", "escalated", "at_risk", "resolved", "followup_due")
STYLES = ("generic", "slack", "wecom", "dingtalk", "feishu")
LANGS = ("en", "zh")
# WeCom's documented limits for a group robot's text message.
WECOM_MAX_BYTES = 2048
ROBOT_MAX_PER_MINUTE = 20

_SIGNED_STYLES = frozenset({"dingtalk", "feishu"})
_SMTP_KEYS = ("host", "port", "sender", "starttls", "user", "password_env", "cafile")
_HOOK_KEYS = ("url", "style", "secret_env", "events")
_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_ERROR = 300


@dataclass(frozen=True, slots=True)
class Message:
    """One notification: to the ``to_email`` addresses, and to every webhook that wants it."""

    event: str
    ticket: str
    subject: str
    text: str
    to_email: tuple[str, ...] = ()
    priority: str | None = None

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise InvalidValue(
                f"unknown notification event {self.event!r}; accepted: {', '.join(EVENTS)}"
            )


@dataclass(frozen=True, slots=True)
class Delivery:
    """The outcome of one attempt: ``channel`` is ``smtp`` or the webhook URL without its
    query string (DingTalk and WeCom keep their token there)."""

    channel: str
    ok: bool
    error: str | None
    tickets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Smtp:
    host: str
    port: int
    sender: str
    starttls: bool
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


def _parse_smtp(value: Any) -> _Smtp:
    key = "notify.smtp"
    if not isinstance(value, Mapping):
        raise _fail(key, "expected a mapping (host, port, sender, starttls, user, password_env)")
    _known_keys(value, _SMTP_KEYS, key)
    host = _text(value, "host", key, required=True)
    sender = _text(value, "sender", key, required=True)
    assert host is not None and sender is not None
    if "@" not in sender:
        raise _fail(f"{key}.sender", f"expected an e-mail address, got {sender!r}")
    starttls = value.get("starttls", False)
    if not isinstance(starttls, bool):
        raise _fail(f"{key}.starttls", f"expected true or false, got {starttls!r}")
    port = value.get("port", 587 if starttls else 25)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise _fail(f"{key}.port", f"expected a port number from 1 to 65535, got {port!r}")
    user = _text(value, "user", key, required=False)
    password_env = _text(value, "password_env", key, required=user is not None)
    cafile = value.get("cafile")
    if cafile is not None and (not isinstance(cafile, str) or not cafile):
        raise _fail(f"{key}.cafile", f"expected the path of a PEM file, got {cafile!r}")
    return _Smtp(host, port, sender, starttls, user, password_env, cafile)


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
    smtp = None if config.get("smtp") is None else _parse_smtp(config["smtp"])
    hooks = config.get("webhooks")
    if hooks is None:
        hooks = []
    if not isinstance(hooks, list):
        raise _fail("notify.webhooks", "expected a list of webhooks")
    return smtp, tuple(_parse_hook(h, i) for i, h in enumerate(hooks))


def check_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidPolicy` naming the first bad key of a ``notify:`` mapping."""
    _parse_config(config)


# -------------------------------------------------------------------- delivering


def deliver(
    config: Mapping[str, Any],
    messages: Sequence[Message],
    *,
    secret: Callable[[str], str | None],
    now: datetime,
    timeout: float = 5.0,
) -> list[Delivery]:
    """Send ``messages`` through every channel of ``config`` (the ``notify:`` mapping).

    E-mail: one mail per message that has recipients, one Delivery each. Webhooks: one
    digest per webhook of the messages its ``events`` select, one Delivery each (a WeCom
    digest over 2,048 bytes goes out in several parts; any failed part fails the Delivery
    and a retry resends the whole digest). Failures are Deliveries, never exceptions.
    """
    smtp, hooks = _parse_config(config)
    if now.tzinfo is None:
        raise ValueError("deliver() needs an aware datetime for now")
    results: list[Delivery] = []
    if not messages:
        return results
    if smtp is not None:
        results.extend(_send_mail(smtp, [m for m in messages if m.to_email], secret, now, timeout))
    for hook in hooks:
        chosen = [m for m in messages if m.event in hook.events]
        if chosen:
            results.append(_post_digest(hook, chosen, secret, now, timeout))
    return results


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_ERROR else line[: _MAX_ERROR - 1] + "…"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{addr}: {code} {msg.decode('utf-8', 'replace')}"
            for addr, (code, msg) in exc.recipients.items()
        )
        return _one_line(f"recipients refused: {refused}")
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return _one_line(f"SMTP {exc.smtp_code}: {detail}")
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
    now: datetime,
    timeout: float,
) -> list[Delivery]:
    if not messages:
        return []

    def failed(why: str) -> list[Delivery]:
        return [Delivery("smtp", False, why, (m.ticket,)) for m in messages]

    password = None
    if cfg.user is not None:
        assert cfg.password_env is not None
        password = secret(cfg.password_env)
        if not password:
            return failed(f"password: secret {cfg.password_env} is not set")
    try:
        client = _connect(cfg, password, timeout)
    except (OSError, smtplib.SMTPException) as exc:
        return failed(f"{cfg.host}:{cfg.port}: {_reason(exc)}")
    results = []
    try:
        for m in messages:
            try:
                client.send_message(_mail(cfg.sender, m, now))
            except (OSError, ValueError, smtplib.SMTPException) as exc:
                results.append(Delivery("smtp", False, _reason(exc), (m.ticket,)))
            else:
                results.append(Delivery("smtp", True, None, (m.ticket,)))
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return results


def _connect(cfg: _Smtp, password: str | None, timeout: float) -> smtplib.SMTP:
    client = smtplib.SMTP(cfg.host, cfg.port, timeout=timeout)
    try:
        client.ehlo()
        if cfg.starttls:
            # Certificates are verified; cafile adds a private CA (or a test's own).
            client.starttls(context=ssl.create_default_context(cafile=cfg.cafile))
            client.ehlo()
        if cfg.user is not None:
            assert password is not None
            client.login(cfg.user, password)
    except BaseException:
        client.close()
        raise
    return client


def _mail(sender: str, m: Message, now: datetime) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = " ".join(m.subject.split())
    mail["From"] = sender
    mail["To"] = ", ".join(m.to_email)
    mail["Date"] = email.utils.format_datetime(now)
    mail["Message-ID"] = email.utils.make_msgid(domain=sender.rpartition("@")[2])
    if m.priority == "P1":
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


def _without_query(url: str) -> str:
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()


def digest_text(messages: Sequence[Message]) -> str:
    """The messages' texts as one chat message, a blank line between them."""
    return "\n\n".join(m.text.strip() for m in messages)


def wecom_parts(text: str, limit: int = WECOM_MAX_BYTES) -> list[str]:
    """``text`` cut at line boundaries into parts of at most ``limit`` UTF-8 bytes.

    A line longer than ``limit`` is cut between characters, never inside one. More than
    20 parts (WeCom's per-minute allowance) keeps 19 and says how many were left out.
    """
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
    parts = [p.strip("\n") for p in parts if p.strip()]
    if len(parts) > ROBOT_MAX_PER_MINUTE:
        left_out = len(parts) - (ROBOT_MAX_PER_MINUTE - 1)
        parts = parts[: ROBOT_MAX_PER_MINUTE - 1]
        parts.append(f"… {left_out} more parts not sent (robot limit); see itdesk check")
    return parts


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


def _requests(
    hook: _Hook, messages: Sequence[Message], key: str | None, now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    text = digest_text(messages)
    if hook.style == "slack":
        return [(hook.url, {"text": text})]
    if hook.style == "wecom":
        return [
            (hook.url, {"msgtype": "text", "text": {"content": part}}) for part in wecom_parts(text)
        ]
    if hook.style == "dingtalk":
        url = hook.url
        if key is not None:
            ms = (now - _EPOCH) // timedelta(milliseconds=1)
            parts = urllib.parse.urlsplit(url)
            signed = urllib.parse.urlencode({"timestamp": ms, "sign": dingtalk_sign(key, ms)})
            url = parts._replace(
                query=f"{parts.query}&{signed}" if parts.query else signed
            ).geturl()
        return [(url, {"msgtype": "text", "text": {"content": text}})]
    if hook.style == "feishu":
        body: dict[str, Any] = {}
        if key is not None:
            seconds = (now - _EPOCH) // timedelta(seconds=1)
            body = {"timestamp": str(seconds), "sign": feishu_sign(key, seconds)}
        body.update({"msg_type": "text", "content": {"text": text}})
        return [(hook.url, body)]
    first = messages[0]
    return [
        (
            hook.url,
            {
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
            },
        )
    ]


def _post_digest(
    hook: _Hook,
    messages: Sequence[Message],
    secret: Callable[[str], str | None],
    now: datetime,
    timeout: float,
) -> Delivery:
    channel = _without_query(hook.url)
    tickets = tuple(dict.fromkeys(m.ticket for m in messages))
    key = None
    if hook.secret_env is not None:
        key = secret(hook.secret_env)
        if not key:
            return Delivery(channel, False, f"secret {hook.secret_env} is not set", tickets)
    calls = _requests(hook, messages, key, now)
    for number, (url, body) in enumerate(calls, 1):
        error = _post(url, body, hook.style, timeout)
        if error is not None:
            where = f"part {number} of {len(calls)}: " if len(calls) > 1 else ""
            return Delivery(channel, False, where + error, tickets)
    return Delivery(channel, True, None, tickets)


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
