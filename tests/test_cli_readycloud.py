"""End-to-end: the CLI against the sandbox over real HTTP (issue: the spine)."""
from __future__ import annotations

from reconciler.sandbox import Sandbox


CATALOG = """readycloud: {org: 1}
products:
  - code: KEEP
    kind: goods
    unit_price: 88 USD
    unit_weight: 180 g
    net_cost_begin_date: 2014-10-10T08:49:50+02:00
  - code: CHANGE
    kind: goods
    description: new text
    quantity: 5
  - code: NEW
    kind: goods
    description: brand new
    unit_price: 10 EUR
    custom_fields: {Top color: {value: Deep purple}}
  - code: GONE
    absent: true
  - code: NEVER-EXISTED
    absent: true
"""

SEED = [
    {"code": "KEEP", "kind": "goods", "unit_price": "88.00 USD", "unit_weight": "180 g",
     "net_cost_begin_date": "2014-10-10T06:49:50Z", "ean": "untouched"},
    {"code": "CHANGE", "kind": "goods", "description": "old text", "quantity": 5, "ean": "keep-me"},
    {"code": "GONE", "kind": "goods"},
    {"code": "OTHER", "kind": "tax"},
]


def writes(box: Sandbox) -> list[tuple[str, str, object]]:
    return [(r["method"], r["path"], r["json"]) for r in box.requests() if r["method"] != "GET"]


def test_mixed_apply_sends_minimal_calls_and_converges(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, SEED)
    path = write_catalog(CATALOG)
    env.clear_requests()

    planned = run("plan", "-c", path, "--detailed-exitcode")
    assert planned.code == 2, planned.err
    assert "Plan: 1 to create, 1 to update, 1 to delete, 2 unchanged, 1 unmanaged." in planned.out
    assert '~ product CHANGE (readycloud, id 2)' in planned.out
    assert 'description: "old text" → "new text"' in planned.out
    assert writes(env) == [] and len(env.requests()) == 1  # one page, nothing written

    env.clear_requests()
    applied = run("apply", "-c", path, "--auto-approve")
    assert applied.code == 0, applied.err
    assert "Apply complete: 3 succeeded, 0 failed, 0 skipped." in applied.out
    sent = writes(env)
    assert sorted(sent, key=str) == sorted([
        ("POST", "/api/v2/orgs/1/products/", {"code": "NEW", "kind": "goods", "description": "brand new",
                                              "unit_price": "10 EUR",
                                              "custom_fields": {"Top color": {"value": "Deep purple"}}}),
        ("PATCH", "/api/v2/orgs/1/products/2/", {"description": "new text"}),
        ("DELETE", "/api/v2/orgs/1/products/3/", None),
    ], key=str)
    assert [m for m, _, _ in sent][-1] == "DELETE"  # deletes run last

    live = {p["code"]: p for p in env.readycloud_products(1)}
    assert set(live) == {"KEEP", "CHANGE", "NEW", "OTHER"}
    assert live["CHANGE"]["ean"] == "keep-me" and live["NEW"]["unit_price"] == "10.00 EUR"

    env.clear_requests()
    again = run("plan", "-c", path, "--detailed-exitcode")
    assert again.code == 0, again.out
    assert "No changes." in again.out and "5 unchanged" in again.out
    assert writes(env) == []


def test_token_goes_in_the_authorization_header_never_in_the_url(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, SEED)
    path = write_catalog(CATALOG)
    env.clear_requests()
    assert run("apply", "-c", path, "--auto-approve").code == 0
    sent = env.requests()
    assert {r["method"] for r in sent} == {"GET", "POST", "PATCH", "DELETE"}
    assert all(r["auth_scheme"] == "Bearer" and "bearer_token" not in r["query"] for r in sent)


