"""--target/--exclude: a pattern matching nothing is an error; a partial plan says so (issue 14)."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from reconciler.sandbox import Sandbox

BASE = "readycloud: {org: 1}\nproducts:\n  - {code: A-1, quantity: 5}\n  - {code: B-1, quantity: 5}\n"
SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "plan.v1.json").read_text())


def test_a_target_or_exclude_matching_no_catalog_code_is_an_error(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog = write_catalog(BASE)
    env.clear_requests()
    for command in (("plan",), ("apply", "--auto-approve")):
        result = run(*command, "-c", catalog, "--target", "MUGG-*")
        assert result.code == 1 and "--target 'MUGG-*'" in result.err and "No changes" not in result.out
        result = run(*command, "-c", catalog, "--target", "A-*", "--exclude", "Z*")
        assert result.code == 1 and "--exclude 'Z*'" in result.err and "--target" not in result.err
    assert env.requests() == []  # refused before any read


def test_a_partial_plan_says_so_in_every_format(env: Sandbox, run, write_catalog) -> None:  # type: ignore[no-untyped-def]
    env.seed_readycloud(1, [{"code": c, "kind": "goods", "quantity": 1} for c in ("A-1", "B-1")])
    catalog = write_catalog(BASE)
    text = run("plan", "-c", catalog, "--target", "A-*")
    assert text.code == 0 and "Partial plan" in text.out and "A-*" in text.out
    markdown = run("plan", "-c", catalog, "--exclude", "B-*", "--format", "markdown")
    assert "Partial plan" in markdown.out and "B-&#42;" in markdown.out  # (the pattern as text, not emphasis)
    doc = json.loads(run("plan", "-c", catalog, "--target", "A-*", "--format", "json").out)
    assert doc["partial"] is True
    jsonschema.validate(doc, SCHEMA)
    whole = run("plan", "-c", catalog)
    assert "Partial plan" not in whole.out
    assert json.loads(run("plan", "-c", catalog, "--format", "json").out)["partial"] is False
    assert SCHEMA["properties"]["partial"]["type"] == "boolean"
