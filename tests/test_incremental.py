"""Incremental refresh: one short listing instead of all pages, and never a
different plan than a full refresh."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from reconciler.sandbox import Sandbox

#: seeded products have been live for a while, as in a real catalog
LAST_WEEK = datetime.now(timezone.utc) - timedelta(days=7)


def catalog_text(n: int) -> str:
    return "readycloud: {org: 1}\nproducts:\n" + "".join(f"  - {{code: P{i:03}, kind: goods, quantity: {i}}}\n" for i in range(n))


def gets(box: Sandbox) -> list[dict]:  # type: ignore[type-arg]
    return [r for r in box.requests() if r["method"] == "GET"]


def plans(run, catalog: str) -> tuple[dict, dict]:  # type: ignore[no-untyped-def, type-arg]
    full = run("plan", "-c", catalog, "--format", "json")
    incremental = run("plan", "-c", catalog, "--format", "json", "--refresh", "incremental")
    assert full.code == 0 and incremental.code == 0, full.err + incremental.err
    # context holds the listing's watermark, taken from the server's clock when
    # the listing began, and the checksum covers it: two listings a second
    # apart differ there and nowhere else
    strip = lambda doc: {k: v for k, v in json.loads(doc).items() if k not in ("created_at", "context", "checksum")}  # noqa: E731
    return strip(full.out), strip(incremental.out)


def test_unchanged_replan_lists_one_short_page(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i:03}", "kind": "goods", "quantity": i} for i in range(250)], LAST_WEEK)
    catalog = write_catalog(catalog_text(250))
    first = run("plan", "-c", catalog, "--refresh", "incremental")  # no cache yet: a full listing
    assert first.code == 0 and "No changes." in first.out
    assert len(gets(env)) == 3
    assert list((Path(catalog).parent / ".reconciler" / "cache").glob("readycloud-*.json"))
    env.clear_requests()
    again = run("plan", "-c", catalog, "--refresh", "incremental")
    assert again.code == 0 and "No changes." in again.out
    queries = [r["query"] for r in gets(env)]
    assert len(queries) == 2  # one updated_at__gte page and one count
    assert "updated_at__gte" in queries[0] and queries[1].get("limit") == "1"


def test_same_plan_as_full_after_changes_behind_its_back(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i:03}", "kind": "goods", "quantity": i} for i in range(120)], LAST_WEEK)
    catalog = write_catalog(catalog_text(121))
    assert run("plan", "-c", catalog, "--refresh", "incremental").code == 0  # primes the cache
    env.set_readycloud_product_raw(1, 5, {"quantity": 999})           # update
    env.seed_readycloud(1, [{"code": "P120", "kind": "goods", "quantity": 7}])  # create
    full, incremental = plans(run, catalog)
    assert full == incremental and full["counts"]["update"] == 2
    env.delete_readycloud_product_raw(1, 9)                             # delete: the count tells
    env.clear_requests()
    full, incremental = plans(run, catalog)
    assert full == incremental and full["counts"]["create"] == 1
    assert len(gets(env)) == 2 + 2 + 2  # full (2 pages), incremental attempt (page + count), fallback (2 pages)


def test_corrupt_cache_falls_back_to_a_full_listing(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "P000", "kind": "goods", "quantity": 1}])
    catalog = write_catalog(catalog_text(1))
    assert run("plan", "-c", catalog, "--refresh", "incremental").code == 0
    for cache in (Path(catalog).parent / ".reconciler" / "cache").glob("*.json"):
        cache.write_text('{"version": 1, "products": "nonsense"')
    env.set_readycloud_product_raw(1, 1, {"quantity": 5})
    result = run("plan", "-c", catalog, "--refresh", "incremental", "--format", "json")
    assert result.code == 0 and json.loads(result.out)["counts"]["update"] == 1


def test_an_apply_keeps_the_cache_exact_so_the_next_plan_stays_short(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i:03}", "kind": "goods", "quantity": i} for i in range(150)], LAST_WEEK)
    text = catalog_text(150).replace("  - {code: P007, kind: goods, quantity: 7}\n", "  - {code: P007, absent: true}\n")
    text = text.replace("{code: P003, kind: goods, quantity: 3}", "{code: P003, kind: goods, quantity: 33}")
    catalog = write_catalog(text)
    assert run("plan", "-c", catalog, "--refresh", "incremental").code == 0  # primes the cache
    applied = run("apply", "-c", catalog, "--auto-approve", "--refresh", "incremental")
    assert applied.code == 0, applied.err
    env.clear_requests()
    again = run("plan", "-c", catalog, "--refresh", "incremental", "--format", "json")
    assert again.code == 0 and json.loads(again.out)["counts"]["update"] == 0
    assert len(gets(env)) == 2  # the deleted product was dropped from the cache: no fallback listing
    full = run("plan", "-c", catalog, "--format", "json")
    assert json.loads(full.out)["counts"] == json.loads(again.out)["counts"]


def test_a_cache_for_another_org_or_server_is_not_used(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "P000", "kind": "goods", "quantity": 1}], LAST_WEEK)
    env.seed_readycloud(2, [{"code": "P000", "kind": "goods", "quantity": 2}], LAST_WEEK)
    catalog = write_catalog(catalog_text(1))
    assert run("plan", "-c", catalog, "--refresh", "incremental").code == 0
    other = write_catalog(catalog_text(1).replace("org: 1", "org: 2"))
    env.clear_requests()
    result = run("plan", "-c", other, "--refresh", "incremental", "--format", "json")
    assert json.loads(result.out)["counts"]["update"] == 1  # org 2's product, read in full
    assert [r["query"] for r in gets(env)] == [{"limit": "100"}]


def _products_by_code(env: Sandbox) -> dict[str, dict]:  # type: ignore[type-arg]
    return {str(p["code"]): p for p in env.readycloud_products(1)}


def test_a_cache_with_swapped_codes_is_ignored_and_the_update_goes_to_the_right_product(  # type: ignore[no-untyped-def]
        env: Sandbox, run, write_catalog) -> None:
    """A poisoned cache (two products' codes swapped, count unchanged, even
    with its old MAC kept) must not make apply PATCH B's pk for code A."""
    env.seed_readycloud(1, [{"code": "P000", "kind": "goods", "quantity": 0},
                            {"code": "P001", "kind": "goods", "quantity": 1}], LAST_WEEK)
    catalog = write_catalog(catalog_text(2).replace("quantity: 0}", "quantity: 50}"))
    assert run("plan", "-c", catalog, "--refresh", "incremental").code == 0  # primes the cache
    (path,) = (Path(catalog).parent / ".reconciler" / "cache").glob("readycloud-*.json")
    data = json.loads(path.read_text())
    first, second = data["products"]
    first["code"], second["code"] = second["code"], first["code"]
    path.write_text(json.dumps(data))
    applied = run("apply", "-c", catalog, "--auto-approve", "--refresh", "incremental")
    assert applied.code == 0, applied.err
    live = _products_by_code(env)
    assert (live["P000"]["quantity"], live["P001"]["quantity"]) == (50, 1)
