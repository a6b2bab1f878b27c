"""What is kept of a whole folder of finished tickets (the rows of ``list --all``, the
tallies of ``stats``) is used only while the folder's files are exactly those it was
made from: every change of a file, a policy or a masking is seen on the next read.

Each check compares a read served by the kept summaries with one made from the files
alone (the cache in ``.git`` deleted), after a change of the desk."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Itdesk, git, rewrite_in_place

NOW = "2024-02-20T10:00"
OLD = 1_600_000_000  # files older than the racy window, as on a desk in use


_BUILT: dict[str, Path] = {}


def _build(make_desk: Callable[..., Itdesk]) -> Path:
    """Nine tickets closed over three months and archived, two open ones."""
    d = make_desk()
    titles = ["VPN 连不上", "打印机卡纸 13956785678", "邮箱密码忘记", "WiFi 认证失败"]
    for month, day in (("10", "09"), ("11", "14"), ("12", "11")):
        for i in range(3):
            at = f"2023-{month}-{day}T{10 + i}"
            tid = d.new(now=f"{at}:00", title=titles[i % 4], contact="13956785678")
            d.ok("ack", tid, "--now", f"{at}:05")
            d.ok("classify", tid, "--priority", f"P{1 + i}", "--category", "network",
                 "--now", f"{at}:06")  # fmt: skip
            if i == 2:
                d.ok("cancel", tid, "--reason", "重复", "--now", f"{at}:10")
                continue
            d.ok("assign", tid, "--to", "zhang", "--now", f"{at}:07")
            d.ok("accept", tid, "--as", "zhang", "--now", f"{at}:08")
            d.ok("resolve", tid, "--summary", "重启", "--verified", "--as", "zhang",
                 "--now", f"{at}:30")  # fmt: skip
            rating = ("satisfied", "neutral")[i]
            d.ok("followup", tid, "--speed", rating, "--attitude", "satisfied",
                 "--overall", rating, "--now", f"{at}:35")  # fmt: skip
            d.ok("close", tid, "--now", f"{at}:40")
    for i in range(2):
        d.new(now=f"2024-01-1{i}T09:00", title=titles[3], requester="李四", channel="phone")
    d.ok("archive", "--now", "2024-01-20T09:00")
    months = sorted(p.name for p in (d.desk / "tickets" / "archive").iterdir())
    assert months == ["2023-10", "2023-11", "2023-12"]
    return d.desk


@pytest.fixture
def desk(make_desk: Callable[..., Itdesk], tmp_path: Path) -> Itdesk:
    return copy_of(_BUILT, "desk", lambda: _build(make_desk), tmp_path)


def copy_of(built: dict[str, Path], key: str, build: Callable[[], Path], tmp_path: Path) -> Itdesk:
    """A copy of the desk ``build()`` made once per test run (kept in ``built``), its
    cache deleted and its files aged past the racy window."""
    if key not in built:
        built[key] = build()
    copy = tmp_path / "copy"
    shutil.copytree(built[key], copy, symlinks=True)
    shutil.rmtree(copy / ".git" / "itdesk" / "cache", ignore_errors=True)
    _age(copy)
    return Itdesk(copy)


def _age(root: Path, when: int = OLD) -> None:
    for path in (root / "tickets").rglob("*.yaml"):
        # (a file already that old is left alone: setting a time changes its ctime)
        if not path.is_symlink() and path.stat().st_mtime != when:
            os.utime(path, (when, when))


def _cache(d: Itdesk) -> Path:
    return d.desk / ".git" / "itdesk" / "cache"


def _fresh(d: Itdesk, *argv: str) -> tuple[str, str]:
    """The command's output with nothing kept: read from the files alone."""
    shutil.rmtree(_cache(d), ignore_errors=True)
    result = d(*argv, "--now", NOW)
    return result.stdout, result.stderr


def _kept(d: Itdesk, *argv: str) -> tuple[str, str]:
    """The command's output once its summaries are kept (a first run keeps them)."""
    d(*argv, "--now", NOW)
    result = d(*argv, "--now", NOW)
    return result.stdout, result.stderr


