"""ReadyCloud's documented rate limits (API reference v2, "Rate limiting"):
30 GETs and 30 writes a minute counted over a sliding window (DRF throttles),
429 past them, back off 1, 2, 4 ... 128 s. The client paces with a margin, so a
sandbox limiting as the docs say never answers it 429."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.catalog.load import load_catalog
from reconciler.errors import TransientError
from reconciler.http import Requester, RetryPolicy, build_client
from reconciler.pacing import Limits
from reconciler.sandbox import Sandbox
from reconciler.vendors.readycloud import contract as rc
from reconciler.vendors.readycloud.catalog import settings_of
from reconciler.vendors.readycloud.provider import ReadyCloudProvider
from reconciler.vendors.readycloud.sandbox import rate_limit_faults

TOKEN = "rc-rate-token-3030"
WINDOW = 2.0  # a "minute" of 2 s: the documented 30 per window, 30 times faster


def test_sandbox_limits_over_a_sliding_window(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "s.sqlite3", token=TOKEN) as box:
        for fault in rate_limit_faults(window_s=60.0):
            box.inject(fault)
        with httpx.Client(base_url=box.readycloud_base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            statuses = [api.get("/orgs/1/products/").status_code for _ in range(31)]
            write = api.post("/orgs/1/products/", json={"code": "W", "kind": "goods"})  # (writes count apart)
            refused = api.get("/orgs/1/products/")
    assert statuses == [200] * 30 + [429]
    assert write.status_code == 201
    assert refused.status_code == 429 and 0 < float(refused.headers["Retry-After"]) <= 60


def test_paced_at_the_default_margin_no_write_meets_a_429(tmp_path: Path) -> None:
    scale = 60.0 / WINDOW
    limits = Limits(rc.DEFAULT_READS_PER_MINUTE * scale, rc.DEFAULT_WRITES_PER_MINUTE * scale)
    with Sandbox(tmp_path / "s.sqlite3", token=TOKEN) as box:
        for fault in rate_limit_faults(window_s=WINDOW):
            box.inject(fault)
        provider = ReadyCloudProvider(1, box.readycloud_base_url, TOKEN, limits=limits,
                                      retry=RetryPolicy(attempts=1))  # (a 429 would fail the create)
        try:
            for i in range(40):
                provider.create(f"P{i}", {"code": f"P{i}", "kind": "goods"})
        finally:
            provider.close()
        statuses = [entry["status"] for entry in box.requests()]
    assert len(statuses) == 40 and set(statuses) == {201}


def test_default_pacing_keeps_a_margin_below_the_documented_limit(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text("readycloud: {org: 1}\nproducts: []\n")
    settings = settings_of(load_catalog(path, environ={}))
    assert settings is not None
    assert settings.max_writes_per_minute == pytest.approx(27.0)  # 90 % of the documented 30
    assert settings.max_reads_per_minute == pytest.approx(27.0)


def test_a_429_without_retry_after_follows_the_documented_schedule() -> None:
    waits: list[float] = []
    client = build_client("https://api.test", {}, transport=httpx.MockTransport(
        lambda request: httpx.Response(429, json={"detail": "Request was throttled."})))
    policy = RetryPolicy(attempts=10).throttled(rc.THROTTLE_BACKOFF_INITIAL, rc.THROTTLE_BACKOFF_MAX)
    with pytest.raises(TransientError):
        Requester("readycloud", client, policy, waits.append).send("GET", "/x")
    steps = [1, 2, 4, 8, 16, 32, 64, 128, 128]
    assert len(waits) == len(steps)
    assert all(step <= wait <= step * 1.25 for step, wait in zip(steps, waits))


def test_the_provider_backs_off_as_documented_unless_told_otherwise() -> None:
    provider = ReadyCloudProvider(1, "https://www.readycloud.com/api/v2", TOKEN)
    assert provider.http.retry.throttle_initial == 1.0 and provider.http.retry.throttle_max == 128.0
    provider.close()
    tuned = RetryPolicy.from_env({"RECONCILER_RETRY_BACKOFF": "0.01"})
    provider = ReadyCloudProvider(1, "https://www.readycloud.com/api/v2", TOKEN, retry=tuned)
    assert provider.http.retry.throttle_initial == 0.01  # (tests and impatient users)
    provider.close()
