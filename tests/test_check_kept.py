"""What ``check`` keeps of each ticket between runs (its clock plan, in .git) never
changes its answer: at any later or earlier --now, after a ticket, the SLA policy, a
calendar or its include file changed, with the kept file broken, or a ticket file made
invalid, it prints what it prints with nothing kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml
from conftest import SHANGHAI, Itdesk, git, rewrite_in_place

CALENDARS = """
calendars:
  office:
    timezone: Asia/Shanghai
    hours: {mon-fri: ["09:00-12:00", "13:30-18:00"]}
    include: holidays.yaml
"""


def kept_files(desk: Itdesk) -> list[Path]:
    return sorted((desk.desk / ".git" / "itdesk" / "cache").glob("clocks-each.*"))


def settle(desk: Itdesk) -> None:
    """The ticket files as on a desk in use: modified long enough ago for their stat to
    be trusted (a file changed in the last two seconds is never kept)."""
    then = time.time() - 3600
    for path in (desk.desk / "tickets").glob("*.yaml"):
        os.utime(path, (then, then))


def answer(desk: Itdesk, now: str, *extra: str) -> tuple[int, str, str]:
    result = desk("check", "--now", now, "--all-clocks", "--format", "json", *extra)
    return result.exit_code, result.stdout, result.stderr


def fresh(desk: Itdesk, now: str, *extra: str) -> tuple[int, str, str]:
    """The answer with nothing kept, the tickets' own cache gone too; what was kept is
    put back after it."""
    folder = desk.desk / ".git" / "itdesk" / "cache"
    kept = {path: path.read_bytes() for path in folder.iterdir()}
    for path in kept:
        path.unlink()
    out = answer(desk, now, *extra)
    for path in folder.iterdir():
        path.unlink()
    for path, blob in kept.items():
        path.write_bytes(blob)
    return out


def same(desk: Itdesk, now: str, *extra: str) -> str:
    """check's answer at ``now`` from what is kept, checked against a fresh one."""
    assert kept_files(desk), "nothing kept to answer from"
    got = answer(desk, now, *extra)
    assert got[0] in (0, 1), got
    assert got == fresh(desk, now, *extra)
    return got[1]


@pytest.fixture
def busy(desk: Itdesk) -> Itdesk:
    """Tickets in every open state, on business hours with a holiday from an include
    file, clocks paused while waiting on the requester; their plans kept at 12:00."""
    policy = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    data |= yaml.safe_load(CALENDARS)
    data["sla"]["calendars"] = {"P2": "office", "P3": "office"}
    data["sla"]["pause_on"] = ["pending_user"]
    policy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    (desk.desk / "holidays.yaml").write_text("holidays: ['2023-10-27']\n", "utf-8")
    git(desk.desk, "add", "-A")
    git(desk.desk, "commit", "-qm", "office hours")
    from datetime import datetime

    for start, until in [
        ("2023-10-25T09:00", None),
        ("2023-10-25T09:10", "ack"),
        ("2023-10-25T09:20", "assign"),
        ("2023-10-25T09:30", "accept"),
        ("2023-10-25T09:40", "resolve"),
        ("2023-10-25T09:50", "close"),
    ]:
        tid = desk.new(now=start)
        if until is not None:
            desk.walk(tid, until, start=datetime.fromisoformat(start).replace(tzinfo=SHANGHAI))
    waiting = desk.new(now="2023-10-25T10:00")
    desk.walk(waiting, "accept", start=datetime(2023, 10, 25, 10, 0, tzinfo=SHANGHAI))
    desk.ok("pending", waiting, "--on", "user", "--now", "2023-10-25T10:30")
    settle(desk)
    answer(desk, "2023-10-25T12:00")
    assert kept_files(desk), "check kept nothing"
    return desk


NOWS = [
    "2023-10-25T12:00",
    "2023-10-25T12:01",
    "2023-10-25T13:45",
    "2023-10-26T09:00",
    "2023-10-30T17:59",
    "2024-02-01T08:00",
    "2023-10-25T09:05",  # before the plans were kept, and before most of the steps
    "2023-10-24T08:00",
]


@pytest.mark.parametrize("now", NOWS)
def test_kept_plans_answer_at_any_time_as_the_files_do(busy: Itdesk, now: str) -> None:
    text = same(busy, now)
    assert '"state": "breached"' in text or now < "2023-10-25T12"
    same(busy, now, "--priority", "P3")  # a filter reads what is kept too
    same(busy, now, "--assignee", "wang", "--team", "network,desk")
    same(busy, now, "--text", "printer")  # words of the text: the tickets themselves


