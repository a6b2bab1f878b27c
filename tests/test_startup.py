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
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


def _run(args: object, tmp_path: Path) -> tuple[str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(args), json.dumps(HEAVY)],
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
