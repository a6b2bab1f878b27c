"""Bad input: exit status 2, one line on stderr, no traceback, and the desk untouched.

Spec section 7: "Bad input gets one clear line (what was wrong, what is accepted) and a
non-zero exit, never a traceback"; section 4: exit 2 for bad usage or bad input. Each
test snapshots the desk with ``git_state`` (HEAD, ``git status``, every file's bytes)
and checks that the refused command changed none of it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import Result
from conftest import Itdesk, git, git_state

from itdesk.cli import cli

IT001 = "IT-20231025-001"


def refused(d: Itdesk, *args: str, desk: bool = True, input: str | None = None) -> str:
    """Run a command that must be refused; return its one error line."""
    before = git_state(d.desk) if (d.desk / ".git").is_dir() else None
    result = d(*args, desk=desk, input=input)
    assert_one_error_line(result, args)
    if before is not None:
        assert git_state(d.desk) == before, f"{args} changed the desk"
    return result.stderr.strip()


def assert_one_error_line(result: Result, args: object) -> None:
    assert result.exit_code == 2, (args, result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, (args, result.stderr)
    assert lines[0].startswith("itdesk: error:"), (args, result.stderr)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def acked(desk: Itdesk) -> Itdesk:
    """A desk with IT001 acknowledged (and nothing uncommitted)."""
    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:35")
    return desk


def line_of(path: Path, startswith: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(startswith))


def corrupt(d: Itdesk, ticket_id: str, key_line: str, replacement: str, commit: bool) -> int:
    """Replace the line starting with ``key_line``; return its number."""
    path = d.desk / "tickets" / f"{ticket_id}.yaml"
    n = line_of(path, key_line)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[n - 1] = replacement
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if commit:
        git(d.desk, "commit", "-qam", "hand edit")
    return n


# ------------------------------------------------------------------ ticket IDs


def test_unknown_id(acked: Itdesk) -> None:
    for name, *rest in (["show"], ["ack"], ["history"], ["report"], ["log", "--via", "note", "x"],
                        ["cancel", "--reason", "x"]):  # fmt: skip
        message = refused(acked, name, "IT-20231025-099", *rest, "--now", "2023-10-25T10:00")
        assert "IT-20231025-099" in message, name


def test_malformed_id(acked: Itdesk) -> None:
    bad_ids = ["../x", "../../etc/passwd", "IT-20231025-001/../IT-20231025-001",
               "it-20231025-1x", "IT-20231025-001.yaml", "", "tickets/IT-20231025-001"]  # fmt: skip
    for bad in bad_ids:
        for command in ("show", "ack", "history"):
            message = refused(acked, command, bad, "--now", "2023-10-25T10:00")
            assert "IT-20231025-001" in message, (command, bad)  # what a number looks like


# ----------------------------------------------------------------- transitions


def test_accepting_a_new_ticket_names_status_and_allowed_steps(desk: Itdesk) -> None:
    tid = desk.new()
    message = refused(desk, "accept", tid, "--now", "2023-10-25T09:40")
    assert tid in message
    assert "new" in message
    assert "acknowledged" in message and "ack" in message  # the allowed next step


ILLEGAL = [
    ("ack", ["ack"], "acknowledged"),
    ("ack", ["resolve", "--summary", "x"], "acknowledged"),
    ("close", ["assign", "--to", "wang"], "closed"),
    ("close", ["log", "--via", "note", "more"], "closed"),
    ("resolve", ["pending", "--on", "user"], "resolved"),
    ("assign", ["followup", "--speed", "满意", "--attitude", "满意", "--overall", "满意"],
     "assigned"),
]  # fmt: skip


def test_illegal_transitions(desk: Itdesk) -> None:
    for i, (until, argv, status) in enumerate(ILLEGAL):
        tid = desk.new(now=f"2023-10-25T09:{i:02d}")
        desk.walk(tid, until)
        name, *rest = argv
        message = refused(desk, name, tid, *rest, "--now", "2023-10-25T12:00")
        assert status in message, (argv, message)


# ------------------------------------------------------------- words and times


def test_bad_priority(acked: Itdesk) -> None:
    message = refused(acked, "classify", IT001, "--priority", "P7", "--now", "2023-10-25T10:00")
    assert "P7" in message
    assert "P1" in message  # says what is accepted


def test_bad_priority_in_list_filter(acked: Itdesk) -> None:
    message = refused(acked, "list", "--priority", "超级紧急")
    assert "超级紧急" in message


def test_bad_category(acked: Itdesk) -> None:
    message = refused(acked, "classify", IT001, "--category", "打印机", "--now", "2023-10-25T10:00")
    assert "打印机" in message
    assert "network" in message


def test_bad_satisfaction_word(desk: Itdesk) -> None:
    tid = desk.new()
    desk.walk(tid, "resolve")
    message = refused(desk, "followup", tid, "--speed", "很好", "--attitude", "满意",
                      "--overall", "满意", "--now", "2023-10-25T11:00")  # fmt: skip
    assert "很好" in message
    assert "satisfied" in message


def test_bad_channel(desk: Itdesk) -> None:
    message = refused(desk, "new", "--title", "t", "--requester", "r", "--channel", "pigeon",
                      "--now", "2023-10-25T09:30")  # fmt: skip
    assert "pigeon" in message


def test_malformed_now(acked: Itdesk) -> None:
    for bad in ("yesterday-ish", "2023-13-45T09:30", "25/10/2023 09:30", "+"):
        message = refused(acked, "assign", IT001, "--to", "wang", "--now", bad)
        assert bad in message
        assert "ISO 8601" in message


def test_malformed_now_on_new_and_list(acked: Itdesk) -> None:
    refused(acked, "new", "--title", "t", "--requester", "r", "--now", "next tuesday")
    refused(acked, "list", "--now", "next tuesday")


def test_malformed_eta(desk: Itdesk) -> None:
    tid = desk.new()
    desk.walk(tid, "accept")
    message = refused(desk, "escalate", tid, "--vendor", "OA厂商", "--reason", "interface",
                      "--eta", "when pigs fly", "--now", "2023-10-25T10:00")  # fmt: skip
    assert "when pigs fly" in message


def test_malformed_expected_by(desk: Itdesk) -> None:
    message = refused(desk, "new", "--title", "t", "--requester", "r",
                      "--expected-by", "someday", "--now", "2023-10-25T09:30")  # fmt: skip
    assert "someday" in message


def test_new_without_requester(desk: Itdesk) -> None:
    message = refused(desk, "new", "--title", "t", "--now", "2023-10-25T09:30")
    assert "--requester" in message


def test_new_from_file_with_an_unknown_key(desk: Itdesk, tmp_path: Path) -> None:
    intake = tmp_path / "intake.yaml"
    intake.write_text("title: t\nrequester: {name: r}\ncolour: blue\n", encoding="utf-8")
    message = refused(desk, "new", "--from", str(intake), "--now", "2023-10-25T09:30")
    assert "colour" in message


def test_new_from_file_that_is_not_yaml(desk: Itdesk, tmp_path: Path) -> None:
    intake = tmp_path / "intake.yaml"
    intake.write_text("title: t\nrequester: {name: r\n", encoding="utf-8")
    message = refused(desk, "new", "--from", str(intake), "--now", "2023-10-25T09:30")
    assert "intake.yaml" in message


def test_new_from_missing_file(desk: Itdesk, tmp_path: Path) -> None:
    message = refused(desk, "new", "--from", str(tmp_path / "nope.yaml"),
                      "--now", "2023-10-25T09:30")  # fmt: skip
    assert "nope.yaml" in message


def test_click_usage_errors_are_one_line_too(acked: Itdesk) -> None:
    """Spec 7: every bad input gets one clear line, not click's four-line usage block."""
    for argv in (
        ["log", IT001, "--via", "fax", "called"],  # not one of the choices
        ["escalate", IT001, "--vendor", "x"],  # --reason is required
        ["show", IT001, "--format", "xml"],
        ["list", "--no-such-option"],
    ):
        refused(acked, *argv)


