"""Faults during apply end with the live state converged and no duplicates
(issue: scale and faults). Real HTTP against the sandbox's fault injection."""
from __future__ import annotations

from collections import Counter

import pytest

from reconciler.sandbox import Sandbox

U = "NoUnitGuid000000000001"
G = "ThicknessProperty00001"


def catalog_text(n: int = 12) -> str:
    lines = ["readycloud: {org: 1}", "products:"]
    lines += [f"  - {{code: OLD{i}, quantity: 5}}" for i in range(n)]      # updates
    lines += [f"  - {{code: NEW{i}, kind: goods}}" for i in range(n)]      # creates
    lines += [f"  - {{code: GONE{i}, absent: true}}" for i in range(3)]    # deletes
    return "\n".join(lines) + "\n"


def seed(box: Sandbox, n: int = 12) -> None:
    box.seed_readycloud(1, [{"code": f"OLD{i}", "kind": "goods", "quantity": 1} for i in range(n)]
                        + [{"code": f"GONE{i}", "kind": "goods"} for i in range(3)])


def assert_converged(box: Sandbox, run, catalog: str, n: int = 12) -> None:  # type: ignore[no-untyped-def]
    codes = Counter(p["code"] for p in box.readycloud_products(1))
    assert all(count == 1 for count in codes.values()), f"duplicates: {codes}"
    assert set(codes) == {f"OLD{i}" for i in range(n)} | {f"NEW{i}" for i in range(n)}
    again = run("plan", "-c", catalog, "--detailed-exitcode")
    assert again.code == 0, again.out


@pytest.mark.parametrize("fault", [
    {"status": 429, "every_nth": 3, "retry_after": 0},                      # 429 bursts with Retry-After
    {"status": 503, "every_nth": 4},                                         # 5xx on everything
    {"status": 500, "every_nth": 2, "method": "POST", "mode": "after"},      # act, then answer 500: lost response
    {"method": "POST", "every_nth": 2, "mode": "after", "drop": True},       # act, then drop the connection
])
def test_apply_converges_without_duplicates_under_faults(env: Sandbox, run, write_catalog, fault) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    catalog = write_catalog(catalog_text())
    env.inject(fault)
    result = run("apply", "-c", catalog, "--auto-approve", "--force", "--parallelism", "4")
    assert result.code == 0, result.out + result.err
    assert "27 succeeded, 0 failed, 0 skipped" in result.out
    env.clear_faults()
    assert_converged(env, run, catalog)


def test_lost_post_answer_is_resolved_by_lookup_not_a_second_post(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.inject({"status": 502, "count": 1, "method": "POST", "mode": "after"})
    catalog = write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: ONLY, kind: goods}\n")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.err
    requests = env.requests()
    posts = [r for r in requests if r["method"] == "POST"]
    after_post = requests[requests.index(posts[0]):]  # (before it: the pre-create check's listing)
    lookups = [r for r in after_post if r["method"] == "GET" and "updated_at__gte" in r["query"]]
    assert len(posts) == 1 and len(lookups) == 1
    assert [p["code"] for p in env.readycloud_products(1)] == ["ONLY"]


def test_timed_out_post_found_by_looking_again(env: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RECONCILER_TIMEOUT", "0.5")
    env.inject({"latency_ms": 800, "count": 1, "method": "POST"})  # the server acts after the client gave up
    catalog = write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: SLOW, kind: goods}\n")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.err
    assert [p["code"] for p in env.readycloud_products(1)] == ["SLOW"]
    assert len([r for r in env.requests() if r["method"] == "POST"]) == 1


