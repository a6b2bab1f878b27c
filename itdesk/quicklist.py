"""``itdesk list --all`` at the floor: the whole desk's table for a pipe, from rows a full
``list --all`` kept, without click, PyYAML or the model (#12: ahead of Backlog.md and
git-issue by the factors PERFORMANCE.md asks).

A full ``list --all`` reads each folder of tickets (``tickets/`` and every month of the
archive), masks the tickets and makes the table's cells. When it writes the table to a
pipe it also keeps each folder's rows: the cells (stripped, masked, labelled in the
language) and their widths, in ``.git/itdesk/cache/rows.<folder>`` with the folder's
listing (every file's name, size, times and inode) and a salt naming the
language, the masking and the code's version (``itdesk.cli.list_._keep_rows``, through
:meth:`itdesk.store.folders.TicketFolder.keep_summary`, which keeps none for a folder
with an invalid or just-modified file). What this path needs of the policy (the
language, the salt) is kept beside them, valid while ``itdesk.yaml`` keeps its stat.

This path lists every folder as the full one does, and takes a folder's rows only when
its listing and salt are exactly those kept. A folder or two without (a file added,
removed, rewritten or touched since; the active folder just after a write, whose rows
are not kept for two seconds) have their rows made as the full command makes them
(:func:`itdesk.cli.list_.made_rows`, given by the entry point: the model's reading of
those folders alone, kept as the full command keeps them), the rest from the kept rows;
more, or any file that is not valid, and it declines. It lays the rows out as
:func:`itdesk.channels.table.render` does. Anything else returns None before anything
is written, and the full command runs: another option, a terminal (colours, width,
pager), ``$COLUMNS``, a journal or an unfinished merge, a linked folder or file, a
table of 100 rows or fewer, a cell a terminal would need escaped.
``tests/test_quicklist.py`` runs both on the same desks and compares every byte.
"""

from __future__ import annotations

import marshal
import os
import sys

from . import __version__
from .quicknew import JOURNAL, POLICY_FILE, UNFINISHED, Declined, _find_desk, _stat_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    MadeRows = Callable[[str, list[str], str, str], list[tuple[Any, ...]] | None]

FACTS = "itdesk/cache/quicklist.marshal"  # in .git
FACTS_VERSION = 1
CACHE_DIR = "itdesk/cache"  # store.layout's, in .git
SUMMARY_VERSION = 1  # store.folders'
KIND = "rows"
ROWS_VERSION = 2  # in the salt: a change of the rows' form is a change of the salt
BIG = 100  # channels.table's: above this many rows, its own layout (not tabulate's)
MADE = 2  # folders at most whose rows are made here (more: the full command, on every core)
COLUMNS = 7


# Whether this process tried this path and it declined: the full command then keeps the
# rows that were missing (itdesk.cli.list_), and costs no more when it was not tried.
declined = False


def main(argv: list[str], made_rows: MadeRows | None = None) -> int | None:
    """``itdesk list`` with ``argv``: printed and 0, or None (nothing done).
    ``made_rows(root, folders, lang, salt)``: the rows of a folder or two with none kept
    for their files now, as the full command makes (and keeps) them, or None (the entry
    point gives :func:`itdesk.cli.list_.made_rows`; without it such a desk declines)."""
    global declined
    try:
        options = _parse(argv)
        out = sys.stdout
        if out.isatty() or (os.environ.get("COLUMNS", "").isdigit() and
                            int(os.environ["COLUMNS"]) > 0):  # fmt: skip
            raise Declined  # a terminal's width, colours and pager: the full command's
        if (getattr(out, "encoding", None) or "").lower().replace("-", "") != "utf8":
            raise Declined
        text, lang = _table(_find_desk(options.get("desk")), options.get("lang"), made_rows)
    except Declined:
        declined = True
        return None
    try:
        out.write(text)
        out.write("\n")
        out.flush()
    except BrokenPipeError:  # `itdesk list --all | head -1`: cli's exit for it
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 141
    except OSError as exc:  # a full disk: cli's one line and exit 3
        what = exc.strerror or str(exc)
        if lang == "zh":
            from .core.i18n import os_error

            sys.stderr.write(f"itdesk: 错误：{os_error(what)}；未做任何更改\n")
        else:
            sys.stderr.write(f"itdesk: error: {what}; nothing was changed\n")
        return 3
    return 0


def _parse(argv: list[str]) -> dict[str, str]:
    """``--all`` with ``--desk`` and ``--lang en|zh`` (and ``--format table``) only."""
    options: dict[str, str] = {}
    seen_all = False
    args = iter(argv)
    for arg in args:
        if arg == "--all" and not seen_all:
            seen_all = True
            continue
        name, eq, value = arg.partition("=")
        if name not in ("--desk", "--lang", "--format") or name[2:] in options:
            raise Declined
        if not eq:
            value = next(args, "")
        if not value or value.startswith("-"):
            raise Declined
        options[name[2:]] = value
    if not seen_all or options.get("lang", "en") not in ("en", "zh"):
        raise Declined
    if options.pop("format", "table") != "table":
        raise Declined
    return options


