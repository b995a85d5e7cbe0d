"""Bounded concurrency shared by refreshes and applies."""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int, prefix: str) -> Iterator[R]:
    """``fn`` over ``items`` on ``workers`` threads, results in order, like
    ``Executor.map`` but with only a few tasks per worker submitted ahead:
    ``Executor.map`` submits every item at once, and 100,000 pending futures
    hold more memory than the results they stand for."""
    workers = max(1, workers)
    window = 4 * workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=prefix) as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                if len(pending) >= window:
                    yield pending.popleft().result()
                pending.append(pool.submit(fn, item))
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:  # stopped early (an exception): do not start the rest
                future.cancel()
