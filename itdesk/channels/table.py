"""Plain-text tables that line up Chinese text.

tabulate was the first choice, but at 350 rows it took ~65 ms to format and ~50 ms to
import (it loads importlib.metadata), a third of ``list``'s budget, and without the
optional wcwidth package it counts a Chinese character as one column, so tables with
Chinese titles came out ragged. This is the "simple" layout it printed: header, dashes,
rows, two spaces between columns, each column as wide as its widest cell on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from unicodedata import east_asian_width


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide and full-width characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def render(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            w = width(cell)
            if w > widths[i]:
                widths[i] = w
    last = len(headers) - 1

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell if i == last else _pad(cell, widths[i]) for i, cell in enumerate(cells)
        ).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    return "\n".join(out)
