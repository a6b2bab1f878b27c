"""itdesk against its peers, side by side: create + commit and list-all at 100, 1,000 and
10,000 items (PERFORMANCE.md, "The peers").

    bench/peers                 # = .venv/bin/python bench/peers.py
    bench/peers --runs 7 --sizes 100,1000

Peers: Backlog.md (the ``backlog`` CLI, a Markdown file per task) and git-issue (``git
issue``, a directory per issue in its own repository under ``.issues``). A peer that is
not installed is skipped with one line saying so; itdesk's column is always printed.
Each store is made in the peer's own format (git-issue: ``.issues/issues/xx/<sha>/``
with ``description`` and ``tags``, each sha a commit of its own as ``git issue new``
makes; Backlog.md: ``backlog/tasks/task-N - Title.md`` with YAML front matter and its
``backlog/config.yml``), committed, and then timed through the peer's own CLI only.
itdesk's desks are the benchmark's generated desks (``bench/generate.py``; 10,000
tickets with 9,000 archived, as a desk of a year and more has).

Every command is a new process, timed from outside (``time.perf_counter`` around
``subprocess.run``). For each size the commands run in turn, A B C A B C ..., after
one warm-up each, so that a drift of the machine's speed touches all of them alike; the
table gives medians (default 5). Nothing here uses the network.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import CACHE, bench_env, cached_desk, itdesk_script  # noqa: E402

NOW = "2026-11-25T17:30"
TITLE = "WiFi 认证失败"
DESCRIPTION = "连接公司 WiFi 时提示“认证失败”，手机可以正常连接。"
# What each peer took to create + commit at these sizes, measured on this machine class
# (PERFORMANCE.md, 2026-12-02): the reference when git-issue is not installed here.
GIT_ISSUE_RECORDED = {1000: 0.041, 10_000: 0.131}
SIZES = (100, 1000, 10_000)
ARCHIVED = {10_000: 9_000}  # itdesk's desk of each size: how many are archived


# ----------------------------------------------------------------------- git-issue


def git_issue_installed() -> bool:
    """``git issue`` is git-issue's ``git-issue`` script on the PATH."""
    return shutil.which("git-issue") is not None


def git_issue_store(n: int, scratch: Path, log: Callable[[str], None]) -> Path | None:
    """A git-issue store of ``n`` open issues in ``scratch`` (None: not installed)."""
    if not git_issue_installed():
        return None
    path = scratch / f"git-issue-{n}"
    if path.exists():
        return path
    source = CACHE / f"git-issue-{n}"
    if not source.exists():
        log(f"building a git-issue store of {n} issues (once; cached in {CACHE}) ...")
        _build_git_issue(source, n)
    shutil.copytree(source, path, symlinks=True)
    return path


