"""What keeps big desks within bounds, tested on small ones with the thresholds lowered:
a long JSON listing streamed from a spill file, the same data as the short one."""

from __future__ import annotations

import json

import pytest
from conftest import Itdesk


def test_a_long_json_listing_is_the_same_data_one_ticket_a_line(
    desk: Itdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from itdesk.cli import list_

    ids = [desk.new(now=f"2023-10-25T09:{i:02d}", title=f"问题 {i}") for i in range(5)]
    desk.ok("cancel", ids[1], "--reason", "重复", "--now", "2023-10-25T10:00")
    short = desk.ok("list", "--all", "--format", "json").stdout
    assert short.startswith("[\n  {")  # indented
    monkeypatch.setattr(list_, "INDENTED", 2)
    long = desk.ok("list", "--all", "--format", "json").stdout
    assert long.startswith('[\n{"id":') and long.count("\n") == len(ids) + 2
    assert json.loads(long) == json.loads(short)
    assert [t["id"] for t in json.loads(long)] == ids
    assert "王小明" not in long  # masked as the short one is
    reverse = json.loads(desk.ok("list", "--all", "--format", "json", "--reverse").stdout)
    assert [t["id"] for t in reverse] == ids[::-1]
