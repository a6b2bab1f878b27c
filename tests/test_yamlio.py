"""Tickets are parsed by a short path over the composed document (itdesk.store.yamlio);
whatever the text, it must give what PyYAML's own safe constructor gives: the same value
or the same error."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from itdesk.store.yamlio import Dumper, Loader, dump_yaml, parse

TRICKY = [
    "a: 1\nb: true\nc: ~\nd: 1.5\ne: 0x1F\nf: '0x1F'\ng: [1, 2]\nh: {x: y}\n",
    "<<: {a: 1}\nb: 2\n",  # a merge key
    "a: !!binary aGVsbG8=\n",
    "? [1, 2]\n: x\n",  # a list as a key
    "? {a: 1}\n: x\n",
    "a: 1\na: 2\n",
    "",
    "# only a comment\n",
    "x",
    "a: 2023-10-25T09:30:00+08:00\nb: 2023-10-25\n",  # timestamps stay strings
    "a: .inf\nb: -.Inf\nc: 1_000\nd: 190:20:30\ne: 0o17\nf: +12\ng: -0.5e3\n",
    "a: yes\nb: No\nc: on\nd: OFF\ne: null\nf: Null\ng: ''\n",
    "!!set {a, b}\n",
    "a: !!str 12\nb: !!int '7'\nc: !!float '1'\n",
    "a: !custom x\n",
    "--- a\n--- b\n",
    "a: [1\n",
    "{a: 1, a: 2}",
    "a: 'x'\n? b\n",
    "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
    "- [[[[[[1]]]]]]\n- {a: {b: {c: [x]}}}\n",
    "a: !!omap [x: 1, y: 2]\n",
    "a: !!pairs [x: 1, x: 2]\n",
    "a: !!null ''\nb: !!bool 'true'\n",
    "a: !!map {x: 1}\nb: !!seq [1]\n",
]


def _outcome(load: Any, text: str) -> Any:
    try:
        return ("value", repr(load(text)))
    except yaml.YAMLError as exc:
        return ("error", type(exc).__name__, str(exc))


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_documents_load_as_pyyaml_loads_them(text: str) -> None:
    assert _outcome(parse, text) == _outcome(lambda t: yaml.load(t, Loader=Loader), text)


def test_a_deeply_nested_document_is_no_traceback() -> None:
    text = "[" * 5000 + "]" * 5000
    assert _outcome(parse, text) == _outcome(lambda t: yaml.load(t, Loader=Loader), text)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["yes", "no", "~", "0x10", "1_0", "12:30", "2023-10-25", ".nan", "-", "'"]),
)
_data = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(_data)
def test_any_dumped_data_loads_back_as_pyyaml_loads_it(data: Any) -> None:
    text = dump_yaml(data)
    assert _outcome(parse, text) == _outcome(lambda t: yaml.load(t, Loader=Loader), text)


# dump_yaml builds the nodes itself (#12: PyYAML's representer was 40% of an import of
# 100,000 rows) and must write exactly what yaml.dump writes with the desk's dumper.


def _reference(data: Any) -> str:
    return yaml.dump(
        data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False,
        width=100,
    )  # fmt: skip


DUMP_TRICKY = [
    "", " ", "x\ny", "x\n", " \n", "null", "~", "yes", "no", "true", "1.5", "0x1F", "13938702456",
    "2023-10-25", "2023-10-25T09:30:00+08:00", "- x", "a: b", "#c", "a #c", "'q'", '"q"',
    "  lead", "trail ", "tab\there", "\u2028", "\x85", "é中文", "紧急: 网络", "x" * 150,
    "word " * 40, "中文" * 60, "*alias", "&anchor", "!tag", "%pct", "@at", "`tick`", "{a}", "[a]",
]  # fmt: skip
dumped_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(DUMP_TRICKY), st.text(max_size=120)
)
dumped_data = st.recursive(
    dumped_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(st.sampled_from(DUMP_TRICKY), st.text(max_size=12)), inner, max_size=5
        )
    ),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(dumped_data)
def test_dump_yaml_writes_what_yaml_dump_writes(value: Any) -> None:
    assert dump_yaml(value) == _reference(value)


def test_a_shared_list_or_another_type_goes_through_yaml_dump() -> None:
    shared = ["a"]
    assert dump_yaml({"x": shared, "y": shared}) == _reference({"x": shared, "y": shared})
    assert dump_yaml({"f": 1.5, "g": [2.0]}) == _reference({"f": 1.5, "g": [2.0]})
    assert parse(dump_yaml({"a": "b\nc", "d": [None, True, 3]})) == {
        "a": "b\nc",
        "d": [None, True, 3],
    }
