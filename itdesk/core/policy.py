"""The desk's policy (``itdesk.yaml``) as a typed value, checked key by key.

:func:`policy_from_dict` takes the parsed YAML and either returns a :class:`Policy` or
raises :class:`InvalidPolicy` naming the key and what is accepted there. The defaults
are the process document's: P1 respond in 15 min, P2 2 h / 4 h, P3 24 h / 48 h,
acknowledge in 10 min, accept in 2 h, follow up within 1 h of "resolved".
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import InvalidPolicy, InvalidValue
from . import ids
from .privacy import DEFAULT_PERSONAL, PERSONAL_FIELDS
from .times import format_duration, parse_duration, zone
from .values import Category, Priority, Status, parse_category, parse_priority, parse_status

POLICY_FILE = "itdesk.yaml"
ALWAYS_OPEN = "24x7"
LOCALES = ("en", "zh")
KNOWN_KEYS = frozenset(
    {
        "version",
        "calendars",
        "ids",
        "timezone",
        "locale",
        "default_priority",
        "sla",
        "categories",
        "teams",
        "supervisors",
        "managers",
        "people",
        "robots",
        "notify",
        "retention",
        "privacy",
        "kb",
        "attachments",
        "team",  # several clones: {signed: true} makes audit ask for signed commits
        "intake",
        "chat",
    }
)

ATTACHMENT_LIMIT = 10 * 1024 * 1024  # bytes a file attached to a ticket may have


@dataclass(frozen=True, slots=True)
class Target:
    response: timedelta
    resolution: timedelta


@dataclass(frozen=True, slots=True)
class Sla:
    ack: timedelta = timedelta(minutes=10)
    accept: timedelta = timedelta(hours=2)
    followup: timedelta = timedelta(hours=1)
    at_risk: float = 0.75
    priorities: Mapping[Priority, Target] = field(
        default_factory=lambda: {
            Priority.P1: Target(timedelta(minutes=15), timedelta(hours=4)),
            Priority.P2: Target(timedelta(hours=2), timedelta(hours=4)),
            Priority.P3: Target(timedelta(hours=24), timedelta(hours=48)),
        }
    )
    # The calendar each priority's clocks run on: a name under `calendars:`, or 24x7.
    calendars: Mapping[Priority, str] = field(
        default_factory=lambda: {p: ALWAYS_OPEN for p in Priority}
    )
    # Statuses in which clocks stop running (waiting on the requester or a vendor).
    pause_on: frozenset[Status] = frozenset()
    # Time to resolve a reopened ticket, counted from the reopening (default: the
    # priority's resolution target), so an old ticket does not breach at once.
    reopen_grace: timedelta | None = None
    # A breach still open this long after it was escalated goes to the next level.
    manager_after: timedelta | None = None
    # Non-P1 notifications wait for this calendar's next working window (None: never).
    quiet_hours: str | None = None


@dataclass(frozen=True, slots=True)
class Team:
    name: str
    categories: tuple[Category, ...]
    members: tuple[str, ...]
    supervisor: str | None = None


@dataclass(frozen=True, slots=True)
class Policy:
    timezone: str = "UTC"
    prefix: str = ids.DEFAULT_PREFIX
    digits: int = ids.DEFAULT_DIGITS
    locale: str = "en"
    default_priority: Priority = Priority.P3
    sla: Sla = field(default_factory=Sla)
    categories: tuple[Category, ...] = tuple(Category)
    teams: tuple[Team, ...] = ()
    supervisors: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()
    people: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Names that act without being people: the cron job (`--as itdesk-bot`), robots.
    robots: tuple[str, ...] = ()
    # What counts as personal data, masked wherever it leaves the desk (itdesk.privacy).
    personal: frozenset[str] = DEFAULT_PERSONAL
    # Business-hours calendars by name, as written (built by itdesk.calendar).
    calendars: Mapping[str, Any] = field(default_factory=dict)
    # `attachments: {max_bytes: N}`: the largest file `itdesk attach` stores.
    attachment_limit: int = ATTACHMENT_LIMIT
    # `intake:` (mail intake, the chat robots), checked by `_intake`.
    intake: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)

    @property
    def members(self) -> list[str]:
        """Every team member, once, in the order the teams list them."""
        seen: dict[str, None] = {}
        for team in self.teams:
            for name in team.members:
                seen.setdefault(name, None)
        return list(seen)

    @property
    def known(self) -> list[str]:
        """Everyone who may act on the desk (``--as``): team members and supervisors,
        supervisors, managers, ``people:`` and ``robots:``."""
        seen: dict[str, None] = dict.fromkeys(self.members)
        for team in self.teams:
            if team.supervisor:
                seen.setdefault(team.supervisor, None)
        for name in (*self.supervisors, *self.managers, *self.people, *self.robots):
            seen.setdefault(str(name), None)
        return list(seen)

    def knows(self, name: str) -> bool:
        return name in self.known

    def canonical(self, name: str) -> str:
        """``name`` as the policy spells it, matched without regard to letter case
        (``Zhang`` -> ``zhang``); an unknown name comes back as given."""
        known = self.known
        if name in known:
            return name
        folded = name.casefold()
        for candidate in known:
            if candidate.casefold() == folded:
                return candidate
        return name

    def team_for(self, category: Category) -> Team | None:
        for team in self.teams:
            if category in team.categories:
                return team
        return None

    def teams_of(self, member: str) -> list[Team]:
        return [t for t in self.teams if member in t.members]

    def supervisor_for(self, team_name: str | None) -> str | None:
        for team in self.teams:
            if team.name == team_name and team.supervisor:
                return team.supervisor
        return self.supervisors[0] if self.supervisors else None

    def email_of(self, name: str) -> str | None:
        person = self.people.get(name) or {}
        email = person.get("email")
        return str(email) if email else None


def _fail(key: str, why: str) -> InvalidPolicy:
    return InvalidPolicy(f"{POLICY_FILE}: {key}: {why}")


def _duration(value: Any, key: str) -> timedelta:
    try:
        return parse_duration(str(value))
    except InvalidValue as exc:
        raise _fail(key, str(exc)) from None


def _names(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(key, "expected a list of names")
    return tuple(v.strip() for v in value)


def _mapping(value: Any, key: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(key, "expected a mapping")
    return value


def _categories(value: Any, key: str) -> tuple[Category, ...]:
    if not isinstance(value, list):
        raise _fail(key, "expected a list of categories")
    try:
        return tuple(parse_category(str(v)) for v in value)
    except InvalidValue as exc:
        raise _fail(key, str(exc)) from None


def _sla(value: Any) -> Sla:
    d = _mapping(value, "sla")
    base = Sla()
    priorities = dict(base.priorities)
    for word, target in _mapping(d.get("priorities"), "sla.priorities").items():
        try:
            prio = parse_priority(str(word))
        except InvalidValue as exc:
            raise _fail(f"sla.priorities.{word}", str(exc)) from None
        t = _mapping(target, f"sla.priorities.{word}")
        old = priorities[prio]
        priorities[prio] = Target(
            response=_duration(
                t.get("response", format_duration(old.response)), f"sla.priorities.{word}.response"
            ),
            resolution=_duration(
                t.get("resolution", format_duration(old.resolution)),
                f"sla.priorities.{word}.resolution",
            ),
        )
    at_risk = d.get("at_risk", base.at_risk)
    if not isinstance(at_risk, int | float) or isinstance(at_risk, bool) or not 0 < at_risk < 1:
        raise _fail("sla.at_risk", f"{at_risk!r} is not a fraction between 0 and 1 (e.g. 0.75)")
    calendars = dict(base.calendars)
    for word, name in _mapping(d.get("calendars"), "sla.calendars").items():
        try:
            prio = parse_priority(str(word))
        except InvalidValue as exc:
            raise _fail(f"sla.calendars.{word}", str(exc)) from None
        if not isinstance(name, str) or not name:
            raise _fail(f"sla.calendars.{word}", "expected a calendar name or 24x7")
        calendars[prio] = name
    pause_on = []
    raw_pause = d.get("pause_on") or []
    if not isinstance(raw_pause, list):
        raise _fail("sla.pause_on", "expected a list such as [pending_user, pending_vendor]")
    for word in raw_pause:
        try:
            pause_on.append(parse_status(str(word)))
        except InvalidValue as exc:
            raise _fail("sla.pause_on", str(exc)) from None
    if not set(pause_on) <= {Status.PENDING_USER, Status.PENDING_VENDOR}:
        raise _fail("sla.pause_on", "clocks can pause only in pending_user and pending_vendor")
    quiet = d.get("quiet_hours")
    if quiet is not None and (not isinstance(quiet, str) or not quiet):
        raise _fail("sla.quiet_hours", "expected the name of a calendar")
    return Sla(
        calendars=calendars,
        pause_on=frozenset(pause_on),
        reopen_grace=_duration(d["reopen_grace"], "sla.reopen_grace")
        if d.get("reopen_grace") is not None
        else None,
        manager_after=_duration(d["manager_after"], "sla.manager_after")
        if d.get("manager_after") is not None
        else None,
        quiet_hours=quiet,
        ack=_duration(d.get("ack", "10m"), "sla.ack"),
        accept=_duration(d.get("accept", "2h"), "sla.accept"),
        followup=_duration(d.get("followup", "1h"), "sla.followup"),
        at_risk=float(at_risk),
        priorities=priorities,
    )


def _calendar_defs(value: Any, sla: Sla) -> Mapping[str, Any]:
    defs = dict(_mapping(value, "calendars"))
    for name in defs:
        if not isinstance(name, str) or name == ALWAYS_OPEN:
            raise _fail(f"calendars.{name}", f"use another name; {ALWAYS_OPEN} is built in")
    used = [("sla.calendars." + p.value, n) for p, n in sla.calendars.items()]
    if sla.quiet_hours is not None:
        used.append(("sla.quiet_hours", sla.quiet_hours))
    for key, name in used:
        if name != ALWAYS_OPEN and name not in defs:
            known = ", ".join([ALWAYS_OPEN, *defs])
            raise _fail(key, f"no calendar {name!r} under calendars:; known: {known}")
    return defs


def _personal(value: Any) -> frozenset[str]:
    privacy = _mapping(value, "privacy")
    unknown = sorted(str(k) for k in privacy if k != "personal")
    if unknown:
        raise _fail(f"privacy.{unknown[0]}", "unknown key; known: personal")
    if "personal" not in privacy:
        return DEFAULT_PERSONAL
    fields = privacy["personal"] or []
    if not isinstance(fields, list) or any(f not in PERSONAL_FIELDS for f in fields):
        raise _fail("privacy.personal", f"expected a list of: {', '.join(PERSONAL_FIELDS)}")
    return frozenset(fields)


def _attachment_limit(value: Any) -> int:
    conf = _mapping(value, "attachments")
    unknown = sorted(str(k) for k in conf if k != "max_bytes")
    if unknown:
        raise _fail(f"attachments.{unknown[0]}", "unknown key; known: max_bytes")
    limit = conf.get("max_bytes", ATTACHMENT_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise _fail("attachments.max_bytes", f"{limit!r} is not a positive whole number")
    return limit


# The employees' channels (itdesk intake mail, the chat robots' /hooks/...): each
# section's keys and whether each value is text (the name of an environment variable or
# an id), a flag or a count. Read by itdesk.service.mailin and itdesk.service.chat.
INTAKE_KEYS: Mapping[str, Mapping[str, type]] = {
    "mail": {"reopen": bool, "max_bytes": int, "max_attachments": int,
             "attachment_max_bytes": int},
    "dingtalk": {"secret_env": str},
    "feishu": {"verification_token_env": str, "encrypt_key_env": str, "bot_open_id": str},
    "wecom": {"token_env": str, "aes_key_env": str, "receive_id": str},
}  # fmt: skip


def _intake(value: Any, chat: Any = None) -> Mapping[str, Any]:
    """``intake:``, with the robots of a ``chat:`` section (the same keys, for a desk
    that keeps its chat robots apart) merged in."""
    conf = dict(_mapping(value, "intake"))
    for platform, settings in _mapping(chat, "chat").items():
        if str(platform) not in INTAKE_KEYS or platform == "mail":
            raise _fail(f"chat.{platform}", "unknown robot; known: dingtalk, feishu, wecom")
        if platform in conf:
            raise _fail(f"chat.{platform}", "set under intake: too; keep one")
        conf[platform] = settings
    for section, settings in conf.items():
        known = INTAKE_KEYS.get(str(section))
        if known is None:
            raise _fail(f"intake.{section}", f"unknown section; known: {', '.join(INTAKE_KEYS)}")
        for key, given in _mapping(settings, f"intake.{section}").items():
            kind = known.get(str(key))
            where = f"intake.{section}.{key}"
            if kind is None:
                raise _fail(where, f"unknown key; known: {', '.join(known)}")
            if kind is bool and not isinstance(given, bool):
                raise _fail(where, f"{given!r} is not true or false")
            if kind is int and (isinstance(given, bool) or not isinstance(given, int)
                                or given < 1):  # fmt: skip
                raise _fail(where, f"{given!r} is not a positive whole number")
            if kind is str and (not isinstance(given, str) or not given.strip()):
                raise _fail(where, f"{given!r} is not a name")
    return conf


def policy_from_dict(data: Any) -> Policy:
    """Check ``itdesk.yaml``'s parsed content and build the policy."""
    if not isinstance(data, Mapping):
        raise InvalidPolicy(f"{POLICY_FILE}: expected a mapping of settings at the top level")
    unknown = sorted(str(k) for k in data if k not in KNOWN_KEYS)
    if unknown:
        raise _fail(unknown[0], f"unknown key; known keys: {', '.join(sorted(KNOWN_KEYS))}")

    tz_name = data.get("timezone", "UTC")
    try:
        zone(str(tz_name))
    except InvalidValue as exc:
        raise _fail("timezone", str(exc)) from None

    id_conf = _mapping(data.get("ids"), "ids")
    prefix = str(id_conf.get("prefix", ids.DEFAULT_PREFIX))
    if not ids.valid_prefix(prefix):
        raise _fail("ids.prefix", f"{prefix!r}: use 1-16 capital letters or digits, e.g. IT")
    digits = id_conf.get("digits", ids.DEFAULT_DIGITS)
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 9:
        raise _fail("ids.digits", f"{digits!r} is not a whole number from 1 to 9")

    locale = str(data.get("locale", "en"))
    if locale not in LOCALES:
        raise _fail("locale", f"{locale!r}; accepted: {', '.join(LOCALES)}")

    try:
        default_priority = parse_priority(str(data.get("default_priority", "P3")))
    except InvalidValue as exc:
        raise _fail("default_priority", str(exc)) from None

    categories = _categories(data.get("categories", [c.value for c in Category]), "categories")

    teams = []
    raw_teams = data.get("teams") or []
    if not isinstance(raw_teams, list):
        raise _fail("teams", "expected a list of teams (name, categories, members, supervisor)")
    seen_names: set[str] = set()
    for i, t in enumerate(raw_teams):
        key = f"teams[{i}]"
        t = _mapping(t, key)
        name = t.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(f"{key}.name", "every team needs a name")
        if name in seen_names:
            raise _fail(f"{key}.name", f"team {name!r} is listed twice")
        seen_names.add(name)
        supervisor = t.get("supervisor")
        if supervisor is not None and not isinstance(supervisor, str):
            raise _fail(f"{key}.supervisor", "expected one name")
        teams.append(
            Team(
                name=name.strip(),
                categories=_categories(t.get("categories") or [], f"{key}.categories"),
                members=_names(t.get("members"), f"{key}.members"),
                supervisor=supervisor,
            )
        )

    people = _mapping(data.get("people"), "people")
    for name, person in people.items():
        _mapping(person, f"people.{name}")

    if data.get("retention") is not None:
        parse_retention(data["retention"])  # checked here, so that validate reports it
    sla = _sla(data.get("sla"))
    return Policy(
        personal=_personal(data.get("privacy")),
        timezone=str(tz_name),
        prefix=prefix,
        digits=digits,
        locale=locale,
        default_priority=default_priority,
        sla=sla,
        categories=categories,
        teams=tuple(teams),
        supervisors=_names(data.get("supervisors"), "supervisors"),
        managers=_names(data.get("managers"), "managers"),
        people=people,
        robots=_names(data.get("robots"), "robots"),
        calendars=_calendar_defs(data.get("calendars"), sla),
        attachment_limit=_attachment_limit(data.get("attachments")),
        intake=_intake(data.get("intake"), data.get("chat")),
        raw=data,
    )


