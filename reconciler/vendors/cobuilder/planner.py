"""Plan Cobuilder property-value changes.

A property's values are compared as a multiset after normalising what the
server fills in (nulls, empty lists, titles); keys of the answer beyond the
request model (``valueGuid``, ``dataType``) are not compared. Inherited values
(``parentId`` the parent's id, documented as a string; ``0``, ``"0"`` or null
is the product's own, :func:`contract.is_own`) are never changed: declaring
one yields a note, not a change.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from reconciler.vendors.cobuilder.catalog import CobuilderProductSpec, PropertySpec, entry_of
from reconciler.catalog.model import Catalog
from reconciler.vendors.cobuilder import contract as cb
from reconciler.errors import Location, ProviderError
from reconciler.plan.model import Change, FieldChange, PlanIssue, VendorPlan, fingerprint

VENDOR = "cobuilder"
#: product id -> the GET answer, or the error reading it
LiveValues = Mapping[int, "list[dict[str, Any]] | ProviderError"]


def normalise_value(value: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A canonical, hashable form of one value object: its informative keys
    in order, lists sorted (``ifdValues`` by GUID, translations by language)."""
    out: list[tuple[str, Any]] = []
    for key in cb.VALUE_KEYS:
        item = value.get(key)
        if item is None or item == [] or item == "":
            continue
        if key == "ifdValues":
            item = tuple(sorted(str(i.get("valueGuid")) for i in item if isinstance(i, dict)))
        elif key == "valueTranslations":
            item = tuple(sorted((str(i.get("languageCode")), str(i.get("text"))) for i in item if isinstance(i, dict)))
        elif isinstance(item, (list, dict)):
            item = json.dumps(item, sort_keys=True)  # (not of the documented model; compared as text)
        out.append((key, item))
    return tuple(out)


def normalise_values(values: Any) -> tuple[tuple[tuple[str, Any], ...], ...]:
    if not isinstance(values, list):
        return ()
    return tuple(sorted(normalise_value(v) for v in values if isinstance(v, dict)))


def _describe(values: Any) -> list[Any]:
    """Values as shown in a plan: only the keys that carry information."""
    return [{key: list(item) if isinstance(item, tuple) else item for key, item in value}
            for value in normalise_values(values)]


def plan_cobuilder(catalog: Catalog, live: LiveValues, selected: Callable[[str], bool]) -> VendorPlan:
    result = VendorPlan()
    for product in catalog.products:
        spec = entry_of(product)
        if spec is None or not selected(product.code):
            continue
        answer = live.get(spec.id)
        if isinstance(answer, ProviderError) or answer is None:
            reason = str(answer) if answer is not None else "not read"
            result.errors.append(PlanIssue(VENDOR, product.code,
                                           f"Cobuilder product {spec.id}: cannot read property values: {reason}"))
            continue
        _plan_product(product.code, spec, answer, result, catalog.locate)
    return result


def _plan_product(code: str, spec: CobuilderProductSpec, answer: list[dict[str, Any]], result: VendorPlan,
                  locate: Callable[[Location], Location]) -> None:
    own = {p.get("propertyGuid"): p for p in answer if cb.is_own(p)}
    inherited = {p.get("propertyGuid"): p for p in answer if not cb.is_own(p)}
    creates: list[PropertySpec] = []
    updates: list[tuple[PropertySpec, dict[str, Any]]] = []
    for prop in spec.properties:
        current = own.get(prop.guid)
        if current is None:
            if prop.guid in inherited:
                parent = inherited[prop.guid].get("parentId")
                result.notes.append(f"{code}: Cobuilder property {prop.guid} is inherited from parent "
                                    f"product {parent}; it is not this product's to change (declared at "
                                    f"{locate(prop.location)})")
                continue
            creates.append(prop)
        elif (prop.unit_guid != current.get("unitGuid")
              or normalise_values(list(prop.values)) != normalise_values(current.get("values"))):
            updates.append((prop, current))
        else:
            result.unchanged += 1
    target = str(spec.id)
    if not creates and not updates and not spec.exclusive:
        return  # unchanged: no fingerprint needed (it costs a JSON dump of the answer)
    digest = fingerprint(answer)
    if creates:
        fields = tuple(FieldChange(p.guid, None, _describe(list(p.values)), p.sensitive) for p in creates)
        result.changes.append(Change(VENDOR, "create", code, target, fields, _body(creates), fingerprint=digest))
    if updates:
        fields = tuple(FieldChange(p.guid, _describe(cur.get("values")), _describe(list(p.values)), p.sensitive)
                       for p, cur in updates)
        for (p, cur) in updates:
            if p.unit_guid != cur.get("unitGuid"):
                fields += (FieldChange(f"{p.guid}.unitGuid", cur.get("unitGuid"), p.unit_guid),)
        live_state = {p.guid: cur for p, cur in updates}
        import jsonpatch  # (imported when a product differs)

        patch = jsonpatch.make_patch(
            {p.guid: {"unitGuid": cur.get("unitGuid"), "values": cur.get("values")} for p, cur in updates},
            {p.guid: {"unitGuid": p.unit_guid, "values": list(p.values)} for p, _ in updates}).patch
        result.changes.append(Change(VENDOR, "update", code, target, fields, _body([p for p, _ in updates]),
                                     live=live_state, fingerprint=digest, patch=tuple(patch)))
    if spec.exclusive:
        declared = {p.guid for p in spec.properties}
        for guid, current in own.items():
            if guid not in declared:
                result.changes.append(Change(
                    VENDOR, "delete", code, target,
                    (FieldChange(str(guid), _describe(current.get("values")), None),),
                    {"propertyGuid": guid}, live={guid: current}, fingerprint=digest))


def _body(props: list[PropertySpec]) -> dict[str, Any]:
    return {"properties": [{"propertyGuid": p.guid, "unitGuid": p.unit_guid, "values": list(p.values)}
                           for p in props]}
