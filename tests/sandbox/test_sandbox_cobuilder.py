"""Cobuilder token endpoint and property values API of the sandbox, over real HTTP."""
from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.sandbox import Sandbox

TOKEN = "static-token"  # (the token the module's sandbox accepts: tests/sandbox/conftest.py)
CLIENT = {"clientId": "cid", "clientSecret": "csecret", "audienceUrl": "https://api.cobuilder.com"}
PROP_A = "PropertyGuidA000000001"
PROP_B = "PropertyGuidB000000002"
UNIT_MM = "UnitMillimetre00000001"
UNIT_NONE = "UnitNone00000000000001"
IFD = "IfdValueGuid0000000001"
PARENT, CHILD, LONE = 1000000, 1000001, 1000002
VALUE_KEYS = ["value", "operator", "ifdValues", "lowerValue", "lowerOperator", "upperValue",
              "upperOperator", "valueTranslations"]


@pytest.fixture
def sb(sb: Sandbox) -> Sandbox:
    """tests/sandbox/conftest.py's emptied sandbox (accepting ``TOKEN`` and
    the client in ``CLIENT``), seeded with three Cobuilder products."""
    sb.seed_cobuilder(PARENT, [prop(PROP_A, UNIT_NONE, "A1")])
    sb.seed_cobuilder(CHILD, [prop(PROP_B, UNIT_MM, "12.5")], parent_id=PARENT)
    sb.seed_cobuilder(LONE)
    return sb


@pytest.fixture
def api(cobuilder_api: httpx.Client) -> httpx.Client:
    return cobuilder_api


def prop(guid: str, unit: str, *values: str) -> dict[str, Any]:
    return {"propertyGuid": guid, "unitGuid": unit, "values": [{"value": v} for v in values]}


def values_path(product_id: int, action: str = "") -> str:
    return f"/products/{product_id}/properties/values" + (f"/{action}" if action else "")


def own(sb: Sandbox, product_id: int) -> dict[str, list[Any]]:
    return {p["propertyGuid"]: [v["value"] for v in p["values"]]
            for p in sb.cobuilder_values(product_id) if p["parentId"] == 0}


def assert_problem(response: httpx.Response, status: int, *needles: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status and body["instance"] == response.request.url.path
    for needle in needles:
        assert needle in body["detail"], body
    return body


# -- auth ---------------------------------------------------------------------------
def test_token_endpoint_issues_a_bare_string_token_that_works(sb: Sandbox) -> None:
    response = httpx.post(sb.cobuilder_token_url, json=CLIENT)
    assert response.status_code == 200
    token = response.json()
    assert isinstance(token, str) and token.startswith("cb-")
    assert sb.requests()[-1]["json"] == {**CLIENT, "clientSecret": "[redacted]"}
    answer = httpx.get(sb.cobuilder_base_url + values_path(LONE), headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json() == []


@pytest.mark.parametrize("body, status", [
    ({**CLIENT, "clientSecret": "wrong"}, 401),
    ({**CLIENT, "clientId": "other"}, 401),
    ({"clientId": "cid"}, 400),
    (["cid"], 400),
])
def test_token_endpoint_rejects_bad_credentials(sb: Sandbox, body: Any, status: int) -> None:
    assert_problem(httpx.post(sb.cobuilder_token_url, json=body), status)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}])
def test_missing_or_invalid_token_is_401(sb: Sandbox, headers: dict[str, str]) -> None:
    response = httpx.get(sb.cobuilder_base_url + values_path(LONE), headers=headers)
    assert_problem(response, 401)
    response = httpx.post(sb.cobuilder_base_url + values_path(LONE, "create"), headers=headers,
                          json={"properties": [prop(PROP_A, UNIT_NONE, "x")]})
    assert_problem(response, 401)
    assert own(sb, LONE) == {}