def default_policy_text(
    timezone: str, technician: str, locale: str = "en", email: str | None = None
) -> str:
    """The commented ``itdesk.yaml`` that ``itdesk init`` writes; ``email``: the
    technician's address, which every commit of theirs then carries."""
    if locale not in LOCALES:
        raise InvalidValue(f"unknown locale {locale!r}; accepted: {', '.join(LOCALES)}")
    who = _yaml_str(technician)
    address = _yaml_str(email) if email else "null"
    return f"""\
# itdesk desk policy. Edit it by hand, then run `itdesk validate`.
# Durations: 10m, 2h, 1d, 1h30m. Priorities: P1 (紧急), P2 (重要), P3 (一般).
version: 1

# Ticket numbers: PREFIX-YYYYMMDD-NNN, a sequence per day in the desk's time zone.
ids:
  prefix: IT
  digits: 3

# IANA time zone of the desk; times without an offset are read in it.
timezone: {timezone}

# Language of labels and reports: en or zh (commands also take --lang).
locale: {locale}

# Priority that an unclassified ticket's clocks run at.
default_priority: P3

# Service levels (process document, step 1-4).
sla:
  ack: 10m          # first response and ticket number after the report
  accept: 2h        # assignee must accept within this time of assignment
  followup: 1h      # call the requester back within this time of "resolved"
  at_risk: 0.75     # share of a target used before it counts as at risk
  priorities:
    P1: {{response: 15m, resolution: 4h}}   # the document sets no P1 resolution time
    P2: {{response: 2h, resolution: 4h}}
    P3: {{response: 24h, resolution: 48h}}

categories: [hardware, software, network, account, other]

# Teams: `assign --auto` routes a ticket to the team whose categories include its
# category, then to that team's member with the fewest open tickets.
# Add people under members; a team's supervisor hears of its escalations.
teams:
  - name: hardware
    categories: [hardware]
    members: [{who}]
    supervisor: {who}
  - name: network
    categories: [network]
    members: [{who}]
    supervisor: {who}
  - name: desk
    categories: [software, account, other]
    members: [{who}]
    supervisor: {who}

# Technical-support supervisors (技术支持主管): P1 tickets and breaches go to them.
supervisors: [{who}]

# Next level of the escalation ladder (e.g. the IT manager).
managers: []

# Personal data, masked wherever it leaves the desk (show, report, export, chat
# notifications) unless --reveal. Fields: name, employee_id, department, contact (the
# requester's) and handler (the technician, in exported record forms).
privacy:
  personal: [name, contact, handler]

# Contact details of technicians, used for commit e-mail and notifications.
people:
  {who}: {{email: {address}}}

# Names that act but are not people: the cron job of the README
# (itdesk check --escalate --as itdesk-bot), the employees' portal (itdesk serve), mail
# intake (itdesk intake mail) and the chat groups' robots (/hooks/... of itdesk serve).
# --as accepts only names this file knows.
robots: [itdesk-bot, itdesk-portal, itdesk-mail, itdesk-chat]

# The employees' mail (itdesk intake mail) and chat-group robots (/hooks/... of itdesk
# serve). Secrets come from the environment variables named here, never this file.
# intake:
#   mail: {{reopen: true}}
#   dingtalk: {{secret_env: ITDESK_DINGTALK_SECRET}}
#   feishu: {{verification_token_env: ITDESK_FEISHU_TOKEN, encrypt_key_env: ITDESK_FEISHU_KEY}}
#   wecom: {{token_env: ITDESK_WECOM_TOKEN, aes_key_env: ITDESK_WECOM_AES}}
"""


