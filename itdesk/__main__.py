"""``python -m itdesk`` and the ``itdesk`` script.

``itdesk --version`` is answered here, before click and the command line are imported:
it is what scripts and package managers call to see that itdesk works, and it should
cost little more than starting Python. Everything else goes to :func:`itdesk.cli.main`.
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"itdesk, version {__version__}")  # the wording of click's version_option
        return
    from .cli import main

    main()


if __name__ == "__main__":
    run()
