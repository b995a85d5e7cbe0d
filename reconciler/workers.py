"""Concurrency shared by loading, refreshes and applies: a bounded map over
worker threads, and a background iterator that overlaps a sequential
producer (a listing's pages, a catalog's chunks) with the work on its items."""
from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Generic, Iterable, Iterator, TypeVar

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


def in_background(fn: Callable[[], R], name: str) -> "Future[R]":
    """``fn()`` begun at once in a thread of its own; its result (or exception) in the future."""
    future: Future[R] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - the future's owner raises it
                future.set_exception(exc)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


def at_once(fn: Callable[[], R]) -> "Future[R]":
    """``fn()`` run now, in this thread; its result (or exception) in a done
    future: for a caller that takes either this or :func:`in_background`."""
    future: Future[R] = Future()
    future.set_running_or_notify_cancel()
    try:
        future.set_result(fn())
    except BaseException as exc:  # noqa: BLE001 - the future's owner raises it
        future.set_exception(exc)
    return future


_END = object()


class Prefetch(Generic[T]):
    """Iterates ``items`` in a background thread from the moment it is made,
    up to ``depth`` ahead of the consumer (0: no limit). An exception in the
    producer is raised to the consumer; :meth:`close`, or a consumer that
    stops early, stops the producer at its next item."""

    def __init__(self, items: Iterable[T], depth: int = 2, name: str = "prefetch") -> None:
        self._buffer: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items = items
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)
        self._thread.start()

    def _put(self, entry: tuple[bool, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._buffer.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            for item in self._items:
                if not self._put((True, item)):
                    return
            self._put((True, _END))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, who raises it
            self._put((False, exc))

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                ok, item = self._buffer.get()
                if not ok:
                    assert isinstance(item, BaseException)
                    raise item
                if item is _END:
                    return
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def prefetch(items: Iterable[T], depth: int = 2) -> Iterator[T]:
    """``items``, fetched in the background up to ``depth`` ahead (see :class:`Prefetch`)."""
    return iter(Prefetch(items, depth))
