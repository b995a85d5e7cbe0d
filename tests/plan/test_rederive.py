"""Re-deriving a saved plan: Cobuilder changes (ReadyCloud ones are covered over HTTP in
tests/test_cli_saved_plan_trust.py)."""
from __future__ import annotations

import copy
import json

from reconciler.catalog.load import build_catalog
from reconciler.catalog.yamlload import load_yaml
from reconciler.plan import build_plan, planfile
from reconciler.plan.rederive import rederive
from reconciler.plan.select import ALL

G1, G2, G3 = ("1" * 22, "2" * 22, "3" * 22)
U = "U" * 22
CATALOG = build_catalog(load_yaml(f"""products:
  - code: A
    cobuilder:
      id: 10
      exclusive: true
      properties:
        - {{propertyGuid: "{G1}", unitGuid: {U}, values: [{{value: "new"}}]}}
        - {{propertyGuid: "{G2}", unitGuid: {U}, values: [{{value: "x"}}]}}
""", "c.yaml"), "c.yaml", "d")


def prop(guid: str, value: str) -> dict:  # type: ignore[type-arg]
    return {"propertyGuid": guid, "unitGuid": U, "parentId": 0, "values": [{"value": value}]}


BEFORE = {10: [prop(G2, "old"), prop(G3, "own, undeclared")]}  # G1 create, G2 update, G3 delete


def saved_copy(plan):  # type: ignore[no-untyped-def]
    """The plan as `apply PLANFILE` reads it back from its file."""
    return planfile.plan_of(json.loads(json.dumps(planfile.to_document(plan), default=str)))


def test_an_unchanged_plan_rederives_to_itself() -> None:
    plan = build_plan(CATALOG, {"cobuilder": BEFORE})
    result = rederive(saved_copy(plan), build_plan(CATALOG, {"cobuilder": BEFORE}), CATALOG, ALL)
    assert result.refused == () and result.done == ()
    assert [(c.action, c.body) for c in result.plan.changes] == [(c.action, c.body) for c in plan.changes]


def test_changes_already_in_effect_are_done_and_the_rest_applies() -> None:
    saved = saved_copy(build_plan(CATALOG, {"cobuilder": BEFORE}))
    partly = {10: [prop(G1, "new"), prop(G2, "old")]}  # the create and the delete happened, the update failed
    result = rederive(saved, build_plan(CATALOG, {"cobuilder": partly}), CATALOG, ALL)
    assert result.refused == ()
    assert sorted(c.action for c in result.done) == ["create", "delete"]
    assert [c.action for c in result.plan.changes] == ["update"]


def test_forged_cobuilder_changes_are_refused() -> None:
    plan = build_plan(CATALOG, {"cobuilder": BEFORE})
    doc = json.loads(json.dumps(planfile.to_document(plan), default=str))
    forgeries = []
    other_product = copy.deepcopy(doc)
    other_product["changes"][0]["resource_id"] = "99"  # another Cobuilder product
    forgeries.append((other_product, "is not the catalog's Cobuilder product 10"))
    other_value = copy.deepcopy(doc)
    other_value["changes"][1]["body"]["properties"][0]["values"] = [{"value": "forged"}]
    forgeries.append((other_value, f"property {G2} is not the catalog's value"))
    twice = copy.deepcopy(doc)
    twice["changes"].append(twice["changes"][2])
    forgeries.append((twice, "the plan holds this delete twice"))
    declared_delete = copy.deepcopy(doc)
    declared_delete["changes"][2]["body"] = {"propertyGuid": G1}
    forgeries.append((declared_delete, "the catalog declares the property"))
    for forged, reason in forgeries:
        result = rederive(planfile.plan_of(forged), build_plan(CATALOG, {"cobuilder": BEFORE}), CATALOG, ALL)
        assert result.plan.changes == () and any(reason in r for r in result.refused), reason


def test_values_changed_behind_the_plan_make_it_stale() -> None:
    saved = saved_copy(build_plan(CATALOG, {"cobuilder": BEFORE}))
    moved = {10: [prop(G2, "someone else's"), prop(G3, "own, undeclared")]}
    result = rederive(saved, build_plan(CATALOG, {"cobuilder": moved}), CATALOG, ALL)
    assert result.plan.changes == ()
    assert any("changed since the plan" in r and G2 in r for r in result.refused)
