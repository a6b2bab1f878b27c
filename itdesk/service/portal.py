"""What the employees' portal does on a desk, without the web: report a problem, follow
it through a private link, add a comment, and count the articles that solved one.

The portal acts as the robot :data:`PORTAL` (listed under ``robots:`` in ``itdesk.yaml``)
through the same :class:`~itdesk.service.session.Session` as the command line: one
validated commit a step, authored by the portal, with an ``Employee:`` trailer naming who
reported or commented. The private link's token is an HMAC of the ticket number with the
portal's secret: unguessable, and never the number itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .intake import FIELDS

if TYPE_CHECKING:
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from ..store.desk import Desk
    from .session import Session

PORTAL = "itdesk-portal"  # who the portal acts as: a robot the desk must know
# The form's fields: new's options with dashes as underscores (SPEC "The employees'
# channels"), less the two the portal sets itself; the screenshot is a file field beside.
FORM_FIELDS = tuple(f for f in FIELDS if f not in ("channel", "reported_at"))
REQUIRED = ("requester", "contact")
COMMENT_MAX = 2_000
SECRET_FILE = "itdesk/portal.key"  # inside .git: never committed, never cloned
SECRET_ENV = "ITDESK_PORTAL_SECRET"
TRUE_WORDS = frozenset({"on", "1", "true", "yes", "是"})


class FormProblem(UsageError):
    """A field of the form that cannot be taken; ``field`` names it for the page."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_known(desk: Desk) -> None:
    """Refuse to serve a desk that does not list the portal among its robots."""
    if not desk.policy.knows(PORTAL):
        raise UsageError(
            f"the desk does not know {PORTAL!r}, who the portal acts as; add it under "
            f"robots: in {desk.root / 'itdesk.yaml'} (robots: [itdesk-bot, {PORTAL}])"
        )


def intake_values(form: Mapping[str, str]) -> dict[str, Any]:
    """The intake fields of a submitted form: text stripped, empty fields left out,
    ``blocks_work`` a checkbox, ``devices`` separated by commas or line breaks."""
    values: dict[str, Any] = {}
    for key in FORM_FIELDS:
        raw = form.get(key)
        text = raw.strip() if isinstance(raw, str) else ""
        if key == "blocks_work":
            values[key] = text.lower() in TRUE_WORDS
        elif key == "devices":
            parts = text.replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
            values[key] = [p.strip() for p in parts if p.strip()]
        elif text:
            values[key] = text
    for key in REQUIRED:
        if not values.get(key):
            raise FormProblem(f"{key} is required", key)
    if not values.get("title") and not values.get("description"):
        raise FormProblem("title is required", "title")
    values["channel"] = "portal"
    return values


def employee(name: str, employee_id: str | None) -> str:
    """The requester as the ``Employee:`` trailer names them (the transaction keeps a
    trailer to one printable line)."""
    return name + (f" ({employee_id})" if employee_id else "")


def report(
    session: Session, form: Mapping[str, str], screenshot: tuple[str, bytes] | None = None
) -> Change:
    """A ticket from the portal's form, with its screenshot (``(file name, bytes)``)
    stored under it: one commit by the portal, the employee named."""
    values = intake_values(form)
    name = screenshot_name(*screenshot) if screenshot else None
    session.trailers["Employee"] = employee(str(values["requester"]), values.get("employee_id"))
    if screenshot is None or name is None:
        return session.new(values)
    with session.batch() as batch:
        created = session.new(values)
        change = session.attach_data(created.ticket.id, name, screenshot[1])
        batch.tx.subject = f"{created.subject} (with a screenshot)"
        batch.tx.action = created.action.value
    return change


# What a screenshot may be: the image formats browsers make, known by their first bytes
# (never by the name or the type the browser sends, which the sender chooses).
_IMAGES = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)


def screenshot_name(filename: str, data: bytes) -> str | None:
    """The name a screenshot is stored under (``screenshot.png``), or None when nothing
    was uploaded; anything but an image is refused."""
    if not data and not filename:
        return None
    kind = next((ext for magic, ext in _IMAGES if data.startswith(magic)), None)
    if kind is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "webp"
    if kind is None:
        raise FormProblem("the screenshot is not an image (PNG, JPEG, GIF, WebP or BMP)",
                          "screenshot")  # fmt: skip
    return f"screenshot.{kind}"


