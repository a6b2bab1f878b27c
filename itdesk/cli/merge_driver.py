"""``itdesk merge-driver``: git's merge driver for ticket files (see ``itdesk setup``)."""

from __future__ import annotations

import click

from . import desk_lang, lang_option, neutral


@click.command(name="merge-driver")
@click.argument("base", type=click.Path(dir_okay=False))
@click.argument("ours", type=click.Path(dir_okay=False))
@click.argument("theirs", type=click.Path(dir_okay=False))
@click.argument("path", default="ticket")
@lang_option
def command(base: str, ours: str, theirs: str, path: str, lang: str | None) -> None:
    """Merge three versions of a ticket file; git runs it (%O %A %B %P).

    Log and escalation entries of both sides are united in time order; a field changed
    on one side takes that side's value; a field changed on both sides takes the later
    change and the conflict is recorded as a system log entry. When the result would not
    be a valid ticket, the ticket and the field are named, git's conflict markers are
    left in the file, and the exit status is 1. `itdesk setup` registers it. Its lines
    are in the language of the desk git runs it in (or --lang).

    Example:

    \b
        git config merge.itdesk.driver 'itdesk merge-driver %O %A %B %P'
    """
    from pathlib import Path

    from ..core.merge import MergeConflict
    from ..errors import InvalidTicket
    from ..store.clone import conflict_markers, merge_files

    b, o, t = Path(base), Path(ours), Path(theirs)
    try:
        result = merge_files(b, o, t, path)
    except (MergeConflict, InvalidTicket) as exc:
        conflict_markers(b, o, t, path)
        _say(f"merge of {path} stopped: {exc}")
        raise SystemExit(1) from None
    for name, kept, _lost in result.conflicts:
        _say(f"{path}: {name} changed on both sides; kept {kept!r}")


def _say(line: str) -> None:
    """A line for the person who merges (git shows the driver's stderr), in the desk's
    language: git runs the driver in the desk's working tree."""
    from ..core.i18n import team_text

    click.echo(f"itdesk: {neutral(team_text(line, desk_lang()), one_line=True)}", err=True)
