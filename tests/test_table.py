"""Tables line up as a terminal shows them (tabulate + wcwidth, #14): Chinese takes two
columns, a combining accent none, an emoji with a skin-tone modifier two; long tables
are fitted to $COLUMNS; no colour codes outside a terminal."""

from __future__ import annotations

import pytest
from conftest import Itdesk
from wcwidth import wcswidth

from itdesk.channels.table import render, truncate, width

TITLES = ["打印机卡纸", "Cafe\u0301 machine", "Thumbs 👍🏽 up", "plain"]


def _columns(line: str) -> list[int]:
    """The screen column at which each cell after the first starts."""
    return [wcswidth(line[:i]) for i in range(2, len(line))
            if line[i - 2 : i] == "  " and line[i] != " "]  # fmt: skip


def test_cells_line_up_on_screen() -> None:
    rows = [[t, "x"] for t in TITLES]
    lines = render(["Title", "S"], rows).splitlines()
    assert {tuple(_columns(line)) for line in lines if not line.startswith("-")} == {
        (max(width(t) for t in TITLES) + 2,)
    }


@pytest.mark.parametrize(
    ("text", "columns"),
    [("打印机", 6), ("e\u0301", 1), ("👍🏽", 2), ("abc", 3), ("\x1b[31mred\x1b[0m", 3)],
)
def test_width_is_what_the_terminal_shows(text: str, columns: int) -> None:
    assert width(text) == columns


def test_truncate_keeps_within_the_columns() -> None:
    assert truncate("打印机卡纸问题", 7) == "打印机…"
    assert width(truncate("a" * 50, 10)) == 10
    assert truncate("short", 10) == "short"


