"""Cobuilder's assumed endpoints (update and delete: no public page shows
their paths) over real HTTP: a server without them stops those changes once,
with one message naming the assumption and how to override it; the catalog's
``cobuilder.endpoints`` overrides them; validate names what client
credentials lack."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import pytest

from reconciler.sandbox import Sandbox
from tests.conftest import TOKEN

U = "NoUnitGuid000000000001"
FIRE, THICK, OLD = "FireResistanceClass001", "ThicknessProperty00001", "ObsoleteMarketingText1"
IDS = (200, 201, 202)
BASE = "/products-management/api/v3/products"


def seed(box: Sandbox) -> None:
    for product_id in IDS:
        box.seed_cobuilder(product_id, [{"propertyGuid": FIRE, "unitGuid": U, "values": [{"value": "B"}]},
                                        {"propertyGuid": OLD, "unitGuid": U, "values": [{"value": "stale"}]}])


def catalog(settings: str = "{}") -> str:
    """Each product: FIRE changed (an update), THICK new (a create), OLD undeclared (a delete)."""
    return f"cobuilder: {settings}\nproducts:\n" + "".join(
        f"  - code: P{product_id}\n    cobuilder:\n      id: {product_id}\n      exclusive: true\n"
        f"      properties:\n"
        f"        - {{propertyGuid: {FIRE}, unitGuid: {U}, values: [{{value: A2}}]}}\n"
        f"        - {{propertyGuid: {THICK}, unitGuid: {U}, values: [{{value: '5'}}]}}\n"
        for product_id in IDS)


def sent(box: Sandbox, method: str) -> list[str]:
    return [r["path"] for r in box.requests() if r["method"] == method and "/products-management/" in r["path"]]


@pytest.mark.parametrize("status", [404, 405])
def test_a_server_without_the_assumed_update_stops_updates_once(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                   status: int) -> None:
    seed(env)
    env.inject({"status": status, "count": None, "method": "PUT", "path_contains": "/values/update"})
    env.clear_requests()
    result = run("apply", "-c", write_catalog(catalog()), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    assert "6 succeeded, 1 failed, 2 skipped" in result.out  # creates and deletes went through
    stopped = (f"Stopped: Cobuilder answered {status} to PUT {BASE[len('/products-management/api/v3'):]}/200/"
               "properties/values/update: the assumed update endpoint PUT "
               "/products/{product_id}/properties/values/update does not exist there (Cobuilder documents no "
               "update path; ours is an assumption); set cobuilder.endpoints.update in the catalog to the path "
               "your Cobuilder API uses; 2 changes not attempted.")
    assert stopped in result.out, result.out
    assert result.out.count("cobuilder.endpoints.update") == 3  # (as it came, in the summary, and stopped)
    assert "skipped:" not in result.out
    assert len(sent(env, "PUT")) == 1 and len(sent(env, "POST")) == 3 and len(sent(env, "DELETE")) == 3


def test_a_server_without_the_assumed_delete_stops_deletes_once(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    """A 404 to a DELETE for a property the product still has as its own (read
    back: the product exists) is the endpoint missing, not the property."""
    seed(env)
    env.inject({"status": 404, "count": None, "method": "DELETE", "path_contains": "/properties/"})
    env.clear_requests()
    result = run("apply", "-c", write_catalog(catalog()), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    assert "6 succeeded, 1 failed, 2 skipped" in result.out
    assert ("Stopped: Cobuilder answered 404 to DELETE /products/200/properties/ObsoleteMarketingText1/values: "
            "the assumed delete endpoint DELETE /products/{product_id}/properties/{property_guid}/values does not "
            "exist there") in result.out
    assert "set cobuilder.endpoints.delete in the catalog" in result.out
    assert len(sent(env, "DELETE")) == 1
    assert all(OLD in {p["propertyGuid"] for p in env.cobuilder_values(i)} for i in IDS)


def test_a_404_for_a_product_gone_is_that_products_error_only(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    """A 404 to the update whose product no longer reads either (deleted since
    the plan) says nothing about the endpoint: the other updates go on."""
    seed(env)
    # (the plan reads product 201; from then on it is gone: every request for it answers 404)
    env.inject({"status": 404, "count": None, "skip": 1, "path_contains": "/products/201/"})
    env.clear_requests()
    result = run("apply", "-c", write_catalog(catalog()), "--auto-approve", "--parallelism", "1")
    assert result.code == 1 and "Stopped:" not in result.out
    assert "6 succeeded, 3 failed, 0 skipped" in result.out
    assert "Cobuilder product 201, properties FireResistanceClass001: Not Found" in result.out
    assert len(sent(env, "PUT")) == 3 and len(sent(env, "DELETE")) == 3  # 201's failure stopped no other


@pytest.fixture
def moved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox serving update and delete at other paths than the assumed ones."""
    endpoints = {"update": "/products/{product_id}/values/replace",
                 "delete": "/products/{product_id}/values/{property_guid}/remove"}
    with Sandbox(tmp_path / "moved.sqlite3", token=TOKEN, cobuilder_endpoints=endpoints) as box:
        monkeypatch.setenv("COBUILDER_BASE_URL", box.cobuilder_base_url)
        monkeypatch.setenv("COBUILDER_TOKEN", TOKEN)
        monkeypatch.setenv("RECONCILER_RETRY_BACKOFF", "0.01")
        yield box


