"""``validate`` by a pool of worker processes says exactly what one process says (#12):
the same problems in the same order, the same count, the same facts for the knowledge
base's check, on a desk with every kind of broken file, archived ones included."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import Itdesk

from itdesk.service import validation
from itdesk.service.kb import TicketsSeen
from itdesk.service.validation import validate_desk
from itdesk.store.desk import Desk


def _broken_desk(desk: Itdesk, outside: Path) -> None:
    """Tickets active and archived in two months, and each kind of file validate reports."""
    ids = [desk.new(now=f"2023-10-25T09:{i:02d}", title=f"ticket {i}") for i in range(8)]
    for tid in ids[:5]:
        desk.walk(tid, "close")
    tickets = desk.desk / "tickets"
    october = tickets / "archive" / "2023-10"
    september = tickets / "archive" / "2023-09"
    october.mkdir(parents=True)
    september.mkdir()
    for tid in ids[:3]:
        shutil.move(tickets / f"{tid}.yaml", october / f"{tid}.yaml")
    # a closed ticket in two places: the archive and the active folder
    shutil.copy(tickets / f"{ids[3]}.yaml", september / f"{ids[3]}.yaml")
    # an open ticket carried into the archive
    shutil.move(tickets / f"{ids[5]}.yaml", september / f"{ids[5]}.yaml")
    # a status the schema refuses, a syntax error, a file named for another ticket
    text = (tickets / f"{ids[6]}.yaml").read_text(encoding="utf-8")
    (tickets / f"{ids[6]}.yaml").write_text(text.replace("status: new", "status: banana"), "utf-8")
    (october / "IT-20231025-099.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    (october / "IT-20231025-098.yaml").write_text(text, encoding="utf-8")
    (september / "IT-20231025-097.yaml").write_bytes(b"title: \xff\xfe\n")
    # a ticket naming an article that does not exist
    kb = (tickets / f"{ids[7]}.yaml").read_text(encoding="utf-8")
    (tickets / f"{ids[7]}.yaml").write_text(kb.replace("kb: []", "kb:\n- no-such-article"), "utf-8")
    # a linked ticket file and a linked archive month, both pointing out of the desk
    outside.mkdir()
    (outside / "IT-20231025-096.yaml").write_text(text, encoding="utf-8")
    os.symlink(outside / "IT-20231025-096.yaml", tickets / "IT-20231025-096.yaml")
    os.symlink(outside, tickets / "archive" / "2023-08")


def _run(root: Path, workers: int) -> tuple[list[str], int, set[str], list[tuple[Path, list[str]]]]:
    seen = TicketsSeen()
    problems, count = validate_desk(Desk(root), seen=seen, workers=workers)
    return problems, count, seen.names, seen.kb


@pytest.mark.parametrize("chunk", [1, 2, 250])
def test_a_pool_finds_what_one_process_finds_in_the_same_order(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    _broken_desk(desk, tmp_path / "outside")
    monkeypatch.setattr(validation, "CHUNK", chunk)
    one = _run(desk.desk, 1)
    problems, count, _, kb = one
    assert count == 14
    assert len(problems) >= 7
    assert any("is also in" in p for p in problems)
    assert any("in the archive" in p for p in problems)
    assert any("symbolic link" in p for p in problems)
    assert kb and kb[0][1] == ["no-such-article"]
    assert _run(desk.desk, 2) == one
    assert _run(desk.desk, 3) == one


def test_the_command_prints_the_same_with_and_without_a_pool(
    desk: Itdesk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _broken_desk(desk, tmp_path / "outside")
    results = {}
    for pool_from in (10**9, 1):
        monkeypatch.setattr(validation, "POOL_FROM", pool_from)
        monkeypatch.setattr(validation, "CHUNK", 3)
        table = desk("validate")
        json = desk("validate", "--format", "json")
        zh = desk("validate", "--lang", "zh")
        results[pool_from] = [(r.exit_code, r.stdout, r.stderr) for r in (table, json, zh)]
    assert results[1] == results[10**9]
    assert results[1][0][0] == 1
    assert "no-such-article" in results[1][0][1]


def test_a_linked_archive_is_reported_by_a_pool_as_by_one_process(
    desk: Itdesk, tmp_path: Path
) -> None:
    desk.new()
    outside = tmp_path / "outside" / "2023-10"
    outside.mkdir(parents=True)
    os.symlink(tmp_path / "outside", desk.desk / "tickets" / "archive")
    one = _run(desk.desk, 1)
    assert one[1] == 2 and "symbolic link" in one[0][0]
    assert _run(desk.desk, 2) == one


def test_a_worker_s_failure_is_raised_as_one_process_raises_it(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        desk.new(now=f"2023-10-25T09:{i:02d}")
    check = validation._check_file

    def failing(d: Desk, path: Path, archived: bool) -> validation._Checked:
        if path.name.endswith("-002.yaml"):
            raise RuntimeError(f"cannot check {path.name}")
        return check(d, path, archived)

    monkeypatch.setattr(validation, "CHUNK", 1)
    monkeypatch.setattr(validation, "_check_file", failing)
    with pytest.raises(RuntimeError, match="cannot check IT-20231025-002.yaml"):
        _run(desk.desk, 2)


def test_a_small_desk_or_one_processor_gets_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    assert validation._pool_size(validation.POOL_FROM - 1, None) == 1
    assert validation._pool_size(3, 2) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert validation._pool_size(100_000, None) == 1
