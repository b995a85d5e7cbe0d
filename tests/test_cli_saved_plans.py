"""Saved plans, PR output, ownership and safety guards (issue: plan in PRs, apply from CD)."""
from __future__ import annotations

import json
from pathlib import Path

from reconciler.sandbox import Sandbox

BASE = "readycloud: {org: 1}\n"


def writes(box: Sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in box.requests() if r["method"] != "GET"]


def seed(box: Sandbox, codes: list[str], **fields: object) -> None:
    box.seed_readycloud(1, [{"code": c, "kind": "goods", **fields} for c in codes])


def test_plan_file_round_trip_applies_exactly_that_plan(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["A", "B"], quantity=1)
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n  - {code: C, kind: tax}\n")
    plan_path = tmp_path / "plan.json"
    planned = run("plan", "-c", catalog, "--out", str(plan_path), "--format", "json")
    assert planned.code == 0, planned.err
    doc = json.loads(plan_path.read_text())
    assert json.loads(planned.out)["checksum"] == doc["checksum"]
    assert doc["format"] == "reconciler-plan" and doc["schema_version"] == 1
    assert doc["counts"] == {"create": 1, "update": 1, "delete": 0, "unchanged": 0, "unmanaged": 1}
    update = next(c for c in doc["changes"] if c["action"] == "update")
    assert update["patch"] == [{"op": "replace", "path": "/quantity", "value": 2}]
    assert update["fingerprint"] and update["resource_id"] == "1"

    env.clear_requests()
    applied = run("apply", str(plan_path), "-c", catalog)  # no terminal, no --auto-approve: a reviewed plan
    assert applied.code == 0, applied.err
    assert sorted(writes(env)) == [("PATCH", "/api/v2/orgs/1/products/1/"), ("POST", "/api/v2/orgs/1/products/")]
    gets = [r for r in env.requests() if r["method"] == "GET"]
    assert len(gets) == 1 and "updated_at__gte" not in gets[0]["query"]  # the listing, as plan reads it
    assert run("plan", "-c", catalog, "--detailed-exitcode").code == 0


def test_stale_plan_is_refused_naming_the_product(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["A", "B", "C"], quantity=1)
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n  - {code: B, quantity: 2}\n")
    plan_path = str(tmp_path / "plan.json")
    assert run("plan", "-c", catalog, "--out", plan_path).code == 0
    env.set_readycloud_product_raw(1, 3, {"description": "someone else, untouched by the plan"})
    env.set_readycloud_product_raw(1, 2, {"quantity": 7})  # B changed behind the plan's back
    env.clear_requests()
    result = run("apply", plan_path, "-c", catalog)
    assert result.code == 1
    assert "does not match the catalog and the live state; nothing was applied" in result.err
    assert "B (readycloud id 2) changed since the plan: quantity is 7, planned against 1" in result.err
    assert "A (readycloud" not in result.err
    assert writes(env) == []


def test_deleted_and_newly_created_products_make_a_plan_stale(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["A", "B"], quantity=1)
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n  - {code: NEW, kind: goods}\n")
    plan_path = str(tmp_path / "plan.json")
    assert run("plan", "-c", catalog, "--out", plan_path).code == 0
    env.delete_readycloud_product_raw(1, 1)
    env.seed_readycloud(1, [{"code": "NEW", "kind": "tax"}])  # (one equal to the catalog's would be done)
    env.clear_requests()
    result = run("apply", plan_path, "-c", catalog)
    assert result.code == 1
    assert "A (readycloud): " in result.err and "'kind' is required to create product 'A'" in result.err
    assert "NEW was created in ReadyCloud since the plan (id 3) and differs from the catalog" in result.err
    assert writes(env) == []


def test_catalog_edited_after_plan_is_refused(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["A"], quantity=1)
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n")
    plan_path = str(tmp_path / "plan.json")
    assert run("plan", "-c", catalog, "--out", plan_path).code == 0
    write_catalog(BASE + "products:\n  - {code: A, quantity: 3}\n")
    result = run("apply", plan_path, "-c", catalog)
    assert result.code == 1 and "changed since" in result.err and "run plan again" in result.err


def test_tampered_plan_file_is_refused(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["A"], quantity=1)
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n")
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    plan_path.write_text(plan_path.read_text().replace('"quantity": 2', '"quantity": 200'))
    result = run("apply", str(plan_path), "-c", catalog)
    assert result.code == 1 and "checksum mismatch" in result.err


PRUNE = BASE + """policy:
  prune: true
  scope: ["SHOP-*"]
  protect: ["SHOP-CORE-*"]
  min_existing: 0
  max_delete_percent: 100
products:
  - {code: SHOP-1, quantity: 1}
"""


