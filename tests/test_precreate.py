"""Right before creating, apply checks (one ``updated_at__gte`` listing since
the plan) that none of the codes it is about to create appeared meanwhile, and
skips those (issue 12 item 3). Real HTTP against the sandbox."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from reconciler import engine
from reconciler.sandbox import Sandbox

CATALOG = ("readycloud: {org: 1}\nproducts:\n"
           + "".join(f"  - {{code: NEW{i}, kind: goods, quantity: 3}}\n" for i in range(5)))


@pytest.fixture
def created_behind_our_back(env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between apply's plan and its first create, someone else creates NEW1
    (with other values than the catalog's); the request log then starts afresh."""
    real = engine.refresh_and_plan

    def plan_then_someone_creates(*args: Any, **kwargs: Any) -> Any:
        plan = real(*args, **kwargs)
        env.seed_readycloud(1, [{"code": "NEW1", "kind": "goods", "quantity": 99}])
        env.clear_requests()
        return plan

    monkeypatch.setattr(engine, "refresh_and_plan", plan_then_someone_creates)


def since_listings(box: Sandbox) -> int:
    return len([r for r in box.requests() if r["method"] == "GET" and "updated_at__gte" in r["query"]])


def test_product_created_between_plan_and_create_is_skipped(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                            created_behind_our_back) -> None:
    env.seed_readycloud(1, [{"code": "OTHER", "kind": "goods"}])  # (not managed by the catalog)
    catalog = write_catalog(CATALOG)
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.out + result.err  # not a failure of the tool; the summary says it
    assert "skipped: create NEW1: appeared in ReadyCloud since the plan" in result.out
    assert "Apply complete: 4 succeeded, 0 failed, 1 skipped." in result.out
    assert "1 product(s) to create appeared in ReadyCloud since the plan" in result.out
    products = env.readycloud_products(1)
    assert Counter(p["code"] for p in products) == Counter([*(f"NEW{i}" for i in range(5)), "OTHER"])
    assert [p["quantity"] for p in products if p["code"] == "NEW1"] == [99]  # left as it was found
    assert since_listings(env) == 1  # one listing, not a read per product
    assert len([r for r in env.requests() if r["method"] == "POST"]) == 4
    again = run("plan", "-c", catalog, "--detailed-exitcode")
    assert again.code == 2 and "NEW1" in again.out  # the next plan shows how it differs


def test_skipped_create_in_json_output(env: Sandbox, run, write_catalog, created_behind_our_back) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(CATALOG)
    result = run("apply", "-c", catalog, "--auto-approve", "--format", "json")
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    skipped = [r for r in doc["results"] if r["status"] == "skipped"]
    assert [r["key"] for r in skipped] == ["NEW1"] and "appeared in ReadyCloud" in skipped[0]["error"]
    assert doc["summary"] == {"succeeded": 4, "failed": 0, "skipped": 1}


def test_nothing_appeared_costs_one_listing_and_changes_nothing(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(CATALOG)
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.err
    assert "Apply complete: 5 succeeded, 0 failed, 0 skipped." in result.out
    assert since_listings(env) == 1
