"""The plan keeps the codes of the live products the catalog does not manage:
listed in the JSON document (and saved plans), shown by text and Markdown
with --show-unmanaged; plan files saved before they were kept still load."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.plan import build_plan, planfile
from reconciler.plan.model import Plan
from reconciler.render import markdown, text
from reconciler.render.json import render_plan

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.v1.json").read_text())


def live(code: str, pk: int) -> dict[str, object]:
    return {"code": code, "kind": "goods", "url": f"/api/v2/orgs/1/products/{pk}/"}


def planned() -> Plan:
    catalog = build_catalog(load_yaml("readycloud: {org: 1}\nproducts:\n - {code: A, kind: goods}\n"
                                      " - {code: ONLY-OTHER-VENDOR, cobuilder: {id: 5}}\n", "c.yaml"), "c.yaml", "d")
    index = {"A": [live("A", 1)], "Z": [live("Z", 2), live("Z", 3)], "B": [live("B", 4)],
             "ONLY-OTHER-VENDOR": [live("ONLY-OTHER-VENDOR", 5)]}
    return build_plan(catalog, {"readycloud": index, "cobuilder": {5: []}})


def test_codes_sorted_once_each_while_the_count_counts_live_products() -> None:
    plan = planned()
    assert plan.unmanaged == 4 and plan.unmanaged_codes == ("B", "ONLY-OTHER-VENDOR", "Z")


def test_the_json_document_lists_them_and_follows_the_schema(tmp_path: Path) -> None:
    plan = planned()
    doc = json.loads(render_plan(plan))
    jsonschema.validate(doc, SCHEMA)
    assert doc["unmanaged"] == ["B", "ONLY-OTHER-VENDOR", "Z"] and doc["counts"]["unmanaged"] == 4
    path = tmp_path / "plan.json"
    planfile.save(plan, path)
    assert planfile.load(path).plan.unmanaged_codes == plan.unmanaged_codes
    edited = json.loads(path.read_text())
    edited["unmanaged"] = ["B"]
    path.write_text(json.dumps(edited))
    with pytest.raises(planfile.PlanFileError, match="checksum mismatch"):
        planfile.load(path)


def test_a_plan_saved_before_the_codes_were_kept_still_loads(tmp_path: Path) -> None:
    old = Plan((), unchanged=1, catalog_digest="d", unmanaged=3)  # (a count, and no codes)
    path = tmp_path / "old.json"
    planfile.save(old, path)
    doc = json.loads(path.read_text())
    del doc["unmanaged"]
    path.write_text(json.dumps(doc))
    loaded = planfile.load(path).plan
    assert loaded.unmanaged == 3 and loaded.unmanaged_codes == ()
    doc["unmanaged"] = "B"
    path.write_text(json.dumps(doc))
    with pytest.raises(planfile.PlanFileError, match="malformed plan file"):
        planfile.load(path)


def test_text_and_markdown_show_them_when_asked() -> None:
    plan = planned()
    assert "Unmanaged" not in text.render_plan(plan)
    shown = text.render_plan(plan, show_unmanaged=True)
    assert "Unmanaged: 3 live product codes the catalog does not manage" in shown
    assert "\n  B\n  ONLY-OTHER-VENDOR\n  Z\n" in shown
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged, 4 unmanaged." in shown
    assert "<code>Z</code>" not in markdown.render_plan(plan)
    comment = markdown.render_plan(plan, show_unmanaged=True)
    assert "<summary>Unmanaged: 3 live product codes" in comment and "- <code>Z</code>" in comment


def test_markdown_cuts_a_long_list_to_fit_a_comment() -> None:
    codes = tuple(f"CODE-{i:06}" for i in range(20_000))
    comment = markdown.render_plan(Plan((), unmanaged=len(codes), unmanaged_codes=codes), show_unmanaged=True)
    assert len(comment) <= markdown.LIMIT and "more left out to fit a comment" in comment
