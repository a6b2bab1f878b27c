"""itdesk/quicklist.py: `list --all` into a pipe from the rows a full `list --all` kept
prints exactly what the full command prints, or declines (None, nothing written) and
the full command runs.

Each check compares the short path's stdout with the full command's (click only, no
short path tried) on the same desk: after the rows are kept, and after every kind of
change a desk sees, where the short path must decline rather than print stale rows."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Itdesk, git, git_state
from test_summaries import OLD, _age, copy_of
from test_summaries import _build as _build_archive

from itdesk import quicklist
from itdesk.__main__ import made_rows
from itdesk.cli import list_

_BUILT: dict[str, Path] = {}
MORE = 100  # open tickets besides the archive's: a table of more than BIG rows


def _build(make_desk: Callable[..., Itdesk]) -> Path:
    """Nine tickets archived over three months and two open (test_summaries), then a
    hundred more open ones, some with personal data in the title, some in Chinese."""
    root = _build_archive(make_desk)
    d = Itdesk(root)
    for i in range(MORE):
        title = ("VPN 连不上 13956785678", "Printer jams", "邮箱密码忘记")[i % 3]
        d.new(now=f"2024-02-{1 + i % 20:02d}T{8 + i % 10:02d}:00", title=title, requester="李雷")
    return root


@pytest.fixture
def desk(make_desk: Callable[..., Itdesk], tmp_path: Path) -> Itdesk:
    return copy_of(_BUILT, "desk", lambda: _build(make_desk), tmp_path)


@pytest.fixture(autouse=True)
def _fresh_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quicklist, "declined", False)
    monkeypatch.delenv("COLUMNS", raising=False)


def full(d: Itdesk, *argv: str) -> str:
    result = d("list", "--all", *argv)
    assert result.exit_code == 0, result.output
    return result.stdout


def short(d: Itdesk, capsys: pytest.CaptureFixture[str], *argv: str) -> str | None:
    """The short path's stdout, or None when it declines (then it printed nothing)."""
    capsys.readouterr()
    status = quicklist.main(["--all", "--desk", str(d.desk), *argv], made_rows)
    quicklist.declined = False  # (the full commands of the test keep nothing)
    out, err = capsys.readouterr()
    assert err == ""
    if status is None:
        assert out == ""
        return None
    assert status == 0
    return out


def keep(d: Itdesk, *argv: str) -> None:
    """What the entry point does: the short path tried, declined, the full command."""
    quicklist.declined = True
    full(d, *argv)
    quicklist.declined = False


def rows_kept(d: Itdesk) -> list[str]:
    cache = d.desk / ".git" / "itdesk" / "cache"
    return sorted(p.name for p in cache.iterdir() if p.name.startswith("rows."))


def test_the_kept_rows_give_the_full_commands_table(desk: Itdesk, capsys) -> None:
    assert short(desk, capsys) is None  # nothing kept yet
    full(desk)
    assert rows_kept(desk) == []  # the full command alone, not tried: keeps nothing
    keep(desk)
    months = [f"rows.tickets-archive-2023-{m}" for m in ("10", "11", "12")]
    assert rows_kept(desk) == ["rows.tickets", *months]
    before = git_state(desk.desk)
    out = short(desk, capsys)
    assert out == full(desk)
    assert git_state(desk.desk) == before
    assert out.count("\n") == 2 + 11 + MORE
    assert "13956785678" not in out and "139****5678" in out  # masked, as ever


@pytest.mark.parametrize("argv", [("--lang", "zh"), ("--lang=en",), ("--format", "table")])
def test_each_language_is_kept_apart(desk: Itdesk, capsys, argv: tuple[str, ...]) -> None:
    keep(desk)  # the desk's locale
    keep(desk, *argv)
    out = short(desk, capsys, *argv)
    assert out is not None and out == full(desk, *argv)
    if "zh" in argv:
        assert "工单编号" in out and "已关闭" in out


def test_the_entry_point_takes_it_into_a_pipe(desk: Itdesk) -> None:
    argv = [sys.executable, "-m", "itdesk", "list", "--all", "--desk", str(desk.desk)]
    # os.environ, without a $COLUMNS that a library of the test run may have put in the
    # process's own environment
    env = dict(os.environ)
    first = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    assert rows_kept(desk)  # the short path declined; the full command kept the rows
    again = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    assert first.stdout == again.stdout == full(desk)
    assert first.stderr == again.stderr == ""
    env["COLUMNS"] = "80"  # a width to fit: the full command's
    narrow = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    assert narrow.stdout != first.stdout


def _touch(d: Itdesk) -> None:
    path = next((d.desk / "tickets" / "archive" / "2023-11").glob("*.yaml"))
    os.utime(path, (OLD + 60, OLD + 60))