# ------------------------------------------------------------- corrupt files


def test_ticket_with_yaml_syntax_error(acked: Itdesk) -> None:
    n = corrupt(acked, IT001, "status:", "status: acknowledged: yes", commit=True)
    for argv in (["show", IT001], ["report", IT001],
                 ["assign", IT001, "--to", "wang", "--now", "2023-10-25T10:00"]):  # fmt: skip
        message = refused(acked, *argv)
        assert f"tickets/{IT001}.yaml:{n}:" in message, argv


def test_ticket_with_unclosed_bracket_names_path_and_a_line(acked: Itdesk) -> None:
    corrupt(acked, IT001, "title:", "title: [unclosed", commit=True)
    message = refused(acked, "show", IT001)
    assert re.search(rf"tickets/{IT001}\.yaml:\d+:", message), message


def test_ticket_with_schema_error(acked: Itdesk) -> None:
    n = corrupt(acked, IT001, "status:", "status: banana", commit=True)
    for argv in (["show", IT001], ["show", IT001, "--format", "json"],
                 ["ack", IT001, "--now", "2023-10-25T10:00"]):  # fmt: skip
        message = refused(acked, *argv)
        assert f"tickets/{IT001}.yaml:{n}:" in message, argv
        assert "banana" in message


def test_ticket_with_wrong_type_deep_inside(acked: Itdesk) -> None:
    n = corrupt(acked, IT001, "  blocks_work:", "  blocks_work: [not, a, bool]", commit=True)
    message = refused(acked, "show", IT001)
    assert f"tickets/{IT001}.yaml:{n}:" in message
    assert "blocks_work" in message


