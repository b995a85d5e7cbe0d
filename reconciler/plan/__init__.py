"""Planning: normalise, diff, and build immutable :class:`Plan` objects."""
from __future__ import annotations

from typing import Any, Callable

from reconciler.catalog.model import Catalog
from reconciler.plan.cobuilder import plan_cobuilder
from reconciler.plan.model import ACTIONS, Change, FieldChange, Plan, PlanIssue
from reconciler.plan.readycloud import Prediff, plan_readycloud
from reconciler.plan.safety import violations
from reconciler.plan.select import ALL, Selection

__all__ = ["ACTIONS", "Change", "FieldChange", "Plan", "PlanIssue", "Prediff", "Selection", "build_plan"]


def build_plan(catalog: Catalog, readycloud_live: Any = None, cobuilder_live: Any = None,
               selection: Selection = ALL, prediff: Prediff | None = None,
               cobuilder_selected: Callable[[str], bool] | None = None) -> Plan:
    """Combine every vendor's part into one plan; a product's changes stay together.
    ``prediff``: ReadyCloud comparisons already made while the listing was read.
    ``cobuilder_selected``: the products whose Cobuilder values were read, if not all selected."""
    parts = {}
    if catalog.readycloud is not None:
        parts["readycloud"] = plan_readycloud(catalog, {} if readycloud_live is None else readycloud_live,
                                             selection, prediff)  # (an empty LiveIndex keeps its watermark)
    if any(p.cobuilder for p in catalog.products):
        parts["cobuilder"] = plan_cobuilder(catalog, cobuilder_live or {}, cobuilder_selected or selection)
    order = {p.code: i for i, p in enumerate(catalog.products)}
    changes = tuple(sorted((c for part in parts.values() for c in part.changes),
                           key=lambda c: (c.action == "delete", order.get(c.key, len(order)))))
    managed = parts["readycloud"].managed_live if "readycloud" in parts else 0
    errors = tuple(e for p in parts.values() for e in p.errors)
    return Plan(changes=changes, unchanged=_unchanged_products(catalog, changes, errors, selection),
                properties_unchanged=parts["cobuilder"].unchanged if "cobuilder" in parts else None,
                errors=errors,
                notes=tuple(n for p in parts.values() for n in p.notes), catalog_digest=catalog.digest,
                unmanaged=sum(p.unmanaged for p in parts.values()),
                violations=violations(catalog.policy, changes, managed),
                context=tuple((name, part.context) for name, part in parts.items() if part.context))


def _unchanged_products(catalog: Catalog, changes: tuple[Change, ...], errors: tuple[PlanIssue, ...],
                        selection: Selection) -> int:
    """Declared (and selected) products with neither a change nor an error, in any vendor."""
    touched = {c.key for c in changes}
    touched.update(e.key for e in errors)
    if selection.everything:
        return sum(1 for p in catalog.products if p.code not in touched)
    return sum(1 for p in catalog.products if p.code not in touched and selection(p.code))
