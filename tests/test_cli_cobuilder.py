"""End-to-end: Cobuilder property values in the same plan and apply, over real HTTP."""
from __future__ import annotations

import httpx
import pytest

from reconciler.sandbox import Sandbox

U = "NoUnitGuid000000000001"
MAT, FIRE, THICK, OLD, INHER = ("MaterialComposition001", "FireResistanceClass001", "ThicknessProperty00001",
                                "ObsoleteMarketingText1", "InheritedFromParent001")


def prop(guid: str, *values: dict) -> dict:  # type: ignore[type-arg]
    return {"propertyGuid": guid, "unitGuid": U, "values": list(values)}


def seed(box: Sandbox) -> None:
    box.seed_cobuilder(100, [prop(INHER, {"value": "parent"})])
    box.seed_cobuilder(200, [prop(MAT, {"value": "Cotton"}, {"value": "Elastane"}), prop(FIRE, {"value": "B"}),
                             prop(OLD, {"value": "stale"})], parent_id=100)
    box.seed_cobuilder(300, [prop(OLD, {"value": "keep, not exclusive"})])
    box.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}])


CATALOG = f"""readycloud: {{org: 1}}
cobuilder: {{}}
products:
  - code: A
    quantity: 2
    cobuilder:
      id: 200
      exclusive: true
      properties:
        - propertyGuid: {MAT}        # same set, other order: unchanged
          unitGuid: {U}
          values: [{{value: Elastane}}, {{value: Cotton}}]
        - propertyGuid: {FIRE}       # changed: update
          unitGuid: {U}
          values: [{{value: A2}}]
        - propertyGuid: {THICK}      # new: create
          unitGuid: {U}
          values: [{{lowerValue: "10", lowerOperator: ">=", upperValue: "20", upperOperator: "<="}}]
        - propertyGuid: {INHER}      # inherited from 100: a note, never a change
          unitGuid: {U}
          values: [{{value: mine}}]
  - code: B
    cobuilder:
      id: 300
      properties:
        - propertyGuid: {THICK}
          unitGuid: {U}
          values: [{{value: "5"}}]
"""


def cobuilder_requests(box: Sandbox) -> list[tuple[str, str, object]]:
    return [(r["method"], r["path"], r["json"]) for r in box.requests() if "/products-management/" in r["path"]]


