"""``itdesk stats``: where the desk spends its time, for people, programs and supervisors.

The shell around :mod:`itdesk.core.stats`: it reads every ticket, archived ones included,
through the cache in ``.git`` (:meth:`itdesk.store.Desk.ticket_data`), the knowledge
base's article names, and turns the options into a period. The first run over a big
desk parses and validates every file (~2 ms each here: minutes at 100,000), so it
reports its progress on stderr every PROGRESS_EVERY files; later runs read the cache.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from . import desk_options, dump_json, format_option, lang_option, open_session, warn

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..core.stats import Period
    from ..service.session import Session
    from ..store.desk import Desk

# A line on stderr every this many files parsed (not served by the cache).
PROGRESS_EVERY = 2000


class _Progress:
    """Counts the ticket files parsed (cache misses) and reports every PROGRESS_EVERY."""

    def __init__(self, desk: Desk, every: int):
        self.desk = desk
        self.every = every
        self.count = 0
        self.total: int | None = None
        self.started = time.monotonic()

    def __call__(self) -> None:
        self.count += 1
        if self.count % self.every:
            return
        if self.total is None:
            self.total = len(self.desk.ticket_files(include_archive=True))
        seconds = time.monotonic() - self.started
        click.echo(
            f"itdesk stats: parsed {self.count:,} of {self.total:,} ticket files "
            f"({seconds:.0f}s; first run: later runs read the cache)",
            err=True,
        )

    def done(self) -> None:
        if self.count >= self.every:
            seconds = time.monotonic() - self.started
            click.echo(
                f"itdesk stats: parsed {self.count:,} ticket files in {seconds:.0f}s; "
                "cached for the next run",
                err=True,
            )


def read_tickets(desk: Desk) -> Iterator[dict[str, Any]]:
    """Every valid ticket, archived ones included, one at a time (a month of the archive
    in memory at once), with progress on stderr while files are parsed; invalid files
    are warned about and left out."""
    progress = _Progress(desk, PROGRESS_EVERY)
    yield from desk.iter_ticket_data(include_archive=True, on_error=warn, on_parse=progress)
    progress.done()


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
    from ..core.stats import compute
    from ..errors import UsageError

    if markdown and fmt == "json":
        raise UsageError("--markdown and --format json exclude each other; choose one")
    session = open_session(desk_path, as_name, now_text)
    period = _period(session, since, until, month)
    desk = session.desk
    tickets = read_tickets(desk)
    figures = compute(
        tickets, desk.policy, session.now, desk.calendars, period, article_titles(desk)
    )
    if fmt == "json":
        dump_json(figures)
    elif markdown:
        click.echo(render_markdown(figures, session.lang(lang)), nl=False)
    else:
        click.echo(render_text(figures, session.lang(lang)))
