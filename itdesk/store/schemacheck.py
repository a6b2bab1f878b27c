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

_SIMPLE = frozenset({str, int, bool, float, type(None)})  # what an enum of a ticket holds
_LEAF = ("type", "enum", "minLength", "pattern")  # the keywords of one value alone

Problem = tuple[list[str | int], str]
Validator = Callable[[Any], bool]


# Checks answered by walking the schema (:meth:`Checker.problems`, ~0.2 ms a ticket)
# before it is compiled (~5 ms, most of it Python compiling the source): a command that
# checks a ticket or two never compiles it; validate and import compile it once (#12).
INTERPRET_FIRST = 16


class Checker:
    def __init__(self, schema: Mapping[str, Any], interpret_first: int = INTERPRET_FIRST):
        self.root = schema
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._compiled: Validator | None = None
        self._interpret = interpret_first  # checks left to answer before compiling
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
        """Whether ``data`` has no problem: by :meth:`problems` for the first few
        (:data:`INTERPRET_FIRST`), then by the schema compiled into Python once (about
        six times faster): ``validate`` and an import check 100,000 tickets (#12)."""
        if self._compiled is None:
            if self._interpret > 0:
                self._interpret -= 1
                return not self.problems(data)
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
    """The schema as Python source, one function per schema node answering "valid?",
    with the very rules of :meth:`Checker._walk` (which stops at ``oneOf``, a wrong type
    or a wrong enum), compiled once. One flat function a node instead of a chain of
    closures (a call per keyword): half the time for a ticket, which every write,
    ``validate`` and an import check (#12). The schema's values (enums, patterns,
    keys) are names the source refers to, never written into it."""

    def __init__(self, checker: Checker):
        self.checker = checker
        self.refs: dict[str, str] = {}  # $ref -> the name of its function
        self._inlining: set[str] = set()  # the $refs being written out (see _expr)
        self.lines: list[str] = []
        self.names: dict[str, Any] = {}  # what the source refers to
        self.count = 0

    def compile(self, schema: Mapping[str, Any]) -> Validator:
        root = self._node(schema)
        space = {**self.names, "_MISSING": object()}
        exec(compile("\n".join(self.lines), "<schema>", "exec"), space)  # noqa: S102
        return space[root]  # type: ignore[no-any-return]

    def _name(self, value: Any) -> str:
        name = f"_k{len(self.names)}"
        self.names[name] = value
        return name

    def _node(self, schema: Mapping[str, Any], name: str | None = None) -> str:
        if name is None:
            name = f"_n{self.count}"
            self.count += 1
        body: list[str] = []
        if "$ref" in schema:
            body.append(f"if not {self._ref(schema['$ref'])}(v): return False")
        if "oneOf" in schema:
            subs = [self._node(sub) for sub in schema["oneOf"]]
            if len(subs) == 2:
                body.append(f"if bool({subs[0]}(v)) is bool({subs[1]}(v)): return False")
            else:
                body.append(f"if [f(v) for f in ({', '.join(subs)},)].count(True) != 1:")
                body.append("    return False")
            self._emit(name, body)
            return name
        leaf = {key: schema[key] for key in _LEAF if key in schema}
        if leaf:  # type, enum, length and pattern: one expression
            body.append(f"if not ({self._expr(leaf, 'v')}): return False")
        if "required" in schema or "properties" in schema or "additionalProperties" in schema:
            required = self._name(frozenset(schema.get("required", ())))
            props = schema.get("properties", {})
            body += ["if isinstance(v, dict):", f"    if not v.keys() >= {required}: return False"]
            if schema.get("additionalProperties") is False:
                body.append(
                    f"    if not {self._name(frozenset(props))}.issuperset(v): return False"
                )
            for key, sub in props.items():  # each one's check written here when it is short
                body.append(f"    s = v.get({self._name(key)}, _MISSING)")
                body.append(
                    f"    if s is not _MISSING and not ({self._expr(sub, 's')}): return False"
                )
        if "items" in schema:
            item = self._expr(schema["items"], "x")
            body += ["if isinstance(v, list):", "    for x in v:",
                     f"        if not ({item}): return False"]  # fmt: skip
        self._emit(name, body)
        return name

    def _expr(self, schema: Mapping[str, Any], var: str) -> str:
        """An expression saying whether ``var`` is valid by ``schema``: written out for a
        node of type, enum, length and pattern only (most of a ticket's), else a call."""
        keys = set(schema) - ANNOTATIONS
        if keys == {"$ref"}:
            ref = schema["$ref"]
            target = self.checker._resolve(ref)
            if ref not in self._inlining and set(target) - ANNOTATIONS <= {*_LEAF, "oneOf"}:
                self._inlining.add(ref)  # (a schema that refers to itself is called, not written)
                try:
                    return self._expr(target, var)
                finally:
                    self._inlining.discard(ref)
            return f"{self._ref(ref)}({var})"
        if keys == {"oneOf"} and len(schema["oneOf"]) == 2:
            first, second = (self._expr(sub, var) for sub in schema["oneOf"])
            return f"(bool({first}) is not bool({second}))"
        if not keys <= set(_LEAF):
            return f"{self._node(schema)}({var})"
        parts: list[str] = []
        hashable = False
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            parts.append(
                f"isinstance({var}, {self._name(tuple(t for n in names for t in _TYPES[n]))})"
            )
            if any(n in ("integer", "number") for n in names) and "boolean" not in names:
                parts.append(f"not isinstance({var}, bool)")  # JSON Schema: true is not a number
            hashable = not {"object", "array"} & set(names)
        if "enum" in schema:
            choices = list(schema["enum"])
            if all(c is None or type(c) in (str, int, bool, float) for c in choices):
                allowed = self._name(frozenset((type(c), c) for c in choices))
                if not hashable:  # (a list or a mapping is never one of these)
                    parts.append(f"type({var}) in {self._name(_SIMPLE)}")
                parts.append(f"(type({var}), {var}) in {allowed}")
            else:
                parts.append(f"{self._name(_enum_check(choices))}({var})")
        strings: list[str] = []
        if "minLength" in schema:
            strings.append(f"len({var}) >= {self._name(schema['minLength'])}")
        if schema.get("pattern") is not None:
            search = self._name(re.compile(schema["pattern"]).search)
            strings.append(f"{search}({var}) is not None")
        if strings:
            parts.append(f"(not isinstance({var}, str) or ({' and '.join(strings)}))")
        return " and ".join(parts) or "True"

    def _emit(self, name: str, body: list[str]) -> None:
        self.lines.append(f"def {name}(v):")
        self.lines += [f"    {line}" for line in body]
        self.lines.append("    return True")

    def _ref(self, ref: str) -> str:
        if ref not in self.refs:
            name = self.refs[ref] = f"_r{len(self.refs)}"  # named first: it may refer to itself
            self._node(self.checker._resolve(ref), name)
        return self.refs[ref]


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
