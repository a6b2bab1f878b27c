"""Properties (hypothesis): the status machine never leaves TRANSITIONS, YAML round-trips,
and the real CLI on a real git desk keeps its promises for any sequence of commands."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import T0, Itdesk, git, git_state, make_ticket
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import itdesk.store as store
from itdesk.core import lifecycle as lc
from itdesk.core.model import (
    Category,
    Channel,
    Escalation,
    Followup,
    Impact,
    LogEntry,
    LogKind,
    Priority,
    Requester,
    Resolution,
    Satisfaction,
    Status,
    Ticket,
    ticket_to_dict,
)
from itdesk.core.status import TRANSITIONS, history_problems
from itdesk.errors import ItdeskError
from itdesk.store import schema as store_schema

# ------------------------------------------------------------------- strategies

# Text as people type it into a ticket: Chinese, quotes, YAML punctuation, line breaks,
# leading and trailing spaces, tabs and Windows line ends from pasted error messages.
ALPHABET = st.sampled_from(
    list("abcXYZ019 ") + list("王小明网络认证失败，。：“”")
    + list(":#-|>'\"{}[],&*!%@`?~=\\\t\n\r")
)  # fmt: skip
TRICKY = st.sampled_from(
    ["yes", "no", "null", "~", "true", "123", "0x1F", "1e3", "2023-10-25",
     "2023-10-25T09:30:00+08:00", "- item", "key: value", " leading", "trailing ",
     "\nleading newline", "trailing newline\n", "a\n\n", "a\n \n", "  indented\nblock",
     "'quoted'", '"double"', "# not a comment", "---", "...", "a\n---\nb", "a\n...\n",
     "&anchor", "*alias", "!tag x", "%YAML 1.1", "? key", "@user", "`cmd`", "=",
     "错误: 0x80070005\n影响: 全部门", "", "\t"]
)  # fmt: skip
TEXT = st.one_of(TRICKY, st.text(ALPHABET, max_size=40))
# One-line fields (title, names, department...) hold no line break or tab (SPEC 7).
LINE = TEXT.filter(lambda s: not any(c in s for c in "\t\n\r"))
NAME = st.one_of(
    st.sampled_from(["王小明", "zhang", "O'Brien", "Tech: One", "yes"]),
    st.text(ALPHABET, min_size=1, max_size=12).filter(
        lambda s: s.strip() != "" and not any(c in s for c in "\t\n\r")
    ),
)
# A contact is one phone number, extension or e-mail address.
CONTACT = st.none() | st.sampled_from(
    ["13956785678", "1395678", "8021", "+86 139 5678 5678", "010-6543 2100 ext 12",
     "wang.xm@example.com"]
)  # fmt: skip
ZONES = [timezone(timedelta(hours=8)), UTC, ZoneInfo("Europe/Berlin"),
         ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=-3, minutes=-30))]  # fmt: skip
TIME = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31),
    timezones=st.sampled_from(ZONES),
).map(lambda d: d.replace(microsecond=0))  # fmt: skip
OPT_TIME = st.none() | TIME
OPT_TEXT = st.none() | TEXT
OPT_LINE = st.none() | LINE


def _enum(cls: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(list(cls))


LOG_ENTRY = st.builds(
    LogEntry, at=TIME, by=NAME, kind=_enum(LogKind), text=TEXT,
    status=st.none() | _enum(Status), priority=st.none() | _enum(Priority),
    assignee=st.none() | NAME,
)  # fmt: skip
ESCALATION = st.builds(
    Escalation, at=TIME, by=NAME, level=st.sampled_from(["supervisor", "manager", "vendor"]),
    to=NAME, reason=TEXT, eta=OPT_TIME,
    clock=st.none() | st.sampled_from(["ack", "response", "accept", "resolution"]),
)  # fmt: skip
TICKETS = st.builds(
    Ticket,
    id=st.sampled_from(["IT-20231025-001", "IT-20231025-1000", "OPS-20240229-7"]),
    title=LINE.filter(lambda s: s != ""), status=_enum(Status),
    requester=st.builds(Requester, name=NAME, employee_id=OPT_LINE, department=OPT_LINE,
                        contact=CONTACT),
    reported_at=TIME, priority=st.none() | _enum(Priority),
    category=st.none() | _enum(Category),
    impact=st.builds(Impact, blocks_work=st.booleans(), scope=OPT_TEXT,
                     devices=st.lists(LINE, max_size=3).map(tuple)),
    description=TEXT, channel=st.none() | _enum(Channel), expected_by=OPT_TIME,
    acknowledged_at=OPT_TIME, team=OPT_LINE, assignee=st.none() | NAME,
    assigned_at=OPT_TIME, accepted_at=OPT_TIME,
    escalations=st.lists(ESCALATION, max_size=3).map(tuple),
    log=st.lists(LOG_ENTRY, max_size=4).map(tuple),
    resolution=st.none() | st.builds(Resolution, summary=TEXT, at=TIME, by=NAME,
                                     verified_by_requester=st.booleans()),
    followup=st.none() | st.builds(Followup, at=TIME, by=NAME, speed=_enum(Satisfaction),
                                   attitude=_enum(Satisfaction), overall=_enum(Satisfaction),
                                   comment=OPT_TEXT),
    closed_at=OPT_TIME,
    kb=st.lists(st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z"), max_size=2).map(tuple),
    attachments=st.lists(TEXT, max_size=2).map(tuple),
    remarks=OPT_TEXT,
)  # fmt: skip


# ------------------------------------------------------- (1) the pure status machine

WHO = st.sampled_from(["desk", "zhang", "wang", "王小明"])
SAT = _enum(Satisfaction)
STEP_TEXT = st.sampled_from(["", "  ", "reset the adapter", "重装 Office\n报错消失", "a: b"])

Step = Callable[[Ticket, datetime, str], lc.Change]


def step_strategies() -> dict[str, st.SearchStrategy[tuple[str, Step]]]:
    """Each lifecycle step with its arguments, as (label, function of ticket, now, by)."""
    prio = st.none() | _enum(Priority)
    cat = st.none() | _enum(Category)
    reason = st.none() | STEP_TEXT
    ack = st.just(("ack", lambda t, now, by: lc.acknowledge(t, now=now, by=by)))
    classify = st.tuples(prio, cat).map(lambda pc: (
        f"classify {pc}", lambda t, now, by: lc.classify(
            t, now=now, by=by, priority=pc[0], category=pc[1], supervisor="chief")))
    assign = st.tuples(st.sampled_from(["zhang", "wang", " "]),
                       st.none() | st.just("network")).map(
        lambda a: (f"assign {a}", lambda t, now, by: lc.assign(
            t, now=now, by=by, to=a[0], team=a[1])))
    accept = st.just(("accept", lambda t, now, by: lc.accept(t, now=now, by=by)))
    log = st.tuples(st.sampled_from(["phone", "remote", "onsite", "note", "fax"]),
                    STEP_TEXT).map(
        lambda a: (f"log {a}", lambda t, now, by: lc.log_work(
            t, now=now, by=by, via=a[0], text=a[1])))
    escalate = st.tuples(STEP_TEXT, st.booleans(), st.booleans()).map(
        lambda a: (f"escalate {a}", lambda t, now, by: lc.escalate(
            t, now=now, by=by, reason=a[0], supervisor=None if a[1] else "chief",
            vendor="OA vendor" if a[1] else None,
            eta=now + timedelta(hours=4) if a[2] else None)))
    pending = st.tuples(st.sampled_from(["user", "vendor", "boss"]), reason).map(
        lambda a: (f"pending {a}", lambda t, now, by: lc.pending(
            t, now=now, by=by, on=a[0], reason=a[1])))
    resolve = st.tuples(STEP_TEXT, st.booleans()).map(
        lambda a: (f"resolve {a}", lambda t, now, by: lc.resolve(
            t, now=now, by=by, summary=a[0], verified=a[1])))
    followup = st.tuples(SAT, SAT, SAT, reason).map(
        lambda a: (f"followup {a}", lambda t, now, by: lc.followup(
            t, now=now, by=by, speed=a[0], attitude=a[1], overall=a[2], comment=a[3])))
    close = st.just(("close", lambda t, now, by: lc.close(t, now=now, by=by)))
    force = reason.map(lambda r: (f"close --force {r!r}", lambda t, now, by: lc.close(
        t, now=now, by=by, force=True, reason=r)))
    reopen = STEP_TEXT.map(lambda r: (f"reopen {r!r}", lambda t, now, by: lc.reopen(
        t, now=now, by=by, reason=r)))
    cancel = STEP_TEXT.map(lambda r: (f"cancel {r!r}", lambda t, now, by: lc.cancel(
        t, now=now, by=by, reason=r)))
    return {"ack": ack, "classify": classify, "assign": assign, "accept": accept, "log": log,
            "escalate": escalate, "pending": pending, "resolve": resolve,
            "followup": followup, "close": close, "force": force, "reopen": reopen,
            "cancel": cancel}  # fmt: skip


STEPS = step_strategies()
ANY_STEP = st.one_of(*STEPS.values())
# What a technician would try next in each status (from the spec's process, not from
# TRANSITIONS): drawing mostly from these takes sequences deep into the machine, while
# the other draws (ANY_STEP) try everything, illegal steps included.
LIKELY = {
    Status.NEW: ["ack", "cancel", "force"],
    Status.ACKNOWLEDGED: ["classify", "assign", "cancel", "force"],
    Status.ASSIGNED: ["accept", "assign", "classify", "escalate", "cancel", "force"],
    Status.IN_PROGRESS: ["log", "pending", "escalate", "resolve", "assign", "cancel", "force"],
    Status.PENDING_USER: ["accept", "resolve", "pending", "log", "assign"],
    Status.PENDING_VENDOR: ["accept", "resolve", "pending", "escalate", "assign"],
    Status.RESOLVED: ["followup", "close", "reopen", "force", "log"],
    Status.CLOSED: ["reopen"],
    Status.REOPENED: ["accept", "assign", "resolve", "pending", "force"],
    Status.CANCELLED: list(STEPS),
}


@cache
def _reference_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(store_schema.schema())


def assert_valid(t: Ticket, reference: bool = False) -> None:
    """The ticket passes the store's schema check and the status machine's history check;
    with ``reference``, also the jsonschema library (slower: used once per example)."""
    data = ticket_to_dict(t)
    if reference:
        errors = [e.message for e in _reference_validator().iter_errors(data)]
        assert errors == [], errors
    assert store.check_ticket_data(data, "tickets/x.yaml") == t
    assert history_problems(t) == []


# No explain phase: its line tracing costs minutes when a counterexample is found.
FAST_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]


@settings(max_examples=200, deadline=None, phases=FAST_PHASES)
@given(data=st.data())
def test_random_steps_never_leave_the_status_machine(data: st.DataObject) -> None:
    t = make_ticket()
    assert_valid(t, reference=True)
    now = T0
    for _ in range(data.draw(st.integers(min_value=1, max_value=25), label="steps")):
        if data.draw(st.integers(min_value=0, max_value=4)) == 0:
            label, step = data.draw(ANY_STEP)
        else:
            name = data.draw(st.sampled_from(LIKELY[t.status]))
            label, step = data.draw(STEPS[name])
        by = data.draw(WHO)
        now += timedelta(minutes=data.draw(st.integers(min_value=0, max_value=600)))
        try:
            change = step(t, now, by)
        except ItdeskError:
            continue  # refused: the ticket value is unchanged (it is immutable)
        new = change.ticket
        assert new.log[: len(t.log)] == t.log and len(new.log) > len(t.log), label
        assert new.escalations[: len(t.escalations)] == t.escalations, label
        if new.status is not t.status:
            assert new.status in TRANSITIONS[t.status], (label, t.status, new.status)
        assert change.subject.startswith(f"{t.id}: ")
        try:
            assert_valid(new)
        except AssertionError as exc:
            raise AssertionError(f"after {label} from {t.status.value}: {exc}") from None
        t = new
    assert_valid(t, reference=True)


# ------------------------------------------------------------- (2) YAML round trip


@settings(max_examples=100, deadline=None)
@given(TICKETS)
def test_yaml_round_trip(t: Ticket) -> None:
    data = ticket_to_dict(t)
    text = store.dump_yaml(data)
    assert store.load_yaml(text, "tickets/x.yaml") == data


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_yaml_round_trip_of_text_fields(texts: list[str]) -> None:
    t = make_ticket(title="t", description="\n".join(texts))
    t = lc.log_work(t, now=T0, by="desk", via="note", text="x").ticket
    notes = tuple(LogEntry(T0, "desk", LogKind.NOTE, x) for x in texts)
    lines = tuple(" ".join(x.split()) for x in texts)
    t = replace(t, remarks=texts[0], impact=Impact(True, texts[-1], lines),
                log=t.log + notes)  # fmt: skip
    data = ticket_to_dict(t)
    assert store.load_yaml(store.dump_yaml(data), "tickets/x.yaml") == data


def test_yaml_is_block_style_in_spec_order_with_literal_multiline_text() -> None:
    t = make_ticket(description="第一行\n第二行")
    text = store.dump_yaml(ticket_to_dict(t))
    assert text.startswith("id: IT-20231025-001\ntitle: WiFi authentication fails\nstatus: new\n")
    assert "description: |-\n  第一行\n  第二行\n" in text
    assert "王小明" in text  # allow_unicode: no \u escapes
    assert "{" not in text  # block style throughout


# ---------------------------------------------- (3) the real CLI on a real git desk

TID = "IT-20231025-001"
CLI_TEXT = st.sampled_from(["reset the adapter", "重装 Office: 报错消失", "it's \"fixed\"",
                            "a # b", "多行\n说明"])  # fmt: skip
CLI_SAT = st.sampled_from(["satisfied", "neutral", "unsatisfied", "满意", "一般", "不满意"])


def command_strategies() -> dict[str, st.SearchStrategy[list[str]]]:
    """Each command with its arguments (without --desk and --now)."""
    return {
        "ack": st.just(["ack", TID]),
        "classify": st.one_of(
            st.tuples(st.sampled_from(["P1", "2", "一般", "urgent"]),
                      st.sampled_from(["network", "硬件", "software"])).map(
                lambda a: ["classify", TID, "--priority", a[0], "--category", a[1]]),
            st.sampled_from(["P3", "紧急"]).map(lambda p: ["classify", TID, "--priority", p]),
        ),
        "assign": st.one_of(
            st.sampled_from(["zhang", "wang", "li", "nobody"]).map(
                lambda n: ["assign", TID, "--to", n]),
            st.just(["assign", TID, "--auto"]),
        ),
        "accept": st.sampled_from(["zhang", "wang"]).map(lambda n: ["accept", TID, "--as", n]),
        "log": st.tuples(st.sampled_from(["phone", "remote", "onsite", "note"]), CLI_TEXT).map(
            lambda a: ["log", TID, "--via", a[0], a[1]]),
        "escalate": st.one_of(
            CLI_TEXT.map(lambda r: ["escalate", TID, "--supervisor", "--reason", r]),
            st.just(["escalate", TID, "--vendor", "OA vendor", "--reason", "接口报错",
                     "--eta", "+2h"]),
        ),
        "pending": st.sampled_from(["user", "vendor"]).map(lambda o: ["pending", TID, "--on", o]),
        "resolve": st.tuples(CLI_TEXT, st.booleans()).map(
            lambda a: ["resolve", TID, "--summary", a[0]] + (["--verified"] if a[1] else [])),
        "followup": st.tuples(CLI_SAT, CLI_SAT, CLI_SAT).map(
            lambda s: ["followup", TID, "--speed", s[0], "--attitude", s[1], "--overall", s[2]]),
        "close": st.just(["close", TID]),
        "force": st.just(["close", TID, "--force", "--reason", "duplicate of IT-20231025-002"]),
        "reopen": st.just(["reopen", TID, "--reason", "WiFi drops again"]),
        "cancel": st.just(["cancel", TID, "--reason", "raised twice"]),
    }  # fmt: skip


COMMANDS = command_strategies()
ANY_COMMAND = st.one_of(*COMMANDS.values())


def _commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


@dataclass
class _Template:
    root: Path


@pytest.fixture
def template(make_desk: Callable[..., Itdesk]) -> _Template:
    """One desk with one new ticket, copied afresh for each example (init is the slow part)."""
    d = make_desk()
    assert d.new() == TID
    return _Template(d.desk)


@settings(
    max_examples=15,
    deadline=None,
    # No shrinking: each replay runs real git commands, and the pure test above already
    # shrinks the same properties to a minimal sequence.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_cli_commands_commit_once_or_refuse_cleanly(
    template: _Template, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    root = tmp_path_factory.mktemp("prop") / "desk"
    shutil.copytree(template.root, root, symlinks=True)
    desk = Itdesk(root)
    now = T0 + timedelta(minutes=1)
    for _ in range(data.draw(st.integers(min_value=1, max_value=10), label="commands")):
        status = Status(desk.ticket(TID)["status"])
        if data.draw(st.integers(min_value=0, max_value=3)) == 0:
            argv = data.draw(ANY_COMMAND)
        else:
            argv = data.draw(COMMANDS[data.draw(st.sampled_from(LIKELY[status]))])
        now += timedelta(minutes=7)
        run_checked(desk, argv, now, status)


def run_checked(desk: Itdesk, argv: list[str], now: datetime, status: Status) -> None:
    """Run one command and check the desk's promises whether it is accepted or refused."""
    root = desk.desk
    before = git_state(root)
    count = _commits(root)
    result = desk(*argv, "--now", now.isoformat())
    if result.exit_code == 0:
        assert _commits(root) == count + 1, argv
        assert git(root, "rev-parse", "HEAD~1").strip() == before.head
        changed = git(root, "diff", "--name-only", "HEAD~1", "HEAD").split()
        assert changed == [f"tickets/{TID}.yaml"], (argv, changed)
        assert git_state(root).status == "", argv
        subject = git(root, "log", "-1", "--format=%s").strip()
        assert subject.startswith(f"{TID}: "), subject
    else:
        assert result.exit_code == 2, (argv, result.exit_code, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("itdesk: error: "), (argv, result.stderr)
        assert git_state(root) == before, argv
    check = desk("validate")
    assert check.exit_code == 0, (argv, status.value, check.stdout, check.stderr)


def test_cli_accept_of_a_reopened_ticket_that_was_never_assigned(
    template: _Template, tmp_path: Path
) -> None:
    """A sequence the properties above can reach: the ticket is closed by force before
    anyone was assigned, reopened, then accepted. Accepting must either be refused
    cleanly or leave a ticket that passes `itdesk validate` (in_progress needs an
    assignee)."""
    root = tmp_path / "desk"
    shutil.copytree(template.root, root, symlinks=True)
    desk = Itdesk(root)
    steps = [
        (["close", TID, "--force", "--reason", "raised by mistake"], Status.NEW),
        (["reopen", TID, "--reason", "it was real after all"], Status.CLOSED),
        (["accept", TID, "--as", "zhang"], Status.REOPENED),
    ]
    for i, (argv, status) in enumerate(steps, 1):
        run_checked(desk, argv, T0 + timedelta(minutes=5 * i), status)


def test_the_template_desk_is_a_real_git_repository(template: _Template) -> None:
    out = subprocess.run(["git", "status", "--porcelain"], cwd=template.root, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    assert out == ""
    assert (template.root / "tickets" / f"{TID}.yaml").is_file()
