"""The command-line shell: parse options, call the store and the core, print.

Only click and :mod:`itdesk.errors` are imported at the top, so ``itdesk --help`` and
``--version`` stay fast; each command imports what it uses. Errors are turned into one
line and an exit status in one place, :meth:`ItdeskGroup.invoke`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import ItdeskError

if TYPE_CHECKING:
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from ..store.desk import Actor, Desk

F = TypeVar("F", bound=Callable[..., Any])
from .. import __version__ as VERSION  # noqa: E402

EXIT_FINDING = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class ItdeskGroup(click.Group):
    """Turns every error into one line on stderr and the documented exit status.

    Besides the commands defined in this module, every module ``itdesk/commands/NAME.py``
    that defines ``command`` is the command NAME (``_`` -> ``-``, a trailing ``_``
    dropped: ``import_.py`` is ``import``), imported only when it runs or is listed.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        import pkgutil

        found = {_command_name(m.name) for m in pkgutil.iter_modules(__path__)}
        return sorted({*super().list_commands(ctx), *found})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name.replace("-", "_").isidentifier():
            import importlib

            for module in (cmd_name.replace("-", "_"), cmd_name.replace("-", "_") + "_"):
                try:
                    mod = importlib.import_module(f"{__package__}.{module}")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{__package__}.{module}":
                        raise
                    continue
                self.add_command(mod.command, cmd_name)
                break
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if not args:  # plain `itdesk`: the help, not an error
                click.echo(ctx.get_help())
                ctx.exit(0)
            _usage_error(ctx, exc)
            raise  # not reached: _usage_error exits

    def invoke(self, ctx: click.Context) -> Any:
        debug = bool(os.environ.get("ITDESK_DEBUG"))
        try:
            return super().invoke(ctx)
        except ItdeskError as exc:
            click.echo(f"itdesk: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            _usage_error(ctx, exc)
        except click.Abort:
            click.echo("itdesk: aborted; nothing was changed", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("itdesk: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:
            if debug or ctx.find_root().params.get("debug"):
                raise
            click.echo(
                f"itdesk: internal error: {type(exc).__name__}: {exc} (rerun with --debug "
                "for a traceback)",
                err=True,
            )
            ctx.exit(EXIT_ENVIRONMENT)


def _command_name(module: str) -> str:
    return module.rstrip("_").replace("_", "-")


def _usage_error(ctx: click.Context, exc: click.UsageError) -> None:
    """One line instead of click's block (usage, hint, blank line, error); exit 2."""
    where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
    message = " ".join(exc.format_message().split())
    click.echo(f"itdesk: error: {message}{where}", err=True)
    ctx.exit(EXIT_USAGE)


@click.group(cls=ItdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="itdesk")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
def cli(debug: bool) -> None:
    """itdesk: an IT service desk that lives in a git repository.

    Every change is one git commit; `git log -- tickets/ID.yaml` is a ticket's story.
    Commands take --desk PATH (else $ITDESK_DESK, else the desk above the working
    directory), --as NAME (the acting technician) and --now TIME (ISO 8601).
    """


# ------------------------------------------------------------------ shared options


def desk_options(fn: F) -> F:
    fn = click.option(
        "--now",
        "now_text",
        metavar="TIME",
        help="Act as if it were TIME (ISO 8601; no offset means the desk's zone).",
    )(fn)
    fn = click.option("--as", "as_name", metavar="NAME", help="The acting technician.")(fn)
    fn = click.option(
        "--desk",
        "desk_path",
        metavar="PATH",
        type=click.Path(file_okay=False),
        help="The desk (default: $ITDESK_DESK, else walk up from here).",
    )(fn)
    return fn


def format_option(*choices: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output for people (table) or programs.",
    )


def lang_option(fn: F) -> F:
    return click.option(
        "--lang",
        type=click.Choice(["en", "zh"]),
        default=None,
        help="Labels in English or Chinese (default: the desk's locale).",
    )(fn)


class Session:
    """What every command needs: the desk, the time, and (for changes) the actor."""

    def __init__(self, desk_path: str | None, as_name: str | None, now_text: str | None):
        from ..store.desk import Desk

        self.desk: Desk = Desk.open(desk_path)
        self.as_name = as_name
        self.now = self._now(now_text)

    def _now(self, text: str | None) -> datetime:
        from ..core.times import parse_time

        tz = self.desk.policy.tz
        if text is None:
            return datetime.now(tz)
        return parse_time(text, tz)

    def time(self, text: str | None) -> datetime | None:
        from ..core.times import parse_time

        return None if text is None else parse_time(text, self.desk.policy.tz, self.now)

    @property
    def actor(self) -> Actor:
        return self.desk.actor(self.as_name)

    def change(self, ticket_id: str, step: Callable[..., Change]) -> Change:
        """Apply ``step(ticket, now=..., by=...)`` to a ticket, commit it, notify."""
        actor = self.actor
        before: list[Ticket] = []

        def apply(t: Ticket) -> Change:
            before.append(t)
            return step(t, now=self.now, by=actor.name)

        change = self.desk.update(ticket_id.strip(), apply, actor, self.now)
        click.echo(change.subject)
        self.notify(before[0] if before else None, change)
        return change

    def notify(self, before: Ticket | None, change: Change) -> None:
        """Queue and send the notifications of a committed change (if the desk has any)."""
        if self.desk.policy.raw.get("notify"):
            from ..channels.outbox import enqueue_change

            try:
                enqueue_change(self, before, change)
            except ItdeskError as exc:  # the change is committed: report, do not fail it
                warn(Exception(f"notifications not sent: {exc}"))

    def lang(self, lang: str | None) -> str:
        return lang or self.desk.policy.locale


# ------------------------------------------------------------------------- init


@cli.command()
@click.argument("path", type=click.Path(file_okay=False))
@click.option("--timezone", metavar="ZONE", help="IANA zone (default: this machine's).")
@click.option("--as", "as_name", metavar="NAME", help="The technician who runs the desk.")
@click.option("--now", "now_text", metavar="TIME", help="Time of the first commit.")
def init(path: str, timezone: str | None, as_name: str | None, now_text: str | None) -> None:
    """Make PATH a desk: git repository, itdesk.yaml, tickets/ and kb/.

    The technician who runs it (--as, else git's user.name) becomes a member of every
    team and the supervisor, so a one-person desk works at once.

    Example:

    \b
        itdesk init ~/desk --timezone Asia/Shanghai --as zhang
    """
    from pathlib import Path

    from ..core.times import parse_time, zone
    from ..store.desk import init_desk, machine_timezone

    tz_name = timezone or machine_timezone()
    tz = zone(tz_name)
    now = parse_time(now_text, tz) if now_text else datetime.now(tz)
    root = init_desk(Path(path), as_name, tz_name, now)
    click.echo(f"Initialised desk in {root} (time zone {tz_name})")


# -------------------------------------------------------------------------- new

_INTAKE_FIELDS = (
    "title",
    "description",
    "channel",
    "expected_by",
    "reported_at",
    "requester",
    "impact",
)


def _prompt_missing(values: dict[str, Any], session: Session) -> None:
    """Ask a person at a terminal for every intake field not given as a flag."""
    from ..core.model import parse_channel
    from ..errors import ItdeskError

    def ask(
        key: str, text: str, required: bool = False, check: Callable[[str], Any] | None = None
    ) -> None:
        if values.get(key) not in (None, ""):
            return
        while True:
            # Prompts go to stderr, so that ID=$(itdesk new) captures only the number.
            answer = click.prompt(
                text, default="" if not required else None, show_default=False, err=True
            ).strip()
            if not answer:
                if required:
                    click.echo("  This is needed.", err=True)
                    continue
                return
            if check is not None:
                try:
                    check(answer)
                except ItdeskError as exc:
                    click.echo(f"  {exc}", err=True)
                    continue
            values[key] = answer
            return

    ask("requester", "Requester's name (姓名)", required=True)
    ask("employee_id", "Employee number (工号)")
    ask("department", "Department (部门)")
    ask("contact", "Contact: phone, mail or chat (联系方式)")
    ask("title", "Short title of the problem", required=True)
    ask("description", "Symptom and error text (现象/报错)")
    if values.get("blocks_work") is None:
        values["blocks_work"] = click.confirm(
            "Does it block work? (是否影响工作)", default=False, err=True
        )
    ask("scope", "Who or what is affected (影响范围)")
    ask("devices", "Device models, comma-separated (设备型号)")
    ask(
        "expected_by",
        "Expected resolution time, e.g. today 18:00, +2h (期望解决时间)",
        check=session.time,
    )
    ask("channel", "Channel: portal, chat, phone, mail, walk-in", check=parse_channel)


def _intake_from_file(path: str) -> dict[str, Any]:
    from pathlib import Path

    from ..errors import UsageError
    from ..store.desk import load_yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    data = load_yaml(text, path)
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}: expected a mapping with the intake fields ({', '.join(_INTAKE_FIELDS)})"
        )
    unknown = sorted(set(data) - set(_INTAKE_FIELDS))
    if unknown:
        raise UsageError(
            f"{path}: unknown field {unknown[0]!r}; intake fields: {', '.join(_INTAKE_FIELDS)}"
        )
    out: dict[str, Any] = {
        k: data.get(k) for k in ("title", "description", "channel", "expected_by", "reported_at")
    }
    req = data.get("requester") or {}
    imp = data.get("impact") or {}
    if not isinstance(req, dict) or not isinstance(imp, dict):
        raise UsageError(f"{path}: requester and impact must be mappings")
    out["requester"] = req.get("name")
    out["employee_id"] = req.get("employee_id")
    out["department"] = req.get("department")
    out["contact"] = req.get("contact")
    out["blocks_work"] = imp.get("blocks_work")
    out["scope"] = imp.get("scope")
    devices = imp.get("devices")
    out["devices"] = devices if isinstance(devices, list) else devices
    return {
        k: (str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v)
        for k, v in out.items()
    }


@cli.command()
@click.option("--from", "from_file", metavar="FILE.yaml", help="Read the intake fields from YAML.")
@click.option("--title", help="Short title of the problem.")
@click.option("--requester", help="Requester's name.")
@click.option("--employee-id", help="Requester's employee number (工号).")
@click.option("--department", help="Requester's department.")
@click.option("--contact", help="Phone, mail or chat handle.")
@click.option("--description", help="Symptom and error text.")
@click.option("--blocks-work/--no-blocks-work", default=None, help="Does it block work?")
@click.option("--scope", help="Who or what is affected.")
@click.option("--devices", help="Device models, comma-separated.")
@click.option("--expected-by", metavar="TIME", help="The requester's expected time.")
@click.option("--channel", help="portal, chat, phone, mail or walk-in.")
@click.option(
    "-i",
    "--interactive",
    is_flag=True,
    help="Prompt for missing fields (the default on a terminal).",
)
@desk_options
def new(
    from_file: str | None,
    interactive: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **flags: Any,
) -> None:
    """Record a reported problem; prints the new ticket number.

    Flags for scripts, prompts for people at a terminal, or --from FILE.yaml with the
    ticket's own key names (title, description, channel, expected_by, reported_at,
    requester{name, employee_id, department, contact}, impact{blocks_work, scope, devices}).

    Example:

    \b
        itdesk new --title "WiFi authentication fails" --requester "王小明" \\
          --department 研发部 --contact 13956785678 --blocks-work --channel chat
    """
    from ..core.lifecycle import open_ticket
    from ..core.model import Impact, Requester, parse_channel

    session = Session(desk_path, as_name, now_text)
    values: dict[str, Any] = {}
    if from_file:
        values.update(_intake_from_file(from_file))
    values.update({k: v for k, v in flags.items() if v is not None})
    actor = session.actor
    if interactive or (sys.stdin.isatty() and not from_file):
        _prompt_missing(values, session)
    from ..errors import UsageError

    for key, flag in (("requester", "--requester"),):
        if not values.get(key):
            raise UsageError(f"missing {flag}: the requester's name is required")
    if not values.get("title"):
        desc = (values.get("description") or "").strip()
        if not desc:
            raise UsageError("missing --title: say in a few words what the problem is")
        values["title"] = desc.splitlines()[0][:80]
    devices = values.get("devices") or []
    if isinstance(devices, str):
        devices = [d.strip() for d in devices.split(",") if d.strip()]
    blocks = values.get("blocks_work")
    if blocks is not None and not isinstance(blocks, bool):
        raise UsageError(f"blocks_work: {blocks!r} is not true or false")
    requester = Requester(
        name=str(values["requester"]).strip(),
        employee_id=values.get("employee_id") or None,
        department=values.get("department") or None,
        contact=values.get("contact") or None,
    )
    impact = Impact(
        blocks_work=bool(blocks),
        scope=values.get("scope") or None,
        devices=tuple(str(d) for d in devices),
    )
    channel = parse_channel(values["channel"]) if values.get("channel") else None
    expected_by = session.time(values.get("expected_by"))
    reported_at = session.time(values.get("reported_at"))
    if reported_at is not None and reported_at > session.now:
        raise UsageError("reported_at is later than now; give --now or fix the time")

    change = session.desk.create(
        lambda ticket_id: open_ticket(
            ticket_id,
            title=str(values["title"]),
            requester=requester,
            now=session.now,
            by=actor.name,
            reported_at=reported_at,
            description=str(values.get("description") or ""),
            impact=impact,
            channel=channel,
            expected_by=expected_by,
        ),
        actor,
        session.now,
    )
    click.echo(change.ticket.id)
    session.notify(None, change)
    click.echo(
        f"Recorded {change.ticket.id} for {requester.name}. Please tell the requester this "
        "number; it is how the desk follows up (工单编号已生成，请告知员工以便跟进).",
        err=True,
    )
    from .kb import suggest

    # On stderr, like the prompts: ID=$(itdesk new ...) still captures only the number.
    found = suggest(session.desk, f"{change.ticket.title}\n{change.ticket.description}")
    if found:
        click.echo("Self-help that may solve it (自助解决参考):", err=True)
        for slug, title, _score in found:
            click.echo(f"  {title}  (itdesk kb show {slug})", err=True)


# ------------------------------------------------------------- lifecycle steps

ID_ARG = click.argument("ticket_id", metavar="ID")


@cli.command()
@ID_ARG
@desk_options
def ack(ticket_id: str, desk_path: str | None, as_name: str | None, now_text: str | None) -> None:
    """Acknowledge a new ticket: the desk's first response (target: 10 minutes).

    Example:

    \b
        itdesk ack IT-20231025-001
    """
    from ..core.lifecycle import acknowledge

    Session(desk_path, as_name, now_text).change(ticket_id, acknowledge)


@cli.command()
@ID_ARG
@click.option("--priority", "-p", help="P1/P2/P3, 1-3, urgent/important/normal, 紧急/重要/一般.")
@click.option("--category", "-c", help="hardware, software, network, account, other (or 硬件...).")
@desk_options
def classify(
    ticket_id: str,
    priority: str | None,
    category: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Set the priority and category; P1 informs the supervisor at once.

    Example:

    \b
        itdesk classify IT-20231025-001 --priority 重要 --category 网络
    """
    from ..core.lifecycle import classify as do_classify
    from ..core.model import parse_category, parse_priority

    prio = parse_priority(priority) if priority is not None else None
    cat = parse_category(category) if category is not None else None
    session = Session(desk_path, as_name, now_text)

    def step(t: Ticket, **kw: Any) -> Change:
        supervisor = session.desk.policy.supervisor_for(t.team)
        return do_classify(t, priority=prio, category=cat, supervisor=supervisor, **kw)

    session.change(ticket_id, step)


@cli.command()
@ID_ARG
@click.option("--to", "to", metavar="NAME", help="A member of the desk's teams.")
@click.option("--auto", is_flag=True, help="Route by category to the least-loaded member.")
@desk_options
def assign(
    ticket_id: str,
    to: str | None,
    auto: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Assign a ticket to a technician, by name or by the routing rules.

    --auto picks the team whose categories include the ticket's category, then that
    team's member with the fewest open tickets.

    Example:

    \b
        itdesk assign IT-20231025-001 --to zhang
        itdesk assign IT-20231025-001 --auto
    """
    from ..core.lifecycle import assign as do_assign
    from ..core.routing import choose_assignee, load_by_member, team_for_member
    from ..errors import UsageError

    if (to is None) == (not auto):
        raise UsageError("give either --to NAME or --auto")
    session = Session(desk_path, as_name, now_text)
    policy = session.desk.policy

    def step(t: Ticket, **kw: Any) -> Change:
        if auto:
            load = load_by_member(session.desk.ticket_data(on_error=lambda e: None))
            team, member = choose_assignee(policy, t, load)
            return do_assign(t, to=member, team=team, **kw)
        assert to is not None
        return do_assign(t, to=to.strip(), team=team_for_member(policy, to.strip(), t), **kw)

    session.change(ticket_id, step)


@cli.command()
@ID_ARG
@desk_options
def accept(
    ticket_id: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """The assignee takes the ticket on (target: 2 h after assignment); also resumes work
    on a ticket that was waiting on the user or a vendor.

    Example:

    \b
        itdesk accept IT-20231025-001 --as zhang
    """
    from ..core.lifecycle import accept as do_accept

    Session(desk_path, as_name, now_text).change(ticket_id, do_accept)


@cli.command(name="log")
@ID_ARG
@click.argument("text", nargs=-1, required=True)
@click.option(
    "--via",
    type=click.Choice(["phone", "remote", "onsite", "note"]),
    default="note",
    show_default=True,
    help="How the work was done.",
)
@desk_options
def log_cmd(
    ticket_id: str,
    text: tuple[str, ...],
    via: str,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Record a handling step (phone call, remote session, on-site visit or note).

    Example:

    \b
        itdesk log IT-20231025-001 --via remote "Reset the network configuration"
    """
    from ..core.lifecycle import log_work

    session = Session(desk_path, as_name, now_text)
    session.change(ticket_id, lambda t, **kw: log_work(t, via=via, text=" ".join(text), **kw))


@cli.command()
@ID_ARG
@click.option("--supervisor", is_flag=True, help="Escalate to the team's supervisor.")
@click.option("--vendor", metavar="NAME", help="Hand over to a vendor (status pending_vendor).")
@click.option("--reason", required=True, help="Why it is escalated.")
@click.option("--eta", metavar="TIME", help="Expected resolution time told to the employee.")
@desk_options
def escalate(
    ticket_id: str,
    supervisor: bool,
    vendor: str | None,
    reason: str,
    eta: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Escalate to the supervisor, or to a vendor with a reason and an ETA.

    Example:

    \b
        itdesk escalate IT-20231025-002 --vendor "OA vendor" \\
          --reason "interface error needs the vendor" --eta "tomorrow 18:00"
    """
    from ..core.lifecycle import escalate as do_escalate
    from ..errors import UsageError

    if supervisor == (vendor is not None):
        raise UsageError("give either --supervisor or --vendor NAME")
    session = Session(desk_path, as_name, now_text)
    eta_time = session.time(eta)

    def step(t: Ticket, **kw: Any) -> Change:
        if vendor is not None:
            return do_escalate(t, vendor=vendor, reason=reason, eta=eta_time, **kw)
        to = session.desk.policy.supervisor_for(t.team)
        if to is None:
            raise UsageError("no supervisor in itdesk.yaml (supervisors: or a team's supervisor)")
        return do_escalate(t, supervisor=to, reason=reason, eta=eta_time, **kw)

    session.change(ticket_id, step)


@cli.command()
@ID_ARG
@click.option(
    "--on",
    "on",
    type=click.Choice(["user", "vendor"]),
    required=True,
    help="Who the ticket waits on.",
)
@click.option("--reason", help="What is awaited.")
@desk_options
def pending(
    ticket_id: str,
    on: str,
    reason: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Mark a ticket as waiting on the requester or a vendor (accept resumes it).

    Example:

    \b
        itdesk pending IT-20231025-001 --on user --reason "user is in a meeting"
    """
    from ..core.lifecycle import pending as do_pending

    session = Session(desk_path, as_name, now_text)
    session.change(ticket_id, lambda t, **kw: do_pending(t, on=on, reason=reason, **kw))


@cli.command()
@ID_ARG
@click.option("--summary", required=True, help="The solution, for the report and the KB.")
@click.option("--verified", is_flag=True, help="The requester confirmed that it works.")
@click.option(
    "--kb",
    "kb_slugs",
    multiple=True,
    metavar="SLUG",
    help="A KB article that solved it (repeatable); recorded in the ticket's kb list.",
)
@desk_options
def resolve(
    ticket_id: str,
    summary: str,
    verified: bool,
    kb_slugs: tuple[str, ...],
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Mark a ticket resolved (处理完成); the follow-up call is due within 1 h.

    --kb SLUG records that the article kb/SLUG.md solved it (itdesk kb search finds one).

    Example:

    \b
        itdesk resolve IT-20231025-001 --summary "Updated the WiFi certificate" --verified
        itdesk resolve IT-20231026-004 --summary "Self-help article worked" --kb wifi-certificate
    """
    from dataclasses import replace

    from ..core.lifecycle import resolve as do_resolve
    from .kb import require_articles

    session = Session(desk_path, as_name, now_text)
    slugs = require_articles(session.desk, kb_slugs)

    def step(t: Ticket, **kw: Any) -> Change:
        change = do_resolve(t, summary=summary, verified=verified, **kw)
        added = tuple(s for s in slugs if s not in change.ticket.kb)
        if not added:
            return change
        ticket = replace(change.ticket, kb=change.ticket.kb + added)
        kbs = ", ".join(f"kb/{s}" for s in added)
        return replace(change, ticket=ticket, summary=f"{change.summary}, {kbs}")

    session.change(ticket_id, step)


@cli.command()
@ID_ARG
@click.option("--speed", required=True, help="satisfied|neutral|unsatisfied (满意|一般|不满意).")
@click.option("--attitude", required=True, help="satisfied|neutral|unsatisfied.")
@click.option("--overall", required=True, help="satisfied|neutral|unsatisfied.")
@click.option("--comment", help="What the requester said.")
@desk_options
def followup(
    ticket_id: str,
    speed: str,
    attitude: str,
    overall: str,
    comment: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Record the follow-up call: satisfaction with speed and attitude, and overall.

    Example:

    \b
        itdesk followup IT-20231025-001 --speed 满意 --attitude 满意 --overall 满意
    """
    from ..core.lifecycle import followup as do_followup
    from ..core.model import parse_satisfaction

    s, a, o = (parse_satisfaction(x) for x in (speed, attitude, overall))
    session = Session(desk_path, as_name, now_text)
    session.change(
        ticket_id,
        lambda t, **kw: do_followup(t, speed=s, attitude=a, overall=o, comment=comment, **kw),
    )


@cli.command()
@ID_ARG
@click.option("--force", is_flag=True, help="Close without resolution or follow-up.")
@click.option("--reason", help="Why it is closed by force (required with --force).")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also write the problem-handling report to FILE.",
)
@click.option("--reveal", is_flag=True, help="Do not mask personal data in the report.")
@lang_option
@desk_options
def close(
    ticket_id: str,
    force: bool,
    reason: str | None,
    output: str | None,
    reveal: bool,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Close a resolved, followed-up ticket and print its problem-handling report.

    Example:

    \b
        itdesk close IT-20231025-001
        itdesk close IT-20231025-009 --force --reason "duplicate of IT-20231025-008"
    """
    from ..channels.report import problem_report
    from ..core.lifecycle import close as do_close
    from ..errors import UsageError

    if reason is not None and not force:
        raise UsageError("--reason goes with --force")
    session = Session(desk_path, as_name, now_text)
    change = session.change(
        ticket_id, lambda t, **kw: do_close(t, force=force, reason=reason, **kw)
    )
    text = problem_report(change.ticket, session.lang(lang), reveal, session.desk.policy.personal)
    click.echo()
    click.echo(text, nl=False)
    if output:
        from pathlib import Path

        Path(output).write_text(text, encoding="utf-8")


@cli.command()
@ID_ARG
@click.option("--reason", required=True, help="Why it is reopened.")
@desk_options
def reopen(
    ticket_id: str, reason: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Reopen a resolved or closed ticket; accept puts it back in progress.

    Example:

    \b
        itdesk reopen IT-20231025-001 --reason "WiFi drops again"
    """
    from ..core.lifecycle import reopen as do_reopen

    session = Session(desk_path, as_name, now_text)
    session.change(ticket_id, lambda t, **kw: do_reopen(t, reason=reason, **kw))


@cli.command()
@ID_ARG
@click.option("--reason", required=True, help="Why (duplicate, mistake...).")
@desk_options
def cancel(
    ticket_id: str, reason: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """Cancel a duplicate or mistaken ticket.

    Example:

    \b
        itdesk cancel IT-20231025-003 --reason "duplicate of IT-20231025-001"
    """
    from ..core.lifecycle import cancel as do_cancel

    session = Session(desk_path, as_name, now_text)
    session.change(ticket_id, lambda t, **kw: do_cancel(t, reason=reason, **kw))


# ----------------------------------------------------------------------- reading


def dump_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@cli.command()
@ID_ARG
@format_option("table", "json")
@lang_option
@click.option("--reveal", is_flag=True, help="Do not mask personal data.")
@desk_options
def show(
    ticket_id: str,
    fmt: str,
    lang: str | None,
    reveal: bool,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Show a ticket: its fields, log, escalations and git history.

    --format json prints the ticket under the key names of its YAML file.

    Example:

    \b
        itdesk show IT-20231025-001
    """
    from ..core.model import ticket_to_dict

    session = Session(desk_path, as_name, now_text)
    ticket = session.desk.read(ticket_id.strip())
    if fmt == "json":
        dump_json(ticket_to_dict(ticket))
        return
    from ..channels.views import render_ticket
    from ..store.history import ticket_history

    found = session.desk.locate(ticket.id)
    paths = [f"tickets/{ticket.id}.yaml"]
    if found.archived:
        paths.append(session.desk.rel(found.path))
    click.echo(
        render_ticket(
            ticket,
            ticket_history(session.desk.root, paths),
            session.lang(lang),
            reveal,
            session.desk.policy.personal,
        )
    )


@cli.command()
@ID_ARG
@format_option("table", "json")
@desk_options
def history(
    ticket_id: str, fmt: str, desk_path: str | None, as_name: str | None, now_text: str | None
) -> None:
    """One line per commit of a ticket: when, who, action, the fields it changed.

    Example:

    \b
        itdesk history IT-20231025-001
    """
    from ..store.history import ticket_history

    session = Session(desk_path, as_name, now_text)
    found = session.desk.locate(ticket_id.strip())
    paths = list(dict.fromkeys([f"tickets/{ticket_id.strip()}.yaml", session.desk.rel(found.path)]))
    entries = ticket_history(session.desk.root, paths)
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
                }
                for e in entries
            ]
        )
        return
    for e in entries:
        click.echo(f"{e.when:%Y-%m-%d %H:%M}  {e.who:<12} {e.action:<9} {', '.join(e.changed)}")


def filter_options(fn: F) -> F:
    """The ticket filters of ``list``, shared by ``check``; see :func:`ticket_filter`."""
    options = [
        click.option("--status", "-s", multiple=True, help="Statuses (repeat or comma-separate)."),
        click.option("--priority", "-p", multiple=True, help="Priorities (P1, 紧急, ...)."),
        click.option("--category", "-c", multiple=True, help="Categories (network, 网络, ...)."),
        click.option("--team", multiple=True, help="Teams."),
        click.option("--assignee", "-a", multiple=True, help="Assignees."),
        click.option("--text", "-t", "query", help="Words that must appear in the ticket's text."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def ticket_filter(
    status: tuple[str, ...] = (),
    priority: tuple[str, ...] = (),
    category: tuple[str, ...] = (),
    team: tuple[str, ...] = (),
    assignee: tuple[str, ...] = (),
    query: str | None = None,
    include_all: bool = False,
) -> Any:
    """The :class:`itdesk.views.TicketFilter` of the options of :func:`filter_options`."""
    from ..channels.views import TicketFilter

    return TicketFilter.parse(
        status=_split(status),
        priority=_split(priority),
        category=_split(category),
        team=_split(team),
        assignee=_split(assignee),
        text=query,
        include_all=include_all,
    )


@cli.command(name="list")
@filter_options
@click.option("--breached", is_flag=True, help="Only tickets with a breached SLA clock.")
@click.option(
    "--all",
    "include_all",
    is_flag=True,
    help="Every ticket, closed, cancelled and archived ones included.",
)
@click.option(
    "--sort",
    type=click.Choice(["id", "reported", "priority", "status", "assignee"]),
    default="id",
    show_default=True,
    help="Sort order.",
)
@click.option("--reverse", is_flag=True, help="Reverse the order.")
@format_option("table", "json", "csv")
@lang_option
@desk_options
def list_cmd(
    breached: bool,
    include_all: bool,
    sort: str,
    reverse: bool,
    fmt: str,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
    **filters: Any,
) -> None:
    """List tickets; with no filter, those not yet closed or cancelled.

    --breached keeps the open tickets with a breached SLA clock at --now (the clocks
    of itdesk check).

    Example:

    \b
        itdesk list --priority P1 --status in_progress,pending_vendor
        itdesk list --breached --assignee zhang
        itdesk list --all --format json
    """
    from ..channels.views import filter_tickets, render_list, sort_tickets

    session = Session(desk_path, as_name, now_text)
    flt = ticket_filter(include_all=include_all, **filters)
    tickets = filter_tickets(
        session.desk.ticket_data(include_archive=include_all, on_error=warn), flt
    )
    if breached:
        from ..core.model import ticket_from_dict
        from ..core.sla import evaluate

        policy, calendars = session.desk.policy, session.desk.calendars
        tickets = [
            d
            for d in tickets
            if d["status"] not in ("closed", "cancelled")
            and any(
                s.open and s.state == "breached"
                for s in evaluate(ticket_from_dict(d), policy, session.now, calendars)
            )
        ]
    chosen = sort_tickets(tickets, sort, reverse)
    click.echo(render_list(chosen, fmt, session.lang(lang)), nl=fmt != "csv")


def _split(values: Iterable[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def warn(exc: Exception) -> None:
    click.echo(f"itdesk: warning: {exc}", err=True)


@cli.command()
@ID_ARG
@lang_option
@click.option("--reveal", is_flag=True, help="Do not mask personal data.")
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Write the report to FILE instead of stdout.",
)
@desk_options
def report(
    ticket_id: str,
    lang: str | None,
    reveal: bool,
    output: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """Print the problem-handling report (问题处理报告) of a ticket as Markdown.

    Example:

    \b
        itdesk report IT-20231025-001 --lang zh
    """
    from ..channels.report import problem_report

    session = Session(desk_path, as_name, now_text)
    ticket = session.desk.read(ticket_id.strip())
    text = problem_report(ticket, session.lang(lang), reveal, session.desk.policy.personal)
    if output:
        from pathlib import Path

        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command()
@format_option("table", "json")
@desk_options
def validate(fmt: str, desk_path: str | None, as_name: str | None, now_text: str | None) -> None:
    """Check itdesk.yaml and every ticket against the schema and the status machine.

    Prints each problem as PATH:LINE: message; exits 1 when there is any.

    Example:

    \b
        itdesk validate
    """
    from ..errors import InvalidPolicy
    from ..service.validation import validate_desk
    from ..store.desk import Desk, find_desk

    desk = Desk(find_desk(desk_path))
    try:
        problems, count = validate_desk(desk)
    except InvalidPolicy as exc:
        problems, count = [str(exc)], 0
    from .kb import kb_problems

    problems += kb_problems(desk)
    if fmt == "json":
        dump_json({"tickets": count, "problems": problems})
    else:
        for p in problems:
            click.echo(p)
        click.echo(f"{count} tickets checked, {len(problems)} problems", err=True)
    if problems:
        sys.exit(EXIT_FINDING)


def all_commands() -> list[tuple[str, ...]]:
    """Every command's path (``("kb", "search")``), subcommands of groups included."""
    ctx = click.Context(cli)
    out: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            if command is None:
                continue
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))
            else:
                out.append((*prefix, name))

    walk(cli, ())
    return out


def main() -> None:
    cli(prog_name="itdesk")
