"""ReadyCloud products API of the sandbox, over real HTTP."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from reconciler.vendors.readycloud.contract import READ_ONLY_FIELDS, WRITABLE_FIELDS
from reconciler.sandbox import Sandbox

TOKEN = "test-token"  # (the token the module's sandbox accepts: tests/sandbox/conftest.py)
#: Any non-empty message will do.
ANY_MESSAGE = ["*"]
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def create(api: httpx.Client, org: int = 1, **fields: Any) -> dict[str, Any]:
    response = api.post(f"/orgs/{org}/products/", json={"kind": "goods", **fields})
    assert response.status_code == 201, response.text
    product: dict[str, Any] = response.json()
    return product


# -- auth ---------------------------------------------------------------------------
@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}"])
def test_bearer_header_is_accepted_with_any_scheme_case(sb: Sandbox, header: str) -> None:
    response = httpx.get(f"{sb.readycloud_base_url}/orgs/1/products/", headers={"Authorization": header})
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_bearer_token_query_parameter_is_accepted(sb: Sandbox) -> None:
    response = httpx.get(f"{sb.readycloud_base_url}/orgs/7/products/", params={"bearer_token": TOKEN})
    assert response.status_code == 200


@pytest.mark.parametrize("headers, params", [
    ({}, {}),
    ({"Authorization": "Bearer wrong"}, {}),
    ({"Authorization": f"Token {TOKEN}"}, {}),
    ({}, {"bearer_token": "wrong"}),
])
def test_missing_or_wrong_token_is_401(sb: Sandbox, headers: dict[str, str],
                                       params: dict[str, str]) -> None:
    for method, path in [("GET", "/orgs/1/products/"), ("POST", "/orgs/1/products/"),
                         ("PATCH", "/orgs/1/products/1/"), ("DELETE", "/orgs/1/products/1/")]:
        response = httpx.request(method, sb.readycloud_base_url + path, headers=headers, params=params)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}


# -- representation and normalisation -------------------------------------------------
def test_create_normalises_and_answers_full_representation(api: httpx.Client) -> None:
    product = create(api, code="ES-1", unit_price="88 usd", unit_weight="29.00 g",
                     net_cost_begin_date="2014-10-10T08:49:50+02:00",
                     net_cost_end_date="2014-10-12T06:49:50.250Z", quantity=15, joint_production=True,
                     custom_fields={"xml": {"type": "application/xml", "value": "<custom/>"}})
    assert list(product) == sorted(product)
    assert set(product) == set(WRITABLE_FIELDS) | set(READ_ONLY_FIELDS)
    assert product["unit_price"] == "88.00 USD"
    assert product["unit_weight"] == "29.0000 g"
    assert product["net_cost_begin_date"] == "2014-10-10T06:49:50Z"
    assert product["net_cost_end_date"] == "2014-10-12T06:49:50.250000Z"
    assert product["quantity"] == 15 and product["joint_production"] is True
    assert product["custom_fields"] == {"xml": {"type": "application/xml", "value": "<custom/>"}}
    assert product["description"] is None and product["ean"] is None
    pk = int(product["url"].rstrip("/").rsplit("/", 1)[-1])
    assert product["url"] == f"/api/v2/orgs/1/products/{pk}/"
    assert STAMP.match(product["created_at"]) and product["updated_at"] == product["created_at"]
    assert product["source"] == {"account": None, "channel": None, "id": None, "name": None,
                                 "retrieved_at": product["created_at"],
                                 "updated_at": product["created_at"]}
    assert api.get(f"/orgs/1/products/{pk}/").json() == product


def test_defaults_of_fields_never_set(api: httpx.Client) -> None:
    product = create(api)
    assert product["custom_fields"] == {}
    assert all(product[name] is None for name in WRITABLE_FIELDS if name not in ("kind", "custom_fields"))


@pytest.mark.parametrize("given, stored", [
    ("88 USD", "88.00 USD"), ("88.0 usd", "88.00 USD"), ("15.5 eur", "15.50 EUR"),
    ("-3.10 USD", "-3.10 USD"), ("7.000 USD", "7.00 USD"),
])
def test_unit_price_is_stored_with_two_decimals_and_upper_case_currency(
        api: httpx.Client, given: str, stored: str) -> None:
    assert create(api, unit_price=given)["unit_price"] == stored


@pytest.mark.parametrize("given, stored", [("180 g", "180.0000 g"), ("0.5 kg", "0.5000 kg"),
                                           ("12.25 lb", "12.2500 lb")])
def test_unit_weight_is_stored_with_four_decimals_and_the_unit_kept(
        api: httpx.Client, given: str, stored: str) -> None:
    assert create(api, unit_weight=given)["unit_weight"] == stored


def test_naive_datetime_is_utc(api: httpx.Client) -> None:
    assert create(api, net_cost_begin_date="2020-01-02T03:04:05")["net_cost_begin_date"] == \
        "2020-01-02T03:04:05Z"


def test_unknown_and_read_only_fields_are_ignored(api: httpx.Client) -> None:
    product = create(api, code="A", origin_countr_code="CN", url="/elsewhere/",
                     created_at="2000-01-01T00:00:00Z", source={"name": "x"})
    assert "origin_countr_code" not in product and product["origin_country_code"] is None
    assert product["url"].startswith("/api/v2/orgs/1/products/")
    assert product["created_at"] != "2000-01-01T00:00:00Z" and product["source"]["name"] is None


def test_patch_is_partial_like_the_seed_example(api: httpx.Client) -> None:
    created = create(api, code="1", description="Item Description", unit_price="15.00 USD",
                     origin_country_code="US", quantity=3)
    response = api.patch(created["url"].replace("/api/v2", ""), json={
        "image_link": "http://example.com/goods/img-2.png", "kind": "goods",
        "origin_countr_code": "CN", "quantity": 19, "unit_weight": "180 g"})
    assert response.status_code == 200
    patched = response.json()
    assert patched["origin_country_code"] == "US"
    assert patched["quantity"] == 19 and patched["unit_weight"] == "180.0000 g"
    assert patched["image_link"] == "http://example.com/goods/img-2.png"
    assert patched["description"] == "Item Description" and patched["unit_price"] == "15.00 USD"
    assert patched["created_at"] == created["created_at"]
    assert patched["updated_at"] > created["updated_at"]


def test_patch_custom_fields_replaces_the_whole_object(api: httpx.Client) -> None:
    created = create(api, custom_fields={"a": {"value": "1"}, "b": {"value": "2"}})
    path = created["url"].replace("/api/v2", "")
    patched = api.patch(path, json={"custom_fields": {"b": {"value": "3", "type": "text/plain"}}}).json()
    assert patched["custom_fields"] == {"b": {"type": "text/plain", "value": "3"}}


def test_updated_at_strictly_increases_across_writes(api: httpx.Client) -> None:
    product = create(api)
    path = product["url"].replace("/api/v2", "")
    stamps = [product["updated_at"]] + [api.patch(path, json={"quantity": i}).json()["updated_at"]
                                        for i in range(20)]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_codes_are_not_unique(api: httpx.Client) -> None:
    first, second = create(api, code="SAME"), create(api, code="SAME")
    assert first["url"] != second["url"]
    codes = [p["code"] for p in api.get("/orgs/1/products/").json()["results"]]
    assert codes == ["SAME", "SAME"]


# -- validation ---------------------------------------------------------------------
@pytest.mark.parametrize("body, errors", [
    ({"code": "A"}, {"kind": ["This field is required."]}),
    ({"kind": "shoes"}, {"kind": ['"shoes" is not a valid choice.']}),
    ({"kind": None}, {"kind": ["This field may not be null."]}),
    ({"kind": "goods", "quantity": True}, {"quantity": ["A valid integer is required."]}),
    ({"kind": "goods", "quantity": 1.5}, {"quantity": ["A valid integer is required."]}),
    ({"kind": "goods", "joint_production": "yes"}, {"joint_production": ["Must be a valid boolean."]}),
    ({"kind": "goods", "code": 12}, {"code": ["Not a valid string."]}),
    ({"kind": "goods", "unit_price": "88"}, {"unit_price": ANY_MESSAGE}),
])
def test_field_errors_are_400_and_store_nothing(api: httpx.Client, sb: Sandbox, body: dict[str, Any],
                                                errors: dict[str, list[str]]) -> None:
    response = api.post("/orgs/1/products/", json=body)
    assert response.status_code == 400
    answer = response.json()
    assert set(answer) == set(errors)
    for field, messages in errors.items():
        if messages != ANY_MESSAGE:
            assert answer[field] == messages
        assert all(isinstance(m, str) and m for m in answer[field])
    assert sb.readycloud_products(1) == []


@pytest.mark.parametrize("field, value", [
    ("unit_price", "USD 88"), ("unit_price", "88.001 USD"), ("unit_price", 88),
    ("unit_weight", "heavy"), ("unit_weight", "1.00001 g"),
    ("net_cost_begin_date", "yesterday"), ("net_cost_end_date", 5),
    ("custom_fields", ["a"]), ("custom_fields", {"a": "no value object"}),
    ("custom_fields", {"a": {"type": "text"}}),
])
def test_invalid_values_are_field_errors(api: httpx.Client, field: str, value: Any) -> None:
    response = api.post("/orgs/1/products/", json={"kind": "goods", field: value})
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_patch_validates_and_leaves_the_product_unchanged(api: httpx.Client, sb: Sandbox) -> None:
    created = create(api, quantity=1)
    path = created["url"].replace("/api/v2", "")
    response = api.patch(path, json={"quantity": 2, "kind": "toys", "unit_price": "x"})
    assert response.status_code == 400
    assert set(response.json()) == {"kind", "unit_price"}
    assert api.patch(path, json={"kind": None}).json() == {"kind": ["This field may not be null."]}
    assert sb.readycloud_products(1) == [created]


def test_non_object_body_and_malformed_json(api: httpx.Client) -> None:
    response = api.post("/orgs/1/products/", json=[{"kind": "goods"}])
    assert response.status_code == 400 and "non_field_errors" in response.json()
    response = api.post("/orgs/1/products/", content=b'{"kind": ',
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error"}
    pk = create(api)["url"].rstrip("/").rsplit("/", 1)[-1]
    response = api.patch(f"/orgs/1/products/{pk}/", content=b"nope")
    assert response.status_code == 400 and response.json() == {"detail": "JSON parse error"}


# -- item endpoints -------------------------------------------------------------------
def test_unknown_product_and_other_orgs_product_are_404(api: httpx.Client) -> None:
    pk = create(api, org=1)["url"].rstrip("/").rsplit("/", 1)[-1]
    for path in ["/orgs/1/products/999999/", f"/orgs/2/products/{pk}/"]:
        for method in ("GET", "PATCH", "DELETE"):
            response = api.request(method, path, json={"quantity": 1} if method == "PATCH" else None)
            assert response.status_code == 404
            assert response.json() == {"detail": "Not found."}


def test_delete_answers_204_with_empty_body(api: httpx.Client, sb: Sandbox) -> None:
    keep, gone = create(api, code="keep"), create(api, code="gone")
    response = api.delete(gone["url"].replace("/api/v2", ""))
    assert response.status_code == 204 and response.content == b""
    assert api.get(gone["url"].replace("/api/v2", "")).status_code == 404
    assert sb.readycloud_products(1) == [keep]


# -- listing -------------------------------------------------------------------------
def test_pagination_follows_absolute_next_links(api: httpx.Client, sb: Sandbox) -> None:
    seeded = sb.seed_readycloud(3, [{"kind": "goods", "code": f"P{i:03}"} for i in range(250)])
    first = api.get("/orgs/3/products/").json()
    assert first["count"] == 250 and len(first["results"]) == 100 and first["previous"] is None
    assert first["next"] == f"{sb.readycloud_base_url}/orgs/3/products/?limit=100&offset=100"
    pages, url = [first], first["next"]
    while url:
        page = api.get(url).json()
        pages.append(page)
        url = page["next"]
    assert [len(p["results"]) for p in pages] == [100, 100, 50]
    assert pages[1]["previous"] == f"{sb.readycloud_base_url}/orgs/3/products/?limit=100"
    assert pages[2]["previous"] == f"{sb.readycloud_base_url}/orgs/3/products/?limit=100&offset=100"
    results = [p for page in pages for p in page["results"]]
    assert results == seeded
    pks = [int(p["url"].rstrip("/").rsplit("/", 1)[-1]) for p in results]
    assert pks == sorted(pks)


def test_limit_is_capped_and_offset_honoured(api: httpx.Client, sb: Sandbox) -> None:
    sb.seed_readycloud(1, [{"kind": "goods", "code": f"P{i}"} for i in range(120)])
    page = api.get("/orgs/1/products/", params={"limit": 500}).json()
    assert len(page["results"]) == 100 and "limit=100" in page["next"]
    page = api.get("/orgs/1/products/", params={"limit": 7, "offset": 115}).json()
    assert [p["code"] for p in page["results"]] == ["P115", "P116", "P117", "P118", "P119"]
    assert page["next"] is None and page["previous"].endswith("limit=7&offset=108")
    page = api.get("/orgs/1/products/", params={"limit": "x", "offset": "-3"}).json()
    assert len(page["results"]) == 100 and page["previous"] is None


def test_updated_at_gte_filters_and_next_keeps_the_filter(api: httpx.Client, sb: Sandbox) -> None:
    old = sb.seed_readycloud(1, [{"kind": "goods", "code": f"O{i}"} for i in range(3)])
    recent = sb.seed_readycloud(1, [{"kind": "goods", "code": f"N{i}"} for i in range(5)])
    touched = sb.set_readycloud_product_raw(1, int(old[0]["url"].split("/")[-2]), {"quantity": 9})
    since = recent[0]["updated_at"]
    page = api.get("/orgs/1/products/", params={"updated_at__gte": since, "limit": 2}).json()
    assert page["count"] == 6
    assert page["next"].startswith(sb.readycloud_base_url)
    assert "updated_at__gte=" in page["next"] and "limit=2" in page["next"]
    codes = []
    url: str | None = page["next"]
    codes += [p["code"] for p in page["results"]]
    while url:
        page = api.get(url).json()
        codes += [p["code"] for p in page["results"]]
        url = page["next"]
    assert codes == [touched["code"], "N0", "N1", "N2", "N3", "N4"]


def test_updated_at_gte_accepts_offsets_and_naive_times(api: httpx.Client, sb: Sandbox) -> None:
    (product,) = sb.seed_readycloud(1, [{"kind": "goods"}])
    stamp = datetime.strptime(product["updated_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    before = stamp - timedelta(seconds=1)
    after = stamp + timedelta(seconds=1)
    cases = {
        before.strftime("%Y-%m-%dT%H:%M:%S"): 1,  # naive means UTC
        after.strftime("%Y-%m-%dT%H:%M:%S"): 0,
        before.astimezone(timezone(timedelta(hours=2))).isoformat(): 1,
        after.astimezone(timezone(timedelta(hours=-5))).isoformat(): 0,
        product["updated_at"]: 1,  # greater than or equal
    }
    for value, count in cases.items():
        assert api.get("/orgs/1/products/", params={"updated_at__gte": value}).json()["count"] == count, value


def test_updated_at_gte_rejects_garbage(api: httpx.Client) -> None:
    response = api.get("/orgs/1/products/", params={"updated_at__gte": "last tuesday"})
    assert response.status_code == 400
    assert response.json() == {"updated_at__gte": ["Enter a valid date/time."]}


# -- direct state access ----------------------------------------------------------------
def test_seed_normalises_allows_null_kind_and_drops_unknown_fields(sb: Sandbox) -> None:
    seeded = sb.seed_readycloud(5, [{"code": "A", "kind": None, "unit_price": "1 usd", "bogus": 1},
                                    {"code": "A", "kind": "tax"}])
    assert [p["code"] for p in seeded] == ["A", "A"]
    assert seeded[0]["kind"] is None and seeded[0]["unit_price"] == "1.00 USD" and "bogus" not in seeded[0]
    assert sb.readycloud_products(5) == seeded
    with pytest.raises(ValueError):
        sb.seed_readycloud(5, [{"kind": "nonsense"}])
    assert len(sb.readycloud_products(5)) == 2


def test_raw_edit_bumps_updated_at_and_is_seen_by_the_api(api: httpx.Client, sb: Sandbox) -> None:
    product = create(api, code="A", unit_price="1 USD")
    pk = int(product["url"].split("/")[-2])
    edited = sb.set_readycloud_product_raw(1, pk, {"unit_price": "1.000 USD", "description": "changed"})
    assert edited["updated_at"] > product["updated_at"]
    fetched = api.get(f"/orgs/1/products/{pk}/").json()
    assert fetched == edited and fetched["unit_price"] == "1.000 USD"
    with pytest.raises(ValueError):
        sb.set_readycloud_product_raw(1, pk, {"not_a_field": 1})
    with pytest.raises(KeyError):
        sb.set_readycloud_product_raw(1, 999999, {"code": "x"})
    sb.delete_readycloud_product_raw(1, pk)
    assert api.get(f"/orgs/1/products/{pk}/").status_code == 404
