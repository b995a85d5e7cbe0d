"""Sensitive values stay hidden everywhere, a tombstoned or pruned product's
too: the catalog's top-level ``sensitive:`` names fields hidden for every
product, and nothing reconciler writes to disk holds them in clear."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox

LAST_WEEK = datetime.now(timezone.utc) - timedelta(days=7)
TOMB = "tomb-secret-5b1e"        # the live description of a tombstoned product (once from ${VAR})
PRUNED = "pruned-secret-77aa"    # ... of a live product prune deletes
OTHER = "unmanaged-secret-3c9d"  # ... of a product the catalog does not manage
OLD, NEW = "old-secret-0d4f", "new-secret-e8a2"  # a declared product's live and desired descriptions
SECRETS = (TOMB, PRUNED, OTHER, OLD, NEW)

CATALOG = """readycloud: {{org: 1}}
sensitive: [description]
policy: {{prune: true, scope: ["PRUNE-*"], max_delete_percent: 100}}
products:
  - {{code: TOMB, absent: true}}
  - {{code: KEEP, kind: goods, description: "${{KEEP_DESC}}", quantity: 2}}
notify:
  webhooks:
    - url: {url}/hooks/storefront
      secret: ${{HOOK_SECRET}}
"""


@pytest.fixture
def box(notify_env: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    env = notify_env
    monkeypatch.setenv("HOOK_SECRET", "whsec-sensitive-test")
    monkeypatch.setenv("RECONCILER_RETRY_ATTEMPTS", "1")
    env.seed_readycloud(1, [{"code": "TOMB", "kind": "goods", "description": TOMB},
                            {"code": "PRUNE-1", "kind": "goods", "description": PRUNED},
                            {"code": "OTHER", "kind": "goods", "description": OTHER},
                            {"code": "KEEP", "kind": "goods", "description": OLD, "quantity": 1}], LAST_WEEK)
    return env


def written(root: Path) -> dict[str, str]:
    """Every file reconciler wrote next to the catalog (plan, outbox, cache)."""
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*")
            if p.is_file() and p.name != "catalog.yaml" and not p.name.startswith("sandbox.sqlite3")}


def test_a_tombstoned_products_sensitive_value_is_nowhere(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEEP_DESC", NEW)
    catalog = write_catalog(CATALOG.format(url=box.url))
    box.fail_sink("webhook", 503, None)
    outputs = [run("plan", "-c", catalog, "--refresh", "incremental"),  # (writes the cache)
               run("plan", "-c", catalog, "--format", "markdown"),
               run("plan", "-c", catalog, "--format", "json"),
               run("plan", "-c", catalog, "--out", str(tmp_path / "plan.json"))]
    assert all(o.code == 0 for o in outputs), [o.err for o in outputs]
    doc = json.loads(outputs[2].out)
    deletes = {c["key"]: c for c in doc["changes"] if c["action"] == "delete"}
    assert set(deletes) == {"TOMB", "PRUNE-1"}
    assert deletes["TOMB"]["live"]["description"] == "(sensitive)" and deletes["TOMB"]["live"]["kind"] == "goods"
    applied = run("apply", str(tmp_path / "plan.json"), "-c", catalog)
    assert "Apply complete: 3 succeeded, 0 failed, 0 skipped." in applied.out, applied.out + applied.err
    assert applied.code == 1  # the webhook is down: its events wait in the outbox
    files = written(tmp_path)
    assert {"plan.json", ".reconciler/outbox.json"} <= set(files)
    assert any(name.startswith(".reconciler/cache/") for name in files)
    for secret in SECRETS:
        for o in outputs + [applied]:
            assert secret not in o.out + o.err
        for name, text in files.items():
            assert secret not in text, f"{secret} in {name}"
    events = [e["event"] for e in json.loads(files[".reconciler/outbox.json"])["entries"]]
    assert sorted((e["event"], e["code"]) for e in events) == [
        ("product.deleted", "PRUNE-1"), ("product.deleted", "TOMB"), ("product.updated", "KEEP")]
    assert all("description" not in e["data"] for e in events)  # dropped, not masked
    assert {e["code"]: e["data"].get("kind") for e in events} == {"PRUNE-1": "goods", "TOMB": "goods", "KEEP": "goods"}


def test_incremental_refresh_plans_correctly_from_a_cache_without_the_values(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                             tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = write_catalog("readycloud: {org: 1}\nsensitive: [description]\nproducts:\n"
                            "  - {code: KEEP, kind: goods, description: \"${KEEP_DESC}\", quantity: 1}\n")
    monkeypatch.setenv("KEEP_DESC", OLD)
    assert "No changes." in run("plan", "-c", catalog, "--refresh", "incremental").out  # primes the cache
    cache = next((tmp_path / ".reconciler" / "cache").glob("readycloud-*.json")).read_text()
    assert OLD not in cache and OTHER not in cache and '"$sha256"' in cache
    box.clear_requests()
    again = run("plan", "-c", catalog, "--refresh", "incremental")
    assert "No changes." in again.out  # the digest matches the catalog's value: restored
    assert len([r for r in box.requests() if r["method"] == "GET"]) == 2  # from the cache: page + count
    monkeypatch.setenv("KEEP_DESC", NEW)  # the catalog's value changes: the plan must see it
    changed = run("plan", "-c", catalog, "--refresh", "incremental", "--format", "json")
    full = run("plan", "-c", catalog, "--format", "json")
    strip = lambda doc: {k: v for k, v in json.loads(doc).items() if k not in ("created_at", "context")}  # noqa: E731
    assert strip(changed.out) == strip(full.out)
    assert [(c["key"], c["fields"][0]["field"]) for c in strip(full.out)["changes"]] == [("KEEP", "description")]
    # The catalog stops calling it sensitive: the digests cached before still
    # compare right (restored where they match the catalog's plain value).
    Path(catalog).write_text("readycloud: {org: 1}\nproducts:\n"
                             f"  - {{code: KEEP, kind: goods, description: {OLD}, quantity: 1}}\n")
    box.clear_requests()
    assert "No changes." in run("plan", "-c", catalog, "--refresh", "incremental").out
    assert len([r for r in box.requests() if r["method"] == "GET"]) == 2


def test_top_level_sensitive_is_validated_with_line(run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    result = run("validate", "-c", write_catalog("readycloud: {org: 1}\nsensitive:\n  - descripton\n  - code\n"
                                                 "products: []\n"))
    assert result.code == 1
    assert "catalog.yaml:3: sensitive[0]: sensitive names unknown field 'descripton' (did you mean 'description'?)" \
        in result.err
    assert "catalog.yaml:4: sensitive[1]: the code cannot be sensitive" in result.err
    assert ":2: sensitive: sensitive must be a list of field names" in run(
        "validate", "-c", write_catalog("readycloud: {org: 1}\nsensitive: description\nproducts: []\n")).err


def test_a_value_from_the_environment_is_not_cached_in_clear(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a top-level list: a product's own ``${VAR}`` value, once live, is
    kept as a digest too (the other products' descriptions are not sensitive)."""
    monkeypatch.setenv("KEEP_DESC", OLD)
    catalog = write_catalog("readycloud: {org: 1}\nproducts:\n"
                            "  - {code: KEEP, kind: goods, description: \"${KEEP_DESC}\", quantity: 1}\n")
    assert "No changes." in run("plan", "-c", catalog, "--refresh", "incremental").out
    cache = next((tmp_path / ".reconciler" / "cache").glob("readycloud-*.json")).read_text()
    assert OLD not in cache and OTHER in cache
    box.clear_requests()
    assert "No changes." in run("plan", "-c", catalog, "--refresh", "incremental").out
    assert len([r for r in box.requests() if r["method"] == "GET"]) == 2


def test_a_vendor_error_that_repeats_a_sensitive_value_shows_it_hidden(box: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                       tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # a vendor's 400 may quote the value it refused: the one sent from ${KEEP_DESC}
    monkeypatch.setenv("KEEP_DESC", NEW)
    catalog = write_catalog(CATALOG.format(url=box.url))
    box.inject({"status": 400, "method": "PATCH", "content_type": "application/json", "count": None,
                "body": json.dumps({"description": [f"'{NEW}' is not allowed (was '{OLD}')"]})})
    result = run("apply", "-c", catalog, "--auto-approve")
    shown = result.out + result.err
    assert result.code == 1 and "is not allowed" in shown, shown
    assert NEW not in shown and OLD not in shown, shown
    assert not any(NEW in text or OLD in text for text in written(tmp_path).values())
