import threading

import pytest

from reconciler.errors import ConfigError
from reconciler.pacing import Limits, Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_calls_are_spaced_to_stay_under_the_limit() -> None:
    clock = FakeClock()
    pacer = Pacer(30, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(61):
        pacer.wait()
        starts.append(clock.now)
    assert starts[0] == 100.0 and starts[1] - starts[0] == pytest.approx(2.0)
    for i in range(len(starts)):  # never more than 30 starts in any 60-second window
        assert sum(1 for t in starts if starts[i] <= t < starts[i] + 60) <= 30


def test_unpaced_never_waits_and_eta() -> None:
    assert Pacer(None).wait() == 0.0 and Pacer(0).eta(100) == 0.0
    assert Pacer(30).eta(500) == pytest.approx(1000.0)


def test_concurrent_callers_get_distinct_slots() -> None:
    clock = FakeClock()
    pacer = Pacer(60, clock=lambda: 0.0, sleep=lambda s: None)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.append(pacer.wait())) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits) == [float(i) for i in range(10)]
    del clock


def test_environment_overrides_limits() -> None:
    base = Limits(30, 30)
    assert base.resolve({}, "READYCLOUD_MAX_RPM") == base
    assert base.resolve({"READYCLOUD_MAX_RPM": "0"}, "READYCLOUD_MAX_RPM") == Limits(None, None)
    assert base.resolve({"READYCLOUD_MAX_RPM": "120"}, "READYCLOUD_MAX_RPM") == Limits(120, 120)
    with pytest.raises(ConfigError):
        base.resolve({"READYCLOUD_MAX_RPM": "fast"}, "READYCLOUD_MAX_RPM")
