"""Start-up stays light: importing the CLI, ``--help`` and ``--version`` load none of the
heavy libraries (PyYAML, GitPython, jsonschema, tabulate, dateutil).

Each check runs in a new interpreter, since this test process has imported them all.
The time it takes is measured by ``bench/bench.py``, never here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("yaml", "git", "jsonschema", "tabulate", "dateutil")  # "git" is GitPython

# Runs the CLI as `python -m itdesk ARGS` would (or only imports it when ARGS is
# "import"), then prints, as the last line, the loaded modules of the heavy packages.
SCRIPT = """
import json, runpy, sys
args, heavy = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
if args == "import":
    import itdesk.cli
else:
    sys.argv = ["itdesk", *args]
    try:
        runpy.run_module("itdesk", run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
sys.stdout.flush()
print()
print(json.dumps(sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in heavy)))
"""


def _run(args: object, tmp_path: Path, heavy: tuple[str, ...] = HEAVY) -> tuple[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args), json.dumps(heavy)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    output, _, last = proc.stdout.rstrip("\n").rpartition("\n")
    loaded: list[str] = json.loads(last)
    return output, loaded


@pytest.mark.parametrize(
    "args", ["import", ["--help"], ["--version"]], ids=["import", "help", "version"]
)
def test_start_up_leaves_heavy_libraries_unloaded(args: object, tmp_path: Path) -> None:
    output, loaded = _run(args, tmp_path)
    assert loaded == []
    if args == ["--help"]:
        assert "Usage: itdesk" in output


def test_version_is_the_one_in_pyproject(tmp_path: Path) -> None:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        version = tomllib.load(fh)["project"]["version"]
    proc = subprocess.run(
        [sys.executable, "-m", "itdesk", "--version"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"itdesk, version {version}\n"


def test_fast_version_says_what_click_says() -> None:
    """`itdesk --version` is answered before click loads; it must match click's answer."""
    from click.testing import CliRunner

    from itdesk.cli import cli

    fast = subprocess.run(
        [sys.executable, "-m", "itdesk", "--version"], capture_output=True, text=True, check=True
    ).stdout
    slow = CliRunner().invoke(cli, ["--debug", "--version"], prog_name="itdesk").output
    assert fast == slow
    probe = "import sys, runpy; sys.argv = ['itdesk', '--version']\n"
    probe += "runpy.run_module('itdesk', run_name='__main__')\n"
    probe += "print(sorted(m for m in ('click', 'yaml') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "[]"


# What a read served by the kept rows and plans has no use for: the model's dataclasses
# and the lifecycle (the files are not read), processes, files written, YAML.
UNREAD = (
    "itdesk.core.model",
    "itdesk.core.lifecycle",
    "itdesk.store.history",
    "subprocess",
    "shutil",
    "tempfile",
    "yaml",
    "git",
)


@pytest.mark.parametrize(
    "args",
    [["check", "--now", "2023-10-26T10:00"], ["list"], ["list", "--format", "csv"]],
    ids=["check", "list", "list-csv"],
)
def test_a_read_of_an_unchanged_desk_loads_only_what_it_uses(
    args: list[str], make_desk: Any, tmp_path: Path
) -> None:
    """``check`` and ``list`` on a desk whose files did not change since the last run:
    served by what they kept, without the modules of the files and of the writes."""
    import os
    import time

    desk = make_desk()
    for minute in range(3):
        tid = desk.new(now=f"2023-10-25T09:0{minute}")
        desk.ok("ack", tid, "--now", f"2023-10-25T09:1{minute}")
    then = time.time() - 3600
    for path in [desk.desk / "itdesk.yaml", *(desk.desk / "tickets").glob("*.yaml")]:
        os.utime(path, (then, then))  # as on a desk in use: none just written
    for _ in range(2):
        result = desk(*args)
        assert result.exit_code in (0, 1), result.output
    output, loaded = _run([*args, "--desk", str(desk.desk)], tmp_path, UNREAD)
    assert "IT-20231025-003" in output
    assert loaded == []


@pytest.mark.parametrize(
    "first,then",
    [(["list"], ["check", "--now", "2023-10-26T10:00"]), (["list"], ["list"]),
     (["check", "--now", "2023-10-26T10:00"], ["list", "--format", "csv"])],
    ids=["list-then-check", "list-twice", "check-then-list"],
)  # fmt: skip
def test_a_read_right_after_a_write_parses_the_file_once(
    first: list[str], then: list[str], make_desk: Any, tmp_path: Path
) -> None:
    """The ticket a command has just written is parsed by the first read that follows;
    a second read within the racy window compares the file's bytes with those kept and
    needs neither PyYAML nor the model."""
    import os
    import time

    desk = make_desk()
    for minute in range(2):
        desk.new(now=f"2023-10-25T09:0{minute}")
    then_s = time.time() - 3600
    for path in [desk.desk / "itdesk.yaml", *(desk.desk / "tickets").glob("*.yaml")]:
        os.utime(path, (then_s, then_s))
    desk("list")
    desk("check", "--now", "2023-10-26T10:00")
    tid = desk.new(now="2023-10-25T09:05")  # just written: racy for two seconds
    result = desk(*first)
    assert result.exit_code in (0, 1), result.output
    output, loaded = _run([*then, "--desk", str(desk.desk)], tmp_path, UNREAD)
    assert tid in output
    assert loaded == []
