"""The JSON documents validate against the schema file in the repo."""
import json
from pathlib import Path

import jsonschema

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.plan.planfile import Provenance, save
from reconciler.render.json import render_apply, render_plan

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "plan.v1.json").read_text())


def sample() -> Plan:
    return Plan((Change("readycloud", "update", "A", "1", (FieldChange("quantity", 1, 2),), {"quantity": 2},
                        fingerprint="f", patch=({"op": "replace", "path": "/quantity", "value": 2},)),
                 Change("readycloud", "create", "B", None, (FieldChange("code", None, "B"),), {"code": "B"}),
                 Change("cobuilder", "delete", "A", "10", (FieldChange("g" * 22, [], None),), {"propertyGuid": "g" * 22},
                        fingerprint="x")), unchanged=3)


def test_plan_and_apply_documents_follow_the_schema() -> None:
    p = sample()
    jsonschema.validate(json.loads(render_plan(p)), SCHEMA)
    result = ApplyResult(tuple(ChangeResult(c, "succeeded") for c in p.changes))
    doc = json.loads(render_apply(p, result))
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"] == {"succeeded": 3, "failed": 0, "skipped": 0}


def test_a_saved_plan_file_with_origin_force_and_signature_follows_the_schema(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    made = Provenance({"readycloud": {"base_url": "https://rc.example/api/v2", "org": 1},
                       "cobuilder": {"base_url": "https://cb.example/api/v3"}}, force=True)
    save(sample(), path, provenance=made, key="schema-test-key")
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert {"origin", "force", "signature"} <= set(SCHEMA["properties"]) and doc["force"] is True
    doc["signature"]["algorithm"] = "md5"
    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("an unknown signature algorithm must not validate")


def test_schema_rejects_a_wrong_document() -> None:
    doc = json.loads(render_plan(sample()))
    doc["changes"][0]["action"] = "upsert"
    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("an unknown action must not validate")


def test_cobuilder_property_counts_are_described_by_the_schema() -> None:
    p = Plan(sample().changes, unchanged=3, properties_unchanged=2)
    doc = json.loads(render_plan(p))
    assert doc["counts"]["properties_delete"] == 1 and doc["counts"]["properties_unchanged"] == 2
    jsonschema.validate(doc, SCHEMA)
    assert set(doc["counts"]) == set(SCHEMA["properties"]["counts"]["properties"])
