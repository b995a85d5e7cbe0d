"""Planning: normalise, diff, and build immutable :class:`Plan` objects."""
from __future__ import annotations

from typing import Any

from reconciler.catalog.model import Catalog
from reconciler.plan.model import ACTIONS, Change, FieldChange, Plan, PlanIssue
from reconciler.plan.cobuilder import plan_cobuilder
from reconciler.plan.readycloud import plan_readycloud

__all__ = ["ACTIONS", "Change", "FieldChange", "Plan", "PlanIssue", "build_plan"]


def build_plan(catalog: Catalog, readycloud_live: Any = None, cobuilder_live: Any = None) -> Plan:
    """Combine every vendor's part into one plan; a product's changes stay together."""
    parts = []
    if catalog.readycloud is not None:
        parts.append(plan_readycloud(catalog, readycloud_live or {}))
    if any(p.cobuilder for p in catalog.products):
        parts.append(plan_cobuilder(catalog, cobuilder_live or {}))
    order = {p.code: i for i, p in enumerate(catalog.products)}
    changes = sorted((c for part in parts for c in part.changes), key=lambda c: order.get(c.key, len(order)))
    return Plan(changes=tuple(changes), unchanged=sum(p.unchanged for p in parts),
                errors=tuple(e for p in parts for e in p.errors), notes=tuple(n for p in parts for n in p.notes),
                catalog_digest=catalog.digest)
