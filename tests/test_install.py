"""A real install ships every command: the wheel holds every module and data file of the
source tree, and the CLI run from a non-editable install lists and runs every command.

The other tests import the checkout itself (an editable install), which would hide a
subpackage left out of the wheel (issue: `pip install .` lost `itdesk.commands`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel of this checkout, and a folder it was installed into (pip --target)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(out.glob("itdesk-*.whl"))
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return wheel, target


def test_the_wheel_holds_every_module_and_data_file(installed: tuple[Path, Path]) -> None:
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "itdesk"
    wanted = [p.relative_to(ROOT).as_posix() for p in package.rglob("*") if p.is_file()]
    wanted = [w for w in wanted if "__pycache__" not in w and not w.endswith(".pyc")]
    assert [w for w in wanted if w not in names] == []
    assert any(n.endswith("schema/ticket.schema.json") for n in names)


def test_every_command_runs_from_a_non_editable_install(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    _, target = installed
    env = {**os.environ, "PYTHONPATH": str(target)}

    # Run from a folder outside the checkout, so the checkout cannot be imported.
    def itdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "itdesk", *args], cwd=tmp_path, env=env,
            capture_output=True, text=True,
        )  # fmt: skip

    where = subprocess.run(
        [sys.executable, "-c", "import itdesk; print(itdesk.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(target)), where
    help_text = itdesk("--help")
    assert help_text.returncode == 0, help_text.stderr
    from itdesk.cli import all_commands

    for path in all_commands():
        proc = itdesk(*path, "--help")
        assert proc.returncode == 0, (path, proc.stderr)
        assert "Usage: itdesk" in proc.stdout
    desk = tmp_path / "desk"
    assert itdesk("init", str(desk), "--as", "zhang", "--timezone", "UTC").returncode == 0
    new = itdesk("new", "--desk", str(desk), "--title", "Printer jam", "--requester", "Li",
                 "--now", "2024-05-06T09:00")  # fmt: skip
    assert new.returncode == 0, new.stderr
    assert new.stdout.strip() == "IT-20240506-001"
    check = itdesk("check", "--desk", str(desk), "--now", "2024-05-06T09:05")
    assert check.returncode == 0, check.stderr
