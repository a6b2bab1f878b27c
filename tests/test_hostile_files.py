"""Files an attacker (or a bad hand edit) can plant in a desk: a YAML alias bomb in a
ticket, symbolic links under tickets/ and kb/. Each is reported with its path and never
expanded or followed; every other ticket still works."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Itdesk, git, git_state

BOMB = """\
id: {tid}
title: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
description: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
remarks: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
log: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
kb: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


def test_an_alias_bomb_is_reported_not_expanded(desk: Itdesk) -> None:
    good = desk.new(now="2023-10-25T09:30")
    bad = desk.new(now="2023-10-25T09:31")
    (desk.desk / "tickets" / f"{bad}.yaml").write_text(BOMB.format(tid=bad), encoding="utf-8")
    git(desk.desk, "commit", "-qam", "a planted ticket")
    for argv in (["list"], ["list", "--format", "json"], ["check"], ["validate"],
                 ["export"], ["stats", "--now", "2023-10-26T09:00"]):  # fmt: skip
        result = desk(*argv)
        assert result.exit_code in (0, 1), (argv, result.output[-300:])
        assert f"tickets/{bad}.yaml:2" in result.output, argv
        assert "anchors and aliases" in result.output
    assert good in desk.ok("list").stdout
    result = desk("show", bad)
    assert result.exit_code == 2 and "anchors and aliases" in result.stderr


@pytest.mark.parametrize("where", ["file", "folder", "archive"])
def test_a_symlink_in_tickets_is_never_followed(desk: Itdesk, tmp_path: Path, where: str) -> None:
    good = desk.new(now="2023-10-25T09:30")
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "IT-20231025-009.yaml"
    text = (desk.desk / "tickets" / f"{good}.yaml").read_text("utf-8")
    text = text.replace(good, "IT-20231025-009").replace("Printer jams", "SECRET outside file")
    secret.write_text(text, "utf-8")
    if where == "file":
        link = desk.desk / "tickets" / "IT-20231025-009.yaml"
        link.symlink_to(secret)
        rel = "tickets/IT-20231025-009.yaml"
    elif where == "folder":
        (desk.desk / "tickets" / "archive").mkdir()
        link = desk.desk / "tickets" / "archive" / "2023-09"
        link.symlink_to(outside, target_is_directory=True)
        rel = "tickets/archive/2023-09"
    else:  # the archive folder itself, pointing at a folder of months outside
        (outside / "2023-09").mkdir()
        secret.rename(outside / "2023-09" / secret.name)
        secret = outside / "2023-09" / secret.name
        link = desk.desk / "tickets" / "archive"
        link.symlink_to(outside, target_is_directory=True)
        rel = "tickets/archive"
    git(desk.desk, "add", "-A")
    git(desk.desk, "commit", "-qm", "a planted link")
    before = git_state(desk.desk)
    for argv in (["list", "--all"], ["list", "--all", "--format", "json"], ["validate"],
                 ["export"]):  # fmt: skip
        result = desk(*argv)
        assert "SECRET" not in result.output, argv
        assert rel in result.output, argv
        assert "symbolic link" in result.output
    for argv in (["show", "IT-20231025-009"], ["log", "IT-20231025-009", "hello"]):
        result = desk(*argv, "--now", "2023-10-25T10:00")
        assert result.exit_code == 2 and "SECRET" not in result.output, argv
    assert git_state(desk.desk) == before
    assert "SECRET" in secret.read_text("utf-8") and "hello" not in secret.read_text("utf-8")


def test_a_symlinked_article_is_reported_not_shown(desk: Itdesk, tmp_path: Path) -> None:
    outside = tmp_path / "passwd"
    outside.write_text("---\ntitle: root:x:0:0\ncategory: other\n---\nSECRET\n", "utf-8")
    (desk.desk / "kb" / "vpn.md").symlink_to(outside)
    git(desk.desk, "add", "-A")
    git(desk.desk, "commit", "-qm", "a planted article")
    for argv in (["kb", "list"], ["kb", "search", "root"], ["kb", "show", "vpn"], ["validate"]):
        result = desk(*argv)
        assert "SECRET" not in result.output and "root:x" not in result.output, argv
    assert "symbolic link" in desk("validate").output