def _edit_in_place(d: Itdesk) -> None:
    """A title changed by hand, same size, the file's times put back: only its inode,
    size and times are compared, so an editor that keeps all three is not seen; this
    one keeps the size and the inode and gives the edit's time."""
    path = next((d.desk / "tickets" / "archive" / "2023-12").glob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    with open(path, "r+", encoding="utf-8") as fh:
        fh.write(text.replace("title: VPN 连不上", "title: VPN 断开了"))
    os.utime(path, (OLD + 120, OLD + 120))


def _remove(d: Itdesk) -> None:
    path = next((d.desk / "tickets").glob("*.yaml"))
    git(d.desk, "rm", "-q", str(path))
    git(d.desk, "commit", "-qm", "removed by hand")


def _add(d: Itdesk) -> None:
    d.new(now="2024-02-19T10:00", title="新的工单 13811112222")
    _age(d.desk)


def _copy_in(d: Itdesk) -> None:
    """A month folder's file copied to another month (a bad merge by hand)."""
    src = next((d.desk / "tickets" / "archive" / "2023-10").glob("*.yaml"))
    shutil.copy2(src, d.desk / "tickets" / "archive" / "2023-11" / src.name)


def _policy(d: Itdesk) -> None:
    """The masking changed: requesters' names are personal data now."""
    path = d.desk / "itdesk.yaml"
    text = path.read_text(encoding="utf-8")
    if "personal:" in text:
        text = text.replace("personal:", "personal:\n  - name\n  # was:", 1)
    else:
        text += "\npersonal: [name, contact, employee_id]\n"
    path.write_text(text, encoding="utf-8")


def _new_month(d: Itdesk) -> None:
    month = d.desk / "tickets" / "archive" / "2024-01"
    month.mkdir()
    src = next((d.desk / "tickets" / "archive" / "2023-12").glob("*.yaml"))
    shutil.move(src, month / src.name)


def _summary_broken(d: Itdesk) -> None:
    (d.desk / ".git" / "itdesk" / "cache" / "rows.tickets-archive-2023-10").write_bytes(b"\0x")


def _summary_gone(d: Itdesk) -> None:
    (d.desk / ".git" / "itdesk" / "cache" / "rows.tickets").unlink()


def _facts_gone(d: Itdesk) -> None:
    (d.desk / ".git" / quicklist.FACTS).unlink()


CHANGES = [_touch, _edit_in_place, _remove, _add, _copy_in, _policy, _new_month,
           _summary_broken, _summary_gone, _facts_gone]  # fmt: skip


@pytest.mark.parametrize("change", CHANGES, ids=lambda f: f.__name__)
def test_every_change_is_seen(desk: Itdesk, capsys, change: Callable[[Itdesk], None]) -> None:
    """After each change the short path prints what the full command prints (the
    folders changed made again, the rest from their rows), or declines: never the rows
    kept before."""
    keep(desk)
    assert short(desk, capsys) is not None
    change(desk)
    served = short(desk, capsys)
    expected = desk("list", "--all")
    assert expected.exit_code == 0
    if served is not None:
        assert served == expected.stdout and expected.stderr == ""
    elif change in (_policy, _facts_gone):  # what the rows were kept for is not known
        keep(desk)
    again = short(desk, capsys)
    if again is not None:  # kept again from the files as they are now
        assert again == expected.stdout


def test_rows_of_a_folder_or_two_are_made_the_rest_read(desk: Itdesk, capsys) -> None:
    """Folders whose files changed since their rows were kept have theirs made (and
    kept); the others' kept rows are read, not made again. Three or more: declined."""
    keep(desk)
    cache = desk.desk / ".git" / "itdesk" / "cache"
    kept = {p.name: p.stat().st_mtime_ns for p in cache.iterdir() if p.name.startswith("rows.")}
    _touch(desk)  # 2023-11
    (desk.desk / "tickets" / "archive" / "2023-12" / "notes.yaml").write_text("x")
    (desk.desk / "tickets" / "archive" / "2023-12" / "notes.yaml").unlink()  # listing the same
    served = short(desk, capsys)
    assert served is not None and served == full(desk)
    after = {p.name: p.stat().st_mtime_ns for p in cache.iterdir() if p.name.startswith("rows.")}
    changed = sorted(name for name in kept if after[name] != kept[name])
    assert changed == ["rows.tickets-archive-2023-11"]  # made again and kept; the rest read
    for month in ("2023-10", "2023-12"):
        path = next((desk.desk / "tickets" / "archive" / month).glob("*.yaml"))
        os.utime(path, (OLD + 90, OLD + 90))
    _touch(desk)
    os.utime(next((desk.desk / "tickets" / "archive" / "2023-11").glob("*.yaml")), (OLD, OLD))
    assert short(desk, capsys) is None  # three folders to make: the full command


def test_an_invalid_file_leaves_it_to_the_full_command(desk: Itdesk, capsys) -> None:
    (desk.desk / "tickets" / "IT-20240201-999.yaml").write_text("id: [\n", encoding="utf-8")
    _age(desk.desk)
    for _ in range(2):
        keep(desk)
        assert short(desk, capsys) is None  # its warning is the full command's, every time
    assert "IT-20240201-999" in desk("list", "--all").stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("--status", "closed"), ("--format", "json"), ("--format", "csv"), ("--reveal",),
        ("--sort", "reported"), ("--reverse",), ("--lang", "fr"), ("--now", "2024-02-20T10:00"),
        ("--as", "zhang"), ("--breached",), ("--all",), ("--desk",), ("-t", "VPN"), ("stray",),
    ],
)  # fmt: skip
def test_other_options_are_the_full_commands(desk: Itdesk, capsys, argv: tuple[str, ...]) -> None:
    keep(desk)
    assert short(desk, capsys, *argv) is None


