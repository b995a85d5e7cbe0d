"""ReadyCloud ``next`` links: absolute or root-relative, resolved against the
API's origin; a link to another origin or down to http is refused before the
token goes there. Answers that are not JSON are errors, not crashes."""
from __future__ import annotations

from typing import Callable

import httpx
import pytest

from reconciler.errors import ProviderError
from reconciler.http import RetryPolicy
from reconciler.vendors.readycloud.provider import ReadyCloudProvider

BASE = "https://www.readycloud.com/api/v2"
TOKEN = "rc-links-token-5150"


def provider(handler: Callable[[httpx.Request], httpx.Response], seen: list[httpx.Request]) -> ReadyCloudProvider:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)
    return ReadyCloudProvider(1, BASE, TOKEN, transport=httpx.MockTransport(record),
                              retry=RetryPolicy(attempts=1))


def product(pk: int) -> dict[str, object]:
    return {"url": f"/api/v2/orgs/1/products/{pk}/", "code": f"P{pk}", "kind": "goods"}


def two_pages(next_link: str) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if "offset" in request.url.params:
            return httpx.Response(200, json={"count": 2, "next": None, "results": [product(2)]})
        return httpx.Response(200, json={"count": 2, "next": next_link, "results": [product(1)]})
    return handler


@pytest.mark.parametrize("link", [
    "/api/v2/orgs/1/products/?limit=1&offset=1",                                  # root-relative
    "https://www.readycloud.com/api/v2/orgs/1/products/?limit=1&offset=1",        # absolute
    "https://www.readycloud.com:443/api/v2/orgs/1/products/?limit=1&offset=1",    # absolute, default port spelt out
])
def test_next_links_are_resolved_against_the_origin(link: str) -> None:
    seen: list[httpx.Request] = []
    with provider(two_pages(link), seen) as rc:
        codes = [p["code"] for p in rc.iter_products()]
    assert codes == ["P1", "P2"]
    assert str(seen[1].url) == "https://www.readycloud.com/api/v2/orgs/1/products/?limit=1&offset=1"
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in seen)


@pytest.mark.parametrize("link", [
    "https://attacker.example/api/v2/orgs/1/products/?offset=1",   # another host
    "//attacker.example/api/v2/orgs/1/products/?offset=1",         # scheme-relative, another host
    "http://www.readycloud.com/api/v2/orgs/1/products/?offset=1",  # a downgrade to http
    "https://www.readycloud.com:8443/api/v2/orgs/1/products/?offset=1",  # another port
])
def test_next_links_off_the_origin_are_refused_before_any_request(link: str) -> None:
    seen: list[httpx.Request] = []
    with provider(two_pages(link), seen) as rc, pytest.raises(ProviderError) as info:
        list(rc.iter_products())
    assert len(seen) == 1  # only the first page: nothing went to the link
    assert "not followed" in str(info.value) and TOKEN not in str(info.value)


@pytest.mark.parametrize("answer,expected", [
    (httpx.Response(200, text="<html><body>Log in</body></html>", headers={"Content-Type": "text/html"}),
     "listing products: the answer is not JSON (text/html"),
    (httpx.Response(200, content=b'{"count": 2, "next": null, "resu', headers={"Content-Type": "application/json"}),
     "listing products: the answer is not JSON (application/json"),
    (httpx.Response(200, json={"count": 1, "next": None, "results": ["not a product"]}), "unexpected list answer"),
    (httpx.Response(302, headers={"Location": "https://www.readycloud.com/api/v2/orgs/1/products/"}),
     "HTTP 302: redirected to 'https://www.readycloud.com/api/v2/orgs/1/products/'"),
])
def test_a_listing_answered_otherwise_than_the_contract_is_a_provider_error(answer: httpx.Response,
                                                                             expected: str) -> None:
    with provider(lambda request: answer, []) as rc, pytest.raises(ProviderError) as info:
        rc.refresh()
    assert expected in str(info.value)


def test_a_redirect_to_www_says_where_the_api_answers() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://www.readycloud.com" + request.url.raw_path.decode()})

    rc = ReadyCloudProvider(1, "https://readycloud.com/api/v2", TOKEN, retry=RetryPolicy(attempts=1),
                            transport=httpx.MockTransport(lambda r: seen.append(r) or handler(r)))
    with rc, pytest.raises(ProviderError) as info:
        rc.total_count()
    assert len(seen) == 1  # not followed
    assert "the API answers at https://www.readycloud.com, not readycloud.com" in str(info.value)
