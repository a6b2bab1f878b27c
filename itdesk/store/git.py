"""The one place that runs git: an argument list in, stdout out, errors as GitError.

Every git process of the write path goes through :func:`run` (or :func:`run_bytes` and
:func:`pipe` for binary and interactive plumbing). Inherited variables that point git
at another repository (set when itdesk runs inside a git hook) are removed, and
``LC_ALL=C`` keeps messages parseable. A git that fails because a ``.lock`` file is in
its way raises :class:`GitLocked`, which names the file; git's own message ends with
"remove the file manually", without saying which.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # imported where git is run: a command that only reads runs none (3 ms)
    import subprocess

from ..errors import GitError

NO_GIT = "git is not installed or not on PATH"  # why a run failed when git cannot start


class GitLocked(GitError):
    """git found a ``.lock`` file of another git process (running, or killed)."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr: str, lock: str):
        super().__init__(argv, returncode, "", stderr)
        self.lock = lock
        self.args = (
            f"{lock} exists: another git command is working in this desk, or one was "
            f"killed; if none is running, remove {lock}, then try again",
        )


class HookRefused(GitError):
    """A git hook of the desk (pre-commit, commit-msg, ...) refused the commit."""

    def __init__(
        self, hook: str, argv: Sequence[str], returncode: int | None, stdout: str, stderr: str
    ):
        super().__init__(argv, returncode, stdout, stderr)
        self.hook = hook
        detail = (stderr or stdout).strip().splitlines()
        reason = detail[-1].strip() if detail else f"exit status {returncode}"
        self.args = (f"git commit: the desk's {hook} hook failed: {reason}",)


# Variables that would make git act on a different repository or index than ``cwd``.
_SCRUB = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_PREFIX",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_CEILING_DIRECTORIES",
    }
)


# Variables of _SCRUB let through after all: a pre-receive hook (itdesk guard) must see
# the pushed objects, which git keeps in a quarantine named by GIT_OBJECT_DIRECTORY.
_kept: set[str] = set()


def keep_env(*names: str) -> None:
    """Let ``names`` of the inherited environment through to every git run from now on."""
    _kept.update(names)


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB or k in _kept}
    env["LC_ALL"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def _failure(
    argv: Sequence[str], code: int | None, out: str, err: str, cwd: Path | str
) -> GitError:
    # git: "Unable to create '/desk/.git/index.lock': File exists." (then advice)
    start = err.find("Unable to create '")
    end = err.find(".lock': File exists", start)
    if start < 0 or end < 0:
        return GitError(argv, code, out, err)
    lock = err[start + len("Unable to create '") : end + len(".lock")]
    with contextlib.suppress(ValueError):
        lock = Path(lock).relative_to(Path(cwd).resolve()).as_posix()
    return GitLocked(argv, code, err, lock)


def run(
    *args: str,
    cwd: Path | str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> str:
    """Run ``git *args`` in ``cwd`` and return its stdout (text, UTF-8)."""
    import subprocess

    argv = ("git", *args)
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=git_env(env),
        )
    except FileNotFoundError:
        raise GitError(argv, None, stderr=NO_GIT) from None
    if check and proc.returncode != 0:
        raise _failure(argv, proc.returncode, proc.stdout, proc.stderr, cwd)
    return proc.stdout


def run_bytes(
    *args: str, cwd: Path | str, input: bytes, env: Mapping[str, str] | None = None
) -> bytes:
    """:func:`run` for binary output (``cat-file --batch``)."""
    import subprocess

    argv = ("git", *args)
    try:
        proc = subprocess.run(argv, cwd=cwd, input=input, capture_output=True, env=git_env(env))
    except FileNotFoundError:
        raise GitError(argv, None, stderr=NO_GIT) from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        raise _failure(argv, proc.returncode, "", err, cwd)
    return proc.stdout


class Pending:
    """A git process started with all its input: its output is collected by :meth:`wait`,
    so that the caller can do other work (write files) while git runs."""

    def __init__(self, argv: tuple[str, ...], cwd: Path | str, input: bytes):
        import subprocess

        self.argv, self.cwd = argv, cwd
        try:
            self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         env=git_env())  # fmt: skip
        except FileNotFoundError:
            raise GitError(argv, None, stderr=NO_GIT) from None
        self._talk: Any = None  # the thread that feeds a long input and reads the output
        self._said: tuple[bytes, bytes] = (b"", b"")
        assert self.proc.stdin is not None
        if len(input) < 4096:  # fits in the pipe: written now, git starts at once
            self.proc.stdin.write(input)
            self.proc.stdin.close()
            self.proc.stdin = None  # communicate() must not flush it again
            return
        # A long input (the paths of an import's 100,000 files): fed, and the output read,
        # while the caller works; given only to wait(), git did it all then (#12).
        import threading

        def talk() -> None:
            with contextlib.suppress(Exception):  # (wait() says what went wrong)
                self._said = self.proc.communicate(input)

        self._talk = threading.Thread(target=talk, name="git input", daemon=True)
        self._talk.start()

    def wait(self) -> bytes:
        if self._talk is not None:
            self._talk.join()
            self.proc.wait()
            out, err = self._said
        else:
            out, err = self.proc.communicate()
        if self.proc.returncode != 0:
            raise _failure(self.argv, self.proc.returncode, "", err.decode("utf-8", "replace"),
                           self.cwd)  # fmt: skip
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        if self._talk is not None:
            self._talk.join()
        else:
            self.proc.communicate()


