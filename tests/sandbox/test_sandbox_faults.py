"""Fault injection, the request log and the control endpoints, over real HTTP."""
from __future__ import annotations

import time

import httpx
import pytest

from reconciler.sandbox import Sandbox

TOKEN = "test-token"  # (the token the module's sandbox accepts: tests/sandbox/conftest.py)
PRODUCTS = "/orgs/1/products/"


def statuses(api: httpx.Client, n: int, method: str = "GET", path: str = PRODUCTS) -> list[int]:
    return [api.request(method, path).status_code for _ in range(n)]


def test_status_fault_hits_the_next_request_with_retry_after(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 429, "retry_after": 3})
    response = api.get(PRODUCTS)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert "throttled" in response.json()["detail"]
    assert statuses(api, 2) == [200, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_statuses(api: httpx.Client, sb: Sandbox, status: int) -> None:
    sb.inject({"status": status})
    response = api.get(PRODUCTS)
    assert response.status_code == status and "Retry-After" not in response.headers
    assert api.get(PRODUCTS).status_code == 200


def test_count_hits_that_many_requests(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 503, "count": 2})
    assert statuses(api, 3) == [503, 503, 200]


def test_every_nth_hits_every_kth_matching_request(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 500, "every_nth": 3})
    assert statuses(api, 7) == [200, 200, 500, 200, 200, 500, 200]
    sb.clear_faults()
    sb.inject({"status": 500, "every_nth": 2, "count": 1})
    assert statuses(api, 5) == [200, 500, 200, 200, 200]


def test_method_and_path_filters(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 502, "method": "post", "path_contains": "/orgs/2/"})
    assert api.get("/orgs/2/products/").status_code == 200
    assert api.post("/orgs/1/products/", json={"kind": "goods"}).status_code == 201
    assert api.post("/orgs/2/products/", json={"kind": "goods"}).status_code == 502
    assert api.post("/orgs/2/products/", json={"kind": "goods"}).status_code == 201


def test_faults_are_consumed_in_order(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 503})
    sb.inject({"status": 429, "count": 2})
    assert statuses(api, 4) == [503, 429, 429, 200]


def test_before_mode_does_not_act(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 500, "method": "POST"})
    assert api.post(PRODUCTS, json={"kind": "goods", "code": "A"}).status_code == 500
    assert sb.readycloud_products(1) == []


def test_after_mode_acts_then_answers_the_error(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 504, "method": "POST", "mode": "after"})
    response = api.post(PRODUCTS, json={"kind": "goods", "code": "A"})
    assert response.status_code == 504
    assert [p["code"] for p in sb.readycloud_products(1)] == ["A"]
    (entry,) = sb.requests()
    assert entry["status"] == 504 and entry["real_status"] == 201


def test_drop_after_acting_is_a_network_error(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"drop": True, "mode": "after", "method": "POST"})
    with pytest.raises(httpx.TransportError):
        api.post(PRODUCTS, json={"kind": "goods", "code": "lost"})
    assert [p["code"] for p in sb.readycloud_products(1)] == ["lost"]
    assert sb.requests()[-1]["status"] is None
    assert api.get(PRODUCTS).json()["count"] == 1  # the client recovers on a new connection


def test_drop_before_acting(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"drop": True, "method": "POST"})
    with pytest.raises(httpx.TransportError):
        api.post(PRODUCTS, json={"kind": "goods"})
    assert sb.readycloud_products(1) == []


def test_latency_delays_the_answer(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"latency_ms": 150})
    started = time.perf_counter()
    assert api.get(PRODUCTS).status_code == 200
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    sb.inject({"latency_ms": 100, "status": 503})
    assert api.get(PRODUCTS).status_code == 503
    assert time.perf_counter() - started >= 0.1
    started = time.perf_counter()
    api.get(PRODUCTS)
    assert time.perf_counter() - started < 0.1