def test_ticket_whose_id_does_not_match_its_file(acked: Itdesk) -> None:
    n = corrupt(acked, IT001, "id:", "id: IT-20231025-777", commit=True)
    message = refused(acked, "show", IT001)
    assert f"tickets/{IT001}.yaml:{n}:" in message


POLICY_BREAKS = [
    ("timezone: Asia/Shanghai", "timezone: Mars/Olympus_Mons", "timezone"),
    ("  at_risk: 0.75", "  at_risk: 7", "at_risk"),
    ("  prefix: IT", "  prefix: it desk", "prefix"),
    ("locale: en", "locale: klingon", "locale"),
    ("version: 1", "version: 1\ncolour: blue", "colour"),
]


def test_corrupt_policy_names_the_key(acked: Itdesk) -> None:
    path = acked.desk / "itdesk.yaml"
    good = path.read_text(encoding="utf-8")
    for edit, replacement, key in POLICY_BREAKS:
        assert edit in good
        path.write_text(good.replace(edit, replacement, 1), encoding="utf-8")
        for argv in (["list"], ["show", IT001], ["new", "--title", "t", "--requester", "r"],
                     ["assign", IT001, "--to", "wang"]):  # fmt: skip
            message = refused(acked, *argv, "--now", "2023-10-25T10:00")
            assert "itdesk.yaml" in message, argv
            assert key in message, (argv, message)
    path.write_text(good, encoding="utf-8")
    acked.ok("assign", IT001, "--to", "wang", "--now", "2023-10-25T10:00")


def test_policy_that_is_not_yaml(acked: Itdesk) -> None:
    path = acked.desk / "itdesk.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "teams: [unclosed\n", encoding="utf-8")
    message = refused(acked, "list", "--now", "2023-10-25T10:00")
    assert "itdesk.yaml" in message


def test_validate_reports_a_corrupt_policy(acked: Itdesk) -> None:
    path = acked.desk / "itdesk.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("locale: en", "locale: xx"),
                    encoding="utf-8")  # fmt: skip
    result = acked("validate")
    assert result.exit_code == 1
    assert "locale" in result.output
    assert "Traceback" not in result.output


# ------------------------------------------------------------- finding the desk


def test_no_desk_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    d = Itdesk(nowhere)
    for argv in (["list"], ["show", IT001], ["new", "--title", "t", "--requester", "r"],
                 ["validate"]):  # fmt: skip
        message = refused(d, *argv, desk=False)
        assert "itdesk init" in message or "--desk" in message, message
    assert list(nowhere.iterdir()) == []


