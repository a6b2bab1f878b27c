"""Time itdesk's commands as whole processes and print them against PERFORMANCE.md's targets.

    .venv/bin/python bench/bench.py            # 7 runs of every row
    .venv/bin/python bench/bench.py --quick    # 3 runs, the 100-ticket desk only
    .venv/bin/python bench/bench.py --check    # exit 1 when a target is missed

Every command is started the way a technician starts it: the installed ``itdesk`` script
of this interpreter's environment (the venv, not a pyenv shim), a new process each time,
timed with ``time.perf_counter`` around ``subprocess.run``. Each command runs once
unmeasured first (warm-up: byte-code compiled, files in the page cache), then the rows
run in turn, round after round, so that a drift of the machine's speed touches every row
alike; a ratio is the median of the per-round ratios to its reference row.

The desks come from ``bench/generate.py`` (cached in ``bench/.cache``) and are copied
to a scratch folder first: ``new`` really creates and commits a ticket on every run, and
the cached desks stay as generated. Only the project's own files and git are used.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import bench_env, cached_desk, itdesk_script  # noqa: E402

# Each `new` run: a real ticket, "now" just after the generated desk's last one.
NOW = "2026-11-25T17:30"
NEW_ARGS = ["--title", "WiFi 认证失败", "--requester", "王小明", "--employee-id", "E10086",
            "--department", "研发部", "--contact", "13956785678", "--description",
            "连接公司 WiFi 时提示“认证失败”，手机可以正常连接。", "--blocks-work",
            "--channel", "chat"]  # fmt: skip


@dataclass
class Row:
    key: str
    what: str
    desk: str
    argv: list[str]
    ref: str | None = None  # key of the row this one's ratio is taken to
    max_ratio: float | None = None
    max_ms: float | None = None
    exits: tuple[int, ...] = (0,)  # exit codes that mean success (check: 1 = breaches)
    max_mb: float | None = None  # peak memory (resident set) target
    runs: int | None = None  # fewer runs for a row that takes many seconds
    times: list[float] = field(default_factory=list)  # seconds
    peaks: list[float] = field(default_factory=list)  # MB
    error: str | None = None

    @property
    def target(self) -> str:
        parts = []
        if self.max_ratio is not None:
            parts.append(f"<= {self.max_ratio:g}x")
        if self.max_ms is not None:
            parts.append(f"<= {self.max_ms:g} ms")
        if self.max_mb is not None:
            parts.append(f"<= {self.max_mb:g} MB")
        return ", ".join(parts) or "-"


BIG = 100_000  # the two-year desk: 99,000 of its tickets archived
BIG_ARCHIVED = 99_000


def _rows(python: str, itdesk: str, desks: dict[int, Path], active: dict[int, str]) -> list[Row]:
    rows = [
        Row("pass", "python -c pass", "-", [python, "-c", "pass"]),
        Row("version", "itdesk --version", "-", [itdesk, "--version"], ref="pass", max_ratio=4),
    ]
    for n, path in desks.items():
        desk = ["--desk", str(path)]
        small = n == min(desks)
        rows += [
            # A write's budget is 300 ms and growth at most 1.5x the 100-ticket desk (the
            # target is set at 100,000 tickets; at 1,000 it is an early warning).
            Row(
                f"new{n}",
                "itdesk new",
                f"{n:,}",
                [itdesk, "new", *desk, "--as", "zhang", "--now", NOW, *NEW_ARGS],
                ref="pass" if small else f"new{min(desks)}",
                max_ratio=None if small else 1.5,
                max_ms=300,
            ),  # fmt: skip
            # Listing 1,000 active of 100,000 tickets: 200 ms; a smaller desk must too.
            Row(
                f"list{n}",
                "itdesk list",
                f"{n:,}",
                [itdesk, "list", *desk],
                ref="pass" if small else f"list{min(desks)}",
                max_ms=200,
            ),  # fmt: skip
            # The cron job's read: every clock of every open ticket, same budget as list.
            Row(
                f"check{n}",
                "itdesk check",
                f"{n:,}",
                [itdesk, "check", *desk, "--now", NOW],
                ref="pass" if small else f"check{min(desks)}",
                max_ms=200,
                exits=(0, 1),
            ),  # fmt: skip
            # Another one-ticket write: a note on an open ticket.
            Row(
                f"log{n}",
                "itdesk log",
                f"{n:,}",
                [
                    itdesk,
                    "log",
                    active[n],
                    *desk,
                    "--via",
                    "note",
                    "--as",
                    "zhang",
                    "--now",
                    NOW,
                    "回电确认",
                ],
                ref="pass" if small else f"log{min(desks)}",
                max_ratio=None if small else 1.5,
                max_ms=300,
            ),  # fmt: skip
        ]
        if n == BIG:
            rows += [
                # Reads of every ticket, the archive included: streamed, bounded memory.
                Row(
                    "listall",
                    "itdesk list --all",
                    f"{n:,}",
                    [itdesk, "list", "--all", *desk],
                    ref="pass",
                    max_ms=1500,
                    max_mb=300,
                    runs=5,
                ),  # fmt: skip
                Row(
                    "stats",
                    "itdesk stats",
                    f"{n:,}",
                    [itdesk, "stats", *desk, "--now", NOW],
                    ref="pass",
                    max_ms=2000,
                    runs=5,
                ),  # fmt: skip
                Row(
                    "export",
                    "itdesk export",
                    f"{n:,}",
                    [itdesk, "export", *desk],
                    ref="pass",
                    max_mb=300,
                    runs=5,
                ),  # fmt: skip
            ]
    return rows


def _time(
    argv: list[str], env: dict[str, str], cwd: Path, exits: tuple[int, ...] = (0,)
) -> tuple[float, float, str | None]:
    """(seconds, peak resident memory in MB, error) of one run of ``argv``; its output
    goes to a scratch file (a pipe nobody reads would stall a big listing)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        peak = usage.ru_maxrss / 1024  # KB on Linux
        if proc.returncode not in exits:
            err.seek(0)
            out.seek(0)
            text = (err.read() or out.read()).decode("utf-8", "replace").strip()
            lines = text.splitlines()
            return elapsed, peak, f"exit {proc.returncode}: {lines[-1] if lines else ''}"
    return elapsed, peak, None


