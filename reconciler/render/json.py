"""Machine-readable output (schema version 1)."""
from __future__ import annotations

import json
from typing import Any

from reconciler.apply import ApplyResult
from reconciler.plan.model import Change, Plan
from reconciler.render.common import after, before

SCHEMA_VERSION = 1


def change_dict(change: Change) -> dict[str, Any]:
    return {
        "vendor": change.vendor, "action": change.action, "key": change.key,
        "resource_id": change.resource_id,
        "fields": [{"field": f.field, "before": before(f), "after": after(f)} for f in change.fields],
    }


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION, "kind": "plan", "checksum": plan.checksum,
        "catalog_digest": plan.catalog_digest, "counts": plan.counts,
        "changes": [change_dict(c) for c in plan.changes],
        "errors": [{"vendor": e.vendor, "key": e.key, "message": e.message} for e in plan.errors],
        "notes": list(plan.notes),
    }


def render_plan(plan: Plan) -> str:
    return json.dumps(plan_dict(plan), indent=2, ensure_ascii=False, default=str)


def render_apply(plan: Plan, result: ApplyResult) -> str:
    data = plan_dict(plan)
    data["kind"] = "apply"
    data["results"] = [{**change_dict(r.change), "status": r.status, "error": r.error} for r in result.results]
    data["summary"] = {"succeeded": len(result.succeeded), "failed": len(result.failed),
                       "skipped": len(result.skipped)}
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)
