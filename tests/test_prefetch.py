"""The background page fetcher: same items in the same order, errors raised
to the consumer, and a consumer that stops early stops the producer."""
from __future__ import annotations

import threading
import time
from typing import Iterator

import pytest

from reconciler.errors import ProviderError
from reconciler.workers import prefetch


def test_items_arrive_in_order() -> None:
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))


def test_the_producer_runs_ahead_of_the_consumer() -> None:
    produced: list[int] = []

    def pages() -> Iterator[int]:
        for i in range(3):
            produced.append(i)
            yield i

    items = prefetch(pages(), depth=2)
    assert next(items) == 0
    deadline = time.monotonic() + 2
    while len(produced) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert produced == [0, 1, 2]  # fetched while the consumer was still on the first
    assert list(items) == [1, 2]


def test_an_error_in_the_producer_reaches_the_consumer_after_the_items_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        raise ProviderError("readycloud", "boom", 503)

    items = prefetch(pages())
    assert next(items) == 1
    with pytest.raises(ProviderError, match="HTTP 503: boom"):
        next(items)


def test_stopping_early_stops_the_producer() -> None:
    stopped = threading.Event()

    def pages() -> Iterator[int]:
        try:
            for i in range(10_000):
                yield i
        finally:
            stopped.set()

    for item in prefetch(pages(), depth=1):
        if item == 3:
            break
    assert stopped.wait(5)