def _ratio(row: Row, by_key: dict[str, Row]) -> float | None:
    ref = by_key.get(row.ref) if row.ref else None
    if ref is None or not ref.times or not row.times:
        return None
    return statistics.median(a / b for a, b in zip(row.times, ref.times, strict=False))


def _ok(row: Row, ratio: float | None) -> bool | None:
    if row.error:
        return False
    if row.max_ratio is None and row.max_ms is None and row.max_mb is None:
        return None
    median_ms = statistics.median(row.times) * 1000
    if row.max_ms is not None and median_ms > row.max_ms:
        return False
    if row.max_mb is not None and max(row.peaks) > row.max_mb:
        return False
    return not (row.max_ratio is not None and ratio is not None and ratio > row.max_ratio)


def _table(rows: list[Row]) -> tuple[str, bool]:
    by_key = {r.key: r for r in rows}
    head = ["what", "desk", "median ms", "min", "max", "peak MB", "ratio", "target", "ok?"]
    lines, all_ok = [], True
    for r in rows:
        ratio = _ratio(r, by_key)
        ok = _ok(r, ratio)
        all_ok &= ok is not False
        ref = by_key[r.ref] if r.ref else None
        ref_name = "" if ref is None else "pass" if ref.key == "pass" else f"@{ref.desk}"
        if r.times:
            ms = [t * 1000 for t in r.times]
            figures = [f"{statistics.median(ms):.0f}", f"{min(ms):.0f}", f"{max(ms):.0f}",
                       f"{max(r.peaks):.0f}"]  # fmt: skip
        else:
            figures = ["-", "-", "-", "-"]
        lines.append([
            r.what, r.desk, *figures,
            "1 (ref)" if r.key == "pass" else f"{ratio:.2f}x {ref_name}" if ratio else "-",
            r.target, "FAILED: " + r.error if r.error else {True: "yes", False: "NO",
                                                             None: "-"}[ok],
        ])  # fmt: skip
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    right = {2, 3, 4, 5}

    def fmt(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs).rstrip()

    out = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(x) for x in lines]
    return "\n".join(out), all_ok


