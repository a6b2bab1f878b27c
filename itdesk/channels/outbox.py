"""The notification outbox: what is still to be sent, kept in ``.git/itdesk/outbox.json``.

A ticket change is committed first and notified second, so a notification server that
is down never blocks or undoes a change. Commands put notifications here and try to
send them at once; ``itdesk check`` (cron) tries again on every run (issue 10):

- Delivery state is kept per message and per recipient (an e-mail address, or a
  webhook's whole URL, token included): a recipient that succeeded is struck off and
  never gets that message again; one that failed is retried alone.
- A failed recipient waits before its next try (1, 2, 4, then every 5 minutes: as often
  as a usual cron job, so a server that comes back hears on the next run),
  counted in time, not in commands run: it is due again once the desk's time (``--now``)
  or the real clock has passed its next try, so a cron job every five minutes, a burst
  of commands and a replayed ``--now`` all get the same pace.
- A recipient that keeps failing (for a day and 24 tries, or 3 tries when the server
  refused it for good, a 550 on RCPT) goes to the dead letters, as does one whose
  channel was removed from ``notify:`` or changed (a new URL is a new robot), with a
  note saying why. ``check`` reports the dead letters on every run, and
  ``itdesk outbox`` lists, retries or discards them: nothing leaves the outbox without
  being sent or shown to a person.
- Mail goes to the desk's own people and to the requester about their own ticket, so
  it shows the requester's contact; a chat group is wider than the desk, so what a
  webhook gets is masked as the privacy policy says.

The outbox is delivery state of this clone, not desk data: it lives inside ``.git``
and is never committed. An escalation notice is sent only if its escalation is on the
ticket as committed, so a run that died before its commit notifies nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.privacy import masked_data

if TYPE_CHECKING:  # (check flushes the outbox on every run: the model is read only when
    # something is to be sent, the lifecycle when something is queued)
    from ..core.escalation import Step
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from ..store.desk import Desk

OUTBOX = "itdesk/outbox.json"
VERSION = 2
FIRST_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(minutes=5)
DEAD_AFTER = timedelta(days=1)  # a recipient failing this long (and ...
DEAD_AFTER_TRIES = 24  # ... this many tries) goes to the dead letters
PERMANENT_TRIES = 3  # a server's final "no" (5xx on RCPT): tries before a person decides

Clock = Callable[[], datetime]


def _config(desk: Desk) -> Mapping[str, Any] | None:
    notify = desk.policy.raw.get("notify")
    return notify if isinstance(notify, Mapping) and notify else None


def _path(desk: Desk) -> Path:
    return desk.root / ".git" / OUTBOX


def has_outbox(desk: Desk) -> bool:
    """Whether this clone has an outbox (queued notices or dead letters)."""
    return _path(desk).exists()


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# ------------------------------------------------------------------- the file


class _Box:
    """The outbox's data under its lock: ``queue`` (owed), ``dead`` (given up)."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path = path
        self.queue: list[dict[str, Any]] = data["queue"]
        self.dead: list[dict[str, Any]] = data["dead"]
        self.seq: int = data["seq"]
        self._written = self._text()

    def _text(self) -> str:
        data = {"version": VERSION, "seq": self.seq, "queue": self.queue, "dead": self.dead}
        return json.dumps(data, ensure_ascii=False, indent=1)

    def next_id(self) -> int:
        self.seq += 1
        return self.seq

    def save(self) -> None:
        """Write what changed now: a run killed later does not send it again."""
        text = self._text()
        if text != self._written:
            from ..store.files import write_atomic

            write_atomic(self.path, text)
            self._written = text


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        text = "[]"
    try:
        data = json.loads(text)
    except ValueError as exc:  # never overwritten: what it owes would be lost unsaid
        from ..errors import UsageError

        raise UsageError(
            f"{path}: not readable ({exc}); move it away to start a new outbox"
        ) from None
    if isinstance(data, dict) and data.get("version") == VERSION:
        return data
    queue = data if isinstance(data, list) else []
    # Version 1 (a list, owed per channel with the query cut off): owed again, to be
    # resolved against today's channels (see _resolve); a channel gone is a dead letter.
    migrated = []
    for i, old in enumerate(e for e in queue if isinstance(e, dict)):
        entry = {k: old.get(k) for k in ("event", "ticket", "priority", "extra", "requires")}
        entry.update(
            id=i + 1,
            emails=list(old.get("to_email") or ()),
            not_before=old.get("not_before"),
            queued_at=old.get("not_before"),
            to=None,
            only=list(old.get("pending") or ()),
        )
        migrated.append(entry)
    return {"version": VERSION, "seq": len(migrated), "queue": migrated, "dead": []}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[_Box]:
    """The outbox, to read and change under a lock; written back at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        box = _Box(path, _load(path))
        yield box
        box.save()


# ------------------------------------------------------------------ queueing


def _address(desk: Desk, name: str | None) -> str | None:
    """The e-mail address of a person of the desk, or one written as a contact."""
    if not name:
        return None
    email = desk.policy.email_of(name)
    return email if email else name


def _emails(desk: Desk, names: Iterable[str | None]) -> list[str]:
    """The raw addresses of ``names`` (checked when the message is resolved)."""
    out = []
    for name in names:
        text = _address(desk, name)
        if text and "@" in text:
            out.append(text)
    return list(dict.fromkeys(out))


def _not_before(desk: Desk, now: datetime, ticket: Ticket) -> str:
    """Now, or, outside the quiet-hours calendar, its next opening (P1 is never held)."""
    quiet = desk.policy.sla.quiet_hours
    if quiet and (ticket.priority is None or ticket.priority.value != "P1"):
        calendar = desk.calendars[quiet]
        next_open = getattr(calendar, "next_open", None)
        if next_open is not None:
            now = next_open(now)
    return _iso(now)


def _entry(
    desk: Desk,
    now: datetime,
    event: str,
    ticket: Ticket,
    to: list[str],
    extra: Mapping[str, Any] | None = None,
    requires: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "event": event,
        "ticket": ticket.id,
        "priority": ticket.priority.value if ticket.priority else None,
        "emails": to,
        "extra": dict(extra or {}),
        "requires": dict(requires) if requires else None,
        "not_before": _not_before(desk, now, ticket),
        "queued_at": _iso(now),
        "to": None,  # recipient -> delivery state, resolved when first due
    }


def enqueue(desk: Desk, entries: list[dict[str, Any]]) -> None:
    if entries:
        with _locked(_path(desk)) as box:
            for e in entries:
                box.queue.append({"id": box.next_id(), **e})


def _clock_facts(desk: Desk, ticket: Ticket, now: datetime, clock: str | None) -> dict[str, Any]:
    """Due time and lateness of ``clock`` (else the ticket's most urgent open clock) at
    ``now``, for the escalation and at-risk texts."""
    from ..core.sla import evaluate

    states = [s for s in evaluate(ticket, desk.policy, now, desk.calendars) if s.open]
    chosen = [s for s in states if s.clock == clock] or sorted(
        states, key=lambda s: (s.state != "breached", s.due)
    )
    if not chosen:
        return {}
    s = chosen[0]
    return {"clock": s.clock, "due_at": _iso(s.due), "late_seconds": s.late_seconds}


def enqueue_escalations(desk: Desk, now: datetime, recorded: list[tuple[Ticket, Step]]) -> None:
    """Notices for escalations that ``check --escalate`` has just committed (it then
    flushes the outbox, with whatever earlier runs could not send)."""
    if _config(desk) is None:
        return
    at = _iso(now)
    entries = []
    for ticket, step in recorded:
        to = _emails(desk, [step.to, ticket.assignee if step.event == "escalated" else None])
        extra = {"level": step.level, "to": step.to, "reason": step.reason}
        extra.update(_clock_facts(desk, ticket, now, step.clock))
        requires = {"clock": step.clock, "level": step.level, "at": at}
        entries.append(_entry(desk, now, step.event, ticket, to, extra, requires))
    enqueue(desk, entries)  # itdesk check flushes the outbox next


def enqueue_change(desk: Desk, now: datetime, before: Ticket | None, change: Change) -> None:
    """Notices for a lifecycle change: created, P1, a manual escalation, resolved, a
    number changed by sync."""
    if _config(desk) is None:
        return
    from ..core.lifecycle import Action
    from ..core.values import Priority

    policy = desk.policy
    after = change.ticket
    requester = after.requester.contact
    entries = []
    if change.action is Action.NEW:
        entries.append(_entry(desk, now, "created", after, _emails(desk, [requester])))
    elif change.action is Action.CLASSIFY:
        was_p1 = before is not None and before.priority is Priority.P1
        if after.priority is Priority.P1 and not was_p1:
            to = _emails(desk, [policy.supervisor_for(after.team), *policy.supervisors])
            entries.append(_entry(desk, now, "p1", after, to))
    elif change.action is Action.ESCALATE and after.escalations:
        e = after.escalations[-1]
        if e.level != "vendor":
            extra = {"level": e.level, "to": e.to, "reason": e.reason}
            extra.update(_clock_facts(desk, after, now, None))
            to = _emails(desk, [e.to, after.assignee])
            entries.append(_entry(desk, now, "escalated", after, to, extra))
    elif change.action is Action.RESOLVE:
        entries.append(_entry(desk, now, "resolved", after, _emails(desk, [requester])))
        due = after.resolution.at + policy.sla.followup if after.resolution else now
        extra = {"clock": "followup", "due_at": _iso(due)}
        desk_people = _emails(desk, list(policy.supervisors))
        entries.append(_entry(desk, now, "followup_due", after, desk_people, extra))
    elif change.action is Action.RENUMBER and before is not None:  # itdesk sync
        extra = {"old": before.id}
        entries.append(_entry(desk, now, "renumbered", after, _emails(desk, [requester]), extra))
    enqueue(desk, entries)


# ------------------------------------------------------------------ rendering


def _words(lang: str) -> Mapping[str, Any]:
    from .notify import shipped_templates

    words: Mapping[str, Any] = shipped_templates(lang).get("words") or {}
    return words


def _fields(
    desk: Desk, config: Mapping[str, Any], e: Mapping[str, Any], data: Mapping[str, Any], lang: str
) -> dict[str, Any]:
    """The values the texts need beyond the ticket's own fields, worded in ``lang``."""
    from ..core.times import format_duration

    words = _words(lang)
    clocks = words.get("clocks") or {}
    extra = dict(e.get("extra") or {})
    tz = desk.policy.tz
    out: dict[str, Any] = {k: v for k, v in extra.items() if k not in ("due_at", "late_seconds")}
    if extra.get("clock"):
        out["clock"] = clocks.get(extra["clock"], extra["clock"])
    if extra.get("due_at"):
        out["due"] = (
            datetime.fromisoformat(extra["due_at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        )
    if extra.get("late_seconds") is not None:
        out["late"] = format_duration(timedelta(seconds=max(0, int(extra["late_seconds"]))))
    out["assignee"] = data.get("assignee") or words.get("unassigned", "-")
    out["priority"] = data.get("priority") or words.get("unclassified", "-")
    requester = data.get("requester") or {}
    for name in ("name", "department", "contact"):
        if not requester.get(name):
            out[f"requester_{name}"] = words.get("not_given", "-")
    link = config.get("link")
    ticket = str(e["ticket"])
    out["link"] = link.replace("{id}", ticket) if isinstance(link, str) else f"itdesk show {ticket}"
    return out


def _templates(config: Mapping[str, Any], lang: str) -> Mapping[str, Any] | None:
    templates = config.get("templates")
    if not isinstance(templates, Mapping):
        return None
    if isinstance(templates.get(lang), Mapping):
        chosen: Mapping[str, Any] = templates[lang]  # keyed by language, then by event
        return chosen
    return templates


# ------------------------------------------------------------------ sending


@dataclass
class Report:
    """What a flush has to tell a person: one line each."""

    failed: list[str] = field(default_factory=list)  # will be retried
    dead: list[str] = field(default_factory=list)  # moved to the dead letters just now
    dropped: list[str] = field(default_factory=list)  # no longer to be sent, and why
    dead_total: int = 0  # dead letters waiting for a person

    def lines(self) -> list[str]:
        out = [f"notification not sent, will retry on the next check: {x}" for x in self.failed]
        out += [f"notification given up, kept for a person: {x}" for x in self.dead]
        out += [f"notification not sent: {x}" for x in self.dropped]
        if self.dead_total:
            # The one line that names the dead letters: cron mails it on every run.
            out.append(
                f"{self.dead_total} undeliverable notification(s) in the dead letters; "
                "see: itdesk outbox list"
            )
        return out


def _committed(ticket: Mapping[str, Any] | None, requires: Mapping[str, str] | None) -> bool:
    if requires is None:
        return ticket is not None
    if ticket is None:
        return False
    return any(
        e.get("clock") == requires["clock"]
        and e.get("level") == requires["level"]
        and datetime.fromisoformat(e["at"]) == datetime.fromisoformat(requires["at"])
        for e in ticket.get("escalations") or ()
    )


def _fresh() -> dict[str, Any]:
    return {
        "attempts": 0,
        "error": None,
        "retry_at": None,
        "retry_clock": None,
        "since": None,
        "since_clock": None,
    }


def _what(e: Mapping[str, Any]) -> str:
    return f"{e['event']} of {e['ticket']}"


def _resolve(
    box: _Box,
    e: dict[str, Any],
    smtp: bool,
    hooks: Mapping[str, frozenset[str]],
    now: datetime,
) -> list[str]:
    """Fix the recipients of an entry due for the first time; returns dead-letter lines
    for addresses that are none (a contact with a line break)."""
    from .notify import find_address, mail_recipient, valid_address

    lines = []
    to: dict[str, Any] = {}
    if smtp:
        for raw in e.get("emails") or ():
            address = raw if valid_address(raw) else find_address(raw)
            if address is None:
                note = f"not an e-mail address: {raw!r}"
                lines.append(_bury(box, e, mail_recipient(raw), _fresh(), note, now))
            else:
                to.setdefault(mail_recipient(address), _fresh())
    only = e.pop("only", None)  # from a version-1 outbox: the channels it still owed
    for url, events in hooks.items():
        if e["event"] not in events:
            continue
        if only is not None and url.split("?", 1)[0] not in only:
            continue
        to[url] = _fresh()
    if only is not None:
        owed = {u.split("?", 1)[0] for u in hooks}
        for gone in [c for c in only if c != "smtp" and c not in owed]:
            note = "its webhook is no longer in itdesk.yaml (removed or its URL changed)"
            lines.append(_bury(box, e, gone, _fresh(), note, now))
        if "smtp" not in only:
            to = {r: s for r, s in to.items() if not r.startswith("mailto:")}
    e["to"] = to
    return lines


_KEPT = ("event", "ticket", "priority", "emails", "extra", "requires", "sent")


def _bury(
    box: _Box,
    e: Mapping[str, Any],
    recipient: str,
    state: Mapping[str, Any],
    note: str,
    now: datetime,
) -> str:
    """Move one recipient of ``e`` to the dead letters; the line that says so."""
    from .notify import shown_recipient

    letter = {k: e.get(k) for k in _KEPT}
    letter.update(
        id=box.next_id(),
        recipient=recipient,
        attempts=state.get("attempts", 0),
        error=state.get("error"),
        note=note,
        queued_at=e.get("queued_at"),
        dead_at=_iso(now),
    )
    box.dead.append(letter)
    return f"{_what(e)} to {shown_recipient(recipient)} (#{letter['id']}): {note}"


def _due(state: Mapping[str, Any], now: datetime, real: datetime) -> bool:
    if not state.get("attempts"):
        return True
    at, at_clock = _time(state.get("retry_at")), _time(state.get("retry_clock"))
    return (at is None or now >= at) or (at_clock is not None and real >= at_clock)


def _failed(
    state: dict[str, Any], error: str | None, permanent: bool, now: datetime, real: datetime
) -> str | None:
    """Count a failed try; the reason to give up on the recipient, or None to retry."""
    state["attempts"] = attempts = int(state.get("attempts") or 0) + 1
    state["error"] = error
    state["since"] = state.get("since") or _iso(now)
    state["since_clock"] = state.get("since_clock") or _iso(real)
    delay = min(FIRST_DELAY * 2 ** min(attempts - 1, 10), MAX_DELAY)
    state["retry_at"], state["retry_clock"] = _iso(now + delay), _iso(real + delay)
    if permanent and attempts >= PERMANENT_TRIES:
        return f"refused {attempts} times: {error}"
    since, since_clock = _time(state["since"]), _time(state["since_clock"])
    assert since is not None and since_clock is not None
    span = max(now - since, real - since_clock)
    if attempts >= DEAD_AFTER_TRIES and span >= DEAD_AFTER:
        return f"failing since {state['since']}, {attempts} tries: {error}"
    return None


def flush(desk: Desk, now: datetime, clock: Clock | None = None) -> Report:
    """Send what is due; what a person should be told comes back in the :class:`Report`.

    ``clock`` gives the real time (default: the machine's), which the robots' signatures
    and the mail's ``Date:`` carry and which paces the retries with ``now``."""
    path = _path(desk)
    report = Report()
    if not path.exists():
        return report
    config = _config(desk)
    real_clock: Clock = clock or (lambda: datetime.now(desk.policy.tz))
    from .notify import has_smtp, webhooks

    smtp, hooks = (has_smtp(config), webhooks(config)) if config is not None else (False, {})
    with _locked(path) as box:
        real = real_clock()
        if config is None:  # notify: removed while notices were owed
            for e in list(box.queue):
                for r in list(e.get("to") or ()) or ["all channels"]:
                    note = "notify: is no longer in itdesk.yaml"
                    report.dead.append(_bury(box, e, r, (e.get("to") or {}).get(r, {}), note, now))
                box.queue.remove(e)
        else:
            _send(desk, config, box, smtp, hooks, now, real, real_clock, report)
        report.dead_total = len(box.dead)
    return report


def _send(
    desk: Desk,
    config: Mapping[str, Any],
    box: _Box,
    smtp: bool,
    hooks: Mapping[str, frozenset[str]],
    now: datetime,
    real: datetime,
    clock: Clock,
    report: Report,
) -> None:
    from ..core.model import ticket_to_dict
    from .notify import Message, deliver, render, shown_recipient, valid_address

    due = [e for e in box.queue if datetime.fromisoformat(e["not_before"]) <= now]
    tickets: dict[str, Mapping[str, Any] | None] = {}
    for e in due:
        if e["ticket"] not in tickets:
            try:
                tickets[e["ticket"]] = ticket_to_dict(desk.read(e["ticket"]))
            except Exception:  # a ticket gone or broken since: said below
                tickets[e["ticket"]] = None
    for e in list(due):
        data = tickets[e["ticket"]]
        why = None
        if data is None:
            why = "the ticket cannot be read"
        elif data["status"] in ("closed", "cancelled"):
            why = f"the ticket is {data['status']}"  # a held notice included
        elif not _committed(data, e.get("requires")):
            why = "its escalation was not committed"
        if why is not None:
            report.dropped.append(f"{_what(e)}: {why}")
            box.queue.remove(e)
            due.remove(e)
            continue
        if e.get("to") is None:
            report.dead += _resolve(box, e, smtp, hooks, now)
        for r in list(e["to"]):
            note = None
            if r.startswith("mailto:") and not smtp:
                note = "notify.smtp is no longer in itdesk.yaml"
            elif r.startswith("mailto:") and not valid_address(r[len("mailto:") :]):
                note = f"not an e-mail address: {r[len('mailto:') :]!r}"  # a retried one
            elif not r.startswith("mailto:") and r not in hooks:
                note = "its webhook is no longer in itdesk.yaml (removed or its URL changed)"
            elif not r.startswith("mailto:") and e["event"] not in hooks[r]:
                note = f"its webhook no longer takes {e['event']}"
            if note is not None:
                report.dead.append(_bury(box, e, r, e["to"].pop(r), note, now))
    lang = desk.policy.locale
    templates = _templates(config, lang)
    messages: list[Message] = []
    by_key: dict[str, dict[str, Any]] = {}
    for e in due:
        ready = [r for r, state in e["to"].items() if _due(state, now, real)]
        if not ready:
            continue
        data = tickets[e["ticket"]]
        assert data is not None
        key = str(e["id"])
        by_key[key] = e
        emails = tuple(r[len("mailto:") :] for r in ready if r.startswith("mailto:"))
        urls = tuple(r for r in ready if not r.startswith("mailto:"))
        base = {"event": e["event"], "ticket": e["ticket"], "priority": e.get("priority")}
        fields = _fields(desk, config, e, data, lang)
        if emails:  # the desk's people and the requester: nothing masked
            subject, text = render(e["event"], data, lang, fields, templates)
            messages.append(
                Message(**base, subject=subject, text=text, to_email=emails, key=key, hooks=())
            )
        if urls:  # chat groups are wider than the desk
            shown = masked_data(data, desk.policy.personal)
            subject, text = render(e["event"], shown, lang, fields, templates)
            messages.append(Message(**base, subject=subject, text=text, hooks=urls, key=key))
    if not messages:
        _finish(box)
        return
    failures: dict[str, list[str]] = {}
    for channel in _channels(config):  # one channel at a time, saved after each
        results = deliver(channel, messages, secret=lambda name: _secret(desk, name), clock=clock)
        for d in results:
            for key in d.keys:
                e = by_key[key]
                state = e["to"].get(d.recipient)
                if state is None:
                    continue
                if d.ok:
                    del e["to"][d.recipient]
                    e["sent"] = [*(e.get("sent") or ()), d.recipient]
                elif d.deferred:
                    continue
                else:
                    gave_up = _failed(state, d.error, d.permanent, now, real)
                    if gave_up is not None:
                        report.dead.append(
                            _bury(box, e, d.recipient, e["to"].pop(d.recipient), gave_up, now)
                        )
                    else:
                        failures.setdefault(
                            f"{shown_recipient(d.recipient)}: {d.error}", []
                        ).append(e["ticket"])
        _finish(box)
        box.save()
    for line, ids in failures.items():
        report.failed.append(f"{line} ({', '.join(dict.fromkeys(ids))})")


def _channels(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``config`` cut into one config per channel: mail, then each webhook."""
    out: list[dict[str, Any]] = []
    if config.get("smtp") is not None:
        out.append({"smtp": config["smtp"]})
    out += [{"webhooks": [hook]} for hook in config.get("webhooks") or ()]
    return out


def _finish(box: _Box) -> None:
    box.queue[:] = [e for e in box.queue if e.get("to") is None or e["to"]]


def _secret(desk: Desk, name: str) -> str | None:
    """A secret from the environment, else from this clone's git config
    (``git config itdesk.<name>.secret VALUE``); never from the desk's files, which are shared."""
    value = os.environ.get(name)
    if value:
        return value
    from ..store import git

    out = git.run("config", "--get", f"itdesk.{name}.secret", cwd=desk.root, check=False)
    return out.strip() or None


# ------------------------------------------------------------------ dead letters


def _row(
    kind: str, e: Mapping[str, Any], recipient: str, state: Mapping[str, Any]
) -> dict[str, Any]:
    from .notify import shown_recipient

    return {
        "id": e["id"],
        "state": kind,
        "event": e["event"],
        "ticket": e["ticket"],
        "recipient": shown_recipient(recipient),
        "attempts": state.get("attempts", 0),
        "error": state.get("error"),
        "next_try": state.get("retry_at") if kind == "queued" else None,
        "note": state.get("note"),
        "queued_at": e.get("queued_at"),
        "dead_at": state.get("dead_at"),
    }


def entries(desk: Desk, dead_only: bool = False) -> list[dict[str, Any]]:
    """One row per message and recipient: the dead letters, then (unless ``dead_only``)
    what is still queued (``recipient`` is ``-`` until its channels are known)."""
    path = _path(desk)
    if not path.exists():
        return []
    with _locked(path) as box:
        rows = [_row("dead", d, d["recipient"], d) for d in box.dead]
        if not dead_only:
            for e in box.queue:
                to = e.get("to")
                if to is None:
                    rows.append(_row("queued", e, "-", {}))
                else:
                    rows += [_row("queued", e, r, s) for r, s in to.items()]
    return rows


def _pick(box: _Box, ids: Sequence[int], every: bool) -> list[dict[str, Any]]:
    from ..errors import UsageError

    if every:
        return list(box.dead)
    known = {d["id"]: d for d in box.dead}
    missing = [str(i) for i in ids if i not in known]
    if missing:
        shown = ", ".join(str(i) for i in known) or "none"
        raise UsageError(f"no dead letter {', '.join(missing)}; dead letters: {shown}")
    return [known[i] for i in dict.fromkeys(ids)]


def retry(desk: Desk, ids: Sequence[int], every: bool, now: datetime) -> list[dict[str, Any]]:
    """Put dead letters back in the queue, due at once, with a fresh count of tries.
    A letter whose webhook is gone goes to the webhooks that now take its event and
    have not had it (a robot whose URL changed is the same group, most often)."""
    path = _path(desk)
    config = _config(desk)
    hooks: Mapping[str, frozenset[str]] = {}
    if config is not None:
        from .notify import webhooks

        hooks = webhooks(config)
    with _locked(path) as box:
        chosen = _pick(box, ids, every)
        for d in chosen:
            box.dead.remove(d)
            entry = {k: d.get(k) for k in _KEPT}
            entry.update(id=box.next_id(), not_before=_iso(now), queued_at=d.get("queued_at"))
            recipient = d["recipient"]
            if recipient == "all channels":
                entry["to"] = None
            elif recipient.startswith("mailto:") or recipient in hooks:
                entry["to"] = {recipient: _fresh()}
            else:
                had = set(d.get("sent") or ())
                owed = [u for u, ev in hooks.items() if d["event"] in ev and u not in had]
                entry["to"] = {u: _fresh() for u in owed} or {recipient: _fresh()}
            box.queue.append(entry)
    return [_row("dead", d, d["recipient"], d) for d in chosen]


def discard(desk: Desk, ids: Sequence[int], every: bool) -> list[dict[str, Any]]:
    """Remove dead letters for good (the caller shows what they were)."""
    path = _path(desk)
    with _locked(path) as box:
        chosen = _pick(box, ids, every)
        for d in chosen:
            box.dead.remove(d)
    return [_row("dead", d, d["recipient"], d) for d in chosen]
