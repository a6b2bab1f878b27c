"""The documentation stays true: every command has help with an example, a README
section, and the README's walk-through runs as shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from itdesk.cli import all_commands, cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = [" ".join(path) for path in all_commands()]


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_help_with_example(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output, f"{name} has no example in its help"
    assert f"itdesk {name}" in result.output.split("Example:", 1)[1]


@pytest.mark.parametrize("name", COMMANDS)
def test_command_has_readme_section(name: str) -> None:
    assert f"### itdesk {name}\n" in README


def test_readme_reference_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "-I", str(ROOT), "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_opens_with_the_two_commands() -> None:
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["make demo", "make test"]


def test_readme_walkthrough_runs(tmp_path: Path, hermetic: Path) -> None:
    """The 'A ticket's life' block, run by bash in a temporary desk."""
    section = README.split("## A ticket's life", 1)[1]
    script = re.search(r"```sh\n(.*?)```", section, re.S)
    assert script is not None
    body = script.group(1).replace("~/desk", str(tmp_path / "desk"))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", body],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "IT-" in result.stdout and ": close" in result.stdout
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=tmp_path / "desk", capture_output=True, text=True
    ).stdout.splitlines()
    assert len(log) == 10  # init + new + 8 steps
    authors = subprocess.run(
        ["git", "log", "--format=%an"], cwd=tmp_path / "desk", capture_output=True, text=True
    ).stdout.split()
    assert set(authors) == {"zhang"}  # init --as zhang, not git's user name (Test Tech)


def test_make_demo_script_runs(tmp_path: Path) -> None:
    """`make demo` is one of the README's two commands: its script must work as shown."""
    env = dict(os.environ)
    env["ITDESK"] = str(Path(sys.executable).parent / "itdesk")
    env["TMPDIR"] = str(tmp_path)
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")], cwd=tmp_path, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "问题处理报告" in result.stdout and "0 problems" in result.stderr
