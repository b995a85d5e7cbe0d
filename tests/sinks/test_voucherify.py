"""Voucherify's documented dialect: paced under its per-minute limit by
default, a 429's ``X-Rate-Limit-Retry`` (a unix time) honoured, against a
fake clock and against the sandbox's capture endpoint."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.catalog.model import frozen
from reconciler.catalog.notify import NotifySettings, VoucherifySettings
from reconciler.contracts import notify as nc
from reconciler.errors import ConfigError
from reconciler.http import RetryPolicy
from reconciler.sandbox.capture import sandbox_notify_environ
from reconciler.sinks import Event, deliver
from reconciler.sinks.voucherify import VoucherifySink, rate_limit_retry

Box = Any  # tests/sinks/conftest.py's Box
FAST = RetryPolicy(attempts=3, backoff_initial=0.01, backoff_max=0.05)
ENV = {"VOUCHERIFY_APP_ID": "app-id", "VOUCHERIFY_APP_TOKEN": "vf-token-pacing-1"}
SETTINGS = VoucherifySettings(event="catalog-product-changed", customer=frozen({"source_id": "bot"}))


def ev(code: str) -> Event:
    return Event(str(uuid.uuid4()), "product.updated", 1700000000, code, {"code": code}, ("description",))


class FakeClock:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def send_three(settings: VoucherifySettings, environ: dict[str, str]) -> FakeClock:
    clock = FakeClock()
    ok = httpx.MockTransport(lambda request: httpx.Response(200, json={"object": "event"}))
    with VoucherifySink(settings, environ=environ, transport=ok, retry=FAST, sleep=clock.sleep,
                        clock=clock) as sink:
        for code in ("A", "B", "C"):
            sink.send(ev(code))
    return clock


def test_voucherify_is_paced_by_default() -> None:
    clock = send_three(SETTINGS, ENV)
    interval = 60 / nc.VOUCHERIFY_DEFAULT_MAX_RPM
    assert clock.sleeps == [pytest.approx(interval), pytest.approx(interval)]
    assert 60 / clock.sleeps[0] < nc.VOUCHERIFY_RATE_LIMIT_PER_MINUTE  # under the documented 100 a minute


def test_voucherify_pace_from_the_catalog_and_the_environment() -> None:
    slower = VoucherifySettings(event="e", customer=frozen({"source_id": "bot"}), max_requests_per_minute=30)
    assert send_three(slower, ENV).sleeps == [pytest.approx(2.0)] * 2
    assert send_three(slower, {**ENV, "VOUCHERIFY_MAX_RPM": "120"}).sleeps == [pytest.approx(0.5)] * 2
    assert send_three(SETTINGS, {**ENV, "VOUCHERIFY_MAX_RPM": "0"}).sleeps == []  # 0: unpaced
    with pytest.raises(ConfigError, match="VOUCHERIFY_MAX_RPM must be a number"):
        send_three(SETTINGS, {**ENV, "VOUCHERIFY_MAX_RPM": "fast"})


def test_rate_limit_retry_reads_the_unix_time() -> None:
    def answer(headers: dict[str, str]) -> httpx.Response:
        return httpx.Response(429, headers=headers)

    now = lambda: 1_700_000_000.0  # noqa: E731
    assert rate_limit_retry(answer({"X-Rate-Limit-Retry": "1700000012"}), now) == 12
    assert rate_limit_retry(answer({"X-Rate-Limit-Retry": "1700000012500"}), now) == 12.5  # milliseconds
    assert rate_limit_retry(answer({"X-Rate-Limit-Retry": "1699999999"}), now) == 0  # already past
    assert rate_limit_retry(answer({"Retry-After": "3"}), now) == 3
    assert rate_limit_retry(answer({}), now) is None


def throttle(box: Box, inject: str, retry_after: float) -> None:
    if inject == "capture":  # the capture endpoint's own failure switch
        box.fail("voucherify", count=1, status=429, retry_after=retry_after)
    else:  # the sandbox's fault mechanism, on Voucherify's path
        box.sandbox.inject({"status": 429, "retry_after": retry_after, "path_contains": "/voucherify/", "count": 1})


@pytest.mark.parametrize("inject", ["capture", "fault"])
def test_voucherify_429_waits_until_x_rate_limit_retry(box: Box, tmp_path: Path, inject: str) -> None:
    throttle(box, inject, 30)
    waits: list[float] = []
    settings = NotifySettings(voucherify=SETTINGS)
    report = deliver([ev("A")], settings, environ=sandbox_notify_environ(box.url), outbox_path=tmp_path / "o.json",
                     livemode=False, retry=FAST, sleep=waits.append)
    assert report.ok and report.delivered == 1
    assert len(waits) == 1 and 29 <= waits[0] <= 31 + FAST.backoff_initial  # not the 10 ms backoff
    if inject == "capture":
        refused, accepted = box.captures("voucherify")
        assert (refused["status"], accepted["status"]) == (429, 200)


@pytest.mark.parametrize("inject", ["capture", "fault"])
def test_sandbox_voucherify_429_speaks_voucherify(box: Box, inject: str) -> None:
    throttle(box, inject, 5)
    answer = httpx.post(f"{box.url}/voucherify/v1/events", json={})
    assert answer.status_code == 429 and "Retry-After" not in answer.headers
    assert answer.headers["X-Rate-Limit-Limit"] == "100" and answer.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(answer.headers["X-Rate-Limit-Retry"]) > 1_700_000_000
    assert set(answer.json()) == {"code", "key", "message", "details", "request_id"}