def test_the_table_too(busy: Itdesk) -> None:
    table = busy("check", "--now", "2023-10-26T10:00")
    for path in kept_files(busy):
        path.unlink()
    assert busy("check", "--now", "2023-10-26T10:00").stdout == table.stdout
    assert kept_files(busy)


def test_a_changed_ticket_is_planned_again(busy: Itdesk) -> None:
    tid = yaml.safe_load(busy("list", "--format", "json").stdout)[0]["id"]
    before = same(busy, "2023-10-26T10:00")
    busy.ok("ack", tid, "--now", "2023-10-25T12:30")
    settle(busy)
    after = same(busy, "2023-10-26T10:00")
    assert after != before


def test_a_ticket_rewritten_in_place_with_its_time_set_back(busy: Itdesk) -> None:
    """A rewrite that keeps the size, the modification time (set back, as ``touch -r``
    or ``rsync -t`` do) and the inode is still seen: the change time moved."""
    paths = sorted((busy.desk / "tickets").glob("*.yaml"))
    path = next(p for p in paths if "priority: P2" in p.read_text("utf-8"))
    before = same(busy, "2023-10-26T10:00")
    rewrite_in_place(path, "priority: P2", "priority: P1")
    assert same(busy, "2023-10-26T10:00") != before


@pytest.mark.parametrize(
    "change",
    [
        ("itdesk.yaml", "ack: 10m", "ack: 3h"),
        ("itdesk.yaml", "09:00-12:00", "10:00-12:00"),
        ("itdesk.yaml", "at_risk: 0.75", "at_risk: 0.01"),
        ("itdesk.yaml", "pause_on:\n  - pending_user", "pause_on: []"),
        ("holidays.yaml", "2023-10-27", "2023-10-25"),
    ],
    ids=["target", "hours", "at-risk", "pauses", "include-file"],
)
def test_a_changed_policy_or_calendar_plans_again(
    busy: Itdesk, change: tuple[str, str, str]
) -> None:
    name, old, new = change
    before = same(busy, "2023-10-26T11:00")
    path = busy.desk / name
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
    git(busy.desk, "commit", "-qam", "policy")
    assert same(busy, "2023-10-26T11:00") != before


def test_a_broken_kept_file_is_read_again(busy: Itdesk) -> None:
    want = fresh(busy, "2023-10-26T10:00")
    answer(busy, "2023-10-26T10:00")
    for path in kept_files(busy):
        path.write_bytes(path.read_bytes()[:200])
    assert answer(busy, "2023-10-26T10:00") == want
    for path in kept_files(busy):
        path.write_bytes(b"\x00garbage")
    assert answer(busy, "2023-10-26T10:00") == want


def test_a_kept_file_whose_entries_are_broken_is_read_again(busy: Itdesk) -> None:
    """The keys read, the entries not (a cache file cut or garbled inside): every
    ticket is planned again from its file, none dropped."""
    import marshal

    want = fresh(busy, "2023-10-26T10:00")
    answer(busy, "2023-10-26T10:00")
    for path in kept_files(busy):
        version, keys, payload, *salt = marshal.loads(path.read_bytes())
        path.write_bytes(marshal.dumps((version, keys, payload[:50], *salt)))
    assert answer(busy, "2023-10-26T10:00") == want


def test_an_invalid_ticket_is_reported_on_every_run(busy: Itdesk) -> None:
    path = sorted((busy.desk / "tickets").glob("*.yaml"))[1]
    path.write_text(path.read_text("utf-8").replace("status: ", "status: nonsense-"), "utf-8")
    settle(busy)
    for _ in range(2):
        code, out, err = answer(busy, "2023-10-26T10:00")
        assert code == 1
        assert path.name in err
        assert path.stem not in out


