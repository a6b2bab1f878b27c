"""The fast schema checker agrees with the jsonschema library on valid and broken tickets."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conftest import make_ticket
from hypothesis import given, settings
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
from itdesk.core.model import Category, Priority, Satisfaction, ticket_to_dict
from itdesk.store.schema import jsonschema_problems, schema, schema_problems, schema_valid
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
