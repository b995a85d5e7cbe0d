"""Saved plan documents: signature (RECONCILER_PLAN_KEY) and where the plan was made."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.plan import planfile
from reconciler.plan.model import Change, FieldChange, Plan
from reconciler.plan.planfile import PlanFileError, Provenance

KEY = "k-3f9a1c77"
MADE = Provenance({"readycloud": {"base_url": "https://rc.example/api/v2", "org": 1}}, force=True)


def sample() -> Plan:
    return Plan((Change("readycloud", "update", "A", "1", (FieldChange("quantity", 1, 2),), {"quantity": 2},
                        fingerprint="f"),), catalog_digest="d")


def test_a_signed_plan_verifies_with_its_key_and_keeps_where_it_was_made(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    planfile.save(sample(), path, provenance=MADE, key=KEY)
    text = path.read_text()
    assert KEY not in text
    saved = planfile.load(path, KEY)
    assert saved.signed and saved.provenance.force and saved.provenance.vendors == MADE.vendors
    assert saved.plan.checksum == sample().checksum
    assert not planfile.load(path).signed  # no key set: not checked (the plan is re-derived all the same)


@pytest.mark.parametrize("edit", ["tampered", "unsigned", "other key", "non-ASCII"])
def test_a_plan_is_refused_when_its_signature_does_not_verify(tmp_path: Path, edit: str) -> None:
    path = tmp_path / "plan.json"
    planfile.save(sample(), path, provenance=MADE, key=KEY)
    doc = json.loads(path.read_text())
    key = KEY
    if edit == "tampered":
        doc["origin"]["vendors"]["readycloud"]["org"] = 2
    elif edit == "unsigned":
        del doc["signature"]
    elif edit == "non-ASCII":  # (compare_digest refuses non-ASCII text: a clean refusal, not a crash)
        doc["signature"]["value"] = "\u00e9" * 64
    else:
        key = "another"
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanFileError, match="not signed" if edit == "unsigned" else "does not verify") as caught:
        planfile.load(path, key)
    assert "RECONCILER_PLAN_KEY" in str(caught.value) and KEY not in str(caught.value)


def test_provenance_mismatch_names_both_servers() -> None:
    here = Provenance({"readycloud": {"base_url": "https://rc.example/api/v2", "org": 3}})
    (message,) = MADE.mismatches(here)
    assert message == ("readycloud: the plan was made against base_url https://rc.example/api/v2 org 1, "
                       "this run is against base_url https://rc.example/api/v2 org 3")
    assert MADE.mismatches(Provenance(dict(MADE.vendors))) == []


def test_a_plan_that_does_not_say_where_it_was_made_is_refused() -> None:
    (message,) = Provenance({}).mismatches(MADE)
    assert message.startswith("readycloud: the plan does not record which server it was made against")


def test_numbers_out_of_range_are_a_malformed_plan_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    planfile.save(sample(), path, provenance=MADE)
    path.write_text(path.read_text().replace('"unchanged": 0', '"unchanged": 1e999'))
    with pytest.raises(PlanFileError, match="malformed plan file"):
        planfile.load(path)


@pytest.mark.parametrize("op", [None, 7, ["add"], {"op": "add", "path": ["quantity"], "value": 2}])
def test_a_patch_operation_of_the_wrong_type_is_a_malformed_plan_not_a_crash(tmp_path: Path, op: object) -> None:
    path = tmp_path / "plan.json"
    planfile.save(sample(), path, provenance=MADE)
    doc = json.loads(path.read_text())
    doc["changes"][0]["patch"] = [op]
    path.write_text(json.dumps(doc))
    with pytest.raises(PlanFileError, match="malformed plan file"):
        planfile.load(path)


def test_a_killed_writers_temporary_plan_is_removed_by_the_next_save(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".plan-{int(dead.stdout)}-abcd1234"
    leftover.write_text("{half a plan")
    running = tmp_path / f".plan-{os.getppid()}-efgh5678"  # a live writer's: kept
    running.write_text("{")
    planfile.save(Plan(changes=()), tmp_path / "plan.json")
    assert not leftover.exists() and running.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["plan.json", running.name])
