"""A function mapped over many items by forked worker processes, the results in order.

Why: checking a sheet of 100,000 rows and building its tickets is pure Python, one row
at a time, and a process uses one processor (#12). Workers are forked (they inherit
what the function needs: the desk's policy, the sheet's columns) and only the items and
the results cross between processes. Where a pool cannot help (one processor, few
items) or cannot be made (no fork), the function runs in this process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

POOL_FROM = 1_000  # items: below this, forking the workers costs more than it saves
BATCH = 200  # items sent to a worker at a time

_job: list[Callable[[Any], Any]] = []  # the function the workers of the pool run


def pool_size(count: int, workers: int | None = None, start: int | None = None) -> int:
    """How many workers map over ``count`` items: 1 (none) where a pool cannot help (one
    processor, fewer than ``start`` items: default :data:`POOL_FROM`) or cannot be made
    (no fork); ``workers`` when given; else one per usable processor."""
    import multiprocessing

    from ..store.folders import usable_cpus

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if workers is not None:
        return workers
    if count < (POOL_FROM if start is None else start):
        return 1
    return usable_cpus()


def in_order(
    func: Callable[[T], R], items: Iterable[T], workers: int, batch: int | None = None
) -> Iterator[R]:
    """``func`` of each item, in the items' order: by ``workers`` forked processes, a
    ``batch`` of items each (default :data:`BATCH`), or here when ``workers`` is 1. The
    items are read as the workers take them (never all at once). A batch whose worker
    raised is done again here, so that the exception is raised as one process would
    raise it."""
    if workers <= 1:
        yield from map(func, items)
        return
    import multiprocessing

    sent: deque[list[T]] = deque()
    size = BATCH if batch is None else batch

    def batches() -> Iterator[list[T]]:
        some: list[T] = []
        for item in items:
            some.append(item)
            if len(some) >= size:
                sent.append(some)
                yield some
                some = []
        if some:
            sent.append(some)
            yield some

    import gc

    _job[:] = [func]
    # The workers' collector leaves this process's objects alone: walking them would
    # copy every page of them into each worker (copy-on-write).
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for results in pool.imap(_run, batches()):
                done = sent.popleft()
                yield from results if results is not None else map(func, done)
    finally:
        gc.unfreeze()
        _job.clear()


def _run(batch: list[Any]) -> list[Any] | None:
    """A worker's job: the function of each item of a batch (None if it raised)."""
    try:
        return [_job[0](item) for item in batch]
    except Exception:
        return None