def test_timed_out_post_never_sent_twice_while_it_may_be_in_flight(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    import time
    monkeypatch.setenv("RECONCILER_TIMEOUT", "0.3")
    env.inject({"latency_ms": 2500, "count": 1, "method": "POST"})  # slower than the whole grace period
    catalog = write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: SLOWER, kind: goods}\n")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 1
    assert "it was not sent again to avoid a duplicate. Run apply again" in result.out
    time.sleep(2.5)  # the slow create lands on the server
    assert [p["code"] for p in env.readycloud_products(1)] == ["SLOWER"]
    again = run("apply", "-c", catalog, "--auto-approve")
    assert again.code == 0 and "No changes." in again.out
    assert [p["code"] for p in env.readycloud_products(1)] == ["SLOWER"]


def test_failed_product_does_not_block_others_and_rerun_finishes(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    catalog = write_catalog(catalog_text())
    env.inject({"status": 400, "count": 2, "method": "PATCH"})  # a 4xx is not retried
    first = run("apply", "-c", catalog, "--auto-approve", "--force")
    assert first.code == 1
    assert "25 succeeded, 2 failed, 0 skipped" in first.out
    assert first.out.count("failed: update OLD") == 2
    env.clear_faults()
    second = run("apply", "-c", catalog, "--auto-approve", "--force")
    assert second.code == 0 and "2 succeeded, 0 failed" in second.out
    assert_converged(env, run, catalog)


def test_cobuilder_lost_create_is_not_duplicated(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_cobuilder(500, [])
    env.inject({"status": 504, "count": 1, "method": "POST", "path_contains": "/values/create", "mode": "after"})
    catalog = write_catalog(f"products:\n  - code: CB\n    cobuilder:\n      id: 500\n      properties:\n"
                            f"        - {{propertyGuid: {G}, unitGuid: {U}, values: [{{value: '1'}}, {{value: '2'}}]}}\n")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.out + result.err
    values = env.cobuilder_values(500)
    assert len(values) == 1 and sorted(v["value"] for v in values[0]["values"]) == ["1", "2"]
    assert run("plan", "-c", catalog, "--detailed-exitcode").code == 0


def test_cobuilder_lost_delete_answer_is_not_a_failure(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_cobuilder(600, [{"propertyGuid": G, "unitGuid": U, "values": [{"value": "old"}]}])
    env.inject({"status": 502, "count": 1, "method": "DELETE", "mode": "after"})  # deleted, answer lost
    catalog = write_catalog("products:\n  - code: CB\n    cobuilder: {id: 600, exclusive: true, properties: []}\n")
    env.clear_requests()
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert "1 succeeded, 0 failed" in result.out
    deletes = [r["status"] for r in env.requests() if r["method"] == "DELETE"]
    assert deletes == [502, 404]  # the retry found nothing left: read back, not reported as failed
    assert env.cobuilder_values(600) == []
    assert run("plan", "-c", catalog, "--detailed-exitcode").code == 0


def test_cobuilder_delete_404_for_a_property_still_there_is_a_failure(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    """The product still reads with the property as its own: the 404 is the
    assumed delete endpoint missing (tests/test_cli_cobuilder_endpoints.py)."""
    env.seed_cobuilder(601, [{"propertyGuid": G, "unitGuid": U, "values": [{"value": "old"}]}])
    env.inject({"status": 404, "count": 10, "method": "DELETE"})
    catalog = write_catalog("products:\n  - code: CB\n    cobuilder: {id: 601, exclusive: true, properties: []}\n")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 1 and "0 succeeded, 1 failed" in result.out
    assert f"Cobuilder answered 404 to DELETE /products/601/properties/{G}/values: the assumed delete" in result.out


def test_lost_delete_answer_is_not_a_failure(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "GONE", "kind": "goods"}, {"code": "KEEP", "kind": "goods"}])
    catalog = write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: GONE, absent: true}\n")
    env.inject({"status": 502, "count": 1, "method": "DELETE", "mode": "after"})  # acts, then the answer is lost
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert [p["code"] for p in env.readycloud_products()] == ["KEEP"]
    deletes = [r for r in env.requests() if r["method"] == "DELETE"]
    assert len(deletes) == 2  # the retry found it gone (404): done, not failed
