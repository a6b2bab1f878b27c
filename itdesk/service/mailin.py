"""Mail intake: each new message of a Maildir (or an IMAP mailbox) becomes a ticket, or a
log entry on the ticket whose number its subject carries (issue #13).

The desk acts as the robot :data:`MAIL_ROBOT` (listed under ``robots:``), one commit a
message, with an ``Employee:`` trailer naming the sender and the message's key in an
``Intake-Key:`` trailer (:mod:`itdesk.service.once`: each message is recorded once, also
when a run is killed or two runs overlap). A Maildir message leaves ``new/`` for
``cur/`` only after its commit; one that cannot be read is moved, untouched, to the
``.itdesk-failed`` folder and reported, never deleted. Auto-replies, bounces and the
desk's own mail record nothing. Attachments are stored as ``itdesk attach`` stores a
file (``attachments/<ID>/<name>``, listed in ``attachments``) in the same commit. The new
number goes back to the sender through the desk's notifications (the ``created`` mail
of ``notify: smtp:``).

Settings, all optional, under ``intake: mail:`` in ``itdesk.yaml``: ``reopen`` (a reply
from the requester reopens their resolved ticket; default true), ``max_bytes`` (a
message; default 25 MiB), ``max_attachments`` (default 20) and
``attachment_max_bytes`` (default 10 MiB, never more than ``attachments: max_bytes``).
"""

from __future__ import annotations

import email.utils
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import InvalidPolicy, InvalidTicket, InvalidValue, ItdeskError, UsageError
from .once import Outcome, ignore, intake_lock, key_of, record_once, seen

if TYPE_CHECKING:
    from ..store.desk import Desk
    from .session import Session

MAIL_ROBOT = "itdesk-mail"
FAILED_FOLDER = ".itdesk-failed"
TITLE_MAX = 150
DESCRIPTION_MAX = 20_000
LOG_MAX = 4_000
NAME_MAX = 100
ADDRESS_MAX = 254


class Unreadable(Exception):
    """A message that cannot be taken: set aside, with the reason."""


@dataclass(frozen=True)
class MailSettings:
    reopen: bool = True
    max_bytes: int = 25 * 1024 * 1024
    max_attachments: int = 20
    attachment_max_bytes: int = 10 * 1024 * 1024
    sender: str | None = None  # the desk's own address (notify: smtp: sender)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> MailSettings:
        intake = raw.get("intake") or {}
        mail = intake.get("mail") if isinstance(intake, Mapping) else None
        mail = mail or {}
        if not isinstance(intake, Mapping) or not isinstance(mail, Mapping):
            raise InvalidPolicy("itdesk.yaml: intake: and intake: mail: must be mappings")
        known = ("reopen", "max_bytes", "max_attachments", "attachment_max_bytes")
        for key in mail:
            if key not in known:
                raise InvalidPolicy(
                    f"itdesk.yaml: intake: mail: unknown key {key!r}; accepted: {', '.join(known)}"
                )
        values: dict[str, Any] = {}
        if "reopen" in mail:
            if not isinstance(mail["reopen"], bool):
                raise InvalidPolicy("itdesk.yaml: intake: mail: reopen must be true or false")
            values["reopen"] = mail["reopen"]
        for key in known[1:]:
            if key in mail:
                value = mail[key]
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise InvalidPolicy(
                        f"itdesk.yaml: intake: mail: {key} must be a positive whole number"
                    )
                values[key] = value
        notify = raw.get("notify") or {}
        smtp = notify.get("smtp") if isinstance(notify, Mapping) else None
        if isinstance(smtp, Mapping) and isinstance(smtp.get("sender"), str):
            values["sender"] = email.utils.parseaddr(smtp["sender"])[1].lower() or None
        return cls(**values)


