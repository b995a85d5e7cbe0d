"""Cobuilder refresh reads the declared products concurrently, with a bound."""
import threading
import time

import httpx

from reconciler.vendors.cobuilder.provider import CobuilderProvider


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


def test_the_token_request_uses_reconciler_timeout() -> None:
    import httpx as _httpx

    from reconciler.vendors.cobuilder.catalog import CobuilderSettings
    from reconciler.errors import Location
    from reconciler.vendors.cobuilder.provider import CobuilderProvider
    from reconciler.http import RetryPolicy

    timeouts: dict[str, float] = {}

    def handler(request: _httpx.Request) -> _httpx.Response:
        timeouts[request.url.path] = request.extensions["timeout"]["read"]
        if request.url.path == "/token":
            return _httpx.Response(200, json="a-token")
        return _httpx.Response(200, json=[])

    settings = CobuilderSettings("https://cb.test/api/v3", "https://auth.test/token", "https://aud.test", Location("c"))
    environ = {"COBUILDER_CLIENT_ID": "id", "COBUILDER_CLIENT_SECRET": "secret", "COBUILDER_MAX_RPM": "0",
               "RECONCILER_TRUSTED_HOSTS": "cb.test, auth.test"}
    with CobuilderProvider.from_settings(settings, [1], environ, transport=_httpx.MockTransport(handler),
                                         retry=RetryPolicy(timeout=3.0)) as provider:
        assert provider.read_values(1) == []
    assert timeouts == {"/token": 3.0, "/api/v3/products/1/properties/values": 3.0}
