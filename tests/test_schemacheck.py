"""The fast schema checker agrees with the jsonschema library on valid and broken tickets."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import make_ticket
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from itdesk.core.lifecycle import (
    accept,
    acknowledge,
    assign,
    classify,
    escalate,
    followup,
    resolve,
)
from itdesk.core.model import (
    Category,
    Escalation,
    Impact,
    LogEntry,
    LogKind,
    Priority,
    Requester,
    Resolution,
    Satisfaction,
    Status,
    Ticket,
    ticket_from_dict,
    ticket_to_dict,
)
from itdesk.errors import InvalidTicket
from itdesk.store.schema import (
    check_data,
    jsonschema_problems,
    schema,
    schema_problems,
    schema_valid,
)
from itdesk.store.schemacheck import Checker

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["P1", "new", "network", "2023-10-25T09:30:00+08:00", "", "IT-1"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _full_ticket() -> dict[str, Any]:
    t = make_ticket()
    now = t.reported_at
    t = acknowledge(t, now=now, by="desk").ticket
    t = classify(
        t, now=now, by="desk", priority=Priority.P1, category=Category.SOFTWARE, supervisor="chen"
    ).ticket
    t = assign(t, now=now, by="desk", to="li", team="desk").ticket
    t = accept(t, now=now, by="li").ticket
    t = escalate(t, now=now, by="li", vendor="OA vendor", reason="interface", eta=now).ticket
    t = resolve(t, now=now, by="li", summary="vendor patched it", verified=True).ticket
    t = followup(
        t,
        now=now,
        by="desk",
        speed=Satisfaction.SATISFIED,
        attitude=Satisfaction.NEUTRAL,
        overall=Satisfaction.SATISFIED,
        comment="ok",
    ).ticket
    return ticket_to_dict(t)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


BASE = _full_ticket()
PATHS = _paths(BASE)


def test_valid_ticket_passes_both() -> None:
    assert schema_problems(BASE) == []
    assert jsonschema_problems(BASE) == []
    assert schema_valid(BASE)


@settings(max_examples=250, deadline=None)
@given(st.sampled_from(PATHS), json_values, st.sampled_from(["set", "delete", "add"]))
def test_checkers_agree_on_mutations(path: tuple[Any, ...], value: Any, how: str) -> None:
    data = copy.deepcopy(BASE)
    parent: Any = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "set":
        parent[last] = value
    elif how == "delete" and isinstance(parent, dict):
        del parent[last]
    elif how == "add" and isinstance(parent, dict):
        parent[f"x_{last}"] = value
    fast = schema_problems(data)
    reference = jsonschema_problems(data)
    assert bool(fast) == bool(reference), (path, how, value, fast, reference)
    assert schema_valid(data) == (not fast), (path, how, value, fast)  # the compiled schema


@settings(max_examples=250, deadline=None)
@given(json_values)
def test_compiled_schema_agrees_on_any_value(value: Any) -> None:
    assert schema_valid(value) == (not schema_problems(value))


# A definition that refers to itself (a tree), and oneOf of three alternatives: shapes
# the ticket schema has not, compiled by the same code (#12: a $ref is called directly
# unless it refers to itself; two alternatives are one test).
TREE = {
    "$defs": {
        "node": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"oneOf": [{"type": "string"}, {"enum": ["a", 1]}]},
                "tag": {"oneOf": [{"type": "null"}, {"type": "string", "minLength": 1},
                                  {"enum": [1, 2, "x"]}]},
                "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}},
            },
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/node",
}  # fmt: skip
_names = st.sampled_from([None, "", "a", "b", 1, 2, True, []])
trees = st.recursive(
    st.fixed_dictionaries({"name": _names}, optional={"tag": _names | st.just("x")}),
    lambda kids: st.fixed_dictionaries(
        {"name": _names},
        optional={"kids": st.lists(kids, max_size=3), "tag": st.just("x"), "y": st.just(1)},
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_a_schema_referring_to_itself_agrees_with_jsonschema(tree: Any) -> None:
    from jsonschema import Draft202012Validator

    expected = Draft202012Validator(TREE).is_valid(tree)
    checker = Checker(TREE, interpret_first=0)  # compiled at once
    assert checker.is_valid(tree) == expected == (not checker.problems(tree))
    assert Checker(TREE).is_valid(tree) == expected  # answered by walking it


def test_a_checker_walks_the_schema_for_its_first_checks_then_compiles_it() -> None:
    """A command checking a ticket or two does not pay for compiling the schema (#12)."""
    from itdesk.store import schemacheck
    from itdesk.store.schema import schema

    checker = Checker(schema(), interpret_first=2)
    for _ in range(2):
        assert checker.is_valid(BASE) and checker._compiled is None
    assert not checker.is_valid({**BASE, "id": "x"}) and checker._compiled is not None
    assert checker.is_valid(BASE)
    assert schemacheck.INTERPRET_FIRST > 0  # the default: a command never compiles it


def test_unsupported_keyword_is_refused() -> None:
    bad = copy.deepcopy(schema())
    bad["properties"]["title"]["maxLength"] = 10
    with pytest.raises(ValueError, match="maxLength"):
        Checker(bad)


@pytest.mark.parametrize("key", ["status", "priority", "category", "channel"])
@pytest.mark.parametrize(
    "value", [True, False, 0, 1, 1.0, "", "P1", "new", "NEW", None, [], {}, ["new"], {"a": 1}]
)
def test_enums_agree_with_jsonschema_on_lookalikes(key: str, value: Any) -> None:
    """The compiled enum is a set lookup of (type, value): true is not 1, 1.0 is not a
    word, a list or a mapping is never a member, as JSON Schema says."""
    data = copy.deepcopy(BASE)
    data[key] = value
    assert schema_valid(data) == (not jsonschema_problems(data)), (key, value)


_BERLIN = ZoneInfo("Europe/Berlin")
_PLUS8 = timezone(timedelta(hours=8))

# What a written ticket's check leans on (#12): a Ticket's data that passes the schema
# builds the same ticket again, so ``check_data`` need not build it (the model's checks
# ran when it was made). Times naive or with any zone, texts with control characters:
# whatever the model lets through, the schema refuses or ticket_from_dict takes.
_times = st.datetimes(
    min_value=datetime(1, 1, 2), timezones=st.none() | st.sampled_from([UTC, _BERLIN, _PLUS8])
)
_texts = st.text(st.sampled_from("ab 中/"), max_size=6)


@st.composite
def _tickets(draw: st.DrawFn) -> Ticket:
    opt = st.none() | _texts
    try:
        return Ticket(
            id=draw(st.sampled_from(["IT-20231025-001", "x", ""])),
            title=draw(_texts),
            status=draw(st.sampled_from(list(Status))),
            requester=Requester(
                draw(_texts), draw(opt), draw(opt), draw(st.none() | st.just("8021"))
            ),
            reported_at=draw(_times),
            priority=draw(st.none() | st.sampled_from(list(Priority))),
            category=draw(st.none() | st.sampled_from(list(Category))),
            impact=Impact(
                draw(st.booleans()), draw(opt), tuple(draw(st.lists(_texts, max_size=2)))
            ),
            description=draw(st.sampled_from(["", "a\tb\nc", "\x00", "\u2028"])),
            expected_by=draw(st.none() | _times),
            team=draw(opt),
            assignee=draw(opt),
            escalations=tuple(
                Escalation(draw(_times), draw(_texts), draw(_texts), draw(_texts), draw(_texts))
                for _ in range(draw(st.integers(0, 1)))
            ),
            log=tuple(
                LogEntry(
                    draw(_times), draw(_texts), draw(st.sampled_from(list(LogKind))), draw(_texts)
                )
                for _ in range(draw(st.integers(0, 2)))
            ),
            resolution=draw(st.none() | st.builds(Resolution, _texts, _times, _texts)),
            kb=tuple(draw(st.lists(_texts, max_size=2))),
            remarks=draw(opt),
        )
    except InvalidTicket:
        reject()
        raise AssertionError("unreachable") from None


@given(_tickets())
@settings(max_examples=300)
def test_a_tickets_data_that_passes_the_schema_builds_the_same_ticket(t: Ticket) -> None:
    data = ticket_to_dict(t)
    try:
        check_data(data, "tickets/active/x.yaml")
    except InvalidTicket as exc:
        assert "tickets/active/x.yaml" in str(exc)
        return
    assert ticket_to_dict(ticket_from_dict(data)) == data


def _read_cell(text: str, fast: bool) -> tuple[object, object] | str:
    """What an import makes of a record cell: the ticket and its data, or the error."""
    from itdesk.channels import recordform

    saved = list(recordform._MSGSPEC)
    if not fast:
        recordform._MSGSPEC[:] = [None, None]
    try:
        return recordform._whole_ticket(text)
    except recordform.InvalidValue as exc:
        return str(exc)
    finally:
        recordform._MSGSPEC[:] = saved


_EDITS = [
    lambda s: s,
    lambda s: s.replace(",", ", ", 1),  # json reads it; not as export writes it
    lambda s: s.replace('"id":', '"id" :', 1),
    lambda s: s.replace("+08:00", "+08:00:00", 1),
    lambda s: s.replace(':"', ':"\\u0001', 1),
    lambda s: s.replace(':"', ':"\\ud800', 1),  # a lone surrogate
    lambda s: s.replace('"log":[', '"log":[{},', 1),
    lambda s: s.replace("null", "1", 1),
    lambda s: s.replace("null", '""', 1),
    lambda s: s.replace("true", "1", 1) if "true" in s else s.replace("false", "0", 1),
    lambda s: s[:-1] + ',"x":1}',
    lambda s: '{"remarks":null,' + s[1:],  # a key twice: json keeps the last
    lambda s: s[: len(s) // 2],
    lambda s: s.replace(',"remarks":null', "", 1),  # a key left out: the model's default
    lambda s: s.replace('"kb":[]', '"kb":[],"attachments":[]', 1).replace(
        ',"attachments":[]}', "}"
    ),
]


@given(_tickets(), st.sampled_from(range(len(_EDITS))))
@settings(max_examples=400)
def test_a_record_cell_read_by_msgspec_is_what_json_and_the_model_make_of_it(
    t: Ticket, edit: int
) -> None:
    """The fast reading of a record cell (msgspec, #12) gives the ticket and data the
    usual one gives, or the same refusal, for cells as export writes them and edited."""
    from itdesk.channels.recordform import record_cell

    cell = record_cell(t)
    text = _EDITS[edit](cell)
    fast, slow = _read_cell(text, True), _read_cell(text, False)
    assert fast == slow
    if not isinstance(fast, str):  # the same ticket, field for field, also in type
        assert ticket_to_dict(fast[0]) == ticket_to_dict(slow[0])  # type: ignore[arg-type]
        assert fast[0].reported_at.tzinfo == slow[0].reported_at.tzinfo  # type: ignore[union-attr]


def test_a_record_cell_as_export_writes_it_is_read_by_msgspec() -> None:
    """The fast reading is the one taken for an exported ticket (else it saves nothing)."""
    from conftest import make_ticket

    from itdesk.channels import recordform
    from itdesk.channels.recordform import record_cell

    recordform._whole_ticket(record_cell(make_ticket()))  # (made on first use)
    if recordform._MSGSPEC[0] is None:
        pytest.skip("msgspec is not installed")
    t = make_ticket()
    assert recordform._as_exported(record_cell(t)) is not None
    assert recordform._as_exported(record_cell(t).replace(",", ", ", 1)) is None
