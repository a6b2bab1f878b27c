"""The exceptions itdesk raises, shared by the core, the store and the CLI.

Every error a user can cause is an :class:`ItdeskError` whose message is one line that
says what was wrong and what is accepted. The CLI turns them into that line on stderr
and the exit status in :attr:`ItdeskError.exit_code`: 2 for bad usage or input, 3 for a
failure of the environment (git missing or broken).
"""

from __future__ import annotations

from collections.abc import Sequence


class ItdeskError(Exception):
    """Base class: a problem the user can act on."""

    exit_code = 2


class UsageError(ItdeskError):
    """Bad input on the command line or in a file."""


class InvalidValue(UsageError):
    """A value (priority, category, time, ...) that is not one of the accepted ones."""


class DeskNotFound(UsageError):
    """No desk at the given path or above the working directory."""


class InvalidPolicy(UsageError):
    """``itdesk.yaml`` is unreadable or has a bad key."""


class UnknownTicket(UsageError):
    """No ticket with that ID."""


class InvalidTransition(UsageError):
    """The ticket's status does not allow the requested step."""


class InvalidTicket(UsageError):
    """A ticket file or ticket data that breaks the schema or the status machine."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")


class NoIdentity(UsageError):
    """Neither ``--as`` nor git's user.name says who is acting."""


class LockTimeout(ItdeskError):
    """Another itdesk process held the desk's lock for too long."""

    exit_code = 3


class GitError(ItdeskError):
    """A git command failed, or git is missing."""

    exit_code = 3

    def __init__(
        self, argv: Sequence[str], returncode: int | None, stdout: str = "", stderr: str = ""
    ):
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        detail = (stderr or stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit status {returncode}"
        super().__init__(f"git {' '.join(self.argv[1:3])} failed: {reason}")
