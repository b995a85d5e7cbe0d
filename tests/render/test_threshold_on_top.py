"""A crossed safety threshold is the first thing every format shows."""
from __future__ import annotations

import json

import click

from reconciler.plan.model import Change, Plan
from reconciler.render import json as render_json
from reconciler.render import markdown, text

VIOLATION = "max_delete_percent: the plan would delete 4 of 20 managed live products (20.0%)"


def crossing() -> Plan:
    return Plan(tuple(Change("readycloud", "delete", f"P-{i}", str(i), fingerprint="f") for i in range(4)),
                violations=(VIOLATION,))


def test_threshold_section_on_top_of_text_markdown_and_json() -> None:
    plan = crossing()
    shown = click.unstyle(text.render_plan(plan))
    assert shown.splitlines()[0] == f"! safety threshold crossed: {VIOLATION}"
    comment = markdown.render_plan(plan)
    assert comment.index("Safety threshold crossed") < comment.index("| create | update |")
    doc = json.loads(render_json.render_plan(plan))
    assert list(doc)[:4] == ["format", "schema_version", "kind", "violations"] and doc["violations"] == [VIOLATION]