def test_prune_inside_scope_only_and_unmanaged_counted(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["SHOP-1", "SHOP-2", "OTHER-1", "OTHER-2"], quantity=1)
    result = run("apply", "-c", write_catalog(PRUNE), "--auto-approve")
    assert result.code == 0, result.err
    assert "Plan: 0 to create, 0 to update, 1 to delete, 1 unchanged, 2 unmanaged." in result.out
    assert sorted(p["code"] for p in env.readycloud_products(1)) == ["OTHER-1", "OTHER-2", "SHOP-1"]


def test_protected_code_is_never_deleted(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["SHOP-1", "SHOP-CORE-9"], quantity=1)
    result = run("apply", "-c", write_catalog(PRUNE), "--auto-approve")
    assert result.code == 1
    assert "'SHOP-CORE-9' is protected by policy.protect and would be deleted by prune" in result.out
    tomb = write_catalog(PRUNE + "  - {code: SHOP-CORE-9, absent: true}\n")
    result = run("apply", "-c", tomb, "--auto-approve", "--force")
    assert result.code == 1 and "would be deleted by the tombstone" in result.out
    assert writes(env) == [] and len(env.readycloud_products(1)) == 2


def test_thresholds_render_in_full_and_need_force(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env, [f"SHOP-{i}" for i in range(20)], quantity=1)
    keep = "".join(f"  - {{code: SHOP-{i}, quantity: 1}}\n" for i in range(16))
    catalog = write_catalog(BASE + 'policy: {prune: true, scope: ["SHOP-*"], max_update_percent: 5}\nproducts:\n'
                            + keep.replace("SHOP-0, quantity: 1", "SHOP-0, quantity: 2")
                                  .replace("SHOP-1, quantity: 1", "SHOP-1, quantity: 2"))
    planned = run("plan", "-c", catalog, "--detailed-exitcode")
    assert planned.code == 1 and "crosses a safety threshold" in planned.err  # fails the PR check
    assert planned.out.startswith("! safety threshold crossed: max_delete_percent")  # on top
    assert planned.out.count("- product SHOP-") == 4  # all four deletes still shown
    assert ("max_delete_percent: the plan would delete 4 of 20 managed live products (20.0%), "
            "10.0 points over the limit of 10%") in planned.out
    assert "max_update_percent: the plan would update 2 of 20 managed live products (10.0%)" in planned.out
    refused = run("apply", "-c", catalog, "--auto-approve")
    assert refused.code == 1 and "crosses a safety threshold; nothing was applied" in refused.err
    assert writes(env) == []
    forced = run("apply", "-c", catalog, "--auto-approve", "--force")
    assert forced.code == 0, forced.err
    assert len(env.readycloud_products(1)) == 16
    methods = [m for m, _ in writes(env)]
    assert methods.index("DELETE") > max(i for i, m in enumerate(methods) if m == "PATCH")  # deletes last


def test_thresholds_do_not_apply_below_min_existing(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["SHOP-1", "SHOP-2"], quantity=1)
    catalog = write_catalog(BASE + 'policy: {prune: true, scope: ["SHOP-*"]}\nproducts: []\n')
    result = run("apply", "-c", catalog, "--auto-approve")
    assert result.code == 0 and env.readycloud_products(1) == []


