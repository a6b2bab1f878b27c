"""Ticket data as YAML text without PyYAML: the bytes :func:`yamlio.dump_yaml` writes.

A ticket is a mapping of short keys to text, integers, booleans, null, lists and
mappings. For that data this module writes what libyaml's emitter writes with
itdesk's dumper (block style, keys in order, text as plain, single-quoted or ``|``
blocks, lines folded after column 100), in a few microseconds and without importing
PyYAML: ``new`` pays for no YAML library (#12), and ``import`` writes 100,000 tickets
without libyaml's event machinery.

:func:`dump` returns None for anything it does not write the same way for sure (text
that needs double quotes or ``|+``, floats, other types, a list directly in a list):
the caller then uses :func:`yamlio.dump_yaml`. ``tests/test_emit.py`` compares the two
on generated data, byte for byte.

The rules follow libyaml's ``yaml_emitter_analyze_scalar`` and
``yaml_emitter_select_scalar_style``, and the plain scalars that SafeDumper's resolver
reads as something other than text (``yes``, ``1.5``, ``2023-10-25``, ``~``) are quoted
as it quotes them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

WIDTH = 100  # the dumper's width: plain and quoted text folds at a space past it
INDENT = 2

# SafeDumper's implicit resolvers (PyYAML's resolver.py): a plain scalar matching one of
# these would be read back as a boolean, null, merge key or value key ...
_WORDS = frozenset(
    "yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF "
    "~ null Null NULL << =".split()
)
# ... or, starting with one of these, as a number or a date. (Compiled on first use: a
# ticket's own times are recognised without it, and compiling costs ~3 ms.)
_NUMERIC_FIRST = frozenset("-+0123456789.")
_NUMERIC = r"""(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN)
    |[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
     (?:[Tt]|[\ \t]+)[0-9][0-9]?
     :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
     (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"""
_numeric: re.Pattern[str] | None = None
_FLOW_ONLY = frozenset(",?[]{}")  # indicators that only matter in flow context
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


class Unsure(Exception):
    """Data this module does not write as libyaml would for certain."""


def dump(data: dict) -> str | None:  # type: ignore[type-arg]
    """``data`` (a mapping) as :func:`yamlio.dump_yaml` writes it, or None."""
    if type(data) is not dict or not data:
        return None
    out: list[str] = []
    try:
        _mapping(data, 0, out, first_inline=False)
    except Unsure:
        return None
    return "".join(out)


# Keys written plain before (a ticket's few dozen field names), and one-line texts with
# how they were written: a ticket's words and names recur from ticket to ticket, and an
# import writes 100,000 tickets (#12). Bounded: cleared when full.
_KEYS: set[str] = set()
_SEEN: dict[str, str] = {}
_SEEN_MAX = 20_000


def _mapping(data: dict, indent: int, out: list[str], first_inline: bool) -> None:  # type: ignore[type-arg]
    """A block mapping whose keys sit at ``indent``; ``first_inline``: its first key
    follows a ``- `` already written."""
    pad = " " * indent
    append = out.append
    for key, value in data.items():
        if type(key) is not str:  # (a str subclass equal to a known key is not one)
            raise Unsure
        if key not in _KEYS:
            if not (key.isascii() and key.isidentifier()) or _resolves(key):
                raise Unsure
            _KEYS.add(key)
        if first_inline:
            first_inline = False
        else:
            append(pad)
        column = indent + len(key) + 2  # where a scalar starts (an ASCII key, at indent)
        if type(value) is str:  # most values; many written so before (see _text)
            append(f"{key}: ")
            seen = _SEEN.get(value)
            if seen is not None and column + len(seen) <= WIDTH:
                append(seen)
            else:
                _new_text(value, indent + INDENT, column, out)
            continue
        append(key)
        append(":")
        _value(value, indent, column, out)


def _value(value: object, indent: int, column: int, out: list[str]) -> None:
    """The value of a key at ``indent``, after ``key:``; a scalar starts at ``column``."""
    kind = type(value)
    if kind is dict:
        if not value:
            out.append(" {}\n")
            return
        out.append("\n")
        _mapping(value, indent + INDENT, out, first_inline=False)  # type: ignore[arg-type]
    elif kind is list:
        if not value:
            out.append(" []\n")
            return
        out.append("\n")
        _sequence(value, indent, out)  # type: ignore[arg-type]
    else:
        out.append(" ")
        _scalar(value, indent + INDENT, column, out)


def _sequence(items: list, indent: int, out: list[str]) -> None:  # type: ignore[type-arg]
    """A block sequence under a key at ``indent`` (libyaml writes it indentless)."""
    pad = " " * indent
    for item in items:
        out.append(pad)
        out.append("- ")
        kind = type(item)
        if kind is dict:
            if not item:
                out.append("{}\n")
                continue
            _mapping(item, indent + INDENT, out, first_inline=True)
        elif kind is list:
            raise Unsure  # a list directly in a list: "- - a", never in a ticket
        else:
            _scalar(item, indent + INDENT, indent + 2, out)  # after "- "


def _scalar(value: object, indent: int, column: int, out: list[str]) -> None:
    """A scalar whose continuation lines sit at ``indent``, after the ``key: `` or
    ``- `` already in ``out``, which end at ``column``."""
    kind = type(value)
    if kind is str:
        _text(value, indent, column, out)  # type: ignore[arg-type]
    elif kind is bool:
        out.append("true\n" if value else "false\n")
    elif kind is int:
        out.append(f"{value}\n")
    elif value is None:
        out.append("null\n")
    else:
        raise Unsure  # floats, dates and the rest: PyYAML's representers decide


def _resolves(text: str) -> bool:
    """Whether plain ``text`` would be read back as something other than text."""
    global _numeric
    if text in _WORDS:
        return True
    if text[0] not in _NUMERIC_FIRST:
        return False
    if _is_time(text):
        return True
    if _numeric is None:
        import re  # (not at the top: `new`'s short path does without it, #12)

        _numeric = re.compile(_NUMERIC, re.X)
    return _numeric.match(text) is not None


def _is_time(text: str) -> bool:
    """``2026-11-25T17:30:00+08:00``: how the desk writes times (a date to the resolver).
    By its shape, each ASCII digit a 0 (no ``re``: ``new``'s short path imports none, and
    an import asks it 1.6 million times, #12)."""
    return text.isascii() and text.encode().translate(_DIGITS) in _TIME_SHAPES


_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_TIME_SHAPES = frozenset({b"0000-00-00T00:00:00+00:00", b"0000-00-00T00:00:00-00:00"})


def printable(text: str) -> bool:
    """Whether libyaml writes every character of ``text`` as it is (allow_unicode), a
    line break aside; tested strictly: Python's printable characters of the Basic
    Multilingual Plane. (A tab, a control or format character, U+0085, U+2028, a
    no-break space, an emoji and the like are left to PyYAML: double quotes.)"""
    if text.isascii():
        return text.replace("\n", "").isprintable()
    return text.replace("\n", "").isprintable() and max(text) <= "\uffff"


def _text(text: str, indent: int, column: int, out: list[str]) -> None:
    seen = _SEEN.get(text)
    if seen is not None and column + len(seen) <= WIDTH:  # written so before, unfolded
        out.append(seen)
        return
    _new_text(text, indent, column, out)


def _new_text(text: str, indent: int, column: int, out: list[str]) -> None:
    """A text not found written so before (:func:`_text`)."""
    if len(text) == 25 and _is_time(text):  # a time: single-quoted, never folded
        out.append(f"'{text}'\n")
        return
    if not text:
        out.append("''\n")
        return
    if not printable(text):
        raise Unsure
    if "\n" in text:
        _literal(text, indent, out)
        return
    plain, single = _styles(text)
    if plain and not _resolves(text):
        written = _folded(text, indent, column, quoted=False)
    elif single:
        written = _folded(text.replace("'", "''"), indent, column, quoted=True)
    else:
        raise Unsure  # double quotes
    written += "\n"
    out.append(written)
    if column + len(written) <= WIDTH:  # (not folded, wherever it is written so)
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        _SEEN[text] = written


def _styles(text: str) -> tuple[bool, bool]:
    """(block plain allowed, single quotes allowed) for one-line printable ``text``, as
    libyaml's analysis decides them."""
    if text.startswith(("---", "...")):
        return False, True
    first = text[0]
    follows_space = len(text) == 1 or text[1] == " "
    indicator = first in _FIRST_INDICATORS or (first in "?:-" and follows_space)
    if not indicator:
        if ": " in text or " #" in text or text.endswith(":"):
            indicator = True
    leading_trailing = first == " " or text[-1] == " "
    return not (indicator or leading_trailing), True


def _folded(text: str, indent: int, column: int, quoted: bool) -> str:
    """Plain or single-quoted ``text`` from ``column``, a line break (and ``indent``)
    in place of a single space reached past column :data:`WIDTH`, as libyaml folds."""
    if quoted:
        column += 1
    if column + len(text) <= WIDTH or " " not in text:
        return f"'{text}'" if quoted else text
    parts: list[str] = ["'"] if quoted else []
    last = len(text) - 1
    spaces = False
    for i, ch in enumerate(text):
        if ch == " ":
            fold = (
                not spaces
                and column > WIDTH
                and (not quoted or (i != 0 and i != last))
                and (i == last or text[i + 1] != " ")
            )
            if fold:
                parts.append("\n" + " " * indent)
                column = indent
            else:
                parts.append(ch)
                column += 1
            spaces = True
        else:
            parts.append(ch)
            column += 1
            spaces = False
    if quoted:
        parts.append("'")
    return "".join(parts)


def _literal(text: str, indent: int, out: list[str]) -> None:
    """Multi-line text as a ``|`` block, as the dumper's str representer asks."""
    if " \n" in text or text[-1] == " ":
        raise Unsure  # a space before a break or at the end: libyaml double-quotes it
    if text.endswith("\n\n") or text == "\n":
        raise Unsure  # "|+", after which libyaml may end the document with "..."
    hint = str(INDENT) if text[0] in " \n" else ""
    chomp = "" if text.endswith("\n") else "-"
    out.append(f"|{hint}{chomp}\n")
    pad = " " * indent
    body = text[:-1] if text.endswith("\n") else text
    for line in body.split("\n"):
        out.append(f"{pad}{line}\n" if line else "\n")