@pytest.mark.parametrize("fault", [
    {}, {"status": 200}, {"status": 503, "mode": "sideways"}, {"status": 503, "count": 0},
    {"status": 503, "bogus": 1}, {"latency_ms": -1}, {"status": "503"},
])
def test_invalid_faults_are_rejected(sb: Sandbox, fault: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        sb.inject(fault)
    response = httpx.post(f"{sb.url}/_sandbox/faults", json=fault)
    assert response.status_code == 400


def test_cobuilder_paths_answer_faults_as_problem_details(sb: Sandbox) -> None:
    sb.inject({"status": 503, "path_contains": "/products-management/"})
    response = httpx.get(f"{sb.cobuilder_base_url}/products/1/properties/values")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 503


def test_request_log_records_vendor_requests_without_credentials(api: httpx.Client, sb: Sandbox) -> None:
    api.post(PRODUCTS, json={"kind": "goods", "code": "A"})
    api.get(PRODUCTS, params={"limit": 5, "updated_at__gte": "2020-01-01T00:00:00Z"})
    httpx.get(f"{sb.readycloud_base_url}{PRODUCTS}", params={"bearer_token": TOKEN})
    api.get("/orgs/1/products/424242/")
    httpx.get(f"{sb.url}/_sandbox/health")
    log = sb.requests()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/api/v2/orgs/1/products/", 201),
        ("GET", "/api/v2/orgs/1/products/", 200),
        ("GET", "/api/v2/orgs/1/products/", 200),
        ("GET", "/api/v2/orgs/1/products/424242/", 404),
    ]
    assert log[0]["json"] == {"kind": "goods", "code": "A"} and log[1]["json"] is None
    assert log[1]["query"] == {"limit": "5", "updated_at__gte": "2020-01-01T00:00:00Z"}
    assert log[1]["raw_query"] == "limit=5&updated_at__gte=2020-01-01T00%3A00%3A00Z"
    assert log[2]["query"] == {"bearer_token": "[redacted]"}
    assert TOKEN not in repr(log)
    assert all("authorization" not in e["headers"] for e in log)
    assert [e["auth_scheme"] for e in log] == ["Bearer", "Bearer", None, "Bearer"]
    sb.clear_requests()
    assert sb.requests() == []


def test_control_endpoints_over_http(api: httpx.Client, sb: Sandbox) -> None:
    control = httpx.Client(base_url=f"{sb.url}/_sandbox")
    assert control.get("/health").json() == {"status": "ok"}
    assert control.post("/faults", json={"status": 503, "count": 2}).status_code == 201
    assert [f["status"] for f in control.get("/faults").json()] == [503]
    assert control.get("/health").status_code == 200  # control routes are never faulted
    assert api.get(PRODUCTS).status_code == 503
    assert control.delete("/faults").status_code == 204
    assert api.get(PRODUCTS).status_code == 200
    log = control.get("/requests").json()
    assert [e["status"] for e in log] == [503, 200]
    assert control.delete("/requests").status_code == 204
    assert control.get("/requests").json() == []
    seed = {"readycloud": {"orgs": {"4": [{"kind": "goods", "code": "S"}]}},
            "cobuilder": {"products": {"77": {"parentId": 0, "properties": []}}}}
    assert control.post("/seed", json=seed).json() == {
        "seeded": True, "readycloud_products": 1, "cobuilder_products": 1}
    assert control.post("/seed", params={"only_if_empty": "true"}, json=seed).json()["seeded"] is False
    assert [p["code"] for p in sb.readycloud_products(4)] == ["S"]
    assert control.post("/seed", json={"readycloud": {"orgs": {"4": [{"kind": 1}]}}}).status_code == 400
    assert control.delete("/state").status_code == 204
    assert sb.readycloud_products(4) == []
    control.close()


def test_a_fault_can_answer_a_page_or_a_redirect_instead_of_an_error(api: httpx.Client, sb: Sandbox) -> None:
    sb.inject({"status": 200, "body": "<html>Sign in</html>", "method": "GET"})
    sb.inject({"status": 301, "location": "https://www.example.test/moved", "method": "GET"})
    sb.inject({"status": 200, "body": '{"count": 1, "resu', "content_type": "application/json", "method": "GET"})
    page = api.get(PRODUCTS)
    assert (page.status_code, page.headers["content-type"], page.text) == \
        (200, "text/html; charset=utf-8", "<html>Sign in</html>")
    moved = api.get(PRODUCTS)
    assert (moved.status_code, moved.headers["location"], moved.content) == (301, "https://www.example.test/moved", b"")
    cut = api.get(PRODUCTS)
    assert cut.headers["content-type"] == "application/json" and cut.text == '{"count": 1, "resu'
    assert api.get(PRODUCTS).status_code == 200
    assert [r["status"] for r in sb.requests()] == [200, 301, 200, 200]


@pytest.mark.parametrize("spec,message", [
    ({"status": 301}, "status must be an integer >= 400"),          # a redirect needs its location
    ({"status": 200, "body": 7}, "body must be a string"),
    ({"status": 302, "location": ["x"]}, "location must be a string"),
    ({"status": 600, "body": ""}, "status must be an HTTP status"),
])
def test_invalid_answer_faults_are_refused(sb: Sandbox, spec: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        sb.inject(spec)