def check_known(desk: Desk) -> None:
    """Refuse to take mail on a desk that does not list :data:`MAIL_ROBOT`."""
    if not desk.policy.knows(MAIL_ROBOT):
        raise UsageError(
            f"the desk does not know {MAIL_ROBOT!r}, who mail intake acts as; add it under "
            f"robots: in {desk.root / 'itdesk.yaml'} (robots: [itdesk-bot, {MAIL_ROBOT}])"
        )


# ------------------------------------------------------------------ reading a message


def clean_line(text: str, limit: int) -> str:
    """One line of printable text, at most ``limit`` characters."""
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line[:limit].strip()


def clean_text(text: str, limit: int) -> str:
    """Lines of printable text (tabs kept), at most ``limit`` characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in text if c in "\n\t" or c.isprintable())
    lines = [line.rstrip() for line in kept.split("\n")]
    out = "\n".join(lines).strip()
    # more than two blank lines in a row say nothing more
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


class _TextOfHtml(HTMLParser):
    """The words of an HTML body: tags dropped, script and style skipped, entities read,
    a line break at each block."""

    BLOCKS = frozenset(
        {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul",
         "ol", "blockquote", "pre", "hr"}
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(" ".join(data.split(" ")))


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


_QUOTE_START = re.compile(
    r"^(On .{1,200} wrote:|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*原始邮件\s*-{2,}|"
    r"在.{1,200}写道[:：]|From: .+|发件人[:：].+)\s*$",
    re.IGNORECASE,
)


def without_quote(text: str) -> str:
    """A reply's own words: quoted lines (``>``) and the quoted mail below them dropped."""
    out = []
    for line in text.split("\n"):
        if _QUOTE_START.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            out.append(line)
    return "\n".join(out).strip() or text.strip()


@dataclass(frozen=True)
class Attachment:
    name: str  # safe to store as attachments/<ID>/<name>
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


_UNSAFE_IN_NAME = re.compile(r"[^\w\u4e00-\u9fff .+()-]")


def safe_name(raw: str, taken: set[str]) -> str:
    """A name for an attachment that :func:`itdesk.core.lifecycle.check_attachment_name`
    takes: its last path part, other characters as ``_``, no leading dot, at most 100
    characters, and not one already ``taken`` by the same mail."""
    from ..core.lifecycle import check_attachment_name

    base = re.split(r"[/\\]", raw)[-1]
    name = _UNSAFE_IN_NAME.sub("_", base).lstrip(" .+()-_").rstrip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, dot, ext = name, "", ""
    stem = stem[: 100 - len(dot + ext) - 4] or "attachment"
    for n in range(1, 1000):
        candidate = f"{stem}{'' if n == 1 else f'-{n}'}{dot}{ext}"
        if candidate.lower() not in taken:
            break
    try:
        check_attachment_name(candidate)
    except ItdeskError:
        candidate = f"attachment-{len(taken) + 1}"
    taken.add(candidate.lower())
    return candidate


@dataclass(frozen=True)
class Mail:
    """What intake takes of a message."""

    message_id: str | None
    name: str
    address: str
    subject: str
    text: str
    attachments: tuple[Attachment, ...]
    ignored: str | None  # why it records nothing (an auto-reply...), else None


_ADDRESS = re.compile(r"^[^\s@<>()\[\],;:\"\\]{1,64}@[A-Za-z0-9.-]{1,190}$")
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")  # printable, no spaces, no < or >
# Python's email.utils.make_msgid, as the desk's notifications make them.
_OWN_MSGID = re.compile(r"^<\d+\.\d+\.\d+@(?P<domain>[^>]+)>$")


def read_mail(raw: bytes, settings: MailSettings) -> Mail:
    """The sender, subject, text and attachments of ``raw``; raises :class:`Unreadable`."""
    from email import policy
    from email.parser import BytesParser

    if not raw.strip():
        raise Unreadable("the file is empty")
    if len(raw) > settings.max_bytes:
        raise Unreadable(f"{len(raw)} bytes; messages are taken up to {settings.max_bytes}")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(msg, EmailMessage)
        return _read(msg, settings)
    except Unreadable:
        raise
    except Exception as exc:  # the parser's many ways of failing on broken mail
        why = f"cannot parse: {type(exc).__name__}: {clean_line(str(exc), 200)}"
        raise Unreadable(why) from None


