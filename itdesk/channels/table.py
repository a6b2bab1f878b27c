"""Plain-text tables for people: tabulate's "simple" layout, measured by wcwidth.

The project's brief names tabulate; with wcwidth installed it measures each cell as a
terminal shows it: a Chinese character takes two columns, a combining accent none, an
emoji with a skin-tone modifier two (our own east_asian_width count got the last two
wrong, see #14). Both are imported only when a table is printed (~50 ms, within
``list``'s budget). ANSI colour codes in cells are not counted (tabulate skips them).

``max_width`` fits a table to the terminal: the widest column that may shrink (the
title, by default the last) is cut with ``…``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# Text made only of printable ASCII (one column each) and the common Chinese characters
# and punctuation (two each, as wcwidth measures every one of them: tests/test_table.py)
# is measured without wcwidth's per-character Python loop.
_PLAIN_CJK = re.compile(
    "[\x20-\x7e\u4e00-\u9fff\uff01-\uff60\u3001-\u3003\u3008-\u3011\u3014-\u301b]*"
)


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide characters two, combining marks none,
    colour codes none)."""
    if text.isascii() and "\x1b" not in text:
        return len(text)
    if _PLAIN_CJK.fullmatch(text):
        return 2 * len(text) - len(text.encode("ascii", "ignore"))
    from wcwidth import wcswidth  # type: ignore[import-untyped]

    plain = _ANSI.sub("", text)
    found = wcswidth(plain)
    return found if found >= 0 else len(plain)  # a control character: as many as chars


def truncate(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` on screen, ending with ``…`` when cut."""
    if width(text) <= columns:
        return text
    if columns <= 0:
        return ""
    from wcwidth import wcwidth

    out, used = [], 0
    for char in text:
        w = max(wcwidth(char), 0)
        if used + w > columns - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    max_width: int | None = None,
    shrink: int = -1,
) -> str:
    """Header, dashes, rows, two spaces between columns; within ``max_width`` columns
    by cutting column ``shrink`` (the last by default) when one is given."""
    cells: Sequence[Sequence[str]] = rows
    if max_width is not None and rows:
        cells = _fit(headers, [list(row) for row in rows], max_width, shrink % len(headers))
    if len(cells) > BIG:
        return _render_big(headers, cells)
    import tabulate as tabulate_module
    from tabulate import tabulate

    tabulate_module.MIN_PADDING = 0  # columns as wide as their widest cell, header included
    text = tabulate(
        cells, headers=list(headers), tablefmt="simple", disable_numparse=True, stralign="left"
    )
    return "\n".join(line.rstrip() for line in text.splitlines())


def fit(
    headers: Sequence[str], rows: Sequence[Sequence[str]], max_width: int | None, shrink: int = -1
) -> list[list[str]]:
    """``rows`` cut to fit ``max_width`` as :func:`render` cuts them (for cells styled
    after the cutting: colour codes must not be cut)."""
    cells = [list(row) for row in rows]
    if max_width is None or not cells:
        return cells
    return _fit(headers, cells, max_width, shrink % len(headers))


# Above this many rows the same layout is written here: tabulate types and pads each cell
# through several functions (8 s for `list --all` of 100,000 tickets, 0.4 s here; 30 ms
# of `list`'s 200 ms budget for 350 open tickets);
# tests/test_table.py checks that both give the same text.
BIG = 100


def _render_big(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The table of :func:`render` a column at a time: each cell measured once (once per
    distinct value in a column of few values), padded to its column's width."""
    heads = [str(h) for h in headers]
    columns = [[str(c).strip() for c in column] for column in zip(*rows, strict=True)]
    padded = []
    widths = []
    for i, (head, column) in enumerate(zip(heads, columns, strict=True)):
        distinct = set(column)
        if len(distinct) * 4 < len(column):
            measure = {c: width(c) for c in distinct}
            sizes = [measure[c] for c in column]
        else:
            sizes = [width(c) for c in column]
        w = max(width(head), *sizes)
        widths.append(w)
        if i == len(columns) - 1:
            padded.append(column)  # the last column: the line is stripped on the right
        else:
            padded.append([c + " " * (w - s) for c, s in zip(column, sizes, strict=True)])
    head_line = "  ".join(h + " " * (w - width(h)) for h, w in zip(heads, widths, strict=True))
    out = [head_line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(cells).rstrip() for cells in zip(*padded, strict=True)]
    text = "\n".join(out)
    if _BREAKS.search(text) is None and not text.endswith("\n"):
        return text  # the common case: no copy of 10 MB of text
    return "\n".join(text.splitlines())  # as render() ends tabulate's text


# Where str.splitlines() splits besides "\n" (which the join puts back, but at the end)
_BREAKS = re.compile("[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _fit(
    headers: Sequence[str], rows: list[list[str]], max_width: int, shrink: int
) -> list[list[str]]:
    widths = [max(width(str(h)), *(width(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    total = sum(widths) + 2 * (len(widths) - 1)
    if total <= max_width:
        return rows
    room = max(max_width - (total - widths[shrink]), width(headers[shrink]), 3)
    for row in rows:
        row[shrink] = truncate(str(row[shrink]), room)
    return rows
