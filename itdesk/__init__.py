"""itdesk: an IT service desk that lives in a git repository.

The domain core (:mod:`itdesk.model`, :mod:`itdesk.status`, :mod:`itdesk.ids`,
:mod:`itdesk.lifecycle`, :mod:`itdesk.policy`) is pure; :mod:`itdesk.store` owns files
and git; :mod:`itdesk.cli` is the command line.
"""

from __future__ import annotations

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
from .lifecycle import Action, Change
from .model import Category, Priority, Satisfaction, Status, Ticket
from .status import TRANSITIONS, transition

__version__ = "0.1.0"

__all__ = [
    "TRANSITIONS",
    "Action",
    "Category",
    "Change",
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
    "Ticket",
    "UnknownTicket",
    "UsageError",
    "__version__",
    "transition",
]