READS = [
    ("list", "--all"),
    ("list", "--all", "--format", "csv"),
    ("list", "--all", "--reveal"),
    ("list", "--all", "--status", "cancelled"),
    ("list", "--all", "--priority", "P1", "--sort", "reported"),
    ("stats", "--format", "json"),
    ("stats", "--month", "2023-11", "--format", "json"),
    ("stats", "--since", "2023-10-09T10:30", "--until", "2023-12-11T11:00", "--format", "json"),
]


def _archived(d: Itdesk, month: str) -> list[Path]:
    return sorted((d.desk / "tickets" / "archive" / month).glob("*.yaml"))


def test_the_summaries_are_kept_and_give_what_the_files_give(desk: Itdesk) -> None:
    for argv in READS:
        kept = _kept(desk, *argv)
        names = {p.name for p in _cache(desk).iterdir()}
        kind = "stats" if argv[0] == "stats" else "list-revealed" if "--reveal" in argv else "list"
        assert {f"{kind}.tickets-archive-2023-{m}" for m in ("10", "11", "12")} <= names, argv
        assert f"{kind}.tickets" not in names  # open tickets: read every time
        assert kept == _fresh(desk, *argv), argv
    listed = _kept(desk, "list", "--all")[0]
    assert "13956785678" not in listed and "139****5678" in listed  # masked as ever
    assert "13956785678" in _kept(desk, "list", "--all", "--reveal")[0]


def test_a_title_edited_by_hand_is_seen(desk: Itdesk) -> None:
    path = _archived(desk, "2023-11")[0]

    def edit() -> None:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("title: VPN 连不上", "title: VPN 断开了"), encoding="utf-8")
        os.utime(path, (OLD + 60, OLD + 60))  # same size, another time: a real edit

    _kept(desk, "list", "--all")
    edit()
    out = _kept(desk, "list", "--all")[0]
    assert "VPN 断开了" in out and out.count("VPN 连不上") == 2
    for argv in READS:
        assert _kept(desk, *argv) == _fresh(desk, *argv), argv


def test_a_title_rewritten_in_place_with_its_time_set_back_is_seen(desk: Itdesk) -> None:
    """The same size, modification time and inode (``touch -r``, ``rsync -t``): the
    change time says the file is not the one kept."""
    path = _archived(desk, "2023-11")[0]
    for argv in READS:
        _kept(desk, *argv)
    rewrite_in_place(path, "title: VPN 连不上", "title: VPN 断开了")
    assert "VPN 断开了" in _kept(desk, "list", "--all")[0]
    for argv in READS:
        assert _kept(desk, *argv) == _fresh(desk, *argv), argv


@pytest.mark.parametrize("change", ["remove", "add", "reopen", "invalid", "link", "policy"])
def test_every_change_of_a_month_is_seen(desk: Itdesk, change: str) -> None:
    for argv in READS:
        _kept(desk, *argv)
    month = _archived(desk, "2023-12")
    if change == "remove":
        month[0].unlink()
    elif change == "add":
        source = _archived(desk, "2023-10")[0]
        shutil.move(source, month[0].parent / source.name)  # a month moved by hand
    elif change == "reopen":  # a hand edit puts an archived ticket back in progress
        text = month[0].read_text(encoding="utf-8")
        month[0].write_text(text.replace("status: closed", "status: in_progress"), "utf-8")
    elif change == "invalid":
        month[0].write_text("id: [unclosed\n", encoding="utf-8")
    elif change == "link":
        outside = desk.desk.parent / "outside.yaml"
        outside.write_text(month[0].read_text(encoding="utf-8"), encoding="utf-8")
        month[0].unlink()
        month[0].symlink_to(outside)
    elif change == "policy":  # the SLA targets change the figures of closed tickets
        policy = desk.desk / "itdesk.yaml"
        text = policy.read_text(encoding="utf-8")
        assert "ack: 10m" in text
        policy.write_text(text.replace("ack: 10m", "ack: 1m", 1), "utf-8")
    if change != "policy":
        _age(desk.desk, OLD + 120)
    for argv in READS:
        kept, fresh = _kept(desk, *argv), _fresh(desk, *argv)
        assert kept == fresh, argv
        if change in ("invalid", "link"):
            assert month[0].name in kept[1], argv  # warned on every read, kept or not
    if change == "policy":
        assert _kept(desk, *READS[5])[0] != _stats_before_policy(desk)


