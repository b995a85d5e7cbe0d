"""Cobuilder's part of re-deriving a saved plan (:mod:`reconciler.plan.rederive`):
whether the catalog asks for a saved property-value change."""
from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler.plan.model import SENSITIVE_KEY, Change
from reconciler.plan.rederive import canonical
from reconciler.vendors.cobuilder.catalog import entry_of

if TYPE_CHECKING:
    from reconciler.catalog.model import ProductSpec


def _cobuilder(change: Change, spec: ProductSpec | None) -> str | None:
    product = entry_of(spec) if spec is not None else None
    if product is None:
        return "the catalog declares no Cobuilder values for the product"
    if change.resource_id != str(product.id):
        return f"resource_id {change.resource_id!r} is not the catalog's Cobuilder product {product.id}"
    declared = {p.guid: p for p in product.properties}
    body = change.body if isinstance(change.body, dict) else {}
    if change.action == "delete":
        if not product.exclusive:
            return "the catalog entry is not exclusive: it deletes no property"
        return "the catalog declares the property" if body.get("propertyGuid") in declared else None
    properties = body.get("properties")
    if not isinstance(properties, list) or not properties:
        return "no properties"
    for prop in properties:
        want = declared.get(prop.get("propertyGuid")) if isinstance(prop, dict) else None
        if want is None:
            return f"property {prop.get('propertyGuid') if isinstance(prop, dict) else prop!r} is not declared"
        values = prop.get("values")
        marked = isinstance(values, dict) and set(values) == {SENSITIVE_KEY}
        if prop.get("unitGuid") != want.unit_guid or (
                (not want.sensitive or values[SENSITIVE_KEY] != want.guid) if marked
                else canonical(values) != canonical(list(want.values))):
            return f"property {want.guid} is not the catalog's value"
    return None