def test_what_check_reads_leaves_the_tickets_cache_whole(busy: Itdesk) -> None:
    """check reads through the per-file cache only the tickets changed since its last
    run; the other tickets' entries stay there for the commands that read them all
    (list --all, stats, export), which must not parse the folder again."""
    from itdesk.store.cache import FileCache, stat_key

    busy.ok("list", "--all", "--format", "csv")  # fills the cache of every ticket
    paths = sorted((busy.desk / "tickets").glob("*.yaml"))
    cache_file = busy.desk / ".git" / "itdesk" / "cache" / "tickets"

    def served() -> int:
        cache = FileCache(cache_file)
        return sum(cache.serves(f"tickets/{p.name}", stat_key(p.stat())) for p in paths)

    assert served() == len(paths)
    tid = paths[0].stem
    busy.ok("ack", tid, "--now", "2023-10-25T12:30")
    settle(busy)
    answer(busy, "2023-10-26T10:00")  # reads the one changed ticket
    assert served() == len(paths)
    busy.ok("log", paths[1].stem, "--via", "note", "--as", "zhang", "called back",
            "--now", "2023-10-25T12:31")  # fmt: skip
    answer(busy, "2023-10-26T10:00")  # the file just written is read, not kept
    assert served() == len(paths) - 1


def test_new_official_holidays_plan_again(desk: Itdesk, monkeypatch: pytest.MonkeyPatch) -> None:
    """An update of chinesecalendar (the dates of ``official: CN``) moves due times as
    an edit of itdesk.yaml does: what was kept with the old dates is not used."""
    from datetime import date

    from itdesk.core import official

    policy = desk.desk / "itdesk.yaml"
    data = yaml.safe_load(policy.read_text(encoding="utf-8"))
    data["calendars"] = {"cn": {"timezone": "Asia/Shanghai", "official": "CN"}}
    data["sla"]["calendars"] = {"P3": "cn"}
    policy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    git(desk.desk, "commit", "-qam", "official holidays")
    desk.new(now="2024-10-07T08:00")  # the National Day week's last day off
    settle(desk)
    before = answer(desk, "2024-10-08T12:00")
    assert kept_files(desk)
    real = official.official_dates("CN")
    off, work, last = real
    moved = (off - {date(2024, 10, 7)}, work, last)  # a holiday given back as a workday
    monkeypatch.setattr(official, "official_dates", lambda name: moved)
    after = same(desk, "2024-10-08T12:00")
    assert after != before[1]


def _forge_key(cache_file: Path, rel: str, key: tuple[int, int, int, int]) -> bool:
    """Give ``rel``'s entry in ``cache_file`` the stat ``key``, as a file system whose
    clock is too coarse to tell two writes apart would leave it; whether it kept the
    bytes the entry was made from."""
    import marshal

    version, keys, payload, racy, *salt = marshal.loads(cache_file.read_bytes())
    if rel in racy:  # (key, bytes, data) of a file read within the racy window
        racy[rel] = (key, *racy[rel][1:])
    else:
        keys[rel] = key
    cache_file.write_bytes(marshal.dumps((version, keys, payload, racy, *salt)))
    return rel in racy


def test_a_rewrite_within_the_racy_window_that_keeps_the_stat_is_seen(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read within two seconds of its last write is kept with its bytes: rewritten
    again within the same tick of a coarse clock (same size, same times), it is read
    anew by list, list --all and check, never answered from what was kept."""
    from itdesk.store import cache as cache_module
    from itdesk.store.cache import stat_key

    monkeypatch.setattr(cache_module, "RACY_NS", 10**18)  # racy however slow this machine

    tid = desk.new(now="2023-10-25T09:00", title="printer jam")
    path = desk.desk / "tickets" / f"{tid}.yaml"
    before = answer(desk, "2023-10-25T10:00")
    assert desk("list").stdout.count("printer jam") == 1
    text = path.read_text(encoding="utf-8")
    rel = f"tickets/{path.name}"
    path.write_text(text.replace("printer jam", "printer fan"), encoding="utf-8")  # same size
    cache = desk.desk / ".git" / "itdesk" / "cache"
    key = stat_key(path.stat())
    for name in ("tickets", "list-each.tickets", "clocks-each.tickets"):
        assert _forge_key(cache / name, rel, key), name
    assert "printer fan" in desk("list").stdout
    assert "printer jam" not in desk("list", "--all").stdout
    assert answer(desk, "2023-10-25T10:00") == before  # the clocks: the same ticket
    earlier = text.replace("2023-10-25T09:00:00+08:00", "2023-10-25T08:00:00+08:00")
    assert len(earlier) == len(text) != len(text.replace("T09:00", ""))
    path.write_text(earlier, encoding="utf-8")  # reported an hour earlier: other due times
    for name in ("tickets", "list-each.tickets", "clocks-each.tickets"):
        _forge_key(cache / name, rel, stat_key(path.stat()))
    assert answer(desk, "2023-10-25T10:00") != before
