"""The notification outbox: what is still to be sent, kept in ``.git/itdesk/outbox.json``.

A ticket change is committed first and notified second, so a notification server that
is down never blocks or undoes a change. Commands put notifications here and try to
send them at once; what fails stays, with its error, and ``itdesk check`` (cron) tries
again on every run. Each entry remembers the channels (SMTP, each webhook) that still
owe it, so a retry never repeats a message a channel already took, and each run sends
one digest per chat robot (their rate limits are per minute).

The outbox is delivery state of this clone, not desk data: it lives inside ``.git``
and is never committed. An escalation notice is sent only if its escalation is on the
ticket as committed, so a run that died before its commit notifies nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.lifecycle import Action, Change
from ..core.model import Priority, Ticket, ticket_to_dict
from ..core.privacy import mask_contact, mask_name

if TYPE_CHECKING:
    from ..core.escalation import Step
    from ..store.desk import Desk

OUTBOX = "itdesk/outbox.json"
MAX_ATTEMPTS = 50


def _config(desk: Desk) -> Mapping[str, Any] | None:
    notify = desk.policy.raw.get("notify")
    return notify if isinstance(notify, Mapping) and notify else None


def channels(config: Mapping[str, Any]) -> list[str]:
    """The channel names of a ``notify:`` config: ``smtp`` and each webhook's URL."""
    out = ["smtp"] if config.get("smtp") else []
    for hook in config.get("webhooks") or []:
        if isinstance(hook, Mapping) and hook.get("url"):
            out.append(_channel_of(str(hook["url"])))
    return out


def _channel_of(url: str) -> str:
    return url.split("?", 1)[0]


def _only(config: Mapping[str, Any], channel: str) -> dict[str, Any]:
    """``config`` reduced to one channel."""
    if channel == "smtp":
        return {"smtp": config["smtp"]}
    hooks = [h for h in config.get("webhooks") or [] if _channel_of(str(h.get("url"))) == channel]
    return {"webhooks": hooks}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The outbox's entries, to read and change under a lock; written back at the end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            entries: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            entries = []
        before = json.dumps(entries, sort_keys=True)
        yield entries
        if json.dumps(entries, sort_keys=True) != before:
            from ..store.files import write_atomic

            write_atomic(path, json.dumps(entries, ensure_ascii=False, indent=1))


def _path(desk: Desk) -> Path:
    return desk.root / ".git" / OUTBOX


def _emails(desk: Desk, names: Iterable[str | None]) -> list[str]:
    policy = desk.policy
    out = []
    for name in names:
        if name:
            email = policy.email_of(name) or (name if "@" in name else None)
            if email:
                out.append(email)
    return list(dict.fromkeys(out))


def _not_before(desk: Desk, now: datetime, ticket: Ticket) -> str:
    """Now, or, outside the quiet-hours calendar, its next opening (P1 is never held)."""
    quiet = desk.policy.sla.quiet_hours
    if quiet and (ticket.priority is None or ticket.priority.value != "P1"):
        calendar = desk.calendars[quiet]
        next_open = getattr(calendar, "next_open", None)
        if next_open is not None:
            now = next_open(now)
    return now.isoformat(timespec="seconds")


def _entry(
    desk: Desk,
    now: datetime,
    config: Mapping[str, Any],
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
        "to_email": to,
        "extra": dict(extra or {}),
        "requires": dict(requires) if requires else None,
        "not_before": _not_before(desk, now, ticket),
        "pending": channels(config),
        "attempts": 0,
        "error": None,
    }


def enqueue(desk: Desk, entries: list[dict[str, Any]]) -> None:
    if entries:
        with _locked(_path(desk)) as box:
            box.extend(entries)


def enqueue_escalations(desk: Desk, now: datetime, recorded: list[tuple[Ticket, Step]]) -> None:
    """Notices for escalations that ``check --escalate`` has just committed (it then
    flushes the outbox, with whatever earlier runs could not send)."""
    config = _config(desk)
    if config is None:
        return
    at = now.isoformat(timespec="seconds")
    entries = []
    for ticket, step in recorded:
        to = _emails(desk, [step.to, ticket.assignee if step.event == "escalated" else None])
        extra = {"clock": step.clock, "level": step.level, "to": step.to, "reason": step.reason}
        requires = {"clock": step.clock, "level": step.level, "at": at}
        entries.append(_entry(desk, now, config, step.event, ticket, to, extra, requires))
    enqueue(desk, entries)  # itdesk check flushes the outbox next


