"""The one place that runs git: an argument list in, stdout out, errors as GitError.

Every git process of the write path goes through :func:`run`. Inherited variables that
point git at another repository (set when itdesk runs inside a git hook) are removed,
and ``LC_ALL=C`` keeps messages parseable.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from ..errors import GitError

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


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["LC_ALL"] = "C"
    env["GIT_TERMINAL_PROMPT"] = "0"
    if extra:
        env.update(extra)
    return env


def run(
    *args: str,
    cwd: Path | str,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> str:
    """Run ``git *args`` in ``cwd`` and return its stdout (text, UTF-8)."""
    argv = ("git", *args)
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=git_env(env),
        )
    except FileNotFoundError:
        raise GitError(argv, None, stderr="git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        raise GitError(argv, proc.returncode, proc.stdout, proc.stderr)
    return proc.stdout


def returncode(*args: str, cwd: Path | str) -> int:
    """Run a git command only for its exit status (``diff --quiet``, ``cat-file -e``)."""
    argv = ("git", *args)
    try:
        return subprocess.run(
            argv, cwd=cwd, capture_output=True, env=git_env(), check=False
        ).returncode
    except FileNotFoundError:
        raise GitError(argv, None, stderr="git is not installed or not on PATH") from None


def zsplit(output: str) -> list[str]:
    """Split ``-z`` output into its NUL-terminated items."""
    return [item for item in output.split("\0") if item]


def identity(cwd: Path | str) -> tuple[str | None, str | None]:
    """git's ``user.name`` and ``user.email`` for this repository (None where unset)."""
    out = run("config", "--get-regexp", r"^user\.(name|email)$", cwd=cwd, check=False)
    name = email = None
    for line in out.splitlines():
        key, _, value = line.partition(" ")
        if key == "user.name" and value.strip():
            name = value.strip()
        elif key == "user.email" and value.strip():
            email = value.strip()
    return name, email
