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
    """The wheel of this checkout, and a fresh virtualenv it was installed into by that
    virtualenv's own pip (so the `itdesk` script is the installed one). The libraries
    itdesk needs come from this test run's environment through a path entry, which
    makes no editable install visible and needs no network."""
    import sysconfig
    import venv

    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next(out.glob("itdesk-*.whl"))
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=True, clear=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    deps = sysconfig.get_paths()["purelib"]  # click, yaml, ... of this run (no .pth files run)
    (Path(site) / "itdesk-test-deps.pth").write_text(deps + "\n", encoding="utf-8")
    return wheel, env_dir


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
    _, env_dir = installed
    script = env_dir / "bin" / "itdesk"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    # The installed script, run from a folder outside the checkout.
    def itdesk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    where = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import itdesk; print(itdesk.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(env_dir)), where
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
    tid = new.stdout.strip()
    # The installed script starts with no more than the short path of `new` needs: no
    # click, PyYAML or re (each several ms; itdesk/quicknew.py, bin/itdesk).
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    dated = env.pop("GIT_COMMITTER_DATE")  # (a date for git's own commits: the full path)
    again = itdesk("new", "--desk", str(desk), "--title", "Printer jam", "--requester", "Li",
                   "--now", "2024-05-06T09:05", "--as", "zhang")  # fmt: skip
    del env["PYTHONPROFILEIMPORTTIME"]
    env["GIT_COMMITTER_DATE"] = dated
    assert again.stdout.strip() == "IT-20240506-002"
    imported = {line.rsplit("|", 1)[-1].strip() for line in again.stderr.splitlines()}
    assert {"click", "yaml", "re", "typing", "json", "zoneinfo"} & imported == set()
    for argv in (["ack", tid], ["classify", tid, "-p", "P2", "-c", "network"], ["list"],
                 ["show", tid], ["check"], ["stats"], ["export"], ["kb", "list"], ["validate"],
                 ["sla", "explain", tid], ["history", tid], ["report", tid],
                 ["archive", "--dry-run"]):  # fmt: skip
        at = 2 if argv[0] in ("kb", "sla") else 1
        full = [*argv[:at], "--desk", str(desk), *argv[at:], "--now", "2024-05-06T09:10"]
        proc = itdesk(*full)
        assert proc.returncode == 0, (argv, proc.stderr)


def test_the_portal_serves_its_pages_from_a_non_editable_install(
    installed: tuple[Path, Path], tmp_path: Path
) -> None:
    """The templates and static files are package data: the installed `itdesk serve`
    must find them (a real server process, 127.0.0.1, a free port)."""
    import re
    import urllib.request

    _, env_dir = installed
    script = env_dir / "bin" / "itdesk"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    desk = tmp_path / "desk"
    subprocess.run([str(script), "init", str(desk), "--as", "zhang", "--timezone", "UTC"],
                   cwd=tmp_path, env=env, check=True, capture_output=True)  # fmt: skip
    server = subprocess.Popen(
        [str(script), "serve", "--desk", str(desk), "--port", "0"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        line = server.stderr.readline()  # said once it listens
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m, line
        base = f"http://127.0.0.1:{m.group(1)}"
        with urllib.request.urlopen(base + "/healthz", timeout=30) as r:
            assert r.status == 200
        with urllib.request.urlopen(base + "/", timeout=5) as r:
            page = r.read().decode()
        assert 'name="requester"' in page and 'name="csrf_token"' in page
        with urllib.request.urlopen(base + "/static/suggest.js", timeout=5) as r:
            assert b"fetch" in r.read()
    finally:
        server.terminate()
        server.wait(timeout=30)
