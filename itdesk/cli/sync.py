"""``itdesk sync``: meet the other clones at the remote."""

from __future__ import annotations

import click

from . import desk_options, dump_json, format_option, lang_option, neutral, open_session


@click.command(name="sync")
@format_option("table", "json")
@lang_option
@desk_options
def command(
    fmt: str, lang: str | None, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Fetch, merge with the ticket merge driver, push; again if the remote moved.

    A ticket minted here whose number the remote already has is renumbered first (its
    file, its ID, the knowledge base's links; the old number stays in its log): tell its
    requester the new number. When sync cannot finish, it says why in one line, exits
    non-zero, and leaves the clone as it was.

    Example:

    \b
        itdesk sync
        itdesk sync --format json
    """
    from ..service.sync import sync

    session = open_session(desk_path, as_name, now_text)
    report = sync(session)
    if fmt == "json":
        dump_json(
            {
                "remote": report.remote,
                "branch": report.branch,
                "incoming": report.incoming,
                "outgoing": report.outgoing,
                "renumbered": [{"old": o, "new": n} for o, n in report.renumbered],
                "tries": report.tries,
            }
        )
        return
    from ..core.i18n import subject

    language = session.lang(lang)
    where = f"{report.remote}/{report.branch}"
    zh = language == "zh"
    for old, new in report.renumbered:
        if zh:
            line = (
                f"已重新编号 {old} → {new}（该编号已在 {where} 上使用）；请告知提交人新编号 {new}"
            )
        else:
            line = (f"renumbered {old} -> {new} (the number was taken on {where}); "
                    f"tell the requester {new}")  # fmt: skip
        click.echo(line)
    for label, subjects in (("in from", report.incoming), ("out to", report.outgoing)):
        if zh:
            head = f"从 {where} 收到" if label == "in from" else f"推送到 {where}"
            click.echo(f"{head}：{len(subjects)} 个提交")
        else:
            click.echo(f"{label} {where}: {len(subjects)} commit(s)")
        for line in subjects:
            click.echo(f"  {neutral(subject(line, language), one_line=True)}")