def test_create_update_delete_unchanged_inherited_and_convergence(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    catalog = write_catalog(CATALOG)
    env.clear_requests()
    planned = run("plan", "-c", catalog, "--detailed-exitcode")
    assert planned.code == 2, planned.err
    # two products updated (A's fields and values, B's values only); the properties counted apart
    assert "Plan: 0 to create, 2 to update, 0 to delete, 0 unchanged.\n" \
           "      Cobuilder properties: 2 to add, 1 to change, 1 to delete, 1 unchanged." in planned.out
    assert "\n  ~ product B\n    + property values of B (Cobuilder product 300)\n" in planned.out
    assert f"{FIRE}: [{{\"value\": \"B\"}}] → [{{\"value\": \"A2\"}}]" in planned.out
    assert f"Cobuilder property {INHER} is inherited from parent product 100" in planned.out
    base = "/products-management/api/v3/products"
    assert sorted(p for m, p, _ in cobuilder_requests(env)) == [f"{base}/200/properties/values",
                                                                f"{base}/300/properties/values"]

    env.clear_requests()
    applied = run("apply", "-c", catalog, "--auto-approve")
    assert applied.code == 0, applied.err
    sent = sorted((m, p, b) for m, p, b in cobuilder_requests(env) if m != "GET")
    assert sent == sorted([
        ("POST", f"{base}/200/properties/values/create",
         {"properties": [prop(THICK, {"lowerValue": "10", "lowerOperator": ">=", "upperValue": "20",
                                      "upperOperator": "<="})]}),
        ("PUT", f"{base}/200/properties/values/update", {"properties": [prop(FIRE, {"value": "A2"})]}),
        ("DELETE", f"{base}/200/properties/{OLD}/values", None),
        ("POST", f"{base}/300/properties/values/create", {"properties": [prop(THICK, {"value": "5"})]}),
    ], key=str)
    values = {p["propertyGuid"]: p for p in env.cobuilder_values(200)}
    assert values[INHER]["parentId"] == "100" and values[INHER]["values"][0]["value"] == "parent"
    assert OLD not in values
    assert {p["propertyGuid"] for p in env.cobuilder_values(300)} == {OLD, THICK}  # not exclusive: kept
    assert env.readycloud_products(1)[0]["quantity"] == 2

    env.clear_requests()
    again = run("plan", "-c", catalog, "--detailed-exitcode")
    assert again.code == 0, again.out
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged.\n" \
           "      Cobuilder properties: 0 to add, 0 to change, 0 to delete, 4 unchanged." in again.out
    assert [m for m, _, _ in cobuilder_requests(env)] == ["GET", "GET"]


def test_bad_guid_rejected_locally_with_no_request(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    catalog = write_catalog("products:\n  - code: A\n    cobuilder:\n      id: 200\n      properties:\n"
                            "        - {propertyGuid: not-22-chars, unitGuid: " + U + ", values: []}\n")
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 1
    assert ":6: products[0].cobuilder.properties[0].propertyGuid: 'not-22-chars' is not a GUID" in result.err
    assert env.requests() == []


def test_unknown_product_is_reported_with_title_and_detail(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    catalog = write_catalog(f"products:\n  - code: GHOST\n    cobuilder: {{id: 999, properties: [{{propertyGuid: {THICK}, "
                            f"unitGuid: {U}, values: [{{value: '1'}}]}}]}}\n"
                            f"  - code: B\n    cobuilder: {{id: 300, properties: []}}\n")
    planned = run("plan", "-c", catalog)
    assert planned.code == 1
    assert "GHOST" in planned.out and "Cobuilder product 999: cannot read property values: cobuilder: HTTP 404: Not Found" in planned.out
    applied = run("apply", "-c", catalog, "--auto-approve")
    assert applied.code == 1 and "nothing was applied" in applied.err


def test_one_failing_product_does_not_stop_the_others(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    env.inject({"status": 500, "count": 100, "method": "POST", "path_contains": "/products/300/"})
    result = run("apply", "-c", write_catalog(CATALOG), "--auto-approve")
    assert result.code == 1
    assert "failed: create property values of B (Cobuilder product 300): cobuilder: HTTP 500" in result.out
    assert f"Cobuilder product 300, properties {THICK}" in result.out
    assert "4 succeeded, 1 failed, 0 skipped" in result.out
    calls = [r["method"] for r in env.requests() if "/products/300/" in r["path"]]
    assert calls[0] == "GET" and calls.count("POST") == 6  # the retry budget
    for i, method in enumerate(calls[1:-1], start=1):
        if method == "POST":  # never retried blindly: every POST is followed by a read-back
            assert calls[i + 1] == "GET"
    assert not env.cobuilder_values(300) or all(p["propertyGuid"] != THICK for p in env.cobuilder_values(300))


def test_client_credentials_token_and_expiry(env: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reconciler.sandbox import DEFAULT_COBUILDER_CLIENT_ID, DEFAULT_COBUILDER_CLIENT_SECRET
    seed(env)
    monkeypatch.delenv("COBUILDER_TOKEN")
    monkeypatch.setenv("COBUILDER_CLIENT_ID", DEFAULT_COBUILDER_CLIENT_ID)
    monkeypatch.setenv("COBUILDER_CLIENT_SECRET", DEFAULT_COBUILDER_CLIENT_SECRET)
    monkeypatch.setenv("COBUILDER_TOKEN_URL", env.cobuilder_token_url)
    catalog = write_catalog(CATALOG)
    env.expire_cobuilder_tokens()
    assert run("plan", "-c", catalog).code == 0
    token_calls = [r for r in env.requests() if r["path"].endswith("/cobuilder-auth/token")]
    assert len(token_calls) == 1 and token_calls[0]["json"]["clientSecret"] == "[redacted]"


def test_token_expiring_mid_run_is_refreshed_once(env: Sandbox) -> None:
    from reconciler.vendors.cobuilder.provider import ClientCredentialsAuth, CobuilderProvider
    from reconciler.sandbox import DEFAULT_COBUILDER_CLIENT_ID, DEFAULT_COBUILDER_CLIENT_SECRET
    seed(env)
    auth = ClientCredentialsAuth(env.cobuilder_token_url, DEFAULT_COBUILDER_CLIENT_ID,
                                 DEFAULT_COBUILDER_CLIENT_SECRET, "https://api.cobuilder.com")
    with CobuilderProvider(env.cobuilder_base_url, auth=auth) as provider:
        assert isinstance(provider.read_values(200), list)
        env.expire_cobuilder_tokens()
        assert isinstance(provider.read_values(200), list)
    assert len([r for r in env.requests() if r["path"].endswith("/token")]) == 2


def test_wrong_credentials_are_a_clear_error_without_secrets(env: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed(env)
    monkeypatch.delenv("COBUILDER_TOKEN")
    monkeypatch.setenv("COBUILDER_CLIENT_ID", "someone")
    monkeypatch.setenv("COBUILDER_CLIENT_SECRET", "wrong-secret-555")
    monkeypatch.setenv("COBUILDER_TOKEN_URL", env.cobuilder_token_url)
    result = run("plan", "-c", write_catalog(CATALOG))
    assert result.code == 1
    assert result.err.startswith("Error: cobuilder: HTTP 401: token request refused")
    assert "wrong-secret-555" not in result.out + result.err
    monkeypatch.setenv("COBUILDER_TOKEN", "stale-static-token")
    result = run("plan", "-c", write_catalog(CATALOG))
    assert result.code == 1 and "cobuilder: HTTP 401" in result.err and "stale-static-token" not in result.err


def test_problem_details_shown_with_product_and_property() -> None:
    from reconciler.errors import ProviderError
    from reconciler.plan.model import Change, FieldChange
    from reconciler.vendors.cobuilder.provider import CobuilderProvider

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"type": "about:blank", "title": "Conflict", "status": 409,
                                         "detail": "Inherited values cannot be changed", "instance": "/x"})

    provider = CobuilderProvider("https://cb.test", token="t", transport=httpx.MockTransport(handler))
    change = Change("cobuilder", "update", "A", "200", (FieldChange(FIRE, [], []),), {"properties": []})
    with pytest.raises(ProviderError) as info:
        provider.execute(change)
    assert str(info.value) == (f"cobuilder: HTTP 409: Cobuilder product 200, properties {FIRE}: "
                               "Conflict: Inherited values cannot be changed")


def test_unreachable_token_endpoint_is_one_clear_error(env: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import socket
    seed(env)
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv("COBUILDER_TOKEN")
    monkeypatch.setenv("COBUILDER_CLIENT_ID", "sandbox-client")
    monkeypatch.setenv("COBUILDER_CLIENT_SECRET", "secret-999")
    monkeypatch.setenv("COBUILDER_TOKEN_URL", f"http://127.0.0.1:{port}/token")
    result = run("plan", "-c", write_catalog(CATALOG))
    assert result.code == 1
    assert result.err.strip() == "Error: cobuilder: cannot reach the token endpoint: ConnectError"
    assert "secret-999" not in result.out + result.err


def test_token_endpoint_answering_no_token_is_an_auth_error() -> None:
    from reconciler.errors import AuthError
    from reconciler.vendors.cobuilder.provider import ClientCredentialsAuth, CobuilderProvider

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, text="<html>login</html>")
        return httpx.Response(200, json=[])

    transport = httpx.MockTransport(handler)
    auth = ClientCredentialsAuth("https://auth.test/token", "id", "secret", "https://api.test", transport=transport)
    with CobuilderProvider("https://cb.test", auth=auth, transport=transport) as provider, \
            pytest.raises(AuthError) as info:
        provider.read_values(1)
    assert str(info.value) == "cobuilder: HTTP 200: the token endpoint did not answer a token string"


def test_values_from_the_environment_are_sensitive_everywhere(env: Sandbox, run, write_catalog, tmp_path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "internal-grade-7c1e"
    monkeypatch.setenv("GRADE", secret)
    env.seed_cobuilder(200, [prop(FIRE, {"value": "B"})])
    catalog = write_catalog(f"""cobuilder: {{}}
products:
  - code: A
    cobuilder:
      id: 200
      properties:
        - {{propertyGuid: {FIRE}, unitGuid: {U}, values: [{{value: "${{GRADE}}"}}]}}
        - {{propertyGuid: {MAT}, unitGuid: {U}, values: [{{value: Cotton}}]}}
""")
    outputs = [run("plan", "-c", catalog, "--format", fmt).out for fmt in ("text", "markdown", "json")]
    planfile = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(planfile)).code == 0
    for text in [*outputs, planfile.read_text()]:
        assert secret not in text
        assert "(sensitive)" in text or '"$sensitive"' in text
        assert "Cotton" in text  # the other property is shown as it is
    applied = run("apply", str(planfile), "-c", catalog)
    assert applied.code == 0, applied.err
    assert secret not in applied.out + applied.err
    values = {p["propertyGuid"]: p["values"] for p in env.cobuilder_values(200)}
    assert [v["value"] for v in values[FIRE]] == [secret]  # the real value was sent


def test_plan_parallelism_bounds_the_cobuilder_refresh(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from reconciler.vendors.cobuilder.provider import CobuilderProvider

    ids = range(400, 406)
    for i in ids:
        env.seed_cobuilder(i, [])
    catalog = write_catalog("cobuilder: {}\nproducts:\n" + "".join(
        f"  - {{code: C{i}, cobuilder: {{id: {i}, properties: []}}}}\n" for i in ids))
    env.inject({"latency_ms": 100, "method": "GET"})  # the reads overlap as far as they are allowed to
    lock, in_flight, peak = threading.Lock(), [0], [0]
    read = CobuilderProvider._read

    def counted(self: CobuilderProvider, product_id: int) -> object:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        try:
            return read(self, product_id)
        finally:
            with lock:
                in_flight[0] -= 1

    monkeypatch.setattr(CobuilderProvider, "_read", counted)
    result = run("plan", "-c", catalog, "--parallelism", "2")
    assert result.code == 0, result.err
    assert "6 unchanged" in result.out and peak[0] == 2