def test_expired_tokens_are_rejected_but_the_static_token_still_works(sb: Sandbox) -> None:
    token = httpx.post(sb.cobuilder_token_url, json=CLIENT).json()
    url = sb.cobuilder_base_url + values_path(LONE)
    assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    sb.expire_cobuilder_tokens()
    assert_problem(httpx.get(url, headers={"Authorization": f"Bearer {token}"}), 401, "expired")
    assert httpx.get(url, headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    fresh = httpx.post(sb.cobuilder_token_url, json=CLIENT).json()
    assert httpx.get(url, headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


# -- reading ------------------------------------------------------------------------
def test_get_answers_the_documented_shape_with_every_request_model_key(api: httpx.Client, sb: Sandbox) -> None:
    """The portal guide's GET entries: default titles beside the titles, and
    each value with a ``valueGuid`` and a ``dataType`` beyond the request model."""
    sb.seed_cobuilder(LONE, [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM, "values": [
        {"value": "1", "ifdValues": [{"valueGuid": IFD}], "extra": "dropped"},
        {"lowerValue": "2", "lowerOperator": ">=", "valueTranslations": [{"text": "to"}]},
    ]}])
    response = api.get(values_path(LONE))
    assert response.status_code == 200
    (entry,) = response.json()
    assert entry["propertyGuid"] == PROP_A and entry["unitGuid"] == UNIT_MM and entry["parentId"] == 0
    assert list(entry) == ["propertyGuid", "unitGuid", "propertyTitle", "propertyDefaultTitle", "unitTitle",
                           "unitDefaultTitle", "parentId", "values"]
    assert entry["propertyTitle"] == entry["propertyDefaultTitle"] == f"Property {PROP_A[:6]}"
    assert entry["unitTitle"] == entry["unitDefaultTitle"] == f"Unit {UNIT_MM[:6]}"
    first, second = entry["values"]
    assert list(first) == list(second) == VALUE_KEYS + ["valueGuid", "dataType"]
    assert first["dataType"] == "string" and len(first["valueGuid"]) == 22 != first["valueGuid"] != second["valueGuid"]
    assert first["operator"] is None and first["valueTranslations"] == []
    assert first["ifdValues"] == [{"valueGuid": IFD, "title": f"Value {IFD[:6]}",
                                   "defaultTitle": f"Value {IFD[:6]}"}]
    assert second["value"] is None and second["ifdValues"] == []
    assert second["valueTranslations"] == [{"text": "to", "languageCode": None}]
    assert response.json() == sb.cobuilder_values(LONE)


def test_children_see_parent_values_with_the_parents_id_as_a_string(api: httpx.Client) -> None:
    """Documented: ``parentId`` is ``0`` for own values and the parent's id as a string (``"111111"``)."""
    child = api.get(values_path(CHILD)).json()
    assert [(p["propertyGuid"], p["parentId"]) for p in child] == [(PROP_B, 0), (PROP_A, str(PARENT))]
    assert child[1]["values"][0]["value"] == "A1"
    parent = api.get(values_path(PARENT)).json()
    assert [(p["propertyGuid"], p["parentId"]) for p in parent] == [(PROP_A, 0)]
    assert child[1]["values"][0]["valueGuid"] == parent[0]["values"][0]["valueGuid"]  # (the same value)


def test_unknown_product_is_404(api: httpx.Client) -> None:
    assert_problem(api.get(values_path(42)), 404, "42")
    assert_problem(api.post(values_path(42, "create"), json={"properties": []}), 404)
    assert_problem(api.put(values_path(42, "update"), json={"properties": []}), 404)
    assert_problem(api.delete(f"/products/42/properties/{PROP_A}/values"), 404)


# -- writing ------------------------------------------------------------------------
def test_create_adds_and_appends_values(api: httpx.Client, sb: Sandbox) -> None:
    response = api.post(values_path(LONE, "create"), json={"properties": [prop(PROP_A, UNIT_NONE, "x")]})
    assert response.status_code == 201 and response.content == b""
    response = api.post(values_path(LONE, "create"),
                        json={"properties": [prop(PROP_A, UNIT_NONE, "y"), prop(PROP_B, UNIT_MM, "3")]})
    assert response.status_code == 201
    assert own(sb, LONE) == {PROP_A: ["x", "y"], PROP_B: ["3"]}


def test_create_in_another_unit_than_the_stored_one_conflicts(api: httpx.Client, sb: Sandbox) -> None:
    assert_problem(api.post(values_path(PARENT, "create"),
                            json={"properties": [prop(PROP_A, UNIT_MM, "x")]}), 409, PROP_A)
    assert own(sb, PARENT) == {PROP_A: ["A1"]}


def test_update_replaces_the_values_of_listed_properties(api: httpx.Client, sb: Sandbox) -> None:
    api.post(values_path(LONE, "create"),
             json={"properties": [prop(PROP_A, UNIT_NONE, "x", "y"), prop(PROP_B, UNIT_MM, "1")]})
    response = api.put(values_path(LONE, "update"), json={"properties": [prop(PROP_A, UNIT_MM, "z")]})
    assert response.status_code == 204 and response.content == b""
    assert own(sb, LONE) == {PROP_A: ["z"], PROP_B: ["1"]}
    assert sb.cobuilder_values(LONE)[0]["unitGuid"] == UNIT_MM


def test_delete_removes_one_propertys_values(api: httpx.Client, sb: Sandbox) -> None:
    api.post(values_path(LONE, "create"),
             json={"properties": [prop(PROP_A, UNIT_NONE, "x"), prop(PROP_B, UNIT_MM, "1")]})
    response = api.delete(f"/products/{LONE}/properties/{PROP_A}/values")
    assert response.status_code == 204 and response.content == b""
    assert own(sb, LONE) == {PROP_B: ["1"]}
    assert_problem(api.delete(f"/products/{LONE}/properties/{PROP_A}/values"), 404, PROP_A)


def test_inherited_properties_cannot_be_changed_on_the_child(api: httpx.Client, sb: Sandbox) -> None:
    body = {"properties": [prop(PROP_A, UNIT_NONE, "changed")]}
    assert_problem(api.post(values_path(CHILD, "create"), json=body), 409, PROP_A)
    assert_problem(api.put(values_path(CHILD, "update"), json=body), 409, PROP_A)
    assert_problem(api.delete(f"/products/{CHILD}/properties/{PROP_A}/values"), 409, PROP_A)
    assert own(sb, CHILD) == {PROP_B: ["12.5"]} and own(sb, PARENT) == {PROP_A: ["A1"]}
    # a change on the parent shows on the child
    assert api.put(values_path(PARENT, "update"), json=body).status_code == 204
    inherited = [p for p in sb.cobuilder_values(CHILD) if p["parentId"] == str(PARENT)]
    assert [v["value"] for v in inherited[0]["values"]] == ["changed"]


# -- validation ---------------------------------------------------------------------
LONG = "x" * 2001


@pytest.mark.parametrize("body, path", [
    ({}, "properties"),
    ({"properties": "all"}, "properties"),
    ({"properties": [{"unitGuid": UNIT_MM, "values": []}]}, "properties[0].propertyGuid"),
    ({"properties": [{"propertyGuid": "short", "unitGuid": UNIT_MM, "values": []}]},
     "properties[0].propertyGuid"),
    ({"properties": [{"propertyGuid": "has space in it 000001", "unitGuid": UNIT_MM, "values": []}]},
     "properties[0].propertyGuid"),
    ({"properties": [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM + "x", "values": []}]},
     "properties[0].unitGuid"),
    ({"properties": [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM}]}, "properties[0].values"),
    ({"properties": [prop(PROP_A, UNIT_MM, "ok"), prop(PROP_B, UNIT_MM, LONG)]},
     "properties[1].values[0].value"),
    ({"properties": [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM, "values": [{"upperValue": LONG}]}]},
     "properties[0].values[0].upperValue"),
    ({"properties": [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM, "values": [{"value": 5}]}]},
     "properties[0].values[0].value"),
    ({"properties": [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM,
                      "values": [{"ifdValues": [{"valueGuid": "bad"}]}]}]},
     "properties[0].values[0].ifdValues[0].valueGuid"),
])
def test_schema_violations_are_400_naming_the_path(api: httpx.Client, sb: Sandbox, body: Any,
                                                   path: str) -> None:
    for method, action in (("POST", "create"), ("PUT", "update")):
        response = api.request(method, values_path(LONE, action), json=body)
        problem = assert_problem(response, 400, path)
        assert path in problem["errors"]
    assert own(sb, LONE) == {}


def test_value_of_exactly_2000_characters_and_unknown_keys_are_accepted(api: httpx.Client, sb: Sandbox) -> None:
    body = {"properties": [{"propertyGuid": PROP_A, "unitGuid": UNIT_MM, "note": 1,
                            "values": [{"value": "x" * 2000, "colour": "red"}]}], "extra": True}
    assert api.post(values_path(LONE, "create"), json=body).status_code == 201
    (entry,) = sb.cobuilder_values(LONE)
    assert list(entry["values"][0]) == VALUE_KEYS + ["valueGuid", "dataType"] and len(entry["values"][0]["value"]) == 2000


def test_malformed_json_is_400(api: httpx.Client) -> None:
    response = api.post(values_path(LONE, "create"), content=b"{",
                        headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "JSON")


def test_seed_cobuilder_validates(sb: Sandbox) -> None:
    with pytest.raises(ValueError):
        sb.seed_cobuilder(5, [{"propertyGuid": "bad", "unitGuid": UNIT_MM, "values": []}])
    with pytest.raises(KeyError):
        sb.cobuilder_values(5)