def test_pagination_past_250_follows_next(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": f"P{i:03}", "kind": "goods", "quantity": i} for i in range(260)])
    lines = ["readycloud: {org: 1}", "products:"]
    lines += [f"  - {{code: P{i:03}, quantity: {i if i != 255 else 999}}}" for i in range(260)]
    env.clear_requests()
    result = run("plan", "-c", write_catalog("\n".join(lines) + "\n"))
    assert result.code == 0, result.err
    assert "Plan: 0 to create, 1 to update, 0 to delete, 259 unchanged." in result.out
    gets = [r for r in env.requests() if r["method"] == "GET"]
    assert len(gets) == 3
    assert [r["query"].get("offset", "0") for r in gets] == ["0", "100", "200"]


def test_duplicate_live_code_is_reported_and_nothing_applied(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "DUP", "kind": "goods"}, {"code": "DUP", "kind": "goods"},
                            {"code": "FINE", "kind": "goods", "quantity": 1}])
    path = write_catalog("readycloud: {org: 1}\nproducts:\n  - {code: DUP, quantity: 2}\n"
                         "  - {code: FINE, quantity: 2}\n")
    planned = run("plan", "-c", path)
    assert planned.code == 1
    assert "2 live products share code 'DUP' (ids 1, 2)" in planned.out
    env.clear_requests()
    applied = run("apply", "-c", path, "--auto-approve")
    assert applied.code == 1 and "nothing was applied" in applied.err
    assert writes(env) == []


def test_typo_is_rejected_before_any_request(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    path = write_catalog("readycloud: {org: 1}\nproducts:\n  - code: A\n    kind: goods\n"
                         "    origin_countr_code: CN\n")
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = run(*command, "-c", path)
        assert result.code == 1
        assert ":5: products[0].origin_countr_code: unknown key 'origin_countr_code' " \
               "(did you mean 'origin_country_code'?)" in result.err
        assert "Traceback" not in result.err
    assert env.requests() == []


def test_bad_token_is_a_clear_401(env: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("READYCLOUD_TOKEN", "wrong-token-123")
    result = run("plan", "-c", write_catalog("readycloud: {org: 1}\nproducts: [{code: A, kind: goods}]\n"))
    assert result.code == 1
    assert result.err.strip() == "Error: readycloud: HTTP 401: Invalid token."
    assert "wrong-token-123" not in result.out + result.err
    assert [(r["auth_scheme"], "bearer_token" in r["query"]) for r in env.requests()] == [("Bearer", False)]


def test_missing_token_is_a_config_error(env: Sandbox, run, write_catalog, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("READYCLOUD_TOKEN")
    result = run("plan", "-c", write_catalog("readycloud: {org: 1}\nproducts: []\n"))
    assert result.code == 1 and "READYCLOUD_TOKEN is not set" in result.err


def test_429_then_success(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}])
    env.inject({"status": 429, "count": 1, "retry_after": 1, "method": "PATCH"})
    env.clear_requests()
    result = run("apply", "-c", write_catalog("readycloud: {org: 1}\nproducts: [{code: A, quantity: 2}]\n"),
                 "--auto-approve")
    assert result.code == 0, result.err
    patches = [r for r in env.requests() if r["method"] == "PATCH"]
    assert [r["status"] for r in patches] == [429, 200]
    assert env.readycloud_products(1)[0]["quantity"] == 2


def test_apply_without_terminal_needs_auto_approve(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}])
    result = run("apply", "-c", write_catalog("readycloud: {org: 1}\nproducts: [{code: A, quantity: 2}]\n"))
    assert result.code == 1 and "--auto-approve" in result.err
    assert writes(env) == [] and env.readycloud_products(1)[0]["quantity"] == 1


def test_failed_change_does_not_stop_others_and_exits_1(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}, {"code": "B", "kind": "goods"}])
    env.inject({"status": 500, "count": 10, "method": "PATCH", "path_contains": "/products/1/"})
    result = run("apply", "-c", write_catalog(
        "readycloud: {org: 1}\nproducts: [{code: A, quantity: 2}, {code: B, quantity: 3}]\n"), "--auto-approve")
    assert result.code == 1
    assert "1 succeeded, 1 failed, 0 skipped" in result.out
    assert "failed: update A: readycloud: HTTP 500" in result.out
    by_code = {p["code"]: p for p in env.readycloud_products(1)}
    assert by_code["B"]["quantity"] == 3 and by_code["A"]["quantity"] == 1
    assert env.token not in result.out + result.err
