"""The command line's root: the group, the options commands share, and the one place
where errors become a line on stderr and an exit status (:meth:`ItdeskGroup.invoke`).

Every command lives in a module of this folder, imported only when it runs or is
listed: ``itdesk/cli/NAME.py`` that defines ``command`` is the command NAME (``_`` ->
``-``, a trailing ``_`` dropped: ``import_.py`` is ``import``), and a module holding a
small family of commands (the lifecycle steps) is named in :data:`FAMILIES`. A command
parses its options, opens a :class:`~itdesk.service.session.Session`, calls the service
layer and prints: the domain lives below this folder, and nothing below imports it.

Only click and :mod:`itdesk.errors` are imported at the top, so ``itdesk --help`` and
``--version`` stay fast.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import __version__ as VERSION
from ..errors import ItdeskError

if TYPE_CHECKING:
    from pathlib import Path
    from typing import BinaryIO

    from ..channels.views import TicketFilter
    from ..service.session import Session

F = TypeVar("F", bound=Callable[..., Any])

EXIT_FINDING = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_CLOSED_PIPE = 141  # what a shell reports for a process ended by SIGPIPE

# Modules that hold several commands: module -> its commands (each an attribute).
FAMILIES: dict[str, tuple[str, ...]] = {
    "lifecycle": (
        "ack",
        "classify",
        "assign",
        "accept",
        "log",
        "escalate",
        "pending",
        "resolve",
        "followup",
        "close",
        "reopen",
        "cancel",
    ),
}
_HOME = {name: module for module, names in FAMILIES.items() for name in names}


class ItdeskGroup(click.Group):
    """Finds the commands in this folder, and turns every error into one line on stderr
    and the documented exit status."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        import pkgutil

        found = {
            _command_name(m.name)
            for m in pkgutil.iter_modules(__path__)
            if m.name not in FAMILIES and not m.name.startswith("_")
        }
        return sorted({*super().list_commands(ctx), *found, *_HOME})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name.replace("-", "_").isidentifier():
            import importlib

            if cmd_name in _HOME:
                mod = importlib.import_module(f"{__package__}.{_HOME[cmd_name]}")
                self.add_command(getattr(mod, cmd_name.replace("-", "_")), cmd_name)
                return super().get_command(ctx, cmd_name)
            for module in (cmd_name.replace("-", "_"), cmd_name.replace("-", "_") + "_"):
                if module in FAMILIES or module.startswith("_"):
                    continue
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
        ctx.meta[_ARGV] = list(args)  # for the language of a usage error (_usage_lang)
        try:
            return super().parse_args(ctx, args)
        except BrokenPipeError:  # `itdesk --help | head -1`
            _quiet_stdout()
            ctx.exit(EXIT_CLOSED_PIPE)
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
            from ..core.i18n import message

            lang = _lang_of(ctx) if _said_lang(ctx) else _usage_lang(ctx)
            label = "错误：" if lang == "zh" else "error: "
            text = message(str(exc), lang)
            click.echo(f"itdesk: {label}{neutral(text, one_line=True)}", err=True)
            ctx.exit(exc.exit_code)
        except click.UsageError as exc:
            _usage_error(ctx, exc)
        except click.Abort:
            said = (
                "已中止；未做任何更改" if _lang_of(ctx) == "zh" else "aborted; nothing was changed"
            )
            click.echo(f"itdesk: {said}", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo(
                "itdesk: 已中断" if _lang_of(ctx) == "zh" else "itdesk: interrupted", err=True
            )
            ctx.exit(130)
        except BrokenPipeError:  # `itdesk list | head -1`: the reader is gone
            _quiet_stdout()
            ctx.exit(EXIT_CLOSED_PIPE)
        except OSError as exc:  # the machine's fault (a full disk): one line, exit 3
            if debug or ctx.find_root().params.get("debug"):
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            what = exc.strerror or str(exc)
            if _lang_of(ctx) == "zh":
                from ..core.i18n import os_error

                said = os_error(what) + (f"（{exc.filename}）" if where else "")
                text = f"itdesk: 错误：{neutral(said, one_line=True)}；未做任何更改"
            else:
                text = f"itdesk: error: {neutral(what + where, one_line=True)}; nothing was changed"
            click.echo(text, err=True)
            ctx.exit(EXIT_ENVIRONMENT)
        except Exception as exc:
            if debug or ctx.find_root().params.get("debug"):
                raise
            said = neutral(str(exc), one_line=True)
            if _lang_of(ctx) == "zh":  # the exception's own words stay: they name the bug
                text = (f"itdesk: 内部错误：{type(exc).__name__}: {said}"
                        "（加 --debug 重新运行可看到调用栈）")  # fmt: skip
            else:
                text = (f"itdesk: internal error: {type(exc).__name__}: {said} "
                        "(rerun with --debug for a traceback)")  # fmt: skip
            click.echo(text, err=True)
            ctx.exit(EXIT_ENVIRONMENT)


def _lang_of(ctx: click.Context) -> str:
    """The language of this run's messages: --lang, else the opened desk's locale."""
    lang = ctx.meta.get(_LANG)
    if lang:
        return str(lang)
    session = ctx.meta.get(_SESSION)
    return str(session.lang()) if session is not None else "en"


def _said_lang(ctx: click.Context) -> bool:
    """Whether this run knows its language (--lang, or a desk it opened)."""
    return bool(ctx.meta.get(_LANG) or ctx.meta.get(_SESSION) is not None)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that Python's flush at exit finds no pipe to
    complain about: a closed pipe ends the command quietly."""
    import sys

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _command_name(module: str) -> str:
    return module.rstrip("_").replace("_", "-")


_ARGV = "itdesk.argv"  # the command line as the group got it, in click's meta


def _usage_error(ctx: click.Context, exc: click.UsageError) -> None:
    """One line instead of click's block (usage, hint, blank line, error); exit 2; in
    Chinese with --lang zh or on a zh desk."""
    from ..core.i18n import usage_message

    lang = _usage_lang(ctx)
    message = usage_message(" ".join(exc.format_message().split()), lang)
    if lang == "zh":
        where = f"（参见：{exc.ctx.command_path} --help）" if exc.ctx else ""
        click.echo(f"itdesk: 错误：{neutral(message, one_line=True)}{where}", err=True)
    else:
        where = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        click.echo(f"itdesk: error: {neutral(message, one_line=True)}{where}", err=True)
    ctx.exit(EXIT_USAGE)


def _usage_lang(ctx: click.Context) -> str:
    """The language of a usage error: --lang when the command line has it (parsed or
    not), else the locale of the desk it names (--desk, $ITDESK_DESK, the one above
    the working directory), else English."""
    if ctx.meta.get(_LANG):
        return str(ctx.meta[_LANG])
    argv = [str(a) for a in ctx.meta.get(_ARGV, ())]
    desk_path = None
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if not eq and i + 1 < len(argv):
            value = argv[i + 1]
        if name == "--lang" and value in ("en", "zh"):
            return value
        if name == "--desk":
            desk_path = value
    try:
        from ..store.desk import Desk

        return str(Desk.open(desk_path).policy.locale)
    except Exception:  # no desk, or one that cannot be read: the error stays in English
        return "en"


def completes(what: str) -> Callable[[click.Context, click.Parameter, str], list[Any]]:
    """A ``shell_complete`` that completes ``what`` (a name in :mod:`._complete`:
    ``ticket_ids``, ``people``, ``slugs``...), imported only when the shell asks."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from . import _complete

        found: list[Any] = getattr(_complete, what)(ctx, param, incomplete)
        return found

    return complete


def _inherit(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A desk option not given after the subcommand takes the one given before it
    (``itdesk --desk /srv/desk list``)."""
    if value is None and param.name:
        root = ctx.find_root()
        if root is not ctx:
            return root.params.get(param.name)
    return value


def desk_options(fn: F) -> F:
    """``--desk``, ``--as`` and ``--now``: accepted after the command's name, and before
    it (on the group, see :func:`cli`); the one after wins."""
    fn = click.option(
        "--now",
        "now_text",
        metavar="TIME",
        callback=_inherit,
        help="Act as if it were TIME (ISO 8601; no offset means the desk's zone).",
    )(fn)
    fn = click.option(
        "--as",
        "as_name",
        metavar="NAME",
        callback=_inherit,
        shell_complete=completes("people"),
        help="The acting technician.",
    )(fn)
    fn = click.option(
        "--desk",
        "desk_path",
        metavar="PATH",
        type=click.Path(file_okay=False),
        callback=_inherit,
        help="The desk (default: $ITDESK_DESK, else walk up from here).",
    )(fn)
    return fn


def lang_option(fn: F) -> F:
    """``--lang en|zh``, after the command's name or before it (``itdesk --lang zh
    check``); by default the desk's ``locale``."""
    return click.option(
        "--lang",
        type=click.Choice(["en", "zh"]),
        default=None,
        callback=_record_lang,
        help="Labels in English or Chinese (default: the desk's locale).",
    )(fn)


def lang_said(fn: F) -> F:
    """``--lang en|zh`` for a command that reads it through :func:`ui_lang` (its value
    is not passed to the function): the same option as :func:`lang_option`."""
    return click.option(
        "--lang",
        type=click.Choice(["en", "zh"]),
        default=None,
        expose_value=False,
        callback=_record_lang,
        help="Labels in English or Chinese (default: the desk's locale).",
    )(fn)


_LANG = "itdesk.lang"  # --lang as given (before or after the command), in click's meta


def _record_lang(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    value = _inherit(ctx, param, value)
    if value:
        ctx.meta[_LANG] = value  # meta is shared by the contexts of one run
    return value


def ui_lang(session: Session | None = None) -> str:
    """The language of what is said to a person: ``--lang`` given before the command,
    else the desk's ``locale`` (en without a desk)."""
    ctx = click.get_current_context()
    lang = ctx.meta.get(_LANG)
    if lang:
        return str(lang)
    session = session or ctx.meta.get(_SESSION)
    return session.lang() if session is not None else "en"


def desk_lang(desk_path: str | None = None) -> str:
    """:func:`ui_lang` for a command that opens no session (setup, serve, guard, the
    merge driver): --lang, else the locale of the desk there is, else English."""
    lang = click.get_current_context().meta.get(_LANG)
    if lang:
        return str(lang)
    try:
        from ..store.desk import Desk

        return str(Desk.open(desk_path).policy.locale)
    except Exception:  # no desk here (a bare remote, a fresh clone's hook): English
        return "en"


def say(line: str, session: Session | None = None) -> None:
    """Print a commit subject (``IT-20231025-001: acknowledge``) as the success
    message, in the language of :func:`ui_lang`."""
    from ..core.i18n import subject

    click.echo(neutral(subject(line, ui_lang(session)), one_line=True))


@click.group(cls=ItdeskGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="itdesk")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@lang_option
@desk_options
def cli(
    debug: bool,
    lang: str | None,
    desk_path: str | None,
    as_name: str | None,
    now_text: str | None,
) -> None:
    """itdesk: an IT service desk that lives in a git repository.

    Every change is one git commit; `git log -- tickets/ID.yaml` is a ticket's story.
    Commands take --desk PATH (else $ITDESK_DESK, else the desk above the working
    directory), --as NAME (the acting technician) and --now TIME (ISO 8601), after
    the command's name or before it (itdesk --desk ~/desk list); --lang zh before it
    speaks Chinese (as does a desk with locale: zh).
    """


# ------------------------------------------------------------------ shared options


def format_option(*choices: str) -> Callable[[F], F]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output for people (table) or programs.",
    )


def _ticket_number(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Ticket numbers in any letter case (``it-20240403-001``)."""
    from ..core.ids import normal_id

    return normal_id(value)


ID_ARG = click.argument(
    "ticket_id", metavar="ID", callback=_ticket_number, shell_complete=completes("ticket_ids")
)


def filter_options(fn: F) -> F:
    """The ticket filters of ``list``, shared by ``check``; see :func:`ticket_filter`."""
    options = [
        click.option(
            "--status",
            "-s",
            multiple=True,
            shell_complete=completes("statuses"),
            help="Statuses (repeat or comma-separate).",
        ),
        click.option(
            "--priority",
            "-p",
            multiple=True,
            shell_complete=completes("priorities"),
            help="Priorities (P1, 紧急, ...).",
        ),
        click.option(
            "--category",
            "-c",
            multiple=True,
            shell_complete=completes("categories"),
            help="Categories (network, 网络, ...).",
        ),
        click.option("--team", multiple=True, shell_complete=completes("teams"), help="Teams."),
        click.option(
            "--assignee",
            "-a",
            multiple=True,
            shell_complete=completes("members"),
            help="Assignees.",
        ),
        click.option(
            "--text",
            "-t",
            "query",
            help="Words that must appear in the ticket (number, text, requester, 工号, contact).",
        ),
        click.option("--mine", is_flag=True, help="Assigned to the acting technician (--as)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def ticket_filter(
    session: Session,
    status: tuple[str, ...] = (),
    priority: tuple[str, ...] = (),
    category: tuple[str, ...] = (),
    team: tuple[str, ...] = (),
    assignee: tuple[str, ...] = (),
    query: str | None = None,
    mine: bool = False,
    include_all: bool = False,
) -> TicketFilter:
    """The :class:`itdesk.channels.views.TicketFilter` of :func:`filter_options`;
    ``--mine`` is the session's acting technician."""
    from ..channels.views import TicketFilter
    from ..errors import UsageError

    if mine:
        if assignee:
            raise UsageError("give --mine or --assignee, not both")
        assignee = (session.actor.name,)

    return TicketFilter.parse(
        status=_split(status),
        priority=_split(priority),
        category=_split(category),
        team=_split(team),
        assignee=_split(assignee),
        text=query,
        include_all=include_all,
    )


def _split(values: Iterable[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


# ------------------------------------------------------------------ for commands


def open_session(desk_path: str | None, as_name: str | None, now_text: str | None) -> Session:
    """The service session of the desk options; its warnings go to stderr as they come."""
    from ..service.session import Session

    try:
        session = Session.open(desk_path, as_name=as_name, now=now_text, on_warning=warn)
    except ItdeskError:  # (--as unknown, --now bad) said in the desk's language if it has one
        with contextlib.suppress(Exception):
            from ..store.desk import Desk

            locale = Desk.open(desk_path).policy.locale
            click.get_current_context().meta.setdefault(_LANG, locale)
        raise
    with contextlib.suppress(RuntimeError):  # outside click (a library caller): no context
        click.get_current_context().meta[_SESSION] = session
    return session


_SESSION = "itdesk.session"  # the command's session, in click's context (for ui_lang)


def warn(message: object) -> None:
    from ..core.i18n import message as translated

    try:
        lang = _lang_of(click.get_current_context())
    except RuntimeError:  # outside a command
        lang = "en"
    label = "警告：" if lang == "zh" else "warning: "
    text = translated(str(message), lang)
    click.echo(f"itdesk: {label}{neutral(text, one_line=True)}", err=True)


# C0 and C1 control characters (ESC starts every terminal escape sequence), DEL, and the
# Unicode line separators and bidirectional overrides that reorder what a terminal shows.
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROL |= {
    c: f"\\u{c:04x}" for c in (0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}
_KEEP_LINES = {k: v for k, v in _CONTROL.items() if k not in (0x09, 0x0A)}


def neutral(text: str, one_line: bool = False) -> str:
    """``text`` made safe for a terminal: control characters shown as ``\\xNN``, never
    sent; ``one_line`` escapes line breaks and tabs too (a message is one line)."""
    table = _CONTROL if one_line else _KEEP_LINES
    # A search first: translate() copies the text character by character (0.5 s for
    # the 10 MB of `list --all` on 100,000 tickets), and most text has nothing to escape.
    if not (_CONTROL_FOUND if one_line else _KEEP_LINES_FOUND).search(text):
        return text
    return text.translate(table)


def _class_of(codes: Iterable[int]) -> re.Pattern[str]:
    return re.compile("[" + "".join(f"\\u{c:04x}" for c in sorted(codes)) + "]")


_CONTROL_FOUND = _class_of(_CONTROL)
_KEEP_LINES_FOUND = _class_of(_KEEP_LINES)


_YES = ("y", "yes", "是", "是的", "好", "对")
_NO = ("n", "no", "否", "不", "不是")


def confirm(text: str, default: bool = False) -> bool:
    """A yes/no question on stderr that takes 是/否 as well as y/n."""
    hint = "[Y/n 是/否]" if default else "[y/N 是/否]"

    def answer(value: str) -> bool:
        word = value.strip().lower()
        if word in _YES:
            return True
        if word in _NO:
            return False
        raise click.BadParameter("answer y/n (是/否)")

    result: bool = click.prompt(
        f"{text} {hint}",
        default="y" if default else "n",
        show_default=False,
        value_proc=answer,
        err=True,
    )
    return result


def terminal_width() -> int | None:
    """The width to fit tables to: ``$COLUMNS``, else the terminal's when stdout is
    one; None (no limit) in pipes and cron, where programs read --format json/csv."""
    import sys

    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        import shutil  # (~4 ms with the compressors it imports: not for a pipe)

        return shutil.get_terminal_size().columns
    return None


def colour() -> bool:
    """Colour only on a terminal, and never when ``$NO_COLOR`` is set (no-color.org)."""
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def page(text: str) -> None:
    """Print ``text``; through the pager ($PAGER, else less) when it is longer than the
    terminal and both ends are a terminal (never in pipes or cron)."""
    import sys

    if sys.stdout.isatty() and sys.stdin.isatty():
        import shutil

        if text.count("\n") + 1 > shutil.get_terminal_size().lines - 1:
            os.environ.setdefault("LESS", "FRX")  # colours kept; quit when it fits
            click.echo_via_pager(text + "\n", color=colour())
            return
    click.echo(text, color=colour() or None)


class Progress:
    """A progress bar on stderr for work that may take seconds (validate, check): only
    when stderr is a terminal, and only once the work has run half a second; nothing
    in cron or pipes. Call it with (done, total) as the work goes; then :meth:`close`."""

    DELAY = 0.5

    def __init__(self, label: str):
        import sys
        import time

        self.label = label
        self.on = sys.stderr.isatty() and not os.environ.get("ITDESK_NO_PROGRESS")
        self.started = time.monotonic()
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.on:
            return
        import sys
        import time

        if self.bar is None:
            if time.monotonic() - self.started < self.DELAY:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def echo_text(text: str, nl: bool = True) -> None:
    """Print text that came from a file or a person (an article, a report)."""
    click.echo(neutral(text), nl=nl)


REPORT_SUFFIXES = (".md", ".markdown", ".txt")  # the problem-handling report is Markdown


def output_path(
    text: str, option: str = "--output", suffixes: tuple[str, ...] | None = None
) -> Path:
    """A file the command will write, checked before anything is committed: its folder
    exists and can be written, it is not a folder itself, and (with ``suffixes``) its
    name says the format that is written into it."""
    from pathlib import Path

    from ..errors import UsageError

    path = Path(text).expanduser()
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UsageError(
            f"{option} {text}: name a {' or '.join(suffixes)} file (that is what is "
            "written); nothing was changed"
        )
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"{option} {text}: no folder {folder}; nothing was changed")
    if path.is_dir():
        raise UsageError(f"{option} {text} is a folder; give a file name; nothing was changed")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {text}: not writable; nothing was changed")
    return path


def write_output(path: Path, data: str | bytes | Callable[[BinaryIO], None]) -> None:
    """Write a file the user named, whole or not at all; a failure is one line."""
    from ..errors import UsageError
    from ..store.files import write_atomic

    try:
        write_atomic(path, data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def dump_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


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
    try:
        cli(prog_name="itdesk")
    except BrokenPipeError:  # while click itself wrote (help, usage)
        _quiet_stdout()
        raise SystemExit(EXIT_CLOSED_PIPE) from None
