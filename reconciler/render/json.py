"""Machine-readable output: the plan document of :mod:`reconciler.plan.planfile`
(schema ``schemas/plan.v1.json``), plus results for apply."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

from reconciler.apply import ApplyResult
from reconciler.plan.model import Change, Plan
from reconciler.plan.planfile import Provenance, to_document
from reconciler.plan.select import Selection
from reconciler.sinks import DeliveryReport


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def render_plan(plan: Plan, selection: Selection = Selection(), provenance: Provenance | None = None,
                created_at: datetime | None = None) -> str:
    return _dump(to_document(plan, selection, created_at, provenance=provenance))


def render_apply(plan: Plan, result: ApplyResult, selection: Selection = Selection(),
                 notifications: DeliveryReport | None = None, done: Sequence[Change] = ()) -> str:
    """``done``: the changes of a saved plan already in effect, not applied again."""
    data = to_document(plan, selection)
    data["kind"] = "apply"
    data["results"] = [{"vendor": r.change.vendor, "action": r.change.action, "key": r.change.key,
                        "resource_id": r.change.resource_id, "status": r.status, "error": r.error}
                       for r in result.results]
    data["already_done"] = [{"vendor": c.vendor, "action": c.action, "key": c.key, "resource_id": c.resource_id}
                            for c in done]
    data["summary"] = {"succeeded": len(result.succeeded), "failed": len(result.failed),
                       "skipped": len(result.skipped)}
    if notifications is not None:
        data["notifications"] = {
            "ok": notifications.ok, "pending": notifications.pending,
            "sinks": [{"sink": r.sink, "kind": r.kind, "delivered": r.delivered, "failed": r.failed,
                       "messages": list(r.messages)} for r in notifications.sinks]}
    return _dump(data)