def _stats_before_policy(d: Itdesk) -> str:
    policy = d.desk / "itdesk.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("ack: 1m", "ack: 10m", 1), "utf-8")
    try:
        return _kept(d, *READS[5])[0]
    finally:
        policy.write_text(text, "utf-8")


def test_a_broken_summary_file_is_read_as_none(desk: Itdesk) -> None:
    for argv in READS:
        expected = _kept(desk, *argv)
        for path in _cache(desk).iterdir():
            if path.name.startswith(("list", "stats")):
                path.write_bytes(b"\x00not marshal" if len(path.name) % 2 else b"")
        assert desk(*argv, "--now", NOW).stdout == expected[0], argv


def test_a_month_modified_within_the_racy_window_is_not_kept(desk: Itdesk) -> None:
    import time

    path = _archived(desk, "2023-10")[0]
    now = time.time()
    os.utime(path, (now, now))
    _kept(desk, "list", "--all")
    names = {p.name for p in _cache(desk).iterdir()}
    assert "list.tickets-archive-2023-10" not in names
    assert "list.tickets-archive-2023-11" in names


def test_a_pull_of_changed_tickets_is_seen(desk: Itdesk, tmp_path: Path) -> None:
    """Another clone changes an archived month and the active tickets; a pull brings
    the files in with new times and inodes."""
    bare = tmp_path / "remote.git"
    import subprocess

    subprocess.run(["git", "clone", "-q", "--bare", str(desk.desk), str(bare)], check=True)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(bare), str(other)], check=True)
    git(desk.desk, "remote", "add", "origin", str(bare))
    git(desk.desk, "fetch", "-q", "origin")
    for argv in READS:
        _kept(desk, *argv)
    for path in sorted((other / "tickets" / "archive" / "2023-11").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("重启", "重装驱动"), encoding="utf-8")
    git(other, "-c", "user.name=li", "-c", "user.email=li@example.com", "commit", "-qam", "fix")
    git(other, "push", "-q", "origin", "HEAD")
    git(desk.desk, "pull", "-q", "--ff-only", "origin", "HEAD")
    _age(desk.desk, OLD + 300)
    for argv in READS:
        assert _kept(desk, *argv) == _fresh(desk, *argv), argv