def _header(msg: EmailMessage, name: str) -> str:
    value = msg.get(name)
    return "" if value is None else str(value)


def _read(msg: EmailMessage, settings: MailSettings) -> Mail:
    if not msg.keys():
        raise Unreadable("no mail headers")
    from_header = _header(msg, "From")
    if not from_header.strip():
        raise Unreadable("no From: header")
    name, address = email.utils.parseaddr(from_header)
    address = address.strip()
    if len(address) > ADDRESS_MAX or not _ADDRESS.match(address):
        raise Unreadable(f"the sender {clean_line(from_header, 80)!r} is not a mail address")
    message_id = clean_line(_header(msg, "Message-ID"), 250) or None
    subject = clean_line(_header(msg, "Subject"), TITLE_MAX)
    ignored = _ignored(msg, address, message_id, settings)
    text = ""
    attachments: list[Attachment] = []
    if ignored is None:
        text = _body(msg)
        attachments = _attachments(msg, settings)
    shown = clean_line(name, NAME_MAX) or address.split("@")[0]
    return Mail(message_id, shown, address, subject, text, tuple(attachments), ignored)


def _ignored(
    msg: EmailMessage, address: str, message_id: str | None, settings: MailSettings
) -> str | None:
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"an automatic message (Auto-Submitted: {clean_line(auto, 40)})"
    precedence = _header(msg, "Precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk or list mail (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if msg.get(name) is not None:
            return f"an automatic reply ({name})"
    local = address.split("@")[0].lower()
    if local in ("mailer-daemon", "postmaster"):
        return f"a bounce (from {local})"
    if msg.get_content_type() == "multipart/report":
        return "a bounce (a delivery report)"
    return_path = msg.get("Return-Path")
    if return_path is not None and str(return_path).strip() in ("<>", ""):
        return "a bounce (empty Return-Path)"
    if msg.get("X-Itdesk") is not None:
        return "the desk's own mail"
    if settings.sender is not None:
        if address.lower() == settings.sender:
            return "the desk's own mail (from its sender address)"
        own = _OWN_MSGID.match(message_id or "")
        domain = settings.sender.rpartition("@")[2]
        if own and own.group("domain").lower() == domain:
            return "the desk's own mail (its Message-ID)"
    return None


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown charset: read what can be read
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content


def _attachments(msg: EmailMessage, settings: MailSettings) -> list[Attachment]:
    found: list[Attachment] = []
    taken: set[str] = set()
    for part in msg.iter_attachments():
        if len(found) >= settings.max_attachments:
            raise Unreadable(f"more than {settings.max_attachments} attachments")
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        if size > settings.attachment_max_bytes:
            raise Unreadable(
                f"an attachment of {size} bytes; attachments are taken up to "
                f"{settings.attachment_max_bytes}"
            )
        raw = clean_line(str(part.get_filename() or ""), 200) or "attachment"
        found.append(
            Attachment(safe_name(raw, taken), payload if isinstance(payload, bytes) else b"")
        )
    return found


# ------------------------------------------------------------------ where mail comes from


class Item(Protocol):
    @property
    def name(self) -> str: ...


class Source(Protocol):
    """A mailbox: its new messages, and where each goes once handled."""

    where: str

    def new(self) -> Sequence[Item]: ...
    def read(self, item: Item, limit: int) -> bytes | None: ...  # None: gone meanwhile
    def done(self, item: Item) -> None: ...
    def set_aside(self, item: Item) -> str: ...  # where it went


@dataclass(frozen=True)
class MaildirItem:
    name: str


class Maildir:
    """A Maildir: messages in ``new/``; handled ones go to ``cur/`` (flag S, seen),
    unreadable ones to the ``.itdesk-failed`` folder's ``new/``."""

    def __init__(self, path: str | os.PathLike[str]):
        self.root = Path(path)
        self.where = str(self.root)
        for sub in ("new", "cur", "tmp"):
            if not (self.root / sub).is_dir():
                raise UsageError(
                    f"{self.root} is not a Maildir (it has no {sub}/ folder); give the folder "
                    "that holds new/, cur/ and tmp/"
                )

    def new(self) -> list[MaildirItem]:
        """The messages of ``new/`` in the order they arrived (a report before the reply
        to it): by the time each was written, then by name."""
        found = []
        for e in os.scandir(self.root / "new"):
            if not e.name.startswith(".") and e.is_file(follow_symlinks=False):
                try:
                    found.append((e.stat(follow_symlinks=False).st_mtime_ns, e.name))
                except FileNotFoundError:  # taken by another run meanwhile
                    continue
        return [MaildirItem(name) for _, name in sorted(found)]

    def read(self, item: Item, limit: int) -> bytes | None:
        path = self.root / "new" / item.name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as fh:
            return fh.read(limit + 1)  # one byte more tells that it is too large

    def done(self, item: Item) -> None:
        base = item.name.split(":")[0]
        os.replace(self.root / "new" / item.name, self.root / "cur" / f"{base}:2,S")

    def set_aside(self, item: Item) -> str:
        failed = self.root / FAILED_FOLDER
        for sub in ("new", "cur", "tmp"):
            (failed / sub).mkdir(parents=True, exist_ok=True)
        target = failed / "new" / item.name
        os.replace(self.root / "new" / item.name, target)
        return str(target)


@dataclass(frozen=True)
class ImapItem:
    name: str  # the message's UID


class Imap:
    """An IMAP mailbox over TLS (IMAPS): unseen messages; handled ones are flagged
    \\Seen, unreadable ones copied to the ``itdesk-failed`` folder (and flagged
    \\Seen there and here): nothing is ever deleted."""

    def __init__(self, host: str, port: int, user: str, password: str, folder: str = "INBOX",
                 timeout: float = 60.0, ssl_context: Any = None):  # fmt: skip
        import imaplib

        self.where = f"imaps://{host}:{port}/{folder}"
        try:
            self.conn = imaplib.IMAP4_SSL(host, port, ssl_context=ssl_context, timeout=timeout)
            self.conn.login(user, password)
            status, _ = self.conn.select(_quote(folder))
        except (OSError, imaplib.IMAP4.error) as exc:
            raise UsageError(f"{self.where}: {clean_line(str(exc), 200)}") from None
        if status != "OK":
            raise UsageError(f"{self.where}: cannot open the folder {folder!r}")

    def _ok(self, answer: tuple[str, Any], what: str) -> Any:
        status, data = answer
        if status != "OK":
            raise ItdeskError(f"{self.where}: {what} failed: {clean_line(repr(data), 200)}")
        return data

    def new(self) -> list[ImapItem]:
        data = self._ok(self.conn.uid("SEARCH", "UNSEEN"), "SEARCH")
        uids = data[0].split() if data and data[0] else []
        return [ImapItem(u.decode("ascii")) for u in uids]

    def read(self, item: Item, limit: int) -> bytes | None:
        size = self._ok(self.conn.uid("FETCH", item.name, "(RFC822.SIZE)"), "FETCH")
        m = re.search(rb"RFC822\.SIZE (\d+)", size[0] if size and size[0] else b"")
        if m is None:
            return None
        if int(m.group(1)) > limit:
            return b"x" * (limit + 1)  # too large: set aside, never read whole
        data = self._ok(self.conn.uid("FETCH", item.name, "(BODY.PEEK[])"), "FETCH")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                return bytes(part[1])
        return None

    def done(self, item: Item) -> None:
        self._ok(self.conn.uid("STORE", item.name, "+FLAGS", "(\\Seen)"), "STORE")

    def set_aside(self, item: Item) -> str:
        self.conn.create("itdesk-failed")  # fails harmlessly when it exists
        self._ok(self.conn.uid("COPY", item.name, "itdesk-failed"), "COPY")
        self.done(item)
        return f"{self.where.rsplit('/', 1)[0]}/itdesk-failed"

    def close(self) -> None:
        try:
            self.conn.logout()
        except Exception:  # the connection may be gone already
            pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ taking mail in


@dataclass
class Report:
    """What one run did: a line for each message."""

    created: list[tuple[str, str]] = field(default_factory=list)  # (ticket, sender)
    logged: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (message, why)
    set_aside: list[tuple[str, str, str]] = field(default_factory=list)  # (msg, why, where)
    already: int = 0  # recorded by an earlier (killed or overlapping) run
    left: list[tuple[str, str]] = field(default_factory=list)  # (message, why): next run

    def lines(self, lang: str = "en") -> Iterator[str]:
        zh = lang == "zh"
        for ticket, who in self.created:
            yield f"{ticket}：新工单，来自 {who}" if zh else f"{ticket}: new ticket from {who}"
        for ticket, who in self.logged:
            yield f"{ticket}：已记录 {who} 的回复" if zh else f"{ticket}: reply from {who} logged"
        for name, why in self.ignored:
            yield f"{name}：未受理，{_why_zh(why)}" if zh else f"{name}: ignored, {why}"


_WHY_ZH = (
    ("an automatic message", "自动发送的邮件"),
    ("an automatic reply", "自动回复"),
    ("a bounce (a delivery report)", "退信（投递报告）"),
    ("a bounce (empty Return-Path)", "退信（Return-Path 为空）"),
    ("a bounce", "退信"),
    ("the desk's own mail", "服务台自己发出的邮件"),
)


def _why_zh(why: str) -> str:
    """Why a mail records nothing, in Chinese (what follows the reason is kept)."""
    for english, chinese in _WHY_ZH:
        if why.startswith(english):
            rest = why[len(english) :].strip()
            return chinese + (f"（{rest.strip('()')}）" if rest else "")
    return why


def _number_in(subject: str, prefix: str) -> str | None:
    m = re.search(rf"(?<![A-Za-z0-9]){re.escape(prefix)}-\d{{8}}-\d{{1,9}}(?!\d)", subject, re.I)
    return m.group(0).upper() if m else None


def take(
    desk: Desk,
    source: Source,
    open_session: Callable[[], Session],
    warn: Callable[[str], None],
) -> Report:
    """Take every new message of ``source`` once; see the module's docstring."""
    check_known(desk)
    settings = MailSettings.of(desk.policy.raw)
    limit = min(settings.attachment_max_bytes, desk.policy.attachment_limit)
    settings = replace(settings, attachment_max_bytes=limit)
    report = Report()
    for item in source.new():
        with intake_lock(desk):
            raw = source.read(item, settings.max_bytes)
            if raw is None:
                continue  # another run took it meanwhile
            try:
                mail = read_mail(raw, settings)
            except Unreadable as why:
                where = source.set_aside(item)
                report.set_aside.append((item.name, str(why), where))
                warn(f"set aside {item.name} from {source.where}: {why} (kept in {where})")
                continue
            key = key_of("mail", mail.message_id, raw)
            if seen(desk, key) is not None:
                report.already += 1
                source.done(item)
                continue
            if mail.ignored is not None:
                ignore(desk, key)
                report.ignored.append((item.name, mail.ignored))
                source.done(item)
                continue
            try:
                outcome = _record(desk, mail, key, settings, open_session)
            except (InvalidTicket, InvalidValue) as why:  # the mail's data, not the desk
                where = source.set_aside(item)
                report.set_aside.append((item.name, str(why), where))
                warn(f"set aside {item.name} from {source.where}: {why} (kept in {where})")
                continue
            except ItdeskError as why:  # the desk (a hand-edited ticket, a closed one...)
                report.left.append((item.name, str(why)))
                warn(f"left {item.name} in {source.where} for the next run: {why}")
                continue
            source.done(item)
        if not outcome.new:
            report.already += 1
        elif outcome.ticket.startswith("+"):
            report.logged.append((outcome.ticket[1:], mail.address))
        else:
            report.created.append((outcome.ticket, mail.address))
    return report


def _record(
    desk: Desk, mail: Mail, key: str, settings: MailSettings, open_session: Callable[[], Session]
) -> Outcome:
    from ..core.model import Status

    target = _number_in(mail.subject, desk.policy.prefix)
    ticket = None
    if target is not None:
        try:
            ticket = desk.read(target)
        except ItdeskError:
            ticket = None  # no such ticket (or unreadable): the mail is a new report
    session = open_session()
    session.trailers["Employee"] = f"{mail.name} <{mail.address}>"
    session.trailers["Intake-Key"] = key
    if mail.message_id and _MESSAGE_ID.fullmatch(mail.message_id):
        session.trailers["Message-Id"] = mail.message_id  # for people; the key decides
    text = clean_text(mail.text, DESCRIPTION_MAX)

    if ticket is not None and ticket.status.is_open:
        words = clean_text(without_quote(text), LOG_MAX) or mail.subject or "(empty reply)"
        entry = f"mail from {mail.name} <{mail.address}>: {words}"
        is_requester = (ticket.requester.contact or "").lower() == mail.address.lower()
        reopen = ticket.status is Status.RESOLVED and settings.reopen and is_requester

        def record_log(committed: Callable[[str], None]) -> str:
            assert ticket is not None
            tid = ticket.id
            with session.batch() as batch:
                if reopen:
                    session.reopen(tid, "the requester replied by mail")
                session.log(tid, entry)
                _store(session, tid, mail.attachments)
                if len(batch.changes) > 1:
                    done = "reopen, log" if reopen else "log"
                    files = len(mail.attachments)
                    more = f", {files} attachment{'s' if files > 1 else ''}" if files else ""
                    batch.tx.subject = f"{tid}: {done} the requester's mail{more}"
                    batch.tx.action = "reopen" if reopen else "log"
            return "+" + tid

        return record_once(desk, key, record_log)

    if ticket is not None:  # closed or cancelled: a new report that names the old one
        text = f"(follows up {ticket.id}, which is {ticket.status.value})\n\n{text}"
    values = {
        "title": mail.subject or None,
        "description": text or mail.subject or "(empty message)",
        "requester": mail.name,
        "contact": mail.address,
        "channel": "mail",
    }

    def record_new(committed: Callable[[str], None]) -> str:
        if not mail.attachments:
            change = session.new(values, on_committed=lambda c: committed(c.ticket.id))
            return change.ticket.id
        with session.batch() as batch:
            change = session.new(values)
            tid = change.ticket.id
            _store(session, tid, mail.attachments)
            files = len(mail.attachments)
            batch.tx.subject = f"{tid}: new via mail, {files} attachment{'s' if files > 1 else ''}"
            batch.tx.action = "new"
        return tid

    return record_once(desk, key, record_new)


def _store(session: Session, ticket_id: str, files: Sequence[Attachment]) -> None:
    """Each file under ``attachments/<ID>/`` and in the ticket's ``attachments``, as one
    more change of the session's open batch (the commit that records the mail)."""
    for f in files:
        session.attach_data(ticket_id, f.name, f.data)


def watch(
    run_once: Callable[[], object],
    sleep: Callable[[float], None],
    stop: Callable[[], bool],
    interval: float,
) -> int:
    """``run_once`` every ``interval`` seconds until ``stop()``; returns the runs made."""
    runs = 0
    while not stop():
        run_once()
        runs += 1
        if stop():
            break
        sleep(interval)
    return runs
