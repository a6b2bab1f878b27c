"""``python -m itdesk`` and the ``itdesk`` script.

``itdesk --version`` is answered here, before click and the command line are imported:
it is what scripts and package managers call to see that itdesk works, and it should
cost little more than starting Python. ``itdesk new`` with flags is tried by
:mod:`itdesk.quicknew` first (no click), ``itdesk list --all`` into a pipe by
:mod:`itdesk.quicklist` (which gets the rows of a folder changed since they were kept
from :func:`itdesk.cli.list_.made_rows`, imported only then). Everything else goes to
:func:`itdesk.cli.main`.
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        try:
            print(f"itdesk, version {__version__}", flush=True)  # click's wording
        except BrokenPipeError:  # `itdesk --version | head -0`: the reader is gone
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        return
    if sys.argv[1:2] == ["new"]:  # a scripted report: the short path, when it applies
        from .quicknew import main as quick

        status = quick(sys.argv[2:])
        if status is not None:
            raise SystemExit(status)
    if sys.argv[1:2] == ["list"] and "--all" in sys.argv:  # the whole desk for a pipe:
        # kept rows, when they serve (the open tickets' list is the full command's)
        from .quicklist import main as quick_list

        status = quick_list(sys.argv[2:], made_rows)
        if status is not None:
            raise SystemExit(status)
    from .cli import main

    main()


def made_rows(root: str, rels: list[str], lang: str, salt: str) -> list[tuple[object, ...]] | None:
    """:func:`itdesk.cli.list_.made_rows`, imported when a folder's rows are not kept."""
    from .cli.list_ import made_rows as made

    return made(root, rels, lang, salt)


if __name__ == "__main__":
    run()
