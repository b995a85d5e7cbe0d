"""Cobuilder refresh reads the declared products concurrently, with a bound."""
import threading
import time

import httpx

from reconciler.providers.cobuilder import CobuilderProvider


def test_refresh_reads_concurrently_but_never_more_than_parallelism_at_once() -> None:
    lock = threading.Lock()
    in_flight, peak, seen = 0, 0, []

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
            seen.append(request.url.path)
        time.sleep(0.02)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json=[])

    with CobuilderProvider("https://cb.test", token="t", transport=httpx.MockTransport(handler),
                           parallelism=3) as provider:
        provider.product_ids = tuple(range(1, 13))
        live = provider.refresh()
    assert live == {i: [] for i in range(1, 13)}
    assert sorted(seen) == sorted(f"/products/{i}/properties/values" for i in range(1, 13))
    assert 1 < peak <= 3
