"""What ``itdesk new`` loads: only what recording a report needs (#12).

Each check runs ``new`` in a new interpreter (this test process has imported
everything) and looks at the modules it loaded. How long it takes is measured by
``bench/bench.py``, never here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Itdesk

# Runs `itdesk ARGS` as the installed script does, then prints, as the last line, the
# itdesk modules that were loaded and whether the lazily compiled patterns were built.
SCRIPT = """
import json, runpy, sys
sys.argv = ["itdesk", *json.loads(sys.argv[1])]
try:
    runpy.run_module("itdesk", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
from itdesk.core import kb, lifecycle
built = [f.__name__ for f in (lifecycle._attachment_name, kb._zh_part, kb._symptom_pattern)
         if f.cache_info().currsize]
sys.stdout.flush()
print()
print(json.dumps([sorted(m for m in sys.modules if m.startswith("itdesk.")), built]))
"""

NEW = ["--as", "zhang", "--now", "2023-10-25T09:30", "--title", "Printer jams",
       "--requester", "王小明", "--channel", "chat"]  # fmt: skip


def _new(desk: Path, *more: str) -> tuple[str, str, list[str], list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(["new", "--desk", str(desk), *NEW, *more])],
        capture_output=True, text=True,
    )  # fmt: skip
    output, _, last = proc.stdout.rstrip("\n").rpartition("\n")
    loaded, built = json.loads(last)
    return output, proc.stderr, loaded, built


def test_new_without_an_expected_time_builds_no_calendar(desk: Itdesk) -> None:
    output, _, loaded, built = _new(desk.desk)
    assert output.strip() == "IT-20231025-001"
    assert "itdesk.core.calendar" not in loaded and "itdesk.core.sla" not in loaded
    assert built == []  # no attachment, no knowledge-base article: no pattern compiled


def test_an_expected_time_is_still_checked_against_the_working_hours(desk: Itdesk) -> None:
    """(The warning itself: tests/test_time_order.py, with a business calendar.)"""
    output, _, loaded, _ = _new(desk.desk, "--expected-by", "2023-10-25T23:00")
    assert output.strip() == "IT-20231025-001"
    assert "itdesk.core.calendar" in loaded
