"""Planning: normalise, diff, and build immutable :class:`Plan` objects."""
from __future__ import annotations

from typing import Any

from reconciler.catalog.model import Catalog
from reconciler.plan.model import ACTIONS, Change, FieldChange, Plan, PlanIssue
from reconciler.plan.readycloud import plan_readycloud

__all__ = ["ACTIONS", "Change", "FieldChange", "Plan", "PlanIssue", "build_plan"]


def build_plan(catalog: Catalog, readycloud_live: Any) -> Plan:
    """Combine every vendor's part into one plan."""
    rc = plan_readycloud(catalog, readycloud_live or {})
    return Plan(changes=tuple(rc.changes), unchanged=rc.unchanged, errors=tuple(rc.errors),
                notes=tuple(rc.notes), catalog_digest=catalog.digest)
