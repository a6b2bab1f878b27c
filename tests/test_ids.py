"""ids.py: per-day ticket numbers that are never reused, and IDs that are safe as file names."""

from __future__ import annotations

from datetime import date

import pytest

from itdesk.core.ids import allocate_id, check_id, format_id, sequence_of, valid_prefix
from itdesk.errors import UnknownTicket

DAY = date(2023, 10, 25)


def test_the_first_number_of_a_day() -> None:
    assert allocate_id("IT", DAY, []) == "IT-20231025-001"


def test_numbers_follow_the_highest_of_the_day() -> None:
    assert allocate_id("IT", DAY, ["IT-20231025-001", "IT-20231025-002"]) == "IT-20231025-003"


def test_order_of_existing_numbers_does_not_matter() -> None:
    assert allocate_id("IT", DAY, ["IT-20231025-007", "IT-20231025-002"]) == "IT-20231025-008"


def test_gaps_are_not_refilled() -> None:
    # 002 was archived elsewhere or deleted: the next is after the highest, not 002.
    assert allocate_id("IT", DAY, ["IT-20231025-001", "IT-20231025-003"]) == "IT-20231025-004"
    assert allocate_id("IT", DAY, ["IT-20231025-005"]) == "IT-20231025-006"


def test_other_days_and_prefixes_are_ignored() -> None:
    existing = ["IT-20231024-009", "IT-20231026-004", "HR-20231025-012", "ITX-20231025-050"]
    assert allocate_id("IT", DAY, existing) == "IT-20231025-001"


def test_junk_names_are_ignored() -> None:
    assert allocate_id("IT", DAY, ["IT-20231025-abc", "IT-20231025-", "notes"]) == "IT-20231025-001"


def test_beyond_999_the_number_grows_a_digit() -> None:
    assert allocate_id("IT", DAY, ["IT-20231025-999"]) == "IT-20231025-1000"
    assert allocate_id("IT", DAY, ["IT-20231025-999", "IT-20231025-1000"]) == "IT-20231025-1001"


def test_configured_digits() -> None:
    assert allocate_id("IT", DAY, [], digits=4) == "IT-20231025-0001"
    assert allocate_id("OPS", DAY, ["OPS-20231025-0041"], digits=4) == "OPS-20231025-0042"


def test_format_and_sequence() -> None:
    assert format_id("IT", DAY, 7) == "IT-20231025-007"
    assert sequence_of("IT-20231025-007") == 7
    with pytest.raises(UnknownTicket):
        sequence_of("IT-20231025")


@pytest.mark.parametrize("good", ["IT-20231025-001", "IT-20231025-1000", "OPS2-20240101-1"])
def test_check_id_accepts_numbers(good: str) -> None:
    assert check_id(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "../etc/passwd",
        "IT-2023-1",
        "IT-20231025-001/../../x",
        "../IT-20231025-001",
        "tickets/IT-20231025-001",
        "IT-20231025-001.yaml",
        "it-20231025-001",
        "IT-20231025-001 ",
        "IT-20231025-001\n",
        "",
    ],
)
def test_check_id_refuses_anything_else(bad: str) -> None:
    with pytest.raises(UnknownTicket) as info:
        check_id(bad)
    assert "IT-20231025-001" in str(info.value)  # shows the accepted form


def test_valid_prefix() -> None:
    assert valid_prefix("IT") and valid_prefix("OPS2")
    assert not valid_prefix("it") and not valid_prefix("I-T") and not valid_prefix("")
    assert not valid_prefix("../x")
