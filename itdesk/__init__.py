"""itdesk: an IT service desk that lives in a git repository.

The package is in layers (README, "Architecture"): :mod:`itdesk.core` holds the pure
rules, :mod:`itdesk.store` the desk on disk and git, :mod:`itdesk.channels` what leaves
the desk, :mod:`itdesk.service` acting on a desk without a command line
(:class:`itdesk.service.session.Session`), and :mod:`itdesk.cli` the command line.

The names below are imported on first use (PEP 562), so that ``import itdesk.cli``
(every command, ``--version`` included) does not pay for the whole core.
"""

from __future__ import annotations

import importlib

# Not typing's: importing typing costs ~2 ms on every command, `new` included (#12);
# mypy reads any TYPE_CHECKING as true.
TYPE_CHECKING = False

__version__ = "0.1.0"

_EXPORTS = {
    "TRANSITIONS": "core.status",
    "transition": "core.status",
    "Action": "core.lifecycle",
    "Change": "core.lifecycle",
    "Category": "core.model",
    "Priority": "core.model",
    "Satisfaction": "core.model",
    "Status": "core.model",
    "Ticket": "core.model",
    "Desk": "store.desk",
    "DeskNotFound": "errors",
    "GitError": "errors",
    "InvalidPolicy": "errors",
    "InvalidTicket": "errors",
    "InvalidTransition": "errors",
    "InvalidValue": "errors",
    "ItdeskError": "errors",
    "NoIdentity": "errors",
    "UnknownTicket": "errors",
    "UsageError": "errors",
}

__all__ = [
    "Action",
    "Category",
    "Change",
    "Desk",
    "DeskNotFound",
    "GitError",
    "InvalidPolicy",
    "InvalidTicket",
    "InvalidTransition",
    "InvalidValue",
    "ItdeskError",
    "NoIdentity",
    "Priority",
    "Satisfaction",
    "Status",
    "TRANSITIONS",
    "Ticket",
    "UnknownTicket",
    "UsageError",
    "__version__",
    "transition",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'itdesk' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .core.lifecycle import Action, Change
    from .core.model import Category, Priority, Satisfaction, Status, Ticket
    from .core.status import TRANSITIONS, transition
    from .errors import (
        DeskNotFound,
        GitError,
        InvalidPolicy,
        InvalidTicket,
        InvalidTransition,
        InvalidValue,
        ItdeskError,
        NoIdentity,
        UnknownTicket,
        UsageError,
    )
    from .store.desk import Desk