MOVED = ("{endpoints: {update: '/products/{product_id}/values/replace', "
         "delete: '/products/{product_id}/values/{property_guid}/remove'}}")


def test_the_catalog_overrides_the_assumed_endpoints(moved: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(moved)
    result = run("apply", "-c", write_catalog(catalog(MOVED)), "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert sorted(sent(moved, "PUT")) == [f"{BASE}/{i}/values/replace" for i in IDS]
    assert sorted(sent(moved, "DELETE")) == [f"{BASE}/{i}/values/{OLD}/remove" for i in IDS]
    again = run("plan", "-c", write_catalog(catalog(MOVED)), "--detailed-exitcode")
    assert again.code == 0, again.out


def test_the_default_endpoints_against_the_moved_server_name_the_override(moved: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    """At the default parallelism too: a missing endpoint costs one request, however many wait."""
    seed(moved)
    result = run("apply", "-c", write_catalog(catalog()), "--auto-approve")
    assert result.code == 1
    assert result.out.count("Stopped:") == 2, result.out  # update and delete, once each
    assert "3 succeeded, 2 failed, 4 skipped" in result.out  # (in parallel: one request each found out)
    assert len(sent(moved, "PUT")) == 1 and len(sent(moved, "DELETE")) == 1
    assert "set cobuilder.endpoints.update" in result.out and "set cobuilder.endpoints.delete" in result.out


def test_an_endpoint_changed_after_the_plan_refuses_the_saved_plan(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    seed(env)
    path = write_catalog(catalog())
    plan_file = str(tmp_path / "plan.json")
    assert run("plan", "-c", path, "--out", plan_file).code == 0
    write_catalog(catalog("{endpoints: {update: '/products/{product_id}/elsewhere'}}"))
    env.clear_requests()
    result = run("apply", plan_file, "-c", path, "--auto-approve")
    assert result.code == 1 and "changed since the plan was made" in result.err
    assert sent(env, "PUT") == [] and sent(env, "POST") == [] and sent(env, "DELETE") == []


@pytest.mark.parametrize("settings, message", [
    ("{endpoints: {update: 'https://attacker.example/{product_id}'}}",
     ":1: cobuilder.endpoints.update: update endpoint must be a path relative to base_url starting with a single "
     "'/' (it may not name a host)"),
    ("{endpoints: {update: '//attacker.example/{product_id}'}}", "it may not name a host"),
    ("{endpoints: {delete: '/products/{product_id}/values'}}",
     "cobuilder.endpoints.delete: delete endpoint must hold {property_guid}"),
    ("{endpoints: {update: '/products/{id}/update'}}",
     "unknown placeholder {id}: the update endpoint takes {product_id}"),
    ("{endpoints: {update: '/products/{product_id}/../x'}}", "may not hold '.' or '..' segments"),
    ("{endpoints: {update: '/products/{product_id}?to=x'}}", "no query, fragment"),
    ("{endpoints: {update: '/products/{product_id}/%2e%2e/%2E%2E/x'}}", "may not percent-encode '.', '/'"),
    ("{endpoints: {update: '/products/{product_id}%2F..%2Fx'}}", "may not percent-encode '.', '/'"),
    ("{endpoints: {update: '/products/{product_id}/%5cx'}}", "may not percent-encode '.', '/'"),
    ("{endpoints: {update: '/products/{product_id}/%zz'}}", "holds a '%' that is not a percent-escape"),
    ("{endpoints: {update: '/products/{product_id}/" + "a" * 70000 + "'}}",
     "update endpoint is 70023 characters long; at most 1000"),
    ("{endpoints: {update: '/products/{product_id}/caf\u00e9'}}", "may hold only URL path characters"),
    ("{endpoints: {update: '/\\\\evil.example/{product_id}'}}", "may hold only URL path characters"),
    ("{endpoints: {update: '/products/${PATH}/{product_id}'}}", "${VAR} is not substituted"),
    ("{endpoints: {create: '/x'}}", "cobuilder.endpoints.create: unknown key 'create'"),
    ("{endpoints: [update]}", "cobuilder.endpoints: expected a mapping of update and delete path templates"),
])
def test_endpoint_templates_are_checked_at_load(run, write_catalog, settings: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "-c", write_catalog(catalog(settings)))
    assert result.code == 1 and message in result.err, result.err


@pytest.fixture
def client_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COBUILDER_TOKEN", "COBUILDER_TOKEN_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COBUILDER_CLIENT_ID", "client")
    monkeypatch.setenv("COBUILDER_CLIENT_SECRET", "not-shown-secret")


def test_validate_names_a_missing_token_url_with_client_credentials(client_credentials, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "-c", write_catalog(catalog("{audience_url: 'https://api.cobuilder.com'}")))
    assert result.code == 1
    assert (":1: cobuilder: token_url is missing: COBUILDER_CLIENT_ID/COBUILDER_CLIENT_SECRET are set (client "
            "credentials) and Cobuilder publishes no default token endpoint; set cobuilder.token_url or "
            "COBUILDER_TOKEN_URL") in result.err
    assert "audience_url" not in result.err and "not-shown-secret" not in result.err
    both = run("validate", "-c", write_catalog(catalog()))
    assert both.code == 1 and ("COBUILDER_TOKEN_URL; audience_url is missing too (the assumed "
                               "https://api.cobuilder.com would be sent): set cobuilder.audience_url") in both.err


def test_validate_warns_of_the_assumed_audience(client_credentials, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COBUILDER_TOKEN_URL", "https://auth.example/token")
    result = run("validate", "-c", write_catalog(catalog()))
    assert result.code == 0 and "valid (3 products)" in result.out
    assert result.err == ("Warning: cobuilder.audience_url is missing: the token request names the assumed "
                          "audience https://api.cobuilder.com (Cobuilder documents no default); set "
                          "cobuilder.audience_url to the audience your Cobuilder client was issued for\n")
    both = run("validate", "-c", write_catalog(catalog("{token_url: 'https://auth.cobuilder.com/t', "
                                                       "audience_url: 'https://aud.example'}")))
    assert both.code == 0 and both.err == ""


def test_validate_asks_nothing_of_a_static_token(run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COBUILDER_TOKEN", "static")
    monkeypatch.setenv("COBUILDER_CLIENT_ID", "client")
    monkeypatch.delenv("COBUILDER_TOKEN_URL", raising=False)
    result = run("validate", "-c", write_catalog(catalog()))
    assert result.code == 0 and result.err == ""


def test_validate_names_the_half_of_the_client_credentials_that_is_set(run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """COBUILDER_CLIENT_ID alone: the message says that one is set (not both),
    and with a token endpoint given, warns that the secret is missing (plan
    and apply would stop for it)."""
    for name in ("COBUILDER_TOKEN", "COBUILDER_TOKEN_URL", "COBUILDER_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COBUILDER_CLIENT_ID", "client")
    settings = "{audience_url: 'https://api.cobuilder.com'}"
    result = run("validate", "-c", write_catalog(catalog(settings)))
    assert result.code == 1
    assert "token_url is missing: COBUILDER_CLIENT_ID is set (client credentials) and Cobuilder" in result.err
    monkeypatch.setenv("COBUILDER_TOKEN_URL", "https://auth.cobuilder.com/token")
    given = run("validate", "-c", write_catalog(catalog(settings)))
    assert given.code == 0
    assert given.err == ("Warning: COBUILDER_CLIENT_SECRET is not set: COBUILDER_CLIENT_ID alone fetches no "
                         "Cobuilder token (plan and apply stop); set both, or COBUILDER_TOKEN\n")


def test_a_404_to_an_update_whose_property_is_gone_is_that_products_error_only(env: Sandbox, run,  # type: ignore[no-untyped-def]
                                                                               write_catalog) -> None:
    """The update's 404 for product 201 comes after its FIRE values were
    removed since the plan (the read-back shows the product without them):
    that explains the 404, so it is that product's error and says so; the
    endpoint is not taken for missing and the other updates are sent."""
    seed(env)
    gone = [{"propertyGuid": OLD, "unitGuid": U, "parentId": 0, "values": [{"value": "stale"}]}]
    env.inject({"status": 200, "body": json.dumps(gone), "content_type": "application/json", "method": "GET",
                "path_contains": "/products/201/", "skip": 1, "count": None})
    env.inject({"status": 404, "count": None, "method": "PUT", "path_contains": "/products/201/"})
    env.clear_requests()
    result = run("apply", "-c", write_catalog(catalog()), "--auto-approve", "--parallelism", "1")
    assert result.code == 1 and "Stopped:" not in result.out, result.out
    assert "8 succeeded, 1 failed, 0 skipped" in result.out
    assert ("update P201: cobuilder: HTTP 404: Cobuilder product 201, properties FireResistanceClass001: Not Found"
            in result.out), result.out
    assert "no longer has values for FireResistanceClass001 (changed since the plan; run plan again)" in result.out
    assert len(sent(env, "PUT")) == 3
