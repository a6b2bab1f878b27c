"""store/emit.py writes the bytes yamlio.dump_yaml writes, or says it is unsure."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itdesk.store.emit import dump
from itdesk.store.yamlio import dump_yaml, parse

# Text as people type it, with every character that changes libyaml's choices: spaces,
# line breaks, quotes, indicators, Chinese, a tab, an emoji, U+2028, NBSP, a BOM.
ALPHABET = (
    string.ascii_letters
    + string.digits
    + " \n\n  '\"#:-?,[]{}&*!|>%@`.~=<+_/\\"
    + "王小明认证失败，。：“”"
    + "\t\U0001f62d\u2028\xa0\ufeff\r\x85"
)
TEXTS = st.text(alphabet=ALPHABET, max_size=260)
WORDS = st.sampled_from(["yes", "No", "on", "null", "~", "", "1", "0o7", "0x1F", "1.5", "-.inf",
                         "2026-11-25", "2026-11-25T17:30:00+08:00", "2023-1-2 3:04:05", "<<",
                         "=", "-", "- a", "? x", ": y", "a: b", "a #b", "a#b", "...", "---x",
                         "x:", "12:30", "1_000", "+12", ".5", "e5", "NaN", ".nan"])  # fmt: skip
SCALARS = st.one_of(TEXTS, WORDS, st.none(), st.booleans(), st.integers(-(10**12), 10**12))
KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)


def mappings(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.dictionaries(KEYS, values, max_size=6)


DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), mappings(inner)),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mappings(DATA))
def test_same_bytes_as_the_dumper_or_unsure(data: dict) -> None:
    text = dump(data)
    if text is not None:
        assert text == dump_yaml(data)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + " .,;()/+-王小明认证失败，。", max_size=300
    ),
    st.integers(0, 3),
)
def test_everyday_text_is_written(text: str, depth: int) -> None:
    """Text without tabs, emoji or odd breaks is never left to PyYAML, at any depth,
    folded or not; and it reads back as it was."""
    data: dict = {"title": text}
    for _ in range(depth):
        data = {"outer": [data, {"n": 1}]}
    got = dump(data)
    assert got is not None
    assert got == dump_yaml(data)
    assert parse(got) == data


def test_a_ticket_as_the_desk_writes_it() -> None:
    ticket = {
        "id": "IT-20261125-001",
        "title": "WiFi 认证失败: 手机可以 #2",
        "status": "new",
        "priority": None,
        "requester": {"name": "王小明", "contact": "13956785678"},
        "impact": {"blocks_work": True, "scope": None, "devices": []},
        "description": "连接公司 WiFi 时提示“认证失败”。\n\n  手机可以正常连接。\n",
        "reported_at": "2026-11-25T17:30:00+08:00",
        "log": [{"at": "2026-11-25T17:30:00+08:00", "by": "zhang", "text": "yes"}],
        "kb": ["KB-001"],
        "attachments": [],
        "remarks": "",
    }
    assert dump(ticket) == dump_yaml(ticket)


def test_unsure_cases_fall_back() -> None:
    for value in ["a\tb", "😭", "x\n\n", "trailing \nspace", "\n", 1.5]:
        assert dump({"a": value}) is None, value
    assert dump({"a": [["x"]]}) is None
    assert dump({"not a key": 1}) is None
    assert dump({}) is None


def test_a_key_that_is_a_str_subclass_is_left_to_pyyaml_also_after_its_twin() -> None:
    """Keys written before are not checked again, but their type is: a str enum equal
    to a known key is not that key (PyYAML refuses it)."""
    import enum

    from itdesk.store import emit

    class Key(enum.StrEnum):
        status = "status"

    assert emit.dump({"status": "x"}) == "status: x\n"
    assert emit.dump({Key.status: "x"}) is None


TIME = "2026-11-25T17:30:00+08:00"
LOOKALIKES = st.lists(
    st.tuples(
        st.integers(0, len(TIME) - 1),
        st.sampled_from(list("٣０")) | st.sampled_from(list("0123456789-+:Tt Z.x")),
    ),
    max_size=2,
).map(lambda changes: "".join((dict(enumerate(TIME)) | dict(changes)).values()).rstrip())


@given(st.lists(LOOKALIKES | st.sampled_from([TIME, TIME[:-6], TIME + "0", "0" + TIME])))
def test_times_and_their_lookalikes_are_written_as_the_dumper_writes_them(
    texts: list[str],
) -> None:
    """A desk's time is quoted (the resolver reads it as a date); a text that only looks
    like one (a Unicode digit, another separator, a character more) as the dumper says."""
    data = {"at": texts[0] if texts else TIME, "log": [{"at": t} for t in texts]}
    text = dump(data)
    assert text is None or text == dump_yaml(data)
    assert text is not None or not all(t.isascii() and t.isprintable() for t in texts)