def _git_version() -> str:
    out = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    return out.strip().removeprefix("git version ")


def _prepare(n: int, scratch: Path, env: dict[str, str], log: Callable[[str], None]) -> Path:
    """A working copy of the cached ``n``-ticket desk, its index refreshed and clean.

    The 100,000-ticket desk is used where it is cached (a copy takes a minute, and gives
    every file a new inode, which the ticket cache in ``.git/itdesk`` keys on: each run
    would start cold); what the timed writes add is reset afterwards (:func:`_restore`)."""
    if n == BIG:
        path = cached_desk(n, archived=BIG_ARCHIVED, log=log)
    else:
        source = cached_desk(n, log=log)
        path = scratch / source.name
        shutil.copytree(source, path, symlinks=True)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=path, env=env, check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    if status.strip():
        sys.exit(f"{path} is not clean:\n{status}")
    return path


def _head(path: Path, env: dict[str, str]) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip


def _restore(path: Path, head: str, env: dict[str, str]) -> None:
    """The cached desk as generated again: the timed commits undone, their files gone."""
    for argv in (["git", "reset", "-q", "--hard", head], ["git", "clean", "-fdq", "--", "tickets"]):
        subprocess.run(argv, cwd=path, env=env, check=True, capture_output=True)


def _open_ticket(itdesk: str, path: Path, env: dict[str, str]) -> str:
    """The number of an open ticket of the desk (for the timed ``log``)."""
    out = subprocess.run([itdesk, "list", "--desk", str(path), "--format", "csv",
                          "--status", "in_progress"],
                         env=env, check=True, capture_output=True, text=True).stdout  # fmt: skip
    return out.splitlines()[1].split(",")[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="Measured runs per row (default 7).")
    ap.add_argument("--quick", action="store_true",
                    help="3 runs, and only the 100-ticket desk.")  # fmt: skip
    ap.add_argument("--check", action="store_true", help="Exit 1 when a target is missed.")
    ap.add_argument("--no-big", action="store_true",
                    help="Leave out the 100,000-ticket desk (built once: ~4 minutes).")  # fmt: skip
    args = ap.parse_args(argv)
    runs = 3 if args.quick and args.runs == 7 else max(1, args.runs)
    sizes = [100] if args.quick else [100, 1000] if args.no_big else [100, 1000, BIG]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    env = bench_env()
    python, itdesk = sys.executable, str(itdesk_script())
    with tempfile.TemporaryDirectory(prefix="itdesk-bench-") as tmp:
        scratch = Path(tmp)
        desks = {n: _prepare(n, scratch, env, log) for n in sizes}
        heads = {n: _head(desks[n], env) for n in sizes}
        try:
            active = {n: _open_ticket(itdesk, desks[n], env) for n in sizes}
            rows = _rows(python, itdesk, desks, active)
            log(f"warm-up (the first read of a desk fills its cache), then {runs} rounds "
                f"of {len(rows)} commands ...")  # fmt: skip
            for r in rows:
                _, _, r.error = _time(r.argv, env, scratch, r.exits)
            for i in range(runs):
                for r in rows:
                    if r.error or (r.runs is not None and i >= r.runs):
                        continue
                    elapsed, peak, r.error = _time(r.argv, env, scratch, r.exits)
                    if r.error is None:
                        r.times.append(elapsed)
                        r.peaks.append(peak)
        finally:
            if BIG in desks:
                _restore(desks[BIG], heads[BIG], env)
    table, all_ok = _table(rows)
    print(f"itdesk bench, {date.today().isoformat()}: {runs} runs per row after 1 warm-up; "
          f"times are whole processes in ms")  # fmt: skip
    print(f"python {platform.python_version()} ({python}), git {_git_version()}, "
          f"{platform.machine()}, {_cpus()} cores")  # fmt: skip
    print()
    print(table)
    print()
    print("ratio: median of per-round ratios to the row named (pass = python -c pass, "
          "@100 = the same command on the 100-ticket desk)")  # fmt: skip
    if runs < 5:
        print(f"note: {runs} runs; PERFORMANCE.md asks for the median of at least 5")
    print(f"bench took {time.perf_counter() - started:.0f} s")
    return 1 if args.check and not all_ok else 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
