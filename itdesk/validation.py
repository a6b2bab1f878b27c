"""``itdesk validate``: the policy and every ticket against the schema and the status machine."""

from __future__ import annotations

from .errors import InvalidTicket
from .status import history_problems
from .store import Desk, key_path, line_of


def validate_desk(desk: Desk) -> tuple[list[str], int]:
    """(problems as ``path:line: message``, number of ticket files checked)."""
    problems: list[str] = []
    _ = desk.policy  # raises InvalidPolicy with the key and the reason
    files = desk.ticket_files(include_archive=True)
    seen: dict[str, str] = {}
    for tf in files:
        rel = desk.rel(tf.path)
        try:
            ticket = desk.read_file(tf.path)
        except InvalidTicket as exc:
            problems.append(str(exc))
            continue
        if ticket.id in seen:
            problems.append(f"{rel}: {ticket.id} is also in {seen[ticket.id]}")
        seen[ticket.id] = rel
        text: str | None = None
        for keys, message in history_problems(ticket):
            if text is None:
                text = tf.path.read_text(encoding="utf-8")
            line = line_of(text, keys)
            where = f"{rel}:{line}" if line else rel
            problems.append(f"{where}: {key_path(keys)}: {message}")
    return problems, len(files)
