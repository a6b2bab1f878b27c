"""The desk on disk: files, YAML, the schema, the cache, and commits made with git.

The names below are imported on first use (PEP 562): ``import itdesk.store.git`` loads
this package first, and a command served from the cache must not pay for YAML.

- :mod:`.desk`: finding the desk, reading tickets (through :mod:`.cache`), who acts.
- :mod:`.transaction`: the desk's lock, one commit per change, recovery of a killed run.
- :mod:`.commit`: the commit by git plumbing, a compare-and-swap of the branch.
- :mod:`.gitdir`: what ``.git`` says without running git (HEAD, unfinished operations,
  locks, hooks); :mod:`.git`: the one place that runs git.
- :mod:`.files`: :func:`write_atomic`; :mod:`.schema`, :mod:`.schemacheck`: the ticket
  schema; :mod:`.yamlio`: YAML; :mod:`.init`: ``itdesk init``; :mod:`.history`;
  :mod:`.layout`: where things are; :mod:`.identity`: who acts.
"""

from __future__ import annotations

import importlib

# Not typing's: importing typing costs ~2 ms on every command, `new` included (#12);
# mypy reads any TYPE_CHECKING as true.
TYPE_CHECKING = False

_EXPORTS = {
    "ARCHIVE": "layout",
    "KB": "layout",
    "TICKETS": "layout",
    "ENV_DESK": "layout",
    "Actor": "identity",
    "Desk": "desk",
    "TicketFile": "desk",
    "find_desk": "desk",
    "Transaction": "transaction",
    "GitStateRefused": "gitdir",
    "write_atomic": "files",
    "init_desk": "init",
    "machine_timezone": "init",
    "check_ticket_data": "schema",
    "jsonschema_problems": "schema",
    "key_path": "schema",
    "schema_problems": "schema",
    "dump_yaml": "yamlio",
    "line_of": "yamlio",
    "load_yaml": "yamlio",
}

__all__ = [
    "ARCHIVE",
    "ENV_DESK",
    "KB",
    "TICKETS",
    "Actor",
    "Desk",
    "GitStateRefused",
    "TicketFile",
    "Transaction",
    "check_ticket_data",
    "dump_yaml",
    "find_desk",
    "init_desk",
    "jsonschema_problems",
    "key_path",
    "line_of",
    "load_yaml",
    "machine_timezone",
    "schema_problems",
    "write_atomic",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .desk import Desk, TicketFile, find_desk
    from .files import write_atomic
    from .gitdir import GitStateRefused
    from .identity import Actor
    from .init import init_desk, machine_timezone
    from .layout import ARCHIVE, ENV_DESK, KB, TICKETS
    from .schema import check_ticket_data, jsonschema_problems, key_path, schema_problems
    from .transaction import Transaction
    from .yamlio import dump_yaml, line_of, load_yaml
