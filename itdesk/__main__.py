"""``python -m itdesk`` and the ``itdesk`` script.

``itdesk --version`` is answered here, before click and the command line are imported:
it is what scripts and package managers call to see that itdesk works, and it should
cost little more than starting Python. ``itdesk new`` with flags is tried by
:mod:`itdesk.quicknew` first (no click), ``itdesk list --all`` into a pipe by
:mod:`itdesk.quicklist`. Everything else goes to :func:`itdesk.cli.main`.
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
    if sys.argv[1:2] == ["list"]:  # the whole desk for a pipe: kept rows, when they serve
        from .quicklist import main as quick_list

        status = quick_list(sys.argv[2:])
        if status is not None:
            raise SystemExit(status)
    from .cli import main

    main()


if __name__ == "__main__":
    run()