def _table(root: str, lang: str | None, made_rows: MadeRows | None) -> tuple[str, str]:
    """The table, and the language it is in."""
    git_dir = os.path.join(root, ".git")
    if not os.path.isdir(git_dir) or os.path.islink(git_dir):
        raise Declined
    for marker in (JOURNAL, *UNFINISHED):
        if os.path.lexists(os.path.join(git_dir, marker)):
            raise Declined  # a write under way or killed, a merge: the full path's
    facts = _facts(root, git_dir)
    lang = lang or str(facts["locale"])
    salts: dict[str, str] = facts["salts"]  # type: ignore[assignment]
    if lang not in salts:
        raise Declined
    salt = salts[lang]
    rows: list[tuple[Any, ...]] = []
    unkept = []
    for rel in _folders(root):
        kept = _rows(root, git_dir, rel, salt)
        if kept is None:
            unkept.append(rel)
        else:
            rows += kept
    if unkept:
        made = made_rows(root, unkept, lang, salt) if made_rows and len(unkept) <= MADE else None
        if made is None:
            raise Declined
        rows += made
    if len(rows) <= BIG:
        raise Declined  # tabulate lays out a small table: the full path
    from operator import itemgetter

    rows.sort(key=itemgetter(0, 1))
    heads, head_widths = facts["heads"][lang]  # type: ignore[index]
    return _render(heads, head_widths, rows), lang


def _facts(root: str, git_dir: str) -> dict[str, object]:
    try:
        with open(os.path.join(git_dir, FACTS), "rb") as fh:
            facts = marshal.loads(fh.read())
    except (OSError, ValueError, EOFError, TypeError):
        raise Declined from None
    if not isinstance(facts, dict) or facts.get("version") != [__version__, FACTS_VERSION]:
        raise Declined
    try:
        key = _stat_key(os.path.join(root, POLICY_FILE))
    except OSError:
        raise Declined from None
    if facts.get("policy") != key:
        raise Declined  # edited since: the full path reads it again
    return facts


def _folders(root: str) -> list[str]:
    """``tickets`` and each month folder of the archive (store.desk.ticket_folders),
    as paths relative to ``root``; nothing linked."""
    tickets = os.path.join(root, "tickets")
    if os.path.islink(tickets) or not os.path.isdir(tickets):
        raise Declined
    rels = ["tickets"]
    archive = os.path.join(tickets, "archive")
    if os.path.islink(archive):
        raise Declined
    if os.path.isdir(archive):
        months = []
        with os.scandir(archive) as entries:
            for entry in entries:
                if entry.is_symlink():
                    raise Declined  # the full path warns of it
                if entry.is_dir(follow_symlinks=False):
                    months.append(entry.name)
        rels += [f"tickets/archive/{name}" for name in sorted(months)]
    return rels


def _listing(folder: str) -> list[tuple[str, int, int, int, int]]:
    """store.folders.list_folder's listing; a linked file declines (a warning there)."""
    listing = []
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:  # each file's stat relative to the folder: see store.folders.list_folder
        for entry in os.scandir(fd):
            name = entry.name
            if not name.endswith(".yaml"):
                continue
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)  # (one call, as d_type
            if st.st_mode & 0o170000 != 0o100000:  # may be unknown: then is_file stats)
                if st.st_mode & 0o170000 == 0o120000:
                    raise Declined  # a link
                continue
            listing.append((name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    finally:
        os.close(fd)
    listing.sort()
    return listing


def _rows(root: str, git_dir: str, rel: str, salt: str) -> list[tuple[Any, ...]] | None:
    """The folder's rows as the full path kept them, for exactly its files now; None
    when none are kept for them."""
    try:
        listing = _listing(os.path.join(root, rel))
    except OSError:
        raise Declined from None
    try:
        name = f"{KIND}.{rel.replace('/', '-')}"
        with open(os.path.join(git_dir, CACHE_DIR, name), "rb") as fh:
            blob = fh.read()
    except OSError:
        return None
    import gc

    gc.disable()  # thousands of tuples: see itdesk.store.cache
    try:
        version, kept_salt, kept_listing, value = marshal.loads(blob)
    except (ValueError, EOFError, TypeError):
        return None
    finally:
        gc.enable()
    if version != SUMMARY_VERSION or kept_salt != salt or kept_listing != listing:
        return None
    plain, rows = value
    if not plain:
        raise Declined  # a cell to escape for a terminal: the full path does it
    gc.disable()
    try:
        return marshal.loads(rows)  # type: ignore[no-any-return]
    except (ValueError, EOFError, TypeError):
        raise Declined from None
    finally:
        gc.enable()


def _render(heads: tuple[str, ...], head_widths: tuple[int, ...], rows: list[Any]) -> str:
    """channels.table._render_big's layout of rows ``(key, key, *cells, *widths)``."""
    from operator import itemgetter

    last = COLUMNS - 1
    widths = [max(head_widths[i], *map(itemgetter(2 + COLUMNS + i), rows)) for i in range(COLUMNS)]
    pads = [" " * n for n in range(max(widths) + 1)]
    columns = []
    for i in range(last):
        w = widths[i]
        cells, sizes = map(itemgetter(2 + i), rows), map(itemgetter(2 + COLUMNS + i), rows)
        columns.append([c + pads[w - n] for c, n in zip(cells, sizes, strict=True)])
    columns.append(list(map(itemgetter(2 + last), rows)))
    head_line = "  ".join(
        h + pads[w - hw] for h, w, hw in zip(heads, widths, head_widths, strict=True)
    )
    out = [head_line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(cells).rstrip() for cells in zip(*columns, strict=True)]
    return "\n".join(out)
