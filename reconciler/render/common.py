"""Formatting helpers shared by the renderers (presentation only)."""
from __future__ import annotations

import json
from typing import Any

from reconciler.plan.model import Change, FieldChange, PROPERTY_VENDORS

SENSITIVE = "(sensitive)"
SYMBOL = {"create": "+", "update": "~", "delete": "-"}
VERB = {"create": "create", "update": "update", "delete": "delete"}


def show(value: Any) -> str:
    """A value as it reads in a plan: JSON for structures and strings."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def before(f: FieldChange) -> Any:
    return SENSITIVE if f.sensitive else f.before


def after(f: FieldChange) -> Any:
    return SENSITIVE if f.sensitive else f.after


def title(change: Change) -> str:
    if change.vendor == "cobuilder":
        return f"property values of {change.key} (Cobuilder product {change.resource_id})"
    ident = f", id {change.resource_id}" if change.resource_id else ""
    return f"product {change.key} ({change.vendor}{ident})"


def grouped(changes: tuple[Change, ...]) -> list[tuple[str, list[Change]]]:
    """Changes grouped by product code, in plan order."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.key, []).append(change)
    return list(groups.items())


def counts_line(counts: dict[str, int]) -> str:
    """Products, each counted once."""
    return (f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['delete']} to delete, {counts['unchanged']} unchanged")


def properties_line(counts: dict[str, int]) -> str | None:
    """Cobuilder properties, counted apart from products (None: the plan has no Cobuilder values)."""
    if "properties_unchanged" not in counts:
        return None
    return (f"Cobuilder properties: {counts['properties_create']} to add, {counts['properties_update']} to change, "
            f"{counts['properties_delete']} to delete, {counts['properties_unchanged']} unchanged")


#: what a delete shows of the product it deletes
DELETED_SHOWN = ("code", "description", "unit_price")


def deleted_fields(change: Change) -> list[tuple[str, Any]]:
    """For a product delete, the fields that say what is deleted (from the live product)."""
    if change.action != "delete" or change.vendor in PROPERTY_VENDORS or not isinstance(change.live, dict):
        return []
    return [(name, change.live[name]) for name in DELETED_SHOWN if change.live.get(name) not in (None, "")]
