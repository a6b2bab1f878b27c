"""``itdesk init``: make a folder a desk (a git repository with ``itdesk.yaml``,
``tickets/`` and ``kb/``) with one first commit."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path

from ..core.policy import POLICY_FILE, default_policy_text, policy_from_dict
from ..errors import NoIdentity, UsageError
from . import git
from .files import write_atomic
from .identity import placeholder_email
from .layout import KB, TICKETS


def machine_timezone() -> str:
    """The IANA name of this machine's zone ($TZ, then /etc/localtime), else UTC."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and "/" in tz or tz == "UTC":
        return tz
    with contextlib.suppress(OSError):
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    with contextlib.suppress(OSError):
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    return "UTC"


GITATTRIBUTES = "tickets/**/*.yaml text eol=lf merge=itdesk\nkb/*.md text eol=lf\n"
KB_README = """\
# Knowledge base

One Markdown article per frequent problem, with YAML front matter (title, category,
tags, source tickets, updated). `itdesk kb promote ID` writes one from a resolved ticket.
"""


def init_desk(
    path: Path,
    technician: str | None,
    timezone: str | None,
    now: dt.datetime,
    locale: str = "en",
) -> Path:
    """Make ``path`` a desk: a git repository with ``itdesk.yaml``, ``tickets/`` and ``kb/``."""
    root = path.expanduser().resolve()
    if (root / POLICY_FILE).exists():
        raise UsageError(f"{root} is already a desk ({POLICY_FILE} exists)")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")
    tz_name = timezone or machine_timezone()
    from ..core.times import zone

    zone(tz_name)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []  # what to remove again if init fails in an existing folder
    try:
        if not (root / ".git").exists():
            git.run("init", "-q", cwd=root)
            made.append(root / ".git")
        name, email = git.identity(root)
        who = technician.strip() if technician else name
        if not who:
            raise NoIdentity(
                "who runs this desk? git has no user.name; pass --as NAME "
                "or set it: git config --global user.name 'Your Name'"
            )
        # One identity a technician: the address git knows for this name, else one made
        # from the name; written to people: so that every later commit carries it too.
        actor_email = email if email and name == who else placeholder_email(who)
        policy_text = default_policy_text(tz_name, who, locale, actor_email)
        from .yamlio import parse

        policy_from_dict(parse(policy_text))  # the template must be valid
        files = {
            POLICY_FILE: policy_text,
            f"{TICKETS}/.gitkeep": "",
            f"{KB}/README.md": KB_README,
            ".gitattributes": GITATTRIBUTES,
        }
        for rel, text in files.items():
            target = root / rel
            if target.exists():
                continue
            for folder in reversed(target.relative_to(root).parents[:-1]):
                if not (root / folder).exists():
                    made.append(root / folder)
            write_atomic(target, text)
            made.append(target)
        git.run("add", "--", *files, cwd=root)
        env = {
            "GIT_AUTHOR_NAME": who,
            "GIT_AUTHOR_EMAIL": actor_email,
            "GIT_AUTHOR_DATE": now.isoformat(timespec="seconds"),
        }
        if name is None:
            env |= {"GIT_COMMITTER_NAME": who, "GIT_COMMITTER_EMAIL": actor_email}
        message = f"init desk ({tz_name})\n\nAction: init\n"
        git.run("commit", "-q", "-F", "-", "--", *files, cwd=root, input=message, env=env)
        if name is None:  # hand commits in this clone carry the same identity
            git.run("config", "--local", "user.name", who, cwd=root)
            git.run("config", "--local", "user.email", actor_email, cwd=root)
        from .clone import register

        register(root)
    except BaseException:
        import shutil

        if created:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for path in reversed(made):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise
    return root