def comment(session: Session, ticket_id: str, text: str) -> Change:
    """The employee's comment on their ticket: a ``note`` in its log, by the portal."""
    text = text.strip()
    if not text:
        raise FormProblem("the comment is empty", "comment")
    if len(text) > COMMENT_MAX:
        raise FormProblem(f"the comment is longer than {COMMENT_MAX} characters", "comment")
    ticket = session.desk.read(ticket_id)
    if not ticket.status.is_open:
        raise FormProblem("this ticket is closed; report a new problem instead", "comment")
    session.trailers["Employee"] = employee(ticket.requester.name, ticket.requester.employee_id)
    return session.log(ticket_id, f"{ticket.requester.name} (portal): {text}", via="note")


# ------------------------------------------------------------------ private links


def load_secret(desk: Desk, env: Mapping[str, str]) -> bytes:
    """The portal's secret: ``$ITDESK_PORTAL_SECRET``, else a random key kept in
    ``.git/itdesk/portal.key`` (made on first use, readable by its owner only)."""
    given = env.get(SECRET_ENV)
    if given:
        if len(given) < 16:
            raise UsageError(f"${SECRET_ENV} is too short; give at least 16 characters")
        return given.encode("utf-8")
    from ..store.files import write_atomic

    path = desk.git_dir / SECRET_FILE
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = b""
    if len(key) < 32:
        key = secrets.token_hex(32).encode("ascii")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, key, mode=0o600)
    return key


def token_of(secret: bytes, ticket_id: str) -> str:
    """The private link's token of a ticket: 32 hex digits of an HMAC of its number."""
    return hmac.new(secret, ticket_id.encode("ascii"), hashlib.sha256).hexdigest()[:32]


@dataclass
class Links:
    """Tokens back to ticket numbers, computed once for the desk's tickets and again (at
    most every ``rescan_seconds``) when a token is not known: a new ticket from the
    command line, say."""

    desk: Desk
    secret: bytes
    rescan_seconds: float = 10.0

    def __post_init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._scanned = float("-inf")
        self._lock = threading.Lock()

    def token(self, ticket_id: str) -> str:
        token = token_of(self.secret, ticket_id)
        with self._lock:
            self._ids[token] = ticket_id
        return token

    def ticket_id(self, token: str) -> str | None:
        if len(token) != 32 or any(c not in "0123456789abcdef" for c in token):
            return None
        with self._lock:
            found = self._ids.get(token)
            if found is not None or time.monotonic() - self._scanned < self.rescan_seconds:
                return found
            self._scanned = time.monotonic()
            for f in self.desk.ticket_files(include_archive=True):
                tid = f.path.name[: -len(".yaml")]
                self._ids.setdefault(token_of(self.secret, tid), tid)
            return self._ids.get(token)


# --------------------------------------------------------------- what is shown


@dataclass(frozen=True)
class Step:
    at: str
    text: str


def public_steps(t: Ticket) -> list[Step]:
    """What the employee sees of the log: status changes and their own comments, not
    the technicians' notes (which may name other people or internal systems)."""
    from ..core.model import LogKind

    out: list[Step] = []
    for entry in t.log:
        mine = entry.kind is LogKind.NOTE and entry.text.startswith(
            f"{t.requester.name} (portal): "
        )
        if entry.status is not None or mine:
            out.append(Step(entry.at.strftime("%Y-%m-%d %H:%M"), entry.text))
    return out


# ------------------------------------------------------------ self-help counts


SOLVED_FILE = "itdesk/kb-solved.json"


def count_solved(desk: Desk, slug: str) -> int:
    """Count one "this article solved my problem" click; returns the article's count.
    Kept in ``.git`` (a tally, not a record of the desk), under the desk's lock."""
    import json

    from ..core.kb import check_slug
    from ..store.files import write_atomic
    from .kb import article_path

    check_slug(slug)
    if not article_path(desk, slug).is_file():
        raise FormProblem(f"no article {slug!r}", "slug")
    path = desk.git_dir / SOLVED_FILE
    with desk.lock():
        try:
            counts = json.loads(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            counts = {}
        if not isinstance(counts, dict):
            counts = {}
        counts[slug] = int(counts.get(slug, 0)) + 1
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(counts, ensure_ascii=False, sort_keys=True).encode())
    return int(counts[slug])


def solved_counts(desk: Desk) -> dict[str, int]:
    import json

    try:
        counts = json.loads((desk.git_dir / SOLVED_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else {}
