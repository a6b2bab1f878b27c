"""itdesk init: the desk it makes, and nothing left behind when it fails."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner
from conftest import git

from itdesk.cli import cli
from itdesk.core.policy import policy_from_dict


def test_init_makes_a_one_person_desk(tmp_path: Path) -> None:
    root = tmp_path / "desk"
    result = CliRunner().invoke(
        cli,
        [
            "init",
            str(root),
            "--timezone",
            "Europe/Berlin",
            "--as",
            "anna",
            "--now",
            "2024-03-01T08:00",
        ],
    )
    assert result.exit_code == 0, result.output
    policy = policy_from_dict(yaml.safe_load((root / "itdesk.yaml").read_text()))
    assert policy.timezone == "Europe/Berlin"
    assert all(team.members == ("anna",) and team.supervisor == "anna" for team in policy.teams)
    assert policy.supervisors == ("anna",)
    assert {c for team in policy.teams for c in team.categories} == set(policy.categories)
    assert (root / "tickets").is_dir() and (root / "kb").is_dir()
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "log", "--format=%an|%ad", "--date=iso-strict").strip() == (
        "anna|2024-03-01T08:00:00+01:00"
    )
    assert "# " in (root / "itdesk.yaml").read_text()  # commented for a team lead


def test_failed_init_in_an_existing_folder_leaves_it_as_it_was(
    tmp_path: Path, no_identity: None
) -> None:
    folder = tmp_path / "existing"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["init", str(folder), "--timezone", "UTC"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--as" in result.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_failed_init_of_a_new_folder_removes_it(tmp_path: Path, no_identity: None) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "new"), "--timezone", "UTC"])
    assert result.exit_code == 2
    assert not (tmp_path / "new").exists()


def test_init_refuses_a_bad_time_zone(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "d"), "--timezone", "Mars/Base"])
    assert result.exit_code == 2
    assert "Mars/Base" in result.stderr and "IANA" in result.stderr
    assert not (tmp_path / "d").exists()


def test_init_knows_the_readme_cron_robot(tmp_path: Path) -> None:
    """The README's crontab line runs `check --escalate --as itdesk-bot`: a fresh desk
    knows that name, and no other stranger."""
    from click.testing import CliRunner

    runner = CliRunner()
    desk = tmp_path / "desk"
    assert (
        runner.invoke(cli, ["init", str(desk), "--as", "zhang", "--timezone", "UTC"]).exit_code == 0
    )
    ok = runner.invoke(cli, ["check", "--escalate", "--desk", str(desk), "--as", "itdesk-bot"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(cli, ["check", "--escalate", "--desk", str(desk), "--as", "nobody"])
    assert bad.exit_code == 2 and "not someone this desk knows" in bad.stderr
    new = runner.invoke(cli, ["new", "--desk", str(desk), "--as", "nobody", "--title", "x",
                              "--requester", "y"])  # fmt: skip
    assert new.exit_code == 2 and "not someone this desk knows" in new.stderr
