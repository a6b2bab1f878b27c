"""YAML in and out: the C loader and dumper when PyYAML has them, safe loading only.

Imported only by code that parses or writes YAML, so that a command served entirely
from the cache (``list``) does not pay for importing PyYAML.

Timestamps stay strings when loaded: the ticket schema and the model parse them, and
a hand-typed ``2023-10-25 09:30`` gets a clear schema message instead of turning into
a datetime without a zone.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import InvalidTicket

try:
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
    _BaseDumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
except AttributeError:  # PyYAML without libyaml
    _BaseLoader = yaml.SafeLoader
    _BaseDumper = yaml.SafeDumper


class Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading; timestamps are left as strings."""


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


class Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    """Block style; multi-line text as ``|`` blocks so hand edits and diffs stay readable."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


Dumper.add_representer(str, _str_representer)


_DUMPED_SCALARS: dict[type, tuple[str, Any]] = {
    bool: ("tag:yaml.org,2002:bool", lambda v: "true" if v else "false"),
    int: ("tag:yaml.org,2002:int", str),
    type(None): ("tag:yaml.org,2002:null", lambda v: "null"),
}
_RESOLVED: dict[tuple[str, tuple[bool, bool]], str] = {}  # plain scalar -> its tag
_RESOLVED_MAX = 20_000  # keys, names, statuses: short texts that come back in every ticket


class _Unrepresented(Exception):
    """Data :func:`_node` does not represent (another type, a shared list or dict)."""


def dump_yaml(data: Any) -> str:
    """``data`` as YAML, block style, keys in their order; multi-line text as ``|``.

    The same text as ``yaml.dump`` with :class:`Dumper`, made faster for what tickets
    hold (dicts, lists, text, booleans, integers, null): the nodes are built here, where
    PyYAML's representer spent 40% of an import of 100,000 rows in Python (#12), and
    libyaml's emitter writes them. Anything else goes through ``yaml.dump``."""
    try:
        node = _node(data, set())
    except _Unrepresented:
        return yaml.dump(
            data,
            Dumper=Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    return yaml.serialize(node, Dumper=_FastDumper, allow_unicode=True, width=100)


def _node(data: Any, seen: set[int]) -> yaml.Node:
    """The node SafeRepresenter makes of ``data`` (with ``default_flow_style=False`` and
    :func:`_str_representer`); a list or dict met twice would be an alias: unusual."""
    kind = type(data)
    if kind is str:
        return yaml.ScalarNode(_STR, data, style="|" if "\n" in data else None)
    if kind is dict or kind is list:
        if id(data) in seen:
            raise _Unrepresented
        seen.add(id(data))
        if kind is dict:
            pairs = [(_node(k, seen), _node(v, seen)) for k, v in data.items()]
            return yaml.MappingNode("tag:yaml.org,2002:map", pairs, flow_style=False)
        items = [_node(v, seen) for v in data]
        return yaml.SequenceNode("tag:yaml.org,2002:seq", items, flow_style=False)
    scalar = _DUMPED_SCALARS.get(kind)
    if scalar is None:
        raise _Unrepresented
    tag, text = scalar
    return yaml.ScalarNode(tag, text(data))


class _FastDumper(Dumper):
    """:class:`Dumper` remembering how plain scalars resolve: libyaml's emitter asks
    the Python resolver (regular expressions) about every scalar it writes."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or len(value) > 40:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = _RESOLVED.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(_RESOLVED) < _RESOLVED_MAX:
                _RESOLVED[key] = tag
        return tag


def parse(text: str, *, aliases: bool = True) -> Any:
    """Parse ``text`` safely; raises ``yaml.YAMLError``. ``aliases=False`` refuses
    anchors and aliases (``&a``, ``*a``): itdesk never writes them in tickets or
    articles, and a few nested aliases in a 1 KB file expand to gigabytes when the data
    is walked (a "billion laughs")."""
    if "&" in text or "*" in text:  # only then can there be an anchor or an alias
        if not aliases:
            _refuse_aliases(text)
        return yaml.load(text, Loader=Loader)
    loader = Loader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    if node is None:
        return None
    try:
        return _plain(node)
    except (_Unusual, RecursionError):
        return yaml.load(text, Loader=Loader)


class _Unusual(Exception):
    """A node :func:`_plain` leaves to PyYAML's own constructor."""


_STR = "tag:yaml.org,2002:str"
_SCALARS = {
    "tag:yaml.org,2002:null": lambda constructor, node: None,
    "tag:yaml.org,2002:bool": yaml.constructor.SafeConstructor.construct_yaml_bool,
    "tag:yaml.org,2002:int": yaml.constructor.SafeConstructor.construct_yaml_int,
    "tag:yaml.org,2002:float": yaml.constructor.SafeConstructor.construct_yaml_float,
}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _plain(node: yaml.Node) -> Any:
    """The value of a composed document made of maps, lists, strings, numbers, booleans
    and nulls: what a ticket holds. PyYAML's constructor does the same a third slower
    per file (its generic, alias-aware machinery: 20 s of the first read of 100,000
    tickets); anything else (a merge key, an explicit tag, a map as a key) raises
    :class:`_Unusual` and is left to it."""
    kind = type(node)
    if kind is yaml.ScalarNode:
        if node.tag == _STR:
            return node.value
        construct = _SCALARS.get(node.tag)
        if construct is None:
            raise _Unusual(node.tag)
        return construct(_CONSTRUCTOR, node)  # type: ignore[arg-type]
    if kind is yaml.MappingNode:
        if node.tag != "tag:yaml.org,2002:map":
            raise _Unusual(node.tag)
        out = {}
        for key_node, value_node in node.value:
            key = _plain(key_node)
            if isinstance(key, (dict, list)):
                raise _Unusual("a map or list as a key")
            out[key] = _plain(value_node)
        return out
    if kind is yaml.SequenceNode and node.tag == "tag:yaml.org,2002:seq":
        return [_plain(item) for item in node.value]
    raise _Unusual(node.tag)


def _refuse_aliases(text: str) -> None:
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (& and *) are not allowed here; write the value out",
                problem_mark=event.start_mark,  # type: ignore[arg-type]
            )


def load_yaml(text: str, path: str) -> Any:
    """Parse a ticket, article or intake file safely (no anchors or aliases); a syntax
    error becomes InvalidTicket with path and line."""
    try:
        return parse(text, aliases=False)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InvalidTicket(f"not valid YAML: {exc.problem or exc}", path, line) from None
    except yaml.YAMLError as exc:
        raise InvalidTicket(f"not valid YAML: {exc}", path) from None


def syntax_error(text: str) -> str | None:
    """Why ``text`` is not YAML (with the line), or None if it parses."""
    try:
        parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}" if mark else ""
        return f"not valid YAML{where}: {exc.problem}"
    except yaml.YAMLError as exc:
        return f"not valid YAML: {exc}"
    return None


def line_of(text: str, keys: list[str | int]) -> int | None:
    """The 1-based line of the value at ``keys`` in YAML ``text`` (or of its nearest parent)."""
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return line
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line
