"""Cobuilder GET answers are untrusted input: an entry whose ``propertyGuid``
is not a GUID, or whose ``parentId`` is neither a number, a string nor null,
makes that product's values unreadable (a plan error naming what is wrong),
never a request to a path the answer chose. Real HTTP against the sandbox,
whose fault injection plays the odd server."""
from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.sandbox import Sandbox

U = "NoUnitGuid000000000001"
FIRE = "FireResistanceClass001"
PRODUCT = 300
VALUES = f"/products/{PRODUCT}/properties/values"
CATALOG = (f"cobuilder: {{}}\nproducts:\n  - code: P\n    cobuilder:\n      id: {PRODUCT}\n      exclusive: true\n"
           f"      properties:\n        - {{propertyGuid: {FIRE}, unitGuid: {U}, values: [{{value: B}}]}}\n")


def answer_with(box: Sandbox, extra: dict[str, Any]) -> None:
    """The server answers the product's own FIRE value and ``extra``."""
    box.seed_cobuilder(PRODUCT, [{"propertyGuid": FIRE, "unitGuid": U, "values": [{"value": "B"}]}])
    answer = [{"propertyGuid": FIRE, "unitGuid": U, "parentId": 0, "values": [{"value": "B"}]},
              {"unitGuid": U, "values": [{"value": "x"}], **extra}]
    box.inject({"status": 200, "body": json.dumps(answer), "content_type": "application/json", "method": "GET",
                "path_contains": VALUES, "count": None})


def writes(box: Sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in box.requests() if r["method"] != "GET"]


@pytest.mark.parametrize("guid", ["..", ".", "a/b", "%2e%2e", "x" * 23, ""])
def test_a_property_guid_that_is_no_guid_is_never_put_into_a_path(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                   guid: str) -> None:
    """With ``exclusive: true`` an undeclared own property is deleted by a
    DELETE whose path holds its GUID: ``..`` would make that
    ``DELETE /products/300/values`` (httpx resolves dot segments)."""
    answer_with(env, {"propertyGuid": guid, "parentId": 0})
    env.clear_requests()
    result = run("apply", "-c", write_catalog(CATALOG), "--auto-approve")
    assert result.code == 1, result.out + result.err
    assert writes(env) == []
    assert "Traceback" not in result.err
    assert (f"Cobuilder product {PRODUCT}: cannot read property values: cobuilder: unexpected answer for product "
            f"{PRODUCT}: propertyGuid {json.dumps(guid)} is not a GUID") in result.out + result.err


@pytest.mark.parametrize("parent", [True, False, {"id": 0}, [0], 0.5])
def test_a_parent_id_of_another_shape_is_reported_not_guessed(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                               parent: Any) -> None:
    """Documented: ``0`` (own) and the parent's id as a string; null and
    ``"0"`` are taken as own too. A boolean, an object, a list or a fraction
    says neither: the product is not planned (its own values might be deleted,
    or a parent's changed)."""
    answer_with(env, {"propertyGuid": "ObsoleteMarketingText1", "parentId": parent})
    env.clear_requests()
    result = run("apply", "-c", write_catalog(CATALOG), "--auto-approve")
    assert result.code == 1, result.out + result.err
    assert writes(env) == []
    assert (f"unexpected answer for product {PRODUCT}: parentId {json.dumps(parent)} of ObsoleteMarketingText1 is "
            "neither a product id nor 0") in result.out + result.err


@pytest.mark.parametrize("parent, own", [(0, True), ("0", True), (None, True), (" 0 ", True), (0.0, True),
                                         ("111111", False), (111111, False)])
def test_the_parent_id_shapes_that_are_read(env: Sandbox, run, write_catalog, parent: Any, own: bool) -> None:  # type: ignore[no-untyped-def]
    """Own: the undeclared property is deleted (exclusive); inherited: a note, nothing sent."""
    answer_with(env, {"propertyGuid": "ObsoleteMarketingText1", "parentId": parent})
    env.clear_requests()
    result = run("plan", "-c", write_catalog(CATALOG), "--detailed-exitcode")
    assert result.code == (2 if own else 0), result.out + result.err
    assert ("1 to delete" in result.out) == own
