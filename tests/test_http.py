import json

import httpx
import pytest

from reconciler.errors import AuthError, ProviderError, TransientError
from reconciler.http import AmbiguousWriteError, Requester, RetryPolicy, build_client, tls_context


def requester(handler, attempts: int = 4):  # type: ignore[no-untyped-def]
    waits: list[float] = []
    client = build_client("https://api.test", {"Authorization": "Bearer s3cret"},
                          transport=httpx.MockTransport(handler))
    return Requester("vendor", client, RetryPolicy(attempts=attempts, backoff_initial=0.01), waits.append), waits


def test_429_honours_retry_after_then_succeeds() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}, json={"detail": "slow down"}),
                    httpx.Response(200, json={"ok": True})])
    http, waits = requester(lambda request: next(answers))
    assert http.send("GET", "/x").json() == {"ok": True}
    assert len(waits) == 1 and 7.0 <= waits[0] <= 7.0 + 0.01 / 4  # (plus a little jitter)


def test_5xx_on_get_backs_off_exponentially_up_to_budget() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, json={"detail": "down"})

    http, waits = requester(handler, attempts=4)
    with pytest.raises(TransientError) as info:
        http.send("GET", "/x")
    assert len(calls) == 4 and len(waits) == 3
    assert waits[0] <= 0.01 and waits[2] <= 0.04
    assert "HTTP 503: down" in str(info.value)


def test_post_5xx_is_not_retried_blindly() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, text="boom")

    http, _ = requester(handler)
    with pytest.raises(AmbiguousWriteError):
        http.send("POST", "/x", json={"a": 1})
    assert len(calls) == 1


def test_post_429_is_retried() -> None:
    answers = iter([httpx.Response(429), httpx.Response(201, json={"id": 1})])
    http, waits = requester(lambda request: next(answers))
    assert http.send("POST", "/x", json={}).status_code == 201 and len(waits) == 1


def test_401_is_auth_error_with_vendor_message_and_no_token() -> None:
    http, _ = requester(lambda request: httpx.Response(401, json={"detail": "Invalid token."}))
    with pytest.raises(AuthError) as info:
        http.send("GET", "/x")
    assert str(info.value) == "vendor: HTTP 401: Invalid token."
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize("body,expected", [
    ({"kind": ["This field is required."], "quantity": ["A valid integer is required."]},
     "kind: This field is required., quantity: A valid integer is required."),
    ({"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "bad guid"}, "Bad Request: bad guid"),
])
def test_400_vendor_messages(body: dict, expected: str) -> None:  # type: ignore[type-arg]
    http, _ = requester(lambda request: httpx.Response(400, content=json.dumps(body)))
    with pytest.raises(ProviderError) as info:
        http.send("PATCH", "/x", json={})
    assert str(info.value) == f"vendor: HTTP 400: {expected}"


def test_token_sent_as_header_not_in_url() -> None:
    seen = []
    http, _ = requester(lambda request: seen.append(request) or httpx.Response(200, json={}))
    http.send("GET", "/x", params={"limit": 100})
    assert seen[0].headers["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in str(seen[0].url)


def test_every_client_shares_one_verifying_tls_context() -> None:
    import ssl

    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    with build_client("https://a.example", {}) as one, build_client("https://b.example", {}) as two:
        assert one._transport._pool._ssl_context is two._transport._pool._ssl_context is context  # type: ignore[attr-defined]


def test_an_unreadable_ssl_cert_file_is_a_configuration_error(env, run, write_catalog,  # type: ignore[no-untyped-def]
                                                              monkeypatch, tmp_path) -> None:
    """SSL_CERT_FILE naming no file: a message naming it, not an internal error."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    tls_context.cache_clear()  # (made once per process: made again here, and after)
    try:
        result = run("plan", "-c", write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: A, kind: goods}\n"))
    finally:
        tls_context.cache_clear()
    assert result.code != 0 and "SSL_CERT_FILE" in result.err and "missing.pem" in result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
