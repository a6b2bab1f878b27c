"""The ticket schema (``schema/ticket.schema.json``): every ticket read or written is checked.

:func:`schema_problems` uses :mod:`itdesk.store.schemacheck`, which is fast to import;
:func:`jsonschema_problems` runs the reference implementation, the jsonschema library
(~100 ms to import), which ``itdesk validate`` and the tests also run.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidTicket

if TYPE_CHECKING:
    from ..core.model import Ticket

SCHEMA_PATH = Path(__file__).parent.parent / "schema" / "ticket.schema.json"


def schema() -> dict[str, Any]:
    import json  # (a command served by the cache reads no ticket file, nor the schema)

    text = SCHEMA_PATH.read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@functools.cache
def _checker() -> Any:
    from .schemacheck import Checker

    return Checker(schema())


def schema_valid(data: Any) -> bool:
    """Whether ``data`` passes the schema: :func:`schema_problems` is empty, answered by
    the schema compiled into closures (faster; the problems are listed only for a
    ticket that fails)."""
    return bool(_checker().is_valid(data))


def schema_problems(data: Any) -> list[tuple[list[str | int], str]]:
    """Every schema violation of ``data`` as (path of keys, message), shallowest first."""
    problems: list[tuple[list[str | int], str]] = _checker().problems(data)
    return sorted(problems, key=lambda p: len(p[0]))


@functools.cache
def _reference_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def jsonschema_problems(data: Any) -> list[tuple[list[str | int], str]]:
    """The same as :func:`schema_problems`, by the jsonschema library (slow to import)."""
    out: list[tuple[list[str | int], str]] = []
    errors = _reference_validator().iter_errors(data)
    for err in sorted(errors, key=lambda e: len(e.absolute_path)):
        path, message = list(err.absolute_path), err.message
        if err.validator == "oneOf" and err.context:
            best = max(err.context, key=lambda e: len(e.absolute_path))
            path, message = list(best.absolute_path), best.message
        out.append((path, message))
    return out


def key_path(keys: list[str | int]) -> str:
    """``["log", 2, "at"]`` as ``log[2].at``."""
    text = ""
    for k in keys:
        text += f"[{k}]" if isinstance(k, int) else (f".{k}" if text else str(k))
    return text or "(top level)"


def check_data(data: Any, path: str, text: str | None = None) -> None:
    """Raise InvalidTicket (naming ``path``, and the line in ``text``, the file's YAML)
    when plain ticket data fails the schema. Enough for the data of a :class:`Ticket`
    (``ticket_to_dict``): its values passed the model's own checks when it was made,
    and building it again from the data would only repeat them (#12)."""
    problems = [] if schema_valid(data) else schema_problems(data)
    if not problems:
        return
    keys, message = problems[0]
    line = None
    if text is not None:
        from .yamlio import line_of

        line = line_of(text, keys)
    raise InvalidTicket(f"{key_path(keys)}: {message}", path, line)


def check_ticket_data(data: Any, path: str, text: str | None = None) -> Ticket:
    """Validate plain ticket data against the schema and build the ticket; ``text``, the
    file's YAML, lets the error name the line."""
    from ..core.model import ticket_from_dict

    check_data(data, path, text)
    try:
        return ticket_from_dict(data)
    except InvalidTicket as exc:
        raise InvalidTicket(str(exc), path) from None
