"""``itdesk stats``: where the desk spends its time, for people, programs and supervisors.

The shell around :mod:`itdesk.core.stats`: it tallies every ticket, archived ones
included, a folder at a time (a month of finished tickets is tallied once and kept in
``.git``), reads the knowledge base's article names, and turns the options into a
period. The first run over a big desk parses and validates every file (~1 ms each, on
every core), with a progress bar on a terminal; later runs read the tallies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from . import Progress, desk_options, dump_json, format_option, lang_option, open_session

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..core.stats import Period, Tally
    from ..service.session import Session
    from ..store.desk import Desk


def tallies(session: Session, period: Period, progress: Progress) -> Iterator[Tally]:
    """The tally of each folder of tickets in ``period``, archived ones included (invalid
    files are warned about and left out). A month of the archive whose tickets are all
    closed or cancelled is tallied once and kept in ``.git`` (its figures no longer
    change): later runs read a month's tally, not its 4,000 tickets. ``progress`` is
    told of the files parsed (the first run over a big desk)."""
    from ..core.sla import Rules
    from ..core.stats import finished_tally, tally, within
    from ..store.folders import salt_of

    desk = session.desk
    rules = Rules.of(desk.policy, desk.calendars)
    salt = salt_of(desk.policy.raw, desk.calendar_facts)

    def make(tickets: list[dict[str, Any]]) -> Tally | None:
        return finished_tally(tickets, rules)

    for part, read in session.folder_summaries("stats", salt, make, progress=progress):
        whole = None if part is None else within(part, period)
        if part is not None and whole:
            yield part
        elif whole is None:  # open tickets, or a month the period cuts through
            yield tally(read(), rules, period.since, period.until)


def article_titles(desk: Desk) -> dict[str, str | None]:
    """The knowledge base's articles by slug, with their titles (unreadable ones: None)."""
    from ..service.kb import KB_DIR, README, read_articles

    folder = desk.root / KB_DIR
    names = folder.glob("*.md") if folder.is_dir() else ()
    titles: dict[str, str | None] = {p.stem: None for p in names if p.name != README}
    for article in read_articles(desk, on_error=lambda exc: None):
        titles[article.slug] = article.title
    return titles


def _period(session: Session, since: str | None, until: str | None, month: str | None) -> Period:
    import re
    from datetime import timedelta

    from ..core.stats import Period, month_period
    from ..errors import InvalidValue, UsageError

    if month is not None:
        if since is not None or until is not None:
            raise UsageError("give either --month or --since/--until, not both")
        return month_period(month, session.desk.policy.tz)

    def when(option: str, text: str | None) -> Any:
        if text is None:
            return None
        try:
            return session.time(text)
        except InvalidValue as exc:
            raise UsageError(f"{option}: {exc}") from None

    start, end = when("--since", since), when("--until", until)
    if end is not None and until is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", until.strip()):
        end += timedelta(days=1)  # --until 2023-10-31 takes in the whole day
    if start is not None and end is not None and start >= end:
        raise UsageError(f"--since {since} is not before --until {until}: the period is empty")
    return Period(start, end)


@click.command(name="stats")
@click.option("--since", metavar="D", help="Tickets reported at D (a date or a time) or later.")
@click.option("--until", metavar="D", help="Tickets reported before D (a date: to its end).")
@click.option("--month", metavar="YYYY-MM", help="Tickets reported in that month (desk's zone).")
@click.option("--markdown", is_flag=True, help="A Markdown report to send on (monthly report).")
@format_option("table", "json")
@lang_option
@desk_options
def command(
    since: str | None,
    until: str | None,
    month: str | None,
    markdown: bool,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Figures over the tickets reported in a period (default: all), archived ones
    included: categories, priorities, frequent problems, response and resolution times,
    SLA compliance, escalations, satisfaction, technicians' load, reopen rate, and the
    tickets each KB article solved. Open tickets' SLA clocks are taken at --now, closed
    ones' at their closing; cancelled tickets owe none. Requester names never appear.

    --format json prints these keys (shares are 0..1, null when nothing was counted;
    times are seconds of wall time from the report):

    \b
      period          since, until, month, now, timezone
      tickets         total, open, resolved (ever), closed, cancelled
      by_status       {status: count}
      by_category     {category|unclassified: {count, share}}
      by_priority     {P1|P2|P3|unclassified: {count, share}}
      similar_titles  [{title, count, share, variants}]: top 10 groups of titles
      title_grouping  {distinct, grouped}: distinct titles, and how many were grouped
      times           {P1|P2|P3|unclassified|all: {response, resolution:
                        {count, median_seconds, p90_seconds}}}
      sla             {ack|response|accept|resolution|followup|expected:
                        {stopped, met, breached, met_share, running}}
      sla_overall     {stopped, met, met_share}
      escalations     {total, tickets, by_level: {level: n}, by_clock: {clock|manual: n}}
      satisfaction    {speed|attitude|overall: {satisfied, neutral, unsatisfied,
                        rated, satisfied_share}}
      technicians     [{name, assigned, resolved, open, median_resolution_seconds}]
      reopen          {reopened, resolved, rate}
      kb              [{slug, title, exists, tickets}]: tickets whose kb list names it

    Example:

    \b
        itdesk stats
        itdesk stats --since 2023-10-01 --until 2023-10-15 --format json
        itdesk stats --month 2023-10 --markdown --lang zh > report-2023-10.md
    """
    from ..channels.statsreport import render_markdown, render_text
    from ..core.stats import figures as compute_figures
    from ..errors import UsageError

    if markdown and fmt == "json":
        raise UsageError("--markdown and --format json exclude each other; choose one")
    session = open_session(desk_path, as_name, now_text)
    period = _period(session, since, until, month)
    desk = session.desk
    progress = Progress("reading tickets")  # the first run over a big desk, on a terminal
    try:
        parts = list(tallies(session, period, progress))
    finally:
        progress.close()
    figures = compute_figures(parts, desk.policy, session.now, period, article_titles(desk))
    if fmt == "json":
        dump_json(figures)
    elif markdown:
        click.echo(render_markdown(figures, session.lang(lang)), nl=False)
    else:
        click.echo(render_text(figures, session.lang(lang)))
