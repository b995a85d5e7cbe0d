import threading

import pytest

from reconciler.workers import bounded_map


def test_results_come_in_order_whatever_finishes_first() -> None:
    assert list(bounded_map(lambda n: n * n, range(500), 8, "t")) == [n * n for n in range(500)]


def test_only_a_few_tasks_per_worker_are_submitted_ahead() -> None:
    started = []
    lock = threading.Lock()

    def work(n: int) -> int:
        with lock:
            started.append(n)
        return n

    results = bounded_map(work, range(10_000), 2, "t")
    assert next(results) == 0
    assert len(started) <= 8  # 4 per worker, not all 10,000
    assert sum(results) == sum(range(1, 10_000))


def test_an_exception_stops_the_rest() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        return n

    with pytest.raises(ValueError, match="three"):
        list(bounded_map(work, range(100_000), 2, "t"))


def test_in_background_hands_over_the_result_or_the_exception() -> None:
    from reconciler.workers import in_background
    names: list[str] = []
    ok = in_background(lambda: names.append(threading.current_thread().name) or 42, "worker-x")
    assert ok.result(timeout=5) == 42 and names == ["worker-x"]
    failing = in_background(lambda: 1 / 0, "worker-y")
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)


def test_at_once_runs_in_this_thread_and_hands_over_the_result_or_the_exception() -> None:
    from reconciler.workers import at_once
    names: list[str] = []
    ok = at_once(lambda: names.append(threading.current_thread().name) or 42)
    assert ok.done() and ok.result() == 42 and names == [threading.current_thread().name]
    failing = at_once(lambda: 1 / 0)
    assert failing.done()
    with pytest.raises(ZeroDivisionError):
        failing.result()
