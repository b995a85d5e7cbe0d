"""A saved plan cannot be forged or replayed elsewhere, and a partly applied one can be finished."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from reconciler.plan import planfile
from reconciler.plan.model import fingerprint
from reconciler.sandbox import Sandbox

BASE = "readycloud: {org: 1}\n"
CATALOG = BASE + """policy: {protect: ["CORE-*"]}
products:
  - {code: A, quantity: 2}
  - {code: GONE, absent: true}
"""


def writes(box: Sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in box.requests() if r["method"] != "GET"]


def reseal(doc: dict[str, Any]) -> dict[str, Any]:
    """What a forger does: recompute the (unkeyed) checksum after editing."""
    return {**doc, "checksum": planfile.plan_of(doc).checksum}


def listed(box: Sandbox, code: str) -> dict[str, Any]:
    """The product as the API lists it (what a forger reads to fake a fingerprint)."""
    page = httpx.get(f"{box.readycloud_base_url}/orgs/1/products/", params={"limit": 100},
                     headers={"Authorization": f"Bearer {os.environ['READYCLOUD_TOKEN']}"}).json()
    return next(p for p in page["results"] if p["code"] == code)


def _delete(box: Sandbox, key: str) -> dict[str, Any]:
    live = listed(box, key)
    return {"vendor": "readycloud", "action": "delete", "key": key, "resource_id": live["url"].split("/")[-2],
            "fingerprint": fingerprint(live), "fields": [], "body": None, "patch": [], "live": live}


def _add(key: str) -> Callable[[dict[str, Any], Sandbox], None]:
    return lambda doc, box: doc["changes"].append(_delete(box, key))


def _edit_update(body: dict[str, Any]) -> Callable[[dict[str, Any], Sandbox], None]:
    def edit(doc: dict[str, Any], box: Sandbox) -> None:
        update = next(c for c in doc["changes"] if c["action"] == "update")
        update["body"] = body
        update["fields"] = [{"field": k, "before": 1, "after": v, "sensitive": False} for k, v in body.items()]
    return edit


def _retarget(pk: str) -> Callable[[dict[str, Any], Sandbox], None]:
    def edit(doc: dict[str, Any], box: Sandbox) -> None:
        next(c for c in doc["changes"] if c["action"] == "delete")["resource_id"] = pk
    return edit


FORGERIES = {
    "delete of a protected product": (_add("CORE-1"), "CORE-1", "protected by policy.protect"),
    "delete of a product the catalog never tombstoned": (_add("B"), "B",
                                                         "neither tombstones it nor prunes it"),
    "a price change the catalog does not ask for": (_edit_update({"quantity": 2, "unit_price": "1.00 USD"}),
                                                    "A", "unit_price is not the catalog's value"),
    "a value the catalog does not ask for": (_edit_update({"quantity": 200}), "A",
                                            "quantity is not the catalog's value"),
    "a path-traversal resource_id": (_retarget("../../2/products/1"), "GONE",
                                     "resource_id '../../2/products/1' is not a ReadyCloud product id"),
}


@pytest.mark.parametrize("forgery", list(FORGERIES), ids=list(FORGERIES))
def test_a_forged_plan_with_a_recomputed_checksum_is_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
        forgery: str, env: Sandbox, run, write_catalog, tmp_path: Path) -> None:
    env.seed_readycloud(1, [{"code": c, "kind": "goods", "quantity": 1} for c in ("A", "CORE-1", "B", "GONE")])
    env.seed_readycloud(2, [{"code": "OTHER-ORG", "kind": "goods"}])
    catalog = write_catalog(CATALOG)
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    edit, key, reason = FORGERIES[forgery]
    doc = json.loads(plan_path.read_text())
    edit(doc, env)
    plan_path.write_text(json.dumps(reseal(doc)))
    env.clear_requests()
    result = run("apply", str(plan_path), "-c", catalog)
    assert result.code == 1
    assert "nothing was applied" in result.err and f"{key}: the plan's readycloud" in result.err
    assert reason in result.err
    assert writes(env) == []
    assert len(env.readycloud_products(1)) == 4 and len(env.readycloud_products(2)) == 1


def test_an_unforged_plan_applies_its_changes_with_ids_from_the_listing(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                        tmp_path: Path) -> None:
    env.seed_readycloud(1, [{"code": c, "kind": "goods", "quantity": 1} for c in ("A", "CORE-1", "B", "GONE")])
    catalog = write_catalog(CATALOG)
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    env.clear_requests()
    assert run("apply", str(plan_path), "-c", catalog).code == 0
    assert sorted(writes(env)) == [("DELETE", "/api/v2/orgs/1/products/4/"), ("PATCH", "/api/v2/orgs/1/products/1/")]


def test_a_plan_made_against_another_server_or_org_is_refused(env: Sandbox, run, write_catalog, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}])
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n")
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    doc = json.loads(plan_path.read_text())
    assert doc["origin"]["vendors"]["readycloud"] == {"base_url": env.readycloud_base_url, "org": 1}
    assert doc["origin"]["reconciler"]
    other = env.readycloud_base_url.replace("127.0.0.1", "localhost")  # the same server under another name
    monkeypatch.setenv("READYCLOUD_BASE_URL", other)
    env.clear_requests()
    result = run("apply", str(plan_path), "-c", catalog)
    assert result.code == 1 and "made against another server or org" in result.err
    assert f"made against base_url {env.readycloud_base_url} org 1, this run is against base_url {other} org 1" \
        in result.err
    monkeypatch.setenv("READYCLOUD_BASE_URL", env.readycloud_base_url)
    doc["origin"]["vendors"]["readycloud"]["org"] = 2  # a plan made for org 2
    plan_path.write_text(json.dumps(doc))
    result = run("apply", str(plan_path), "-c", catalog)
    assert result.code == 1 and "org 2, this run is against" in result.err
    assert env.requests() == [] and env.readycloud_products(1)[0]["quantity"] == 1


def test_plans_are_signed_with_the_key_and_refused_when_tampered_or_unsigned(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                             tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    key = "plan-key-0c81f2"
    env.seed_readycloud(1, [{"code": "A", "kind": "goods", "quantity": 1}])
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n")
    plan_path = tmp_path / "plan.json"
    monkeypatch.setenv("RECONCILER_PLAN_KEY", key)
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    signed = plan_path.read_text()
    doc = json.loads(signed)
    assert doc["signature"]["algorithm"] == "hmac-sha256" and key not in signed
    for tampered in ({**doc, "force": True}, {k: v for k, v in doc.items() if k != "signature"}):
        plan_path.write_text(json.dumps(tampered))
        result = run("apply", str(plan_path), "-c", catalog)
        assert result.code == 1 and "RECONCILER_PLAN_KEY" in result.err
        assert ("does not verify" if "signature" in tampered else "not signed") in result.err
    assert writes(env) == []
    plan_path.write_text(signed)
    monkeypatch.setenv("RECONCILER_PLAN_KEY", "another-key")
    assert "does not verify" in run("apply", str(plan_path), "-c", catalog).err
    monkeypatch.setenv("RECONCILER_PLAN_KEY", key)
    applied = run("apply", str(plan_path), "-c", catalog)
    assert applied.code == 0, applied.err
    assert env.readycloud_products(1)[0]["quantity"] == 2


def test_a_partly_applied_plan_is_finished_by_applying_it_again(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    env.seed_readycloud(1, [{"code": c, "kind": "goods", "quantity": 1} for c in ("A", "B")])
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n  - {code: B, quantity: 3}\n"
                                   "  - {code: C, kind: tax}\n")
    plan_path = str(tmp_path / "plan.json")
    assert run("plan", "-c", catalog, "--out", plan_path).code == 0
    env.inject({"status": 400, "method": "PATCH", "path_contains": "/products/2/"})  # B's update fails once
    first = run("apply", plan_path, "-c", catalog)
    assert first.code == 1 and "failed" in first.out
    env.clear_requests()
    again = run("apply", plan_path, "-c", catalog)
    assert again.code == 0, again.err
    assert "2 change(s) of" in again.out and "already in effect" in again.out and "A, C" in again.out
    assert writes(env) == [("PATCH", "/api/v2/orgs/1/products/2/")]
    assert {p["code"]: p["quantity"] for p in env.readycloud_products(1) if p["code"] != "C"} == {"A": 2, "B": 3}
    env.set_readycloud_product_raw(1, 1, {"quantity": 9})  # A now differs from both its before and after
    stale = run("apply", plan_path, "-c", catalog)
    assert stale.code == 1 and "A (readycloud id 1) changed since the plan: quantity is 9, planned against 1" \
        in stale.err


def test_the_json_apply_of_a_partly_applied_plan_lists_what_was_already_done(env: Sandbox, run,  # type: ignore[no-untyped-def]
                                                                              write_catalog, tmp_path: Path) -> None:
    import jsonschema

    schema = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "plan.v1.json").read_text())
    env.seed_readycloud(1, [{"code": c, "kind": "goods", "quantity": 1} for c in ("A", "B")])
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n  - {code: B, quantity: 3}\n")
    plan_path = str(tmp_path / "plan.json")
    assert run("plan", "-c", catalog, "--out", plan_path).code == 0
    env.inject({"status": 400, "method": "PATCH", "path_contains": "/products/2/"})  # B's update fails once
    assert run("apply", plan_path, "-c", catalog).code == 1
    again = run("apply", plan_path, "-c", catalog, "--format", "json")
    assert again.code == 0, again.err
    doc = json.loads(again.out)
    jsonschema.validate(doc, schema)
    assert [(r["key"], r["status"]) for r in doc["results"]] == [("B", "succeeded")]
    assert doc["already_done"] == [{"vendor": "readycloud", "action": "update", "key": "A", "resource_id": "1"}]
    done = run("apply", plan_path, "-c", catalog, "--format", "json")  # (all of it in effect now)
    assert done.code == 0, done.err
    doc = json.loads(done.out)
    jsonschema.validate(doc, schema)
    assert doc["results"] == [] and [c["key"] for c in doc["already_done"]] == ["A", "B"]


def test_a_threshold_approved_at_plan_time_is_honoured_by_apply(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    env.seed_readycloud(1, [{"code": f"SHOP-{i}", "kind": "goods"} for i in range(10)])
    catalog = write_catalog(BASE + 'policy: {prune: true, scope: ["SHOP-*"]}\nproducts:\n'
                            + "".join(f"  - {{code: SHOP-{i}, kind: goods}}\n" for i in range(8)))
    plan_path = tmp_path / "plan.json"
    refused = run("plan", "-c", catalog, "--detailed-exitcode", "--format", "markdown", "--out", str(plan_path))
    assert refused.code == 1 and "Safety threshold crossed" in refused.out
    assert json.loads(plan_path.read_text())["force"] is False
    assert run("apply", str(plan_path), "-c", catalog).code == 1 and writes(env) == []
    approved = run("plan", "-c", catalog, "--detailed-exitcode", "--force", "--out", str(plan_path))
    assert approved.code == 2, approved.err
    assert json.loads(plan_path.read_text())["force"] is True
    applied = run("apply", str(plan_path), "-c", catalog)  # no --force: the approval was reviewed with the plan
    assert applied.code == 0, applied.err
    assert len(env.readycloud_products(1)) == 8


def test_a_plan_made_with_a_sandbox_applies_with_the_sandbox(run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each --sandbox command starts its sandbox on a new port: the plan names it by its state."""
    monkeypatch.chdir(tmp_path)
    Path("catalog.yaml").write_text(BASE + "products:\n  - {code: A, kind: goods, quantity: 2}\n")
    assert run("plan", "--sandbox", "--out", "plan.json").code == 0
    assert json.loads(Path("plan.json").read_text())["origin"]["vendors"]["readycloud"]["base_url"] == \
        "sandbox:.reconciler/sandbox.sqlite3/api/v2"
    applied = run("apply", "plan.json", "--sandbox")
    assert applied.code == 0, applied.err
    assert run("plan", "--sandbox", "--detailed-exitcode").code == 0