def test_desk_option_and_env_pointing_nowhere(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "missing"
    result = desk.runner.invoke(cli, ["list", "--desk", str(missing)])
    assert_one_error_line(result, "--desk")
    assert str(missing) in result.stderr
    monkeypatch.chdir(desk.desk)  # a desk is right here, but ITDESK_DESK says otherwise
    monkeypatch.setenv("ITDESK_DESK", str(missing))
    message = refused(desk, "list", desk=False)
    assert str(missing) in message


def test_desk_that_is_not_a_git_repository(tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "itdesk.yaml").write_text("timezone: UTC\n", encoding="utf-8")
    d = Itdesk(fake)
    refused(d, "new", "--title", "t", "--requester", "r", "--now", "2023-10-25T09:30")
    assert sorted(p.name for p in fake.iterdir()) == ["itdesk.yaml"]


# ------------------------------------------------------------------ identity


def test_no_identity_refuses_writes_until_as(desk: Itdesk, request: pytest.FixtureRequest) -> None:
    tid = desk.new()
    request.getfixturevalue("no_identity")  # from here on git has no user.name
    for argv in (["ack", tid], ["new", "--title", "t", "--requester", "r"],
                 ["log", tid, "--via", "note", "hello"]):  # fmt: skip
        message = refused(desk, *argv, "--now", "2023-10-25T09:40")
        assert "--as" in message
    # reading needs nobody
    assert desk("show", tid).exit_code == 0
    # --as NAME then works, and the commit is authored (and committed) by NAME
    desk.ok("ack", tid, "--as", "zhang", "--now", "2023-10-25T09:40")
    assert desk.ticket(tid)["status"] == "acknowledged"
    who = git(desk.desk, "log", "-1", "--format=%an|%ae|%cn|%aI").strip()
    assert who == "zhang|zhang@example.com|zhang|2023-10-25T09:40:00+08:00"
    assert git(desk.desk, "status", "--porcelain") == ""


def test_empty_as_is_refused(acked: Itdesk) -> None:
    refused(acked, "assign", IT001, "--to", "wang", "--as", "  ", "--now", "2023-10-25T10:00")


# ---------------------------------------------------------------- hand edits


def test_uncommitted_hand_edit_is_not_overwritten(acked: Itdesk) -> None:
    path = acked.desk / "tickets" / f"{IT001}.yaml"
    corrupt(acked, IT001, "title:", "title: Printer jams on tray 2", commit=False)
    edited = path.read_bytes()
    message = refused(acked, "assign", IT001, "--to", "wang", "--now", "2023-10-25T10:00")
    assert f"tickets/{IT001}.yaml" in message
    assert path.read_bytes() == edited
    # once committed, the edit is kept by the next change
    git(acked.desk, "commit", "-qam", "hand edit")
    acked.ok("assign", IT001, "--to", "wang", "--now", "2023-10-25T10:00")
    assert acked.ticket(IT001)["title"] == "Printer jams on tray 2"
    assert acked.ticket(IT001)["assignee"] == "wang"


def test_uncommitted_corrupt_edit_is_not_overwritten(acked: Itdesk) -> None:
    path = acked.desk / "tickets" / f"{IT001}.yaml"
    corrupt(acked, IT001, "status:", "status: banana", commit=False)
    edited = path.read_bytes()
    refused(acked, "assign", IT001, "--to", "wang", "--now", "2023-10-25T10:00")
    assert path.read_bytes() == edited


def test_staged_hand_edit_is_not_overwritten(acked: Itdesk) -> None:
    path = acked.desk / "tickets" / f"{IT001}.yaml"
    corrupt(acked, IT001, "title:", "title: staged edit", commit=False)
    git(acked.desk, "add", f"tickets/{IT001}.yaml")
    edited = path.read_bytes()
    refused(acked, "assign", IT001, "--to", "wang", "--now", "2023-10-25T10:00")
    assert path.read_bytes() == edited


# ------------------------------------------------------- list keeps going


def test_list_warns_about_a_corrupt_file_and_lists_the_rest(desk: Itdesk) -> None:
    ids = [desk.new(now=f"2023-10-25T09:3{i}", title=f"problem {i}") for i in range(3)]
    n = corrupt(desk, ids[1], "status:", "status: banana", commit=True)
    before = git_state(desk.desk)
    result = desk("list")
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    listed = sorted(set(re.findall(r"IT-\d{8}-\d{3}", result.stdout)))
    assert listed == [ids[0], ids[2]]
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1
    assert f"tickets/{ids[1]}.yaml:{n}:" in warnings[0]

    # JSON on stdout stays parseable; the warning goes to stderr
    as_json = desk("list", "--format", "json")
    assert [t["id"] for t in json.loads(as_json.stdout)] == [ids[0], ids[2]]
    assert f"tickets/{ids[1]}.yaml" in as_json.stderr
    assert git_state(desk.desk) == before


def test_init_without_identity_or_as(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("no_identity")
    root = tmp_path / "newdesk"
    d = Itdesk(root)
    message = refused(d, "init", str(root), "--timezone", "UTC", "--now", "2023-10-25T08:00")
    assert "--as" in message
    assert not root.exists()
    d.ok("init", str(root), "--timezone", "UTC", "--as", "zhang", "--now", "2023-10-25T08:00")
    assert git(root, "log", "-1", "--format=%an|%cn").strip() == "zhang|zhang"


@pytest.mark.parametrize(
    "argv",
    [["list"], ["list", "--format", "json"], ["--help"], ["archive", "--dry-run"],
     ["show", "IT-20231025-001"], ["--version"]],
)  # fmt: skip
def test_a_closed_pipe_ends_quietly(desk: Itdesk, argv: list[str]) -> None:
    """`itdesk list | head -1`: the reader went away; no traceback, no internal error."""
    desk.new()
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write
    if argv not in (["--help"], ["--version"]):
        argv = [argv[0], "--desk", str(desk.desk), *argv[1:]]
    proc = subprocess.run([sys.executable, "-m", "itdesk", *argv], stdout=write,
                          stderr=subprocess.PIPE, text=True)  # fmt: skip
    os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == 141


@pytest.mark.parametrize(
    "argv",
    [
        ["close", "IT-20231025-001", "--force", "--reason", "dup", "-o", "/nonexistent/dir/r.md"],
        ["close", "IT-20231025-001", "--force", "--reason", "dup", "-o", "."],
        ["report", "IT-20231025-001", "-o", "/nonexistent/r.md"],
        ["close", "IT-20231025-001", "--force", "--reason", "dup", "-o", "records.pdf"],
        ["export", "-o", "records.pdf"],
        ["export", "-o", "records"],
        ["export", "--format", "xlsx", "-o", "records.csv"],
        ["export", "--format", "csv", "-o", "records.xlsx"],
    ],
)
def test_output_paths_are_checked_before_anything_is_done(
    desk: Itdesk, argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.new()
    monkeypatch.chdir(tmp_path)
    before = git_state(desk.desk)
    result = desk(*argv)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1
    assert git_state(desk.desk) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("records")) == []


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_full_disk_is_one_line_and_a_clean_tree(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    """ENOSPC while the files of a change are written: exit 3, one line, and the working
    tree, the index and HEAD exactly as they were (no 'internal error: OSError')."""
    import errno

    import itdesk.store.transaction as files  # the store's writes go through its name

    tid = desk.new()
    desk.ok("ack", tid, "--now", "2023-10-25T09:35")
    before = git_state(desk.desk)
    real = files.write_atomic
    calls = {"n": 0}

    def full(path: Path, data: str | bytes, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "write_atomic", full)
    result = desk("log", tid, "--now", "2023-10-25T09:40", "called")
    assert result.exit_code == 3, result.output
    assert "No space left on device" in result.stderr
    assert result.stderr.count("\n") == 1 and "internal error" not in result.stderr
    monkeypatch.setattr(files, "write_atomic", real)
    assert git_state(desk.desk) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["new", "--as", "zhang", "--now", "2023-10-25T10:00", "--title", "t", "--requester", "r"],
        ["new", "--as", "zhang", "--title", "t", "--requester", "r", "--channel", "电话"],
        ["log", "IT-20231025-001", "--as", "zhang", "--via", "note", "called"],
        ["show", "IT-20231025-001"],
        ["ack", "IT-20231025-001", "--as", "zhang"],
    ],
    ids=["new-short-path", "new", "log", "show", "ack"],
)
def test_no_git_on_the_path_is_one_line(desk: Itdesk, argv: list[str]) -> None:
    """git is not installed (or not on PATH): a command that needs it says so in one
    line, exit 3, and the desk is left as it was; never a traceback."""
    desk.new()
    before = git_state(desk.desk)
    proc = subprocess.run(
        [sys.executable, "-m", "itdesk", argv[0], "--desk", str(desk.desk), *argv[1:]],
        capture_output=True, text=True, env={**os.environ, "PATH": "/nonexistent"},
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "git is not installed or not on PATH" in proc.stderr
    assert git_state(desk.desk) == before