def test_the_first_read_parses_on_every_core_with_the_same_result(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers fill the cache when there is much to parse (lowered here to one file):
    the answer, the warnings and the cache are those of one process."""
    from itdesk.store import folders

    bad = _archived(desk, "2023-11")[0]
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    _age(desk.desk)
    expected = {argv: _fresh(desk, *argv) for argv in READS}
    monkeypatch.setattr(folders, "PARALLEL_FILES", 1)
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: no workers")
    for argv in READS:
        got = _fresh(desk, *argv)
        assert got == expected[argv], argv
        assert got[1].count(bad.name) == 1
        # the workers kept the clean months' summaries; the month with the bad file: none
        kind = "stats" if argv[0] == "stats" else "list-revealed" if "--reveal" in argv else "list"
        names = {p.name for p in _cache(desk).iterdir()}
        assert {f"{kind}.tickets-archive-2023-10", f"{kind}.tickets-archive-2023-12"} <= names
        assert f"{kind}.tickets-archive-2023-11" not in names
    caches = {p.name for p in _cache(desk).iterdir()}
    assert {f"tickets-archive-2023-{m}" for m in ("10", "11", "12")} <= caches
    from itdesk.store.cache import FileCache
    from itdesk.store.desk import Desk

    month = Desk(desk.desk).ticket_folders(include_archive=True)[2]
    assert month.rel == "tickets/archive/2023-11"
    assert month.misses() == 1  # the invalid file: never cached
    assert isinstance(FileCache(_cache(desk) / "tickets-archive-2023-11"), FileCache)


def test_stats_json_is_the_same_with_parts_kept(desk: Itdesk) -> None:
    kept = json.loads(_kept(desk, "stats", "--format", "json")[0])
    assert kept["tickets"]["total"] == 11
    assert kept["tickets"]["cancelled"] == 3


@pytest.mark.parametrize("damage", ["garbage", "empty", "truncated", "payload"])
def test_a_damaged_ticket_cache_is_read_again_from_the_files(desk: Itdesk, damage: str) -> None:
    """The per-file cache of a folder damaged in any way (a crash, a full disk, a hand)
    is never an answer: the files are read again, and the cache is written anew."""
    import marshal

    from itdesk.store.cache import CACHE_VERSION

    expected = {argv: _kept(desk, *argv) for argv in READS}
    for path in _cache(desk).iterdir():
        if path.name.startswith(("list", "stats")):
            path.unlink()  # the summaries gone: the tickets' cache must answer
    for path in _cache(desk).iterdir():
        blob = path.read_bytes()
        if damage == "garbage":
            path.write_bytes(b"\x07" * len(blob))
        elif damage == "empty":
            path.write_bytes(b"")
        elif damage == "truncated":
            path.write_bytes(blob[: len(blob) // 2])
        else:  # the keys intact, the tickets' blob broken
            version, keys, payload, racy = marshal.loads(blob)
            assert version == CACHE_VERSION and keys
            path.write_bytes(marshal.dumps((version, keys, payload[: len(payload) // 3], racy)))
    for argv in READS:
        assert desk(*argv, "--now", NOW).stdout == expected[argv][0], argv
    assert desk("list", "--all", "--now", NOW).stdout == expected[READS[0]][0]


# The open tickets' list: each active ticket's row kept by itself (list-each.tickets)
ACTIVE_READS = [
    ("list",),
    ("list", "--format", "csv"),
    ("list", "--reveal"),
    ("list", "--status", "acknowledged", "--sort", "reported", "--reverse"),
    ("list", "--assignee", "zhang"),
    ("list", "--text", "李四"),
]


@pytest.mark.parametrize("change", ["none", "ack", "hand-edit", "invalid", "remove", "policy"])
def test_every_change_of_an_active_ticket_is_seen(desk: Itdesk, change: str) -> None:
    active = sorted((desk.desk / "tickets").glob("*.yaml"))
    text = active[0].read_text(encoding="utf-8")
    active[0].write_text(text.replace("title: WiFi", "title: 李四 WiFi"), "utf-8")
    git(desk.desk, "commit", "-qam", "the requester's name in a title")
    _age(desk.desk)
    for argv in ACTIVE_READS:
        _kept(desk, *argv)
    assert {"list-each.tickets", "list-revealed-each.tickets"} <= {
        p.name for p in _cache(desk).iterdir()
    }
    if change == "ack":
        desk.ok("ack", active[0].stem, "--now", NOW)
        desk.ok("assign", active[0].stem, "--to", "zhang", "--now", NOW)
    elif change == "hand-edit":
        text = active[1].read_text(encoding="utf-8")
        active[1].write_text(text.replace("WiFi 认证失败", "WiFi 又断了 13956785678"), "utf-8")
    elif change == "invalid":
        active[1].write_text("id: [unclosed\n", encoding="utf-8")
    elif change == "remove":
        active[1].unlink()
    elif change == "policy":  # another masking
        policy = desk.desk / "itdesk.yaml"
        text = policy.read_text(encoding="utf-8")
        assert "  - name\n" in text
        policy.write_text(text.replace("  - name\n", "", 1), "utf-8")
    if change != "policy":  # (aging the files would make every row new anyway)
        _age(desk.desk, OLD + 120)
    for argv in ACTIVE_READS:
        kept, fresh = _kept(desk, *argv), _fresh(desk, *argv)
        assert kept == fresh, argv
        if change == "invalid":
            assert active[1].name in kept[1], argv  # warned on every read
    shown = _kept(desk, "list")[0]
    if change == "hand-edit":
        assert "WiFi 又断了 139****5678" in shown
    assert ("李四 WiFi" in shown) == (change == "policy"), shown