def test_list_is_fitted_to_columns(desk: Itdesk, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.new(title="网络" * 60)
    desk.new(title="Cafe\u0301 " * 30)
    monkeypatch.setenv("COLUMNS", "80")
    out = desk.ok("list").stdout
    assert out.strip() and all(wcswidth(line) <= 80 for line in out.splitlines()), out
    assert "…" in out
    monkeypatch.delenv("COLUMNS")
    wide = desk.ok("list").stdout  # a pipe without $COLUMNS: no limit but the title's own
    assert max(wcswidth(line) for line in wide.splitlines()) > 80


def test_no_colour_outside_a_terminal(desk: Itdesk) -> None:
    tid = desk.new()
    result = desk("check", "--now", "2023-10-26T09:30")
    assert result.exit_code == 1 and tid in result.stdout
    assert "\x1b" not in result.stdout


def _pty_run(command: list[str], stdout: int | None, env: dict[str, str]) -> bytes:
    """Run ``command`` with stdin and stderr on a pseudo-terminal (stdout too when
    ``stdout`` is None, else there): what the terminal showed, then what was piped."""
    import os
    import pty
    import subprocess

    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(command, stdin=secondary, env=env, timeout=60,
                              stdout=secondary if stdout is None else stdout,
                              stderr=secondary)  # fmt: skip
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(primary)
    return seen + (done.stdout or b"")


def _at_terminal(argv: list[str], **env: str) -> bytes:
    """What ``itdesk ARGV`` writes when stdout is a terminal (a pty)."""
    import os
    import sys
    from pathlib import Path

    itdesk = str(Path(sys.executable).parent / "itdesk")
    clean = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return _pty_run([itdesk, *argv], None, {**clean, "COLUMNS": "120", **env})


def test_list_colours_states_and_breaches_on_a_terminal(desk: Itdesk) -> None:
    late = desk.new(now="2023-10-25T09:30")
    fine = desk.new(now="2023-10-26T09:30")
    desk.ok("ack", fine, "--now", "2023-10-26T09:31")
    argv = ["list", "--desk", str(desk.desk), "--now", "2023-10-26T12:00"]
    seen = _at_terminal(argv)
    red = b"\x1b[31m\x1b[1m"
    assert red + late.encode() in seen and red + b"new" in seen  # ack clock breached
    assert red + fine.encode() not in seen and f"{fine}  acknowledged".encode() in seen
    fresh = desk.new(now="2023-10-26T11:59")
    assert f"{fresh}  \x1b[36mnew".encode() in _at_terminal(argv)  # a state's own colour
    assert b"\x1b[" not in _at_terminal(argv, NO_COLOR="1")
    piped = desk.ok("list", "--now", "2023-10-26T12:00").stdout
    assert "\x1b" not in piped and late in piped


def test_red_rows_on_a_terminal_are_the_tickets_check_finds_breached(desk: Itdesk) -> None:
    """On a terminal the open tickets' rows are marked from the clock plans check keeps
    of each ticket: red are exactly the tickets with a breached clock in ``check`` at
    the same --now, with a filter too, the first time and once the plans are kept, and
    after a ticket changes."""
    import json
    import re

    ids = [desk.new(now=f"2023-10-25T09:{minute:02d}") for minute in (0, 10, 20, 30)]
    desk.ok("ack", ids[1], "--now", "2023-10-25T09:11")
    desk.ok("ack", ids[3], "--now", "2023-10-25T09:31")

    def red(*extra: str) -> set[str]:
        seen = _at_terminal(["list", "--desk", str(desk.desk), "--now", now, *extra])
        return {m.decode() for m in re.findall(rb"\x1b\[31m\x1b\[1m(IT-\d{8}-\d{3})", seen)}

    def breached(*extra: str) -> set[str]:
        out = desk("check", "--format", "json", "--now", now, *extra).stdout
        return {s["ticket"] for s in json.loads(out) if s["state"] == "breached"}

    now = "2023-10-25T10:30"
    first = red()
    assert first == breached() == {ids[0], ids[2]}
    assert red() == first  # the plans kept since
    assert red("--status", "new") == breached("--status", "new") == first
    assert red("--status", "acknowledged") == set()
    desk.ok("ack", ids[2], "--now", "2023-10-25T10:00")  # late, but no longer open
    assert red() == breached() == {ids[0]}
    now = "2023-10-27T18:00"  # other clocks run out: the kept plans give the new states
    assert red() == breached() and len(breached()) > 1


def at_terminal(argv: list[str]) -> bytes:
    """What ``itdesk argv`` shows on a terminal (stderr on a pseudo-terminal, stdout
    piped), with the progress bar's half-second delay taken out."""
    import os
    import subprocess
    import sys

    # Progress.DELAY 0: the bar shows at once instead of after half a second
    command = [sys.executable, "-c", "import itdesk.cli as c; c.Progress.DELAY = 0; c.main()"]
    return _pty_run([*command, *argv], subprocess.PIPE, {**os.environ, "COLUMNS": "80"})


def test_progress_only_on_a_terminal(desk: Itdesk, tmp_path: object) -> None:
    """validate, check and a cold list --all are silent on stderr in pipes and cron (no
    bar, no dots)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    for _ in range(3):
        desk.new()
    itdesk = str(Path(sys.executable).parent / "itdesk")
    piped = subprocess.run([itdesk, "validate", "--desk", str(desk.desk)],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert piped.stderr == "3 tickets checked, 0 problems\n"
    seen = at_terminal(["validate", "--desk", str(desk.desk)])
    assert b"checking tickets" in seen and b"3 tickets checked" in seen
    cache = desk.desk / ".git" / "itdesk" / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    piped = subprocess.run([itdesk, "list", "--all", "--desk", str(desk.desk)],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert piped.stderr == "" and piped.stdout.count("IT-") == 3
    shutil.rmtree(cache, ignore_errors=True)
    seen = at_terminal(["list", "--all", "--desk", str(desk.desk)])
    assert b"reading tickets" in seen and seen.count(b"IT-") == 3
    shutil.rmtree(cache, ignore_errors=True)
    seen = at_terminal(["export", "--desk", str(desk.desk)])
    assert b"reading tickets" in seen and seen.count(b"IT-") == 3
    piped = subprocess.run([itdesk, "export", "--desk", str(desk.desk)],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert piped.stderr == "" and piped.stdout.count("IT-") == 3


@pytest.mark.parametrize("seed", range(4))
def test_big_tables_are_laid_out_as_tabulate_lays_them_out(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above BIG rows the table is written without tabulate, for speed: the text must be
    the same, Chinese, combining accents, emoji modifiers, blanks and fitting included."""
    import random

    from itdesk.channels import table

    rng = random.Random(seed)
    alphabet = "abcXYZ 019-_打印机无法连接ｖｐｎé\u0301👍🏽한국어…"
    for _ in range(250):
        cols = rng.randint(1, 6)
        heads = ["".join(rng.choices(alphabet, k=rng.randint(1, 8))) for _ in range(cols)]
        rows = [
            ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(cols)]
            for _ in range(rng.randint(1, 30))
        ]
        fit = rng.choice([None, 40, 80])
        monkeypatch.setattr(table, "BIG", 10_000)
        by_tabulate = table.render(heads, rows, fit)
        monkeypatch.setattr(table, "BIG", -1)
        assert table.render(heads, rows, fit) == by_tabulate, (heads, rows, fit)


def test_the_quick_width_of_chinese_text_is_wcwidths() -> None:
    from wcwidth import wcswidth

    from itdesk.channels.table import _PLAIN_CJK, width

    samples = ["VPN连不上（3楼）", "打印机卡纸，无法打印！", "《用户手册》【紧急】", "ASCII only ~"]
    samples += ["".join(chr(c) for c in range(0x4E00, 0x9FFF, 97))]
    for text in samples:
        assert _PLAIN_CJK.fullmatch(text), text
        assert width(text) == wcswidth(text), text
    for text in ("é\u0301", "👍🏽", "〪x", "한국어"):  # left to wcwidth
        assert width(text) == wcswidth(text)
