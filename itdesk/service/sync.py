"""``itdesk sync``: fetch, renumber what collides, merge with the ticket driver, push.

A clone meets the others at its branch's remote. A sync, under the desk's lock (no
itdesk write on this clone meanwhile):

1. fetches the remote branch;
2. renumbers each ticket this clone minted that the remote minted too (both added the
   file since the two last met): a number is final once it has reached the remote, so
   the clone's ticket takes the next number free on both sides, keeps the old one in a
   ``system`` log entry, and the articles of the knowledge base that cite it follow;
3. merges the remote branch (fast-forward, or a merge commit through the ticket merge
   driver, see :mod:`itdesk.core.merge`);
4. pushes; when the remote moved meanwhile (the push is refused), goes back to 1.

When it cannot finish, the merge is aborted and the branch put back where it was: the
clone is left as it was, and :class:`SyncFailed` says why in one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import GitError, ItdeskError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from ..core.kb import Article
    from ..core.lifecycle import Change
    from ..core.model import Ticket
    from ..store.desk import Desk
    from ..store.identity import Actor
    from .context import Context
    from .session import Session

TRIES = 5


class SyncFailed(ItdeskError):
    """The sync could not finish; the clone is as it was before it."""

    exit_code = 3


class SyncConflict(SyncFailed):
    """A ticket the merge could not settle; the clone is as it was before it."""

    exit_code = 2


@dataclass
class SyncReport:
    remote: str
    branch: str
    incoming: list[str] = field(default_factory=list)  # subjects of commits that came in
    outgoing: list[str] = field(default_factory=list)  # subjects of commits that went out
    renumbered: list[tuple[str, str]] = field(default_factory=list)  # (old, new)
    tries: int = 1


def _git(root: Path, *args: str, check: bool = True) -> str:
    from ..store import git

    return git.run(*args, cwd=root, check=check)


def _upstream(root: Path, branch: str) -> tuple[str, str]:
    """The remote and its branch that this branch syncs with."""
    remote = _git(root, "config", f"branch.{branch}.remote", check=False).strip()
    merge = _git(root, "config", f"branch.{branch}.merge", check=False).strip()
    if not remote:
        remotes = _git(root, "remote").split()
        if len(remotes) != 1:
            raise UsageError(
                f"the branch {branch} has no remote to sync with; set one: "
                f"git push -u origin {branch}"
            )
        remote = remotes[0]
    if remote == ".":
        raise UsageError(f"the branch {branch} follows a local branch; sync needs a remote")
    return remote, merge.removeprefix("refs/heads/") or branch


def _subjects(root: Path, rng: str) -> list[str]:
    out = _git(root, "log", "--reverse", "--no-merges", "--format=%s", rng)
    return [line for line in out.splitlines() if line]


def sync(ctx: Session, tries: int = TRIES) -> SyncReport:
    """Fetch, renumber, merge, push (see the module's docstring); then the requesters
    of renumbered tickets are told their new numbers."""
    from ..store import gitdir
    from ..store.transaction import desk_lock

    desk = ctx.desk
    root = desk.root
    actor = ctx.actor_or_system()  # cron often has no git identity
    with desk_lock(desk):
        head = gitdir.refuse_to_write(desk.git_dir)
        assert head.ref is not None and head.oid is not None
        branch = head.ref.removeprefix("refs/heads/")
        remote, remote_branch = _upstream(root, branch)
        dirty = _git(root, "status", "--porcelain", "-z", "--untracked-files=no")
        if dirty:
            raise UsageError(
                "the clone has uncommitted changes; commit them with git (after itdesk "
                "validate) or discard them, then sync"
            )
        start = head.oid
        notices: list[tuple[Ticket, Change]] = []
        tracking = f"refs/remotes/{remote}/{remote_branch}"
        report = SyncReport(remote, remote_branch)
        for attempt in range(1, tries + 1):
            report.tries = attempt
            try:
                _git(root, "fetch", "-q", remote,
                     f"+refs/heads/{remote_branch}:{tracking}")  # fmt: skip
            except GitError as exc:
                if "couldn't find remote ref" not in exc.stderr:
                    raise SyncFailed(f"cannot fetch from {remote}: {_reason(exc)}") from None
            theirs = _git(root, "rev-parse", "-q", "--verify", tracking, check=False).strip()
            try:
                if theirs:
                    notices += _renumber(ctx, actor, theirs)
                    report.renumbered = [(b.id, c.ticket.id) for b, c in notices]
                    ours = _git(root, "rev-parse", "HEAD").strip()
                    _integrate(root, theirs, remote, remote_branch, _identity(desk, actor))
                    _unarchive_open(ctx, actor, [ours, theirs])
                pushed = _push(root, remote, remote_branch)
            except BaseException:
                _put_back(root, start)
                report.renumbered.clear()
                notices.clear()
                raise
            if pushed:
                if theirs:
                    report.incoming = _subjects(root, f"{start}..{theirs}")
                    report.outgoing = _subjects(root, f"{theirs}..HEAD")
                else:
                    report.outgoing = _subjects(root, "HEAD")
                break
            # the remote moved between our fetch and our push: again, on top of it
        else:
            _put_back(root, start)
            raise SyncFailed(
                f"{remote} kept moving: {tries} tries to push failed; the clone is as it "
                "was, sync again"
            )
    for before, change in notices:  # the number is final now: tell the requester
        ctx.notify(before, change)
    return report


def _reason(exc: GitError) -> str:
    lines = [line.strip() for line in (exc.stderr or "").splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or [str(exc)])[0]


def _put_back(root: Path, start: str) -> None:
    """The clone as it was: no merge under way, the branch at ``start``."""
    from ..store import git

    git.run("merge", "--abort", cwd=root, check=False)
    if _git(root, "rev-parse", "HEAD").strip() != start:
        git.run("reset", "-q", "--hard", start, cwd=root)


def _identity(desk: Desk, actor: Actor) -> dict[str, str]:
    """The merge commit's author: the technician who syncs (committer too, when git
    has no identity here)."""
    env = {"GIT_AUTHOR_NAME": actor.name, "GIT_AUTHOR_EMAIL": actor.email}
    if desk.git_config.name is None:
        env |= {"GIT_COMMITTER_NAME": actor.name, "GIT_COMMITTER_EMAIL": actor.email}
    return env


def _integrate(root: Path, theirs: str, remote: str, branch: str, env: dict[str, str]) -> None:
    from ..store import git
    from ..store.commit import is_ancestor

    ours = _git(root, "rev-parse", "HEAD").strip()
    if is_ancestor(root, theirs, ours):
        return
    if is_ancestor(root, ours, theirs):
        _git(root, "merge", "-q", "--ff-only", theirs)
        return
    message = f"sync: merge {remote}/{branch}\n\nAction: sync\n"
    try:
        git.run("merge", "-q", "--no-ff", "--no-edit", "-m", message, theirs, cwd=root, env=env)
    except GitError as exc:
        raise SyncConflict(f"sync stopped, the clone is as it was: {_merge_problem(exc)}") from None


def _merge_problem(exc: GitError) -> str:
    text = f"{exc.stdout}\n{exc.stderr}"
    for line in text.splitlines():
        if "merge of" in line and "stopped:" in line:  # the ticket driver's line
            return line.split("stopped:", 1)[1].strip()
        if "合并" in line and "停止：" in line:  # the same, on a zh desk
            return line.split("停止：", 1)[1].strip()
    for line in text.splitlines():
        if line.startswith("CONFLICT"):
            return line.strip()
    return _reason(exc)


def _push(root: Path, remote: str, branch: str) -> bool:
    """Push the branch; False when the remote moved meanwhile (try again)."""
    from ..store import git

    try:
        git.run("push", "-q", "--porcelain", remote, f"HEAD:refs/heads/{branch}", cwd=root)
    except GitError as exc:
        text = f"{exc.stdout}\n{exc.stderr}"
        moved = ("[rejected]", "non-fast-forward", "fetch first", "cannot lock ref")
        if any(sign in text for sign in moved):  # the last: it moved while we pushed
            return False
        if "[remote rejected]" in text or "pre-receive hook declined" in text:
            raise SyncFailed(f"{remote} refused the push: {_remote_reason(text)}") from None
        raise SyncFailed(f"cannot push to {remote}: {_reason(exc)}") from None
    return True


def _remote_reason(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("remote:") and line[7:].strip():
            return line[7:].strip()
    return "the remote's hook declined it"


# ------------------------------------------------------------------ renumbering


def _renumber(ctx: Context, actor: Actor, theirs: str) -> list[tuple[Ticket, Change]]:
    """Renumber the tickets both sides added since they last met; one commit."""
    from dataclasses import replace

    from ..core.ids import ID_PATTERN, allocate_id
    from ..core.lifecycle import renumber
    from ..store import gitdir
    from ..store.numbers import ids_added
    from ..store.transaction import Transaction
    from .kb import read_articles, render_article

    desk = ctx.desk
    root = desk.root
    ours = _git(root, "rev-parse", "HEAD").strip()
    base = _git(root, "merge-base", ours, theirs, check=False).strip()
    mine = ids_added(root, [f"{base}..{ours}" if base else ours])
    other = ids_added(root, [f"{base}..{theirs}" if base else theirs])
    colliding = sorted(mine & other)
    if not colliding:
        return []
    done: list[tuple[Ticket, Change]] = []
    taken = ids_added(root, [ours, theirs])
    articles = {a.path: a for a in read_articles(desk)}
    fixed: dict[str, Article] = {}
    tx = Transaction(desk, actor, ctx.now, gitdir.refuse_to_write(desk.git_dir))
    try:
        for old in colliding:
            m = ID_PATTERN.fullmatch(old)
            assert m is not None
            day = dt.datetime.strptime(m.group("date"), "%Y%m%d").date()
            new = allocate_id(m.group("prefix"), day, [*taken, *desk.ids_of_day(day)],
                              desk.policy.digits)  # fmt: skip
            taken.add(new)
            old_rel = desk.rel(desk.locate(old).path)
            ticket = tx.read(old, archived=True)
            why = f"the number reached the remote first on another clone ({theirs[:12]})"
            change = renumber(ticket, new, now=ctx.now, by=actor.name, why=why)
            tx.put(change, rel=f"{old_rel.rsplit('/', 1)[0]}/{new}.yaml")
            tx.put_file(old_rel, None)
            for rel, article in articles.items():
                current = fixed.get(rel, article)
                if old in current.tickets:
                    links = tuple(new if t == old else t for t in current.tickets)
                    fixed[rel] = replace(current, tickets=links)
            done.append((ticket, change))
        for rel, article in fixed.items():
            tx.put_file(rel, render_article(article))
        pairs = ", ".join(f"{b.id} to {c.ticket.id}" for b, c in done)
        tx.subject = f"sync: renumber {pairs}"
        tx.action = "renumber"
        tx.commit()
    finally:
        tx.close()
    return done


def new_confirmed(session: Session, values: Mapping[str, Any]) -> tuple[Change, str | None]:
    """``new`` on a desk whose policy wants numbers confirmed: sync, record, sync. The
    change under its final number, and why it is not confirmed yet (the second sync
    failed: the ticket is recorded here and goes out with the next sync), or None."""
    from dataclasses import replace

    sync(session)
    change = session.new(values)
    try:
        report = sync(session)
    except ItdeskError as exc:
        return change, str(exc)
    moved = dict(report.renumbered)
    if change.ticket.id in moved:
        ticket = session.desk.read(moved[change.ticket.id])
        change = replace(change, ticket=ticket)
    return change, None


def _unarchive_open(ctx: Context, actor: Actor, sides: list[str]) -> None:
    """Only closed and cancelled tickets live in the archive. A ticket archived on one
    clone and reopened on another comes out of git's merge in the archive (the rename
    carries the reopening): it goes back to tickets/, in one more commit. The files
    looked at are those HEAD has changed against either side of the sync (the merge
    may be sync's own, or a git pull's made before)."""
    from ..core.ids import ID_PATTERN
    from ..store import gitdir
    from ..store.commit import changed_between
    from ..store.layout import ARCHIVE, TICKETS
    from ..store.transaction import Transaction

    desk = ctx.desk
    root = desk.root
    after = _git(root, "rev-parse", "HEAD").strip()
    changed = set().union(*(changed_between(root, side, after) for side in sides if side != after))
    back: list[tuple[str, str]] = []
    for rel in sorted(changed):
        name = rel.rsplit("/", 1)[-1]
        if not rel.startswith(f"{ARCHIVE}/") or not ID_PATTERN.fullmatch(name[:-5]):
            continue
        path = root / rel
        if path.is_file() and desk.read_file(path).status.is_open:
            back.append((rel, f"{TICKETS}/{name}"))
    if not back:
        return
    tx = Transaction(desk, actor, ctx.now, gitdir.refuse_to_write(desk.git_dir))
    try:
        for rel, new_rel in back:
            tx.move(rel, new_rel)
        ids = ", ".join(new_rel.rsplit("/", 1)[-1][:-5] for _, new_rel in back)
        tx.subject = f"sync: {ids} open again, back from the archive"
        tx.action = "reopen"
        tx.commit()
    finally:
        tx.close()