def _yaml_str(text: str) -> str:
    """Quote a name for the YAML template when plain style would misread it."""
    plain_ok = (
        text
        and text[0].isalnum()
        and all(c.isalnum() or c in " ._-" for c in text)
        and text.strip() == text
    )
    if plain_ok and text.lower() not in {"yes", "no", "true", "false", "null", "on", "off"}:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_RETENTION_PART = re.compile(r"(\d+)\s*(years?|y|months?|mo|m|days?|d)")
MAX_YEARS = 100
_RETENTION_FORMS = "a duration such as 2y, 24m or 730d (y years, m months, d days)"


# -------------------------------------------------------------------- retention


@dataclass(frozen=True, slots=True)
class Retention:
    """How long archived tickets are kept: calendar months plus days."""

    months: int
    days: int = 0

    def __str__(self) -> str:
        years, months = divmod(self.months, 12)
        parts = [f"{years}y" if years else "", f"{months}m" if months else ""]
        return "".join([*parts, f"{self.days}d" if self.days else ""]) or "0d"

    def expires(self, closed_at: datetime) -> datetime:
        """When a ticket closed at ``closed_at`` may go: ``closed_at`` plus the retention
        (a day that the target month lacks, such as 29 February, becomes its last day)."""
        index = closed_at.year * 12 + closed_at.month - 1 + self.months
        year, month = divmod(index, 12)
        month += 1
        day = min(closed_at.day, calendar.monthrange(year, month)[1])
        return closed_at.replace(year=year, month=month, day=day) + timedelta(days=self.days)


