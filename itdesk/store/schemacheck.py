"""A small JSON Schema checker for the keywords the ticket schema uses.

Why not jsonschema here: importing it costs ~150 ms (it builds classes with attrs at
import time), half of a write's time budget, and every command reads or writes a
ticket. This module interprets only the keywords in ``schema/ticket.schema.json`` and
refuses, when it is built, a schema that uses any other, so it can never skip a rule
silently. ``itdesk validate`` and the tests still run the real jsonschema over the
same schema, and a property test checks that both agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "$comment", "$defs"})
KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "pattern",
        "minLength",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "oneOf",
        "$ref",
    }
)
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "integer": (int,),
    "number": (int, float),
}

Problem = tuple[list[str | int], str]
Validator = Callable[[Any], bool]


class Checker:
    def __init__(self, schema: Mapping[str, Any]):
        self.root = schema
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._compiled: Validator | None = None
        self._check_keywords(schema, "#")

    def _check_keywords(self, node: Any, where: str) -> None:
        if not isinstance(node, Mapping):
            return
        unknown = set(node) - KEYWORDS - ANNOTATIONS
        if unknown:
            raise ValueError(f"schema keyword {sorted(unknown)[0]} at {where} is not supported")
        for key in ("properties", "$defs"):
            for name, sub in (node.get(key) or {}).items():
                self._check_keywords(sub, f"{where}/{key}/{name}")
        for key in ("items", "additionalProperties"):
            self._check_keywords(node.get(key), f"{where}/{key}")
        for i, sub in enumerate(node.get("oneOf") or ()):
            self._check_keywords(sub, f"{where}/oneOf/{i}")

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, not {ref}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node  # type: ignore[no-any-return]

    def is_valid(self, data: Any) -> bool:
        """Whether ``data`` has no problem, by the schema compiled into closures once
        (about four times faster than :meth:`problems`, which says what is wrong):
        ``validate`` checks 100,000 tickets with it (#12)."""
        if self._compiled is None:
            self._compiled = _Compiler(self).compile(self.root)
        return self._compiled(data)

    def problems(self, data: Any) -> list[Problem]:
        out: list[Problem] = []
        self._walk(self.root, data, [], out)
        return out

    def _walk(
        self, schema: Mapping[str, Any], value: Any, path: list[str | int], out: list[Problem]
    ) -> None:
        if "$ref" in schema:
            self._walk(self._resolve(schema["$ref"]), value, path, out)
        if "oneOf" in schema:
            matches = []
            nearest: list[Problem] = []
            for sub in schema["oneOf"]:
                found: list[Problem] = []
                self._walk(sub, value, path, found)
                if not found:
                    matches.append(sub)
                elif not nearest or _depth(found) > _depth(nearest):
                    nearest = found
            if len(matches) != 1:
                out.extend(
                    nearest[:1]
                    if not matches
                    else [(path, f"{value!r} is valid under more than one alternative")]
                )
            return
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(_is_type(value, t) for t in types):
                out.append((path, f"{value!r} is not of type {', '.join(map(repr, types))}"))
                return
        if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
            out.append((path, f"{value!r} is not one of {schema['enum']!r}"))
            return
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append((path, f"{value!r} is too short"))
            pattern = schema.get("pattern")
            if pattern is not None:
                compiled = self._patterns.get(pattern)
                if compiled is None:
                    compiled = self._patterns[pattern] = re.compile(pattern)
                if not compiled.search(value):
                    what = schema.get("description") or f"matching {pattern!r}"
                    out.append((path, f"{value!r} is not {what}"))
        if isinstance(value, dict):
            for key in schema.get("required", ()):
                if key not in value:
                    out.append((path, f"{key!r} is a required property"))
            props = schema.get("properties", {})
            for key, sub in value.items():
                if key in props:
                    self._walk(props[key], sub, [*path, key], out)
                elif schema.get("additionalProperties") is False:
                    out.append(
                        (path, f"Additional properties are not allowed ({key!r} was unexpected)")
                    )
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                self._walk(schema["items"], item, [*path, i], out)


def _depth(problems: list[Problem]) -> int:
    return max(len(p) for p, _ in problems)


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[name])