def test_without_all_it_is_the_full_commands(desk: Itdesk, capsys) -> None:
    keep(desk)
    capsys.readouterr()
    assert quicklist.main(["--desk", str(desk.desk)]) is None


@pytest.mark.parametrize("what", ["terminal", "columns", "journal", "merge", "linked"])
def test_states_it_leaves_to_the_full_command(
    desk: Itdesk, capsys, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    keep(desk)
    if what == "terminal":

        class Terminal(io.StringIO):
            encoding = "utf-8"

            def isatty(self) -> bool:
                return True

        monkeypatch.setattr(sys, "stdout", Terminal())
        assert quicklist.main(["--all", "--desk", str(desk.desk)]) is None
        assert sys.stdout.getvalue() == ""
        return
    if what == "columns":
        monkeypatch.setenv("COLUMNS", "80")
    elif what == "journal":
        (desk.desk / ".git" / "itdesk" / "journal.json").write_text("{}")
    elif what == "merge":
        (desk.desk / ".git" / "MERGE_HEAD").write_text(git(desk.desk, "rev-parse", "HEAD"))
    elif what == "linked":
        (desk.desk / "tickets" / "archive" / "elsewhere").symlink_to(desk.desk / "kb")
    assert short(desk, capsys) is None


def test_a_small_table_is_the_full_commands(make_desk: Callable[..., Itdesk], capsys) -> None:
    d = make_desk()
    d.new(title="one")
    _age(d.desk)
    keep(d)
    assert short(d, capsys) is None  # tabulate's layout, below BIG rows


def test_a_cell_a_terminal_would_act_on_is_the_full_commands() -> None:
    """The model refuses such characters in the columns shown; were one there (a hand
    edit the model took), the rows are kept as not plain and the short path declines."""
    from itdesk.cli import _CONTROL

    for code in _CONTROL:
        if code not in (0x09, 0x0A):
            assert list_._odd(f"a{chr(code)}b"), hex(code)
    for text in ("a\x85b", "a\u2028b", "\u202eevil"):
        assert list_._odd(text)
    for text in ("VPN 连不上 139****5678", "Printer jams", "已关闭", "-", "申请新员工电脑"):
        assert not list_._odd(text)


def test_a_ticket_just_written_leaves_the_rows_to_a_later_run(desk: Itdesk, capsys) -> None:
    """A file modified in the last two seconds is not trusted by its times: its
    folder's rows are made for the table (the other folders' read) but not kept."""
    keep(desk)
    rows = desk.desk / ".git" / "itdesk" / "cache" / "rows.tickets"
    before = rows.read_bytes()
    desk.new(now="2024-02-19T10:00", title="刚写的工单")
    keep(desk)
    assert short(desk, capsys) == full(desk)
    assert "刚写的工单" in full(desk)
    assert rows.read_bytes() == before
    _age(desk.desk)
    assert short(desk, capsys) == full(desk)
    assert rows.read_bytes() != before  # kept now


def test_its_listing_is_the_stores(desk: Itdesk) -> None:
    """The short path lists a folder as store.folders does (the kept rows are compared
    with that listing): the same names, sizes, times and inodes, other files left out."""
    from itdesk.store.folders import list_folder

    tickets = desk.desk / "tickets"
    (tickets / "notes.txt").write_text("x")
    (tickets / "odd.yaml").mkdir()
    folders = [tickets, *sorted(p for p in (tickets / "archive").iterdir())]
    for folder in folders:
        assert quicklist._listing(str(folder)) == list_folder(folder, lambda p: None)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_said_as_the_full_command_says_it(desk: Itdesk, capsys) -> None:
    argv = [sys.executable, "-m", "itdesk", "list", "--all", "--desk", str(desk.desk)]
    env = dict(os.environ)
    subprocess.run(argv, capture_output=True, check=True, env=env)  # rows kept
    assert short(desk, capsys) is not None  # the short path serves the first run below
    said = []
    for extra in ([], ["--sort", "id"]):  # the short path, then the full command
        with open("/dev/full", "w") as full_disk:
            run = subprocess.run([*argv, *extra], stdout=full_disk, stderr=subprocess.PIPE,
                                 text=True, env=env, check=False)  # fmt: skip
        said.append((run.returncode, run.stderr))
    assert said[0] == said[1]
    assert said[0][0] == 3 and said[0][1].count("\n") == 1


def test_without_the_full_commands_maker_a_changed_folder_declines(desk: Itdesk, capsys) -> None:
    """quicklist alone (no layer imported) serves kept rows only; the rows of a changed
    folder come from the maker the entry point gives it."""
    keep(desk)
    _touch(desk)
    capsys.readouterr()
    assert quicklist.main(["--all", "--desk", str(desk.desk)]) is None
    assert capsys.readouterr().out == ""
    assert short(desk, capsys) == full(desk)
