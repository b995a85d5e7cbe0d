"""Planning: normalise, diff, and build immutable :class:`Plan` objects."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from reconciler.catalog.model import Catalog
from reconciler.plan.model import ACTIONS, Change, FieldChange, Plan, PlanIssue
from reconciler.plan.safety import violations
from reconciler.plan.select import ALL, Selection
from reconciler.vendors import registered

__all__ = ["ACTIONS", "Change", "FieldChange", "Plan", "PlanIssue", "Selection", "build_plan"]


def build_plan(catalog: Catalog, live: Mapping[str, Any] | None = None, selection: Selection = ALL,
               only: Mapping[str, Callable[[str], bool]] | None = None) -> Plan:
    """Combine every configured vendor's part into one plan; a product's changes stay together.
    ``live``: each vendor's live state by name (what its provider's refresh returned).
    ``only``: per vendor, the products whose live state was read, if not all selected."""
    live, only = live or {}, only or {}
    parts = {vendor.name: vendor.plan(catalog, live.get(vendor.name), selection, only.get(vendor.name))
             for vendor in registered() if vendor.configured(catalog)}
    order = {p.code: i for i, p in enumerate(catalog.products)}
    changes = tuple(sorted((c for part in parts.values() for c in part.changes),
                           key=lambda c: (c.action == "delete", order.get(c.key, len(order)))))
    managed = sum(part.managed_live for part in parts.values())
    errors = tuple(e for p in parts.values() for e in p.errors)
    property_parts = [part for vendor in registered() if vendor.properties and (part := parts.get(vendor.name))]
    return Plan(changes=changes, unchanged=_unchanged_products(catalog, changes, errors, selection),
                properties_unchanged=sum(p.unchanged for p in property_parts) if property_parts else None,
                errors=errors,
                notes=tuple(n for p in parts.values() for n in p.notes), catalog_digest=catalog.digest,
                unmanaged=sum(p.unmanaged for p in parts.values()),
                unmanaged_codes=tuple(sorted({code for p in parts.values() for code in p.unmanaged_codes})),
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