def _same(value: Any, expected: Any) -> bool:
    # JSON Schema: true is not 1, and 1 is not true.
    return (
        value == expected and type(value) is type(expected) or (value is None and expected is None)
    )


class _Compiler:
    """A schema node as one closure answering "valid?", with the very rules of
    :meth:`Checker._walk` (which stops at ``oneOf``, a wrong type or a wrong enum)."""

    def __init__(self, checker: Checker):
        self.checker = checker
        self.refs: dict[str, Validator] = {}

    def compile(self, schema: Mapping[str, Any]) -> Validator:
        parts: list[Validator] = []
        if "$ref" in schema:
            parts.append(self._ref(schema["$ref"]))
        if "oneOf" in schema:
            parts.append(_one_of([self.compile(sub) for sub in schema["oneOf"]]))
            return _all(parts)
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            parts.append(_type_check(names))
        if "enum" in schema:
            parts.append(_enum_check(list(schema["enum"])))
        strings: list[Validator] = []
        if "minLength" in schema:
            least = schema["minLength"]
            strings.append(lambda v: len(v) >= least)
        if schema.get("pattern") is not None:
            search = re.compile(schema["pattern"]).search
            strings.append(lambda v: search(v) is not None)
        if strings:
            string = _all(strings)
            parts.append(lambda v: not isinstance(v, str) or string(v))
        if "required" in schema or "properties" in schema or "additionalProperties" in schema:
            parts.append(self._object(schema))
        if "items" in schema:
            item = self.compile(schema["items"])
            parts.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
        return _all(parts)

    def _ref(self, ref: str) -> Validator:
        if ref not in self.refs:
            target: list[Validator] = []
            self.refs[ref] = lambda v: target[0](v)  # compiled below; may refer to itself
            target.append(self.compile(self.checker._resolve(ref)))
            # other places call the compiled definition directly (a ticket's ~40, #12)
            self.refs[ref] = target[0]
        return self.refs[ref]

    def _object(self, schema: Mapping[str, Any]) -> Validator:
        required = tuple(schema.get("required", ()))
        props = {key: self.compile(sub) for key, sub in schema.get("properties", {}).items()}
        closed = schema.get("additionalProperties") is False

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for key in required:
                if key not in v:
                    return False
            for key, sub in v.items():
                f = props.get(key)
                if f is None:
                    if closed:
                        return False
                elif not f(sub):
                    return False
            return True

        return check


def _enum_check(choices: list[Any]) -> Validator:
    """One of ``choices`` (:func:`_same`): a set lookup of (type, value) when they are
    all text, numbers, booleans or null, as a ticket's are (an import checks ~50 a row)."""
    if all(c is None or type(c) in (str, int, bool, float) for c in choices):
        allowed = frozenset((type(c), c) for c in choices)

        def member(v: Any) -> bool:
            try:
                return (type(v), v) in allowed
            except TypeError:  # a list or a mapping: never one of these
                return False

        return member
    return lambda v: any(_same(v, e) for e in choices)


def _one_of(subs: list[Validator]) -> Validator:
    """Exactly one of ``subs`` holds (``oneOf``): of two, one and not the other."""
    if len(subs) == 2:
        first, second = subs
        return lambda v: bool(first(v)) is not bool(second(v))

    def one(v: Any) -> bool:
        found = False
        for sub in subs:
            if sub(v):
                if found:
                    return False
                found = True
        return found

    return one


def _all(parts: list[Validator]) -> Validator:
    if not parts:
        return lambda v: True
    if len(parts) == 1:
        return parts[0]
    first, rest = parts[0], _all(parts[1:])  # chained: no generator per value checked
    return lambda v: first(v) and rest(v)


def _type_check(names: list[str]) -> Validator:
    kinds = tuple(t for n in names for t in _TYPES[n])
    numeric = any(n in ("integer", "number") for n in names)
    if numeric and "boolean" not in names:  # JSON Schema: true is not a number
        return lambda v: isinstance(v, kinds) and not isinstance(v, bool)
    return lambda v: isinstance(v, kinds)
