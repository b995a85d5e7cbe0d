"""Concurrency shared by loading, refreshes and applies: a bounded map over
worker threads, and a background iterator that overlaps a sequential
producer (a listing's pages, a catalog's chunks) with the work on its items."""
from __future__ import annotations

import queue
import sys
import threading
from collections import deque
from contextlib import contextmanager, nullcontext
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


#: The interpreter's thread switch interval while a background reader of the
#: network runs (Python's default is 5 ms; see :func:`responsive_switching`).
RESPONSIVE_SWITCH_INTERVAL = 0.0005
_switching = threading.Lock()
_switching_users = 0  # how many are inside responsive_switching
_switching_saved = 0.0  # the interval to restore when the last one leaves


@contextmanager
def responsive_switching() -> Iterator[None]:
    """Inside, the interpreter offers the GIL to another thread every 0.5 ms
    instead of every 5 ms. A thread reading pages from the network needs the
    GIL for a moment after each answer arrives; with the default it can wait
    up to 5 ms for it each time while the main thread validates a catalog or
    compares products, and the listing, the longest part of a plan, stalls.
    Nestable and thread-safe: the interval is restored when the last user leaves."""
    global _switching_users, _switching_saved
    with _switching:
        if not _switching_users:
            _switching_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(RESPONSIVE_SWITCH_INTERVAL, _switching_saved))
        _switching_users += 1
    try:
        yield
    finally:
        with _switching:
            _switching_users -= 1
            if not _switching_users:
                sys.setswitchinterval(_switching_saved)


_END = object()


class Prefetch(Generic[T]):
    """Iterates ``items`` in a background thread from the moment it is made,
    up to ``depth`` ahead of the consumer (0: no limit). An exception in the
    producer is raised to the consumer; :meth:`close`, or a consumer that
    stops early, stops the producer at its next item. ``responsive``: the
    producer waits on I/O (see :func:`responsive_switching`, in force while
    it runs)."""

    def __init__(self, items: Iterable[T], depth: int = 2, name: str = "prefetch", responsive: bool = False) -> None:
        self._buffer: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._items = items
        self._responsive = responsive
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
        with responsive_switching() if self._responsive else nullcontext():
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
