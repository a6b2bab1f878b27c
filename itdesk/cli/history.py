"""``itdesk history``: a ticket's commits, one line each."""

from __future__ import annotations

from typing import Any

import click

from . import ID_ARG, desk_options, dump_json, format_option, lang_option, neutral, open_session


@click.command(name="history")
@ID_ARG
@format_option("table", "json")
@lang_option
@desk_options
def command(
    ticket_id: str,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """A ticket's timeline: one line per commit, when, who, action, and field by field
    what it changed (status: new -> acknowledged, log +1).

    Example:

    \b
        itdesk history IT-20231025-001
        itdesk history IT-20231025-001 --lang zh
    """
    from ..core.lifecycle import renumbered_from
    from ..store.history import ticket_history

    session = open_session(desk_path, as_name, now_text)
    found = session.desk.locate(ticket_id.strip())
    paths = list(dict.fromkeys([f"tickets/{ticket_id.strip()}.yaml", session.desk.rel(found.path)]))
    earlier = [f"tickets/{old}.yaml" for old in renumbered_from(session.desk.read_file(found.path))]
    entries = ticket_history(session.desk.root, paths, earlier)
    if fmt == "json":
        dump_json(
            [
                {
                    "commit": e.commit,
                    "when": e.when.isoformat(),
                    "who": e.who,
                    "action": e.action,
                    "subject": e.subject,
                    "changed": list(e.changed),
                    "changes": [
                        {"field": name, "before": old, "after": new} for name, old, new in e.changes
                    ],
                }
                for e in entries
            ]
        )
        return
    from ..channels.table import width
    from ..core.i18n import ACTIONS_ZH, KEYS_ZH, word

    language = session.lang(lang)
    sep = "、" if language == "zh" else ", "

    def pad(text: str, columns: int) -> str:
        return text + " " * max(columns - width(text), 0)

    for e in entries:
        action = word(e.action, language, ACTIONS_ZH)
        if language == "zh":  # field by field, in Chinese: 状态：新建 → 已受理、处理过程 +1
            changed = (
                sep.join(_change_zh(*c) for c in e.changes)
                if e.changes
                else (sep.join(word(c, language, KEYS_ZH) for c in e.changed))
            )
        else:  # field by field: status: new -> acknowledged, log +1
            changed = e.describe()
        line = f"{e.when:%Y-%m-%d %H:%M}  {pad(e.who, 12)} {pad(action, 9)} {changed}"
        click.echo(neutral(line, one_line=True))


def _change_zh(name: str, old: Any, new: Any) -> str:
    """One field's change in Chinese (the zh twin of HistoryEntry.describe)."""
    from ..core.i18n import CATEGORIES_ZH, KEYS_ZH, SATISFACTION_ZH, STATUSES_ZH, SUBKEYS_ZH

    top, _, sub = name.partition(".")
    label = KEYS_ZH.get(top, top) + (f"·{SUBKEYS_ZH.get(sub, sub)}" if sub else "")
    if isinstance(old, list) or isinstance(new, list):
        before, after = list(old or []), list(new or [])
        gained = len([x for x in after if x not in before])
        lost = len([x for x in before if x not in after])
        counts = " ".join(
            x for x in (f"+{gained}" if gained else "", f"-{lost}" if lost else "") if x
        )
        return f"{label} {counts}".rstrip()
    if isinstance(new, dict) or isinstance(old, dict):  # a resolution, a follow-up
        return f"{label}：" + ("新增" if old is None else "移除" if new is None else "修改")
    values = {"status": STATUSES_ZH, "category": CATEGORIES_ZH}.get(name, SATISFACTION_ZH)

    def shown(value: object) -> str:
        if value is None:
            return "-"
        if isinstance(value, bool):
            return "是" if value else "否"
        text = values.get(str(value), str(value))
        return text if len(text) <= 40 else text[:37] + "..."

    return f"{label}：{shown(old)} → {shown(new)}"