DEFAULT_RETENTION = Retention(months=24)


def parse_retention(value: Any) -> Retention:
    """``2y``, ``24m``, ``730d`` or a sum such as ``1y6m`` -> :class:`Retention`.

    ``m`` means months here (nobody keeps an archive for minutes). Anything else raises
    :class:`InvalidPolicy` naming ``retention``.
    """
    text = str(value).strip().lower() if isinstance(value, str | int) else ""
    if isinstance(value, bool) or not text:
        raise _bad_retention(value)
    months = days = 0
    at = 0
    for m in _RETENTION_PART.finditer(text):
        if text[at : m.start()].strip():
            raise _bad_retention(value)
        count, unit = int(m.group(1)), m.group(2)
        if unit.startswith("y"):
            months += 12 * count
        elif unit.startswith("m"):
            months += count
        else:
            days += count
        at = m.end()
    if at == 0 or text[at:].strip():
        raise _bad_retention(value)
    if months == 0 and days == 0:
        raise _bad_retention(value, "keeps nothing")
    if months + days // 28 > 12 * MAX_YEARS:
        raise _bad_retention(value, f"is more than {MAX_YEARS} years")
    return Retention(months, days)


def _bad_retention(value: Any, why: str = "is not a retention") -> InvalidPolicy:
    return InvalidPolicy(f"{POLICY_FILE}: retention: {value!r} {why}; use {_RETENTION_FORMS}")


def retention_of(policy: Mapping[str, Any]) -> Retention:
    """The desk's retention (``retention:`` in itdesk.yaml, else two years)."""
    value = policy.get("retention")
    return DEFAULT_RETENTION if value is None else parse_retention(value)
