"""`-c DIR` and `-c` twice, end to end against the sandbox (issue 14)."""
from __future__ import annotations

import json
from pathlib import Path

from reconciler.sandbox import Sandbox

SINGLE = """readycloud: {org: 1}
policy: {prune: true, scope: ['S-*'], max_delete_percent: 100, min_existing: 0}
products:
  - {code: S-1, kind: goods, quantity: 5}
  - {code: S-2, kind: goods, description: new}
  - {code: S-3, absent: true}
  - {code: S-4, kind: tax}
"""
SPLIT = {
    "catalog/settings.yaml": "readycloud: {org: 1}\npolicy: {prune: true, scope: ['S-*'], max_delete_percent: 100, "
                             "min_existing: 0}\n",
    "catalog/goods/a.yaml": "products:\n  - {code: S-1, kind: goods, quantity: 5}\n"
                            "  - {code: S-2, kind: goods, description: new}\n",
    "catalog/goods/more/b.yml": "products:\n  - {code: S-3, absent: true}\n  - {code: S-4, kind: tax}\n",
}


def _seed(env: Sandbox, org: int) -> None:
    env.seed_readycloud(org, [{"code": "S-1", "kind": "goods", "quantity": 1},
                              {"code": "S-2", "kind": "goods", "description": "old"},
                              {"code": "S-3", "kind": "goods"}, {"code": "S-9", "kind": "goods"}])


def _changes(out: str) -> tuple[object, object]:
    doc = json.loads(out)
    return doc["counts"], [(c["action"], c["key"], c["fields"]) for c in doc["changes"]]


def test_a_catalog_split_over_a_directory_plans_as_the_single_file(env: Sandbox, run, write_catalog,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    _seed(env, 1)
    for name, text in SPLIT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    single = run("plan", "-c", write_catalog(SINGLE), "--format", "json")
    split = run("plan", "-c", str(tmp_path / "catalog"), "--format", "json")
    assert single.code == 0 and split.code == 0, split.err
    assert _changes(split.out) == _changes(single.out)
    assert json.loads(split.out)["counts"]["delete"] == 2  # the tombstone and the pruned S-9


def test_c_twice_points_the_same_products_at_another_org(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(env, 2)
    catalog = write_catalog(SINGLE)
    staging = write_catalog("readycloud: {org: 2}\n", name="staging.yaml")
    planned = run("plan", "-c", catalog, "-c", staging, "--out", str(tmp_path / "plan.json"))
    assert planned.code == 0, planned.err
    assert "Plan: 1 to create, 2 to update, 2 to delete" in planned.out
    assert {r["path"] for r in env.requests()} == {"/api/v2/orgs/2/products/"}
    applied = run("apply", str(tmp_path / "plan.json"), "-c", catalog, "-c", staging)
    assert applied.code == 0, applied.err
    assert sorted(p["code"] for p in env.readycloud_products(2)) == ["S-1", "S-2", "S-4"]
    refused = run("apply", str(tmp_path / "plan.json"), "-c", catalog)  # the plan is bound to both files
    assert refused.code == 1 and "changed since the plan was made" in refused.err