def test_target_and_exclude(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    seed(env, ["A-1", "A-2", "B-1"], quantity=1)
    catalog = write_catalog(BASE + "products:\n" + "".join(f"  - {{code: {c}, quantity: 5}}\n"
                                                             for c in ("A-1", "A-2", "B-1")))
    result = run("apply", "-c", catalog, "--auto-approve", "--target", "A-*", "--exclude", "A-2")
    assert result.code == 0, result.err
    assert {p["code"]: p["quantity"] for p in env.readycloud_products(1)} == {"A-1": 5, "A-2": 1, "B-1": 1}


def test_no_secret_in_any_output_or_plan_file(env: Sandbox, run, write_catalog, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    secret = "s3cr3t-description-value-91"
    monkeypatch.setenv("PRODUCT_SECRET", secret)
    seed(env, ["A"], quantity=1, description="old")
    catalog = write_catalog(BASE + "products:\n  - code: A\n    description: ${PRODUCT_SECRET}\n"
                            "  - {code: B, kind: goods, part_number: hidden-pn-77, sensitive: [part_number]}\n")
    plan_path = tmp_path / "plan.json"
    outputs = []
    for fmt in ("text", "markdown", "json"):
        result = run("plan", "-c", catalog, "--format", fmt, "--out", str(plan_path))
        assert result.code == 0, result.err
        assert "(sensitive)" in result.out
        outputs += [result.out, result.err, plan_path.read_text()]
    applied = run("apply", str(plan_path), "-c", catalog, "--format", "json")
    assert applied.code == 0, applied.err
    outputs += [applied.out, applied.err]
    bad = run("plan", "-c", catalog)  # the token too, including on failure
    monkeypatch.setenv("READYCLOUD_TOKEN", "bad-token-zz9")
    outputs += [bad.out, bad.err, run("plan", "-c", catalog).err]
    for text in outputs:
        for value in (secret, "hidden-pn-77", env.token, "bad-token-zz9"):
            assert value not in text
    live = {p["code"]: p for p in env.readycloud_products(1)}
    assert live["A"]["description"] == secret and live["B"]["part_number"] == "hidden-pn-77"


def test_a_saved_plan_changing_a_structured_field_applies(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A custom_fields update carries DeepDiff detail paths; they must survive the
    round trip, or the reloaded plan's checksum differs and apply refuses it."""
    seed(env, ["A"], custom_fields={"Top color": {"value": "Red"}})
    catalog = write_catalog(BASE + "products:\n  - code: A\n    custom_fields:\n"
                                   "      Top color: {value: Blue}\n      Size: {value: M}\n")
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 0
    (update,) = json.loads(plan_path.read_text())["changes"]
    assert update["fields"][0]["detail"]  # where inside custom_fields the two differ
    applied = run("apply", str(plan_path), "-c", catalog)
    assert applied.code == 0, applied.err
    assert env.readycloud_products(1)[0]["custom_fields"] == {"Top color": {"value": "Blue"}, "Size": {"value": "M"}}


def test_editing_what_apply_decides_by_is_refused(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Not only the changes: a file whose crossed thresholds, errors or
    freshness context were edited would let apply skip a guard."""
    seed(env, [f"SHOP-{i}" for i in range(20)], quantity=1)
    catalog = write_catalog(BASE + 'policy: {prune: true, scope: ["SHOP-*"]}\nproducts:\n'
                            + "".join(f"  - {{code: SHOP-{i}, quantity: 1}}\n" for i in range(16)))
    plan_path = tmp_path / "plan.json"
    assert run("plan", "-c", catalog, "--out", str(plan_path)).code == 1  # (saved, crossing a threshold)
    original = json.loads(plan_path.read_text())
    assert original["violations"]
    edits = {"violations": [], "errors": [{"vendor": "readycloud", "key": "X", "message": "m"}],
             "context": {"readycloud": {**original["context"]["readycloud"], "watermark": "2999-01-01T00:00:00Z"}}}
    for key, value in edits.items():
        plan_path.write_text(json.dumps({**original, key: value}))
        result = run("apply", str(plan_path), "-c", catalog)
        assert result.code == 1 and "checksum mismatch" in result.err, key
    assert writes(env) == [] and len(env.readycloud_products(1)) == 20
    plan_path.write_text(json.dumps(original))
    refused = run("apply", str(plan_path), "-c", catalog)  # the unedited file: the threshold still holds
    assert refused.code == 1 and "crosses a safety threshold" in refused.err
    assert run("apply", str(plan_path), "-c", catalog, "--force").code == 0
    assert len(env.readycloud_products(1)) == 16



def test_userinfo_in_an_environment_base_url_is_not_written_to_a_plan(tmp_path: Path) -> None:
    """``READYCLOUD_BASE_URL=https://user:pass@host/...``: the plan's origin
    (and a mismatch message built from it) names the host, never the password."""
    from reconciler import engine
    from reconciler.plan import Plan, planfile
    from reconciler.vendors.readycloud.provider import ReadyCloudProvider

    provider = ReadyCloudProvider(1, "https://ops:pw-hidden-4411@rc.example/api/v2", "tok")
    try:
        made = engine.provenance({"readycloud": provider})
    finally:
        provider.close()
    assert made.vendors["readycloud"] == {"base_url": "https://rc.example/api/v2", "org": 1}
    path = tmp_path / "plan.json"
    planfile.save(Plan(changes=()), path, provenance=made)
    assert "pw-hidden-4411" not in path.read_text()
    other = planfile.Provenance({"readycloud": {"base_url": "https://rc.example/api/v2", "org": 2}})
    assert "pw-hidden-4411" not in " ".join(made.mismatches(other))


def test_plan_out_never_replaces_a_device_or_pipe_and_keeps_a_link(env: Sandbox, run, write_catalog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import os
    import stat

    seed(env, ["A"], quantity=1)
    catalog = write_catalog(BASE + "products:\n  - {code: A, quantity: 2}\n")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)  # (as /dev/null or /dev/stdout, which a rename as root would replace with a file)
    done = run("plan", "-c", catalog, "--out", str(pipe))
    assert done.code == 1 and f"Error: {pipe} is not a regular file" in done.err
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    (tmp_path / "plans").mkdir()
    link = tmp_path / "plan.json"
    link.symlink_to("plans/latest.json")
    assert run("plan", "-c", catalog, "--out", str(link)).code == 0
    assert link.is_symlink() and json.loads((tmp_path / "plans" / "latest.json").read_text())["counts"]["update"] == 1
