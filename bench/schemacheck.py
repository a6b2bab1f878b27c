"""The hot-path ticket check: itdesk's own checker (store/schemacheck.py) against
fastjsonschema, compiled at run time (issue #14: measure and choose).

    .venv/bin/pip install fastjsonschema   # not a dependency: only for this measurement
    .venv/bin/python bench/schemacheck.py

Times, in one process, the import, the compile and the check of N tickets (the
project's sample tickets, repeated) with each; see bench/README.md for the result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
N = 2000


def main() -> None:
    schema = json.loads((ROOT / "itdesk" / "schema" / "ticket.schema.json").read_text())
    sample = [
        yaml.safe_load(p.read_text("utf-8")) for p in sorted((ROOT / "tickets").glob("*.yaml"))
    ]
    tickets = (sample * (N // len(sample) + 1))[:N]

    t = time.perf_counter()
    from itdesk.store.schema import check_ticket_data

    check_ticket_data(tickets[0], "warm-up")  # builds the checker
    own_setup = time.perf_counter() - t
    t = time.perf_counter()
    for d in tickets:
        check_ticket_data(d, "bench")
    own = time.perf_counter() - t

    try:
        import fastjsonschema
    except ImportError:
        sys.exit("pip install fastjsonschema first (only this script needs it)")
    t = time.perf_counter()
    validate = fastjsonschema.compile(schema)
    fast_setup = time.perf_counter() - t
    t = time.perf_counter()
    for d in tickets:
        validate(d)
    fast = time.perf_counter() - t
    print(f"{'checker':<16} {'setup ms':>9} {'per ticket ms':>14} {N} tickets ms")
    for name, setup, total in (
        ("itdesk own", own_setup, own),
        ("fastjsonschema", fast_setup, fast),
    ):
        print(f"{name:<16} {setup * 1000:>9.1f} {total * 1000 / N:>14.3f} {total * 1000:>10.0f}")


if __name__ == "__main__":
    main()