def enqueue_change(desk: Desk, now: datetime, before: Ticket | None, change: Change) -> None:
    """Notices for a lifecycle change: created, P1, a manual escalation, resolved."""
    config = _config(desk)
    if config is None:
        return
    policy = desk.policy
    after = change.ticket
    requester = after.requester.contact
    entries = []
    if change.action is Action.NEW:
        entries.append(_entry(desk, now, config, "created", after, _emails(desk, [requester])))
    elif change.action is Action.CLASSIFY:
        was_p1 = before is not None and before.priority is Priority.P1
        if after.priority is Priority.P1 and not was_p1:
            to = _emails(desk, [policy.supervisor_for(after.team), *policy.supervisors])
            entries.append(_entry(desk, now, config, "p1", after, to))
    elif change.action is Action.ESCALATE and after.escalations:
        e = after.escalations[-1]
        if e.level != "vendor":
            extra = {"clock": "-", "level": e.level, "to": e.to, "reason": e.reason}
            to = _emails(desk, [e.to, after.assignee])
            entries.append(_entry(desk, now, config, "escalated", after, to, extra))
    elif change.action is Action.RESOLVE:
        entries.append(_entry(desk, now, config, "resolved", after, _emails(desk, [requester])))
        due = after.resolution.at + policy.sla.followup if after.resolution else now
        extra = {"due": due.strftime("%Y-%m-%d %H:%M")}
        desk_people = _emails(desk, list(policy.supervisors))
        entries.append(_entry(desk, now, config, "followup_due", after, desk_people, extra))
    enqueue(desk, entries)


def _flat(data: Mapping[str, Any]) -> dict[str, Any]:
    """Ticket data with the requester masked: chat groups are wider than the desk."""
    out = dict(data)
    req = data.get("requester") or {}
    out["requester"] = {
        **req,
        "name": mask_name(req.get("name")),
        "contact": mask_contact(req.get("contact")),
    }
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


def flush(desk: Desk, now: datetime) -> list[str]:
    """Send what is due; returns one line per channel that failed (the caller tells)."""
    config = _config(desk)
    path = _path(desk)
    if config is None or not path.exists():
        return []
    from .notify import Message, deliver, render

    lang = desk.policy.locale
    templates = config.get("templates") if isinstance(config.get("templates"), Mapping) else None
    if templates is not None and isinstance(templates.get(lang), Mapping):
        templates = templates[lang]  # keyed by language, then by event
    failures: list[str] = []
    with _locked(path) as box:
        due = [e for e in box if datetime.fromisoformat(e["not_before"]) <= now]
        if not due:
            return []
        tickets: dict[str, Mapping[str, Any] | None] = {}
        for e in due:
            if e["ticket"] not in tickets:
                try:
                    tickets[e["ticket"]] = ticket_to_dict(desk.read(e["ticket"]))
                except Exception:  # a ticket gone or broken since: drop its notices
                    tickets[e["ticket"]] = None
        for e in list(due):
            data = tickets[e["ticket"]]
            final = data is not None and data["status"] in ("closed", "cancelled")
            # Closed and cancelled tickets are never notified (a held notice included).
            if final or not _committed(data, e.get("requires")):
                box.remove(e)
                due.remove(e)
        messages: dict[int, Message] = {}
        for e in due:
            data = tickets[e["ticket"]]
            assert data is not None
            subject, text = render(e["event"], _flat(data), lang, e.get("extra"), templates)
            messages[id(e)] = Message(
                event=e["event"],
                ticket=e["ticket"],
                subject=subject,
                text=text,
                to_email=tuple(e.get("to_email") or ()),
                priority=e.get("priority"),
            )
        for channel in channels(config):
            owed = [e for e in due if channel in e["pending"]]
            if not owed:
                continue
            results = deliver(
                _only(config, channel),
                [messages[id(e)] for e in owed],
                secret=lambda name: _secret(desk, name),
                now=now,
            )
            ok = all(r.ok for r in results)
            for e in owed:
                if ok:
                    e["pending"].remove(channel)
                else:
                    e["attempts"] += 1
                    e["error"] = next((r.error for r in results if not r.ok), None)
            if not ok:
                failures.append(f"{channel}: {next(r.error for r in results if not r.ok)}")
        for e in due:
            if not e["pending"] or e["attempts"] >= MAX_ATTEMPTS:
                box.remove(e)
    return failures


def _secret(desk: Desk, name: str) -> str | None:
    """A secret from the environment, else from this clone's git config
    (``git config itdesk.<name>.secret VALUE``); never from the desk's files, which are shared."""
    value = os.environ.get(name)
    if value:
        return value
    from ..store import git

    out = git.run("config", "--get", f"itdesk.{name}.secret", cwd=desk.root, check=False)
    return out.strip() or None