def _build_git_issue(path: Path, n: int) -> None:
    """``git issue init``, then ``n`` issues as ``git issue new`` leaves them: each a
    commit "gi: Add issue" with "gi new mark" (its sha names the issue), then the
    issues' ``description`` and ``tags`` files, written by one ``git fast-import``."""
    env = bench_env()
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    subprocess.run(["git", "issue", "init"], cwd=tmp, env=env, check=True, capture_output=True)
    issues = tmp / ".issues"
    head = _git(issues, env, "rev-parse", "HEAD").strip()
    branch = _git(issues, env, "symbolic-ref", "HEAD").strip()
    rng = random.Random(n)
    when = int(time.time()) - n * 60
    marks = issues / "marks.tmp"
    stream: list[bytes] = []
    for i in range(1, n + 1):
        msg = b"gi: Add issue\n\ngi new mark\n"
        stream.append(
            f"commit {branch}\nmark :{i}\n"
            f"committer zhang <zhang@example.com> {when + i * 60} +0800\n".encode()
            + b"data %d\n" % len(msg) + msg
            + (f"from {head}\n" if i == 1 else "").encode() + b"\n"
        )  # fmt: skip
    subprocess.run(["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=issues,
                   env=env, input=b"".join(stream), check=True, capture_output=True)  # fmt: skip
    shas = [line.split()[1] for line in marks.read_text().splitlines()]
    marks.unlink()
    files = []
    for sha in shas:
        title = f"{TITLE} {rng.randint(1, 999)}"
        text = f"{title}\n\n{DESCRIPTION}\n".encode()
        where = f"issues/{sha[:2]}/{sha[2:]}"
        tags = f"\nM 100644 inline {where}/tags\ndata 5\nopen\n\n".encode()
        head_line = f"M 100644 inline {where}/description\ndata {len(text)}\n".encode()
        files.append(head_line + text + tags)
    msg = f"gi: {n} issues".encode()
    last = f"{when + (n + 1) * 60} +0800"
    commit = (f"commit {branch}\ncommitter zhang <zhang@example.com> {last}\n".encode()
              + b"data %d\n" % len(msg) + msg + f"\nfrom {shas[-1]}\n".encode()
              + b"".join(files) + b"\n")  # fmt: skip
    subprocess.run(["git", "fast-import", "--quiet"], cwd=issues, env=env, input=commit,
                   check=True, capture_output=True)  # fmt: skip
    _git(issues, env, "reset", "-q", "--hard")
    _git(issues, env, "repack", "-a", "-d", "-q")
    os.replace(tmp, path)


def git_issue_new_argv(store: Path) -> list[str]:
    return ["sh", "-c", f'cd "{store}" && exec git issue new -s "{TITLE}"']


def git_issue_list_argv(store: Path) -> list[str]:
    return ["sh", "-c", f'cd "{store}" && exec git issue list -a']


# ----------------------------------------------------------------------- Backlog.md


def backlog_installed() -> bool:
    return shutil.which("backlog") is not None


BACKLOG_CONFIG = """project_name: "itdesk-bench"
default_status: "To Do"
statuses: ["To Do", "In Progress", "Done"]
labels: []
milestones: []
date_format: yyyy-mm-dd
max_column_width: 20
auto_commit: true
remote_operations: false
check_active_branches: false
bypass_git_hooks: true
"""


def backlog_store(n: int, scratch: Path, log: Callable[[str], None]) -> Path | None:
    """A Backlog.md project of ``n`` tasks in ``scratch`` (None: not installed)."""
    if not backlog_installed():
        return None
    path = scratch / f"backlog-{n}"
    if path.exists():
        return path
    source = CACHE / f"backlog-{n}"
    if not source.exists():
        log(f"building a Backlog.md project of {n} tasks (once; cached in {CACHE}) ...")
        _build_backlog(source, n)
    shutil.copytree(source, path, symlinks=True)
    return path


def _build_backlog(path: Path, n: int) -> None:
    """``backlog/config.yml`` and ``n`` files ``backlog/tasks/task-N - Title.md`` (YAML
    front matter, then the description section), committed as one commit."""
    env = bench_env()
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tasks = tmp / "backlog" / "tasks"
    tasks.mkdir(parents=True)
    for folder in ("drafts", "docs", "decisions", "archive/tasks", "archive/drafts"):
        (tmp / "backlog" / folder).mkdir(parents=True, exist_ok=True)
    (tmp / "backlog" / "config.yml").write_text(BACKLOG_CONFIG, encoding="utf-8")
    rng = random.Random(n)
    statuses = ["To Do", "In Progress", "Done"]
    for i in range(1, n + 1):
        title = f"WiFi 认证失败 {rng.randint(1, 999)}"
        created = f"2026-11-{1 + i % 25:02d} 09:{i % 60:02d}"
        text = (f"---\nid: task-{i}\ntitle: '{title}'\nstatus: {rng.choice(statuses)}\n"
                f"assignee: []\ncreated_date: '{created}'\nlabels: []\ndependencies: []\n"
                f"---\n\n## Description\n\n{DESCRIPTION}\n")  # fmt: skip
        (tasks / f"task-{i} - {title}.md").write_text(text, encoding="utf-8")
    _git(tmp, env, "init", "-q")
    _git(tmp, env, "add", "-A")
    _git(tmp, env, "commit", "-q", "-m", f"{n} tasks")
    os.replace(tmp, path)


def backlog_new_argv(store: Path) -> list[str]:
    return ["sh", "-c", f'cd "{store}" && exec backlog task create "{TITLE}" -d "{DESCRIPTION}"']


def backlog_list_argv(store: Path) -> list[str]:
    return ["sh", "-c", f'cd "{store}" && exec backlog task list --plain']


# --------------------------------------------------------------------------- itdesk


def itdesk_desk(n: int, scratch: Path, log: Callable[[str], None]) -> Path:
    source = cached_desk(n, archived=ARCHIVED.get(n, 0), log=log)
    path = scratch / source.name
    if not path.exists():
        shutil.copytree(source, path, symlinks=True)
    return path


def itdesk_new_argv(desk: Path) -> list[str]:
    return [str(itdesk_script()), "new", "--desk", str(desk), "--as", "zhang", "--now", NOW,
            "--title", TITLE, "--requester", "王小明", "--description", DESCRIPTION,
            "--channel", "chat"]  # fmt: skip


def itdesk_list_argv(desk: Path) -> list[str]:
    return [str(itdesk_script()), "list", "--all", "--desk", str(desk)]


# ---------------------------------------------------------------------------- timing


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout  # fmt: skip


def _time(argv: list[str], env: dict[str, str]) -> float | str:
    """Seconds of one run, or the error (the last line it printed)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.PIPE)  # fmt: skip
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        return f"exit {proc.returncode}: {lines[-1] if lines else ''}"
    return elapsed


def measure(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, str]:
    """Each command once (warm-up), then ``runs`` rounds A B C ...; the median of each,
    formatted, or why it failed."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    errors: dict[str, str] = {}
    for i in range(runs + 1):
        for key, argv in commands.items():
            if key in errors:
                continue
            result = _time(argv, env)
            if isinstance(result, str):
                errors[key] = result
            elif i > 0:
                times[key].append(result)
    return {k: errors.get(k) or _seconds(statistics.median(times[k])) for k in commands}


def _seconds(s: float) -> str:
    return f"{s:.3f} s" if s < 1 else f"{s:.2f} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="Measured runs per command (default 5).")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)),
                    help="Store sizes, comma-separated (default 100,1000,10000).")  # fmt: skip
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    peers = {"Backlog.md": backlog_installed(), "git-issue": git_issue_installed()}
    for name, found in peers.items():
        if not found:
            cli = "backlog" if name == "Backlog.md" else "git-issue (git issue)"
            print(f"{name}: not installed ({cli} not on PATH); skipped")
    started = time.perf_counter()
    env = bench_env()
    head = ["size", "itdesk `new`", "Backlog.md create", "git-issue new",
            "itdesk `list --all`", "Backlog.md list", "git-issue list"]  # fmt: skip
    lines = []
    with tempfile.TemporaryDirectory(prefix="itdesk-peers-") as tmp:
        scratch = Path(tmp)
        for n in sizes:
            desk = itdesk_desk(n, scratch, log)
            stores = {"Backlog.md": backlog_store(n, scratch, log),
                      "git-issue": git_issue_store(n, scratch, log)}  # fmt: skip
            new = {"itdesk": itdesk_new_argv(desk)}
            listing = {"itdesk": itdesk_list_argv(desk)}
            if stores["Backlog.md"] is not None:
                new["Backlog.md"] = backlog_new_argv(stores["Backlog.md"])
                listing["Backlog.md"] = backlog_list_argv(stores["Backlog.md"])
            if stores["git-issue"] is not None:
                new["git-issue"] = git_issue_new_argv(stores["git-issue"])
                listing["git-issue"] = git_issue_list_argv(stores["git-issue"])
            log(f"{n:,} items: {', '.join(new)} ...")
            created = measure(new, args.runs, env)
            listed = measure(listing, args.runs, env)
            where = f"{n:,}" + (f" (itdesk: {ARCHIVED[n]:,} archived)" if n in ARCHIVED else "")
            tools = ("itdesk", "Backlog.md", "git-issue")
            lines.append([where, *(created.get(k, "—") for k in tools),
                          *(listed.get(k, "—") for k in tools)])  # fmt: skip
    print()
    print(f"Side by side in one run ({time.strftime('%Y-%m-%d')}, medians of {args.runs}, "
          "A/B pair by pair; — = not installed):")  # fmt: skip
    print()
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join("---" for _ in head) + " |")
    for line in lines:
        print("| " + " | ".join(line) + " |")
    print(f"\npeers took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