def start(*args: str, cwd: Path | str, input: bytes) -> Pending:
    """Start ``git *args`` on ``input``; :meth:`Pending.wait` returns its stdout."""
    return Pending(("git", *args), cwd, input)


@contextlib.contextmanager
def pipe(*args: str, cwd: Path | str) -> Iterator[subprocess.Popen[bytes]]:
    """A git process to talk to (``mktree --batch``): write to its stdin, read its
    stdout; its exit status is checked when the block ends."""
    import subprocess

    argv = ("git", *args)
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=git_env())  # fmt: skip
    except FileNotFoundError:
        raise GitError(argv, None, stderr=NO_GIT) from None
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        try:
            yield proc
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
        err = proc.stderr.read()
        proc.stderr.close()
    if proc.wait() != 0:
        raise _failure(argv, proc.returncode, "", err.decode("utf-8", "replace"), cwd)


def returncode(*args: str, cwd: Path | str) -> int:
    """Run a git command only for its exit status (``diff --quiet``, ``cat-file -e``)."""
    import subprocess

    argv = ("git", *args)
    try:
        return subprocess.run(
            argv, cwd=cwd, capture_output=True, env=git_env(), check=False
        ).returncode
    except FileNotFoundError:
        raise GitError(argv, None, stderr=NO_GIT) from None


def zsplit(output: str) -> list[str]:
    """Split ``-z`` output into its NUL-terminated items."""
    return [item for item in output.split("\0") if item]


class Config(NamedTuple):
    """What the write path needs of git's config, read in one process."""

    name: str | None = None
    email: str | None = None
    hooks_path: str | None = None  # core.hooksPath, as written
    gc_auto: int = 6700  # gc.auto: loose objects before `git commit` would start a gc
    auto_maintenance: bool = True  # maintenance.auto
    sign: bool = False  # commit.gpgSign
    technician: str | None = None  # itdesk.technician: who acts on this clone (init --as)


_CONFIG_KEYS = (
    r"user\.(name|email)|core\.hookspath|gc\.auto|maintenance\.auto|commit\.gpgsign"
    r"|itdesk\.technician"
)


def config(cwd: Path | str) -> Config:
    """git's identity, hooks folder and automatic gc settings for this repository."""
    return start_config(cwd)()


def start_config(cwd: Path | str) -> Callable[[], Config]:
    """:func:`config`, started now: the returned function waits for git's answer, so a
    write can read its ticket meanwhile."""
    pending = start("config", "-z", "--get-regexp", f"^({_CONFIG_KEYS})$", cwd=cwd, input=b"")

    def result() -> Config:
        try:
            out = pending.wait().decode("utf-8", "replace")
        except GitError:  # exit 1: none of the keys is set
            out = ""
        return _parse_config(out)

    return result


def _parse_config(out: str) -> Config:
    values: dict[str, str] = {}
    for item in zsplit(out):
        key, newline, value = item.partition("\n")
        # the last one wins, as for git; a key without "=" is a true boolean
        bare = "true" if key in ("maintenance.auto", "commit.gpgsign") else ""
        values[key] = value.strip() if newline else bare
    return Config(
        technician=values.get("itdesk.technician") or None,
        name=values.get("user.name") or None,
        email=values.get("user.email") or None,
        hooks_path=values.get("core.hookspath") or None,
        gc_auto=_config_int(values.get("gc.auto"), 6700),
        auto_maintenance=_config_bool(values.get("maintenance.auto"), True),
        sign=_config_bool(values.get("commit.gpgsign"), False),
    )


def _config_bool(text: str | None, default: bool) -> bool:
    if text is None:
        return default
    return text.lower() not in ("false", "no", "off", "0", "")


def _config_int(text: str | None, default: int) -> int:
    """A git config integer (``6700``, ``7k``), or ``default``."""
    if not text:
        return default
    scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1].lower(), 1)
    try:
        return int(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        return default


def identity(cwd: Path | str) -> tuple[str | None, str | None]:
    """git's ``user.name`` and ``user.email`` for this repository (None where unset)."""
    found = config(cwd)
    return found.name, found.email
