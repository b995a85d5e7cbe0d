"""Re-derive a saved plan: ``apply PLANFILE`` trusts no decision of the file.

Every saved change must be one the catalog asks for (right product, right
fields and values, a delete only by a tombstone or prune, never of a protected
code) and must equal the change a fresh plan, made from the same catalog and
the live state now, calls for. What is applied is the fresh change: vendor ids
and URLs from the live listing, bodies from the catalog. A saved change whose
object is already at its planned result is done (a partly applied plan can be
finished); one whose object is at neither its planned before nor after is
stale; a fresh change the saved plan does not hold is drift. Either refuses
the whole plan before any write.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from reconciler.catalog.model import Catalog, ProductSpec
from reconciler.plan.model import SENSITIVE_KEY, Change, Plan

_PK = re.compile(r"\d+")
#: what identifies a change: vendor, action, product code and, for Cobuilder, its property GUIDs
Identity = tuple[str, str, str, frozenset[str]]


@dataclass(frozen=True)
class Rederived:
    plan: Plan                      # the fresh changes that match the saved ones: what apply sends (none if refused)
    done: tuple[Change, ...]        # saved changes already in effect
    refused: tuple[str, ...]        # why the saved plan cannot be applied (empty: it can)


def rederive(saved: Plan, fresh: Plan, catalog: Catalog, selected: Callable[[str], bool]) -> Rederived:
    """Match ``saved`` against ``fresh`` (same catalog and selection, live state now)."""
    specs = catalog.by_code()
    refused = [f"{c.key}: the plan's {c.vendor} {c.action} is not one the catalog asks for: {why}"
               for c in saved.changes if (why := not_asked_for(c, specs, catalog, selected))]
    fresh_by_id: dict[Identity, Change] = {identity(c): c for c in fresh.changes}
    matched: set[Identity] = set()
    seen: set[Identity] = set()
    failing = {(e.vendor, e.key) for e in fresh.errors}  # (reported below, with the fresh plan's errors)
    apply: list[Change] = []
    done: list[Change] = []
    for change in saved.changes if not refused else ():
        ident = identity(change)
        if ident in seen:
            refused.append(f"{_title(change)}: the plan holds this {change.action} twice")
            continue
        seen.add(ident)
        now = fresh_by_id.get(ident)
        if now is not None:
            matched.add(ident)
            differences = _differences(change, now)
            if differences:
                refused.append(f"{_title(change)} changed since the plan: {'; '.join(differences)}")
            else:
                apply.append(now)
            continue
        others = [c for c in fresh.changes if _overlaps(c, change)]
        if others:
            matched.update(identity(c) for c in others)
            refused.append(_moved_on(change, others))
        elif (change.vendor, change.key) not in failing:
            done.append(change)  # the catalog's wish for it holds now: its planned result is in place
    if not refused:
        refused += [f"{_title(c)}: not in the plan (the live state changed since it was made)"
                    for c in fresh.changes if identity(c) not in matched]
    refused += [f"{e.key} ({e.vendor}): {e.message}" for e in fresh.errors]
    plan = replace(fresh, changes=() if refused else tuple(apply))  # (refused: nothing to apply)
    return Rederived(plan, tuple(done), tuple(refused))


def identity(change: Change) -> Identity:
    units = frozenset(f.field.split(".")[0] for f in change.fields) if change.vendor == "cobuilder" else frozenset()
    return change.vendor, change.action, change.key, units


def _overlaps(fresh: Change, saved: Change) -> bool:
    """Whether ``fresh`` touches what ``saved`` does (a ReadyCloud product, or Cobuilder properties)."""
    if (fresh.vendor, fresh.key) != (saved.vendor, saved.key):
        return False
    return fresh.vendor != "cobuilder" or bool(identity(fresh)[3] & identity(saved)[3])


def _title(change: Change) -> str:
    if change.vendor == "cobuilder":
        guids = ", ".join(sorted(identity(change)[3]))
        return f"{change.key} (Cobuilder {change.resource_id}, {change.action} of {guids})"
    return f"{change.key} (readycloud id {change.resource_id})" if change.resource_id else change.key


def _moved_on(saved: Change, now: list[Change]) -> str:
    """The message for a saved change whose object now needs another kind of change."""
    actions = {c.action for c in now}
    if saved.vendor == "readycloud" and actions == {"create"}:
        return f"{_title(saved)} was deleted since the plan"
    if saved.vendor == "readycloud" and saved.action == "create":
        ids = ", ".join(str(c.resource_id) for c in now)
        return (f"{saved.key} was created in ReadyCloud since the plan (id {ids}) and differs from the catalog; "
                "the plan would create a duplicate")
    return (f"{_title(saved)} changed since the plan: the plan would {saved.action} it, "
            f"now it needs {', '.join(sorted(actions))}")


def _canonical(value: Any) -> Any:
    """A value as a plan file holds it (what a loaded plan compares with)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _differences(saved: Change, fresh: Change) -> list[str]:
    """What differs between a saved change and the fresh one, shown without secrets."""
    mine, theirs = _canonical(saved.to_dict()), _canonical(fresh.to_dict())
    out = []
    for key in ("resource_id", "fields", "body", "patch"):
        if mine.get(key) != theirs.get(key):
            if key == "resource_id":
                out.append(f"the live product is id {theirs[key]}, the plan says {mine[key]!r}")
            elif key == "fields":
                out.append(_field_differences(mine[key], theirs[key]))
            else:
                out.append(f"its {key} differs")
    return list(dict.fromkeys(out))


def _field_differences(mine: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> str:
    planned = {f["field"]: f for f in mine}
    now = {f["field"]: f for f in theirs}
    parts = []
    for name in sorted(set(planned) | set(now)):
        a, b = planned.get(name), now.get(name)
        if a is None:
            parts.append(f"{name} now differs too")
        elif b is None:
            parts.append(f"{name} no longer needs a change")
        elif a != b:
            parts.append(f"{name} is {json.dumps(b['before'], default=str)}, planned against "
                         f"{json.dumps(a['before'], default=str)}" if a["after"] == b["after"]
                         else f"{name} would become something else")
    return ", ".join(parts) or "its fields differ"


def not_asked_for(change: Change, specs: Mapping[str, ProductSpec], catalog: Catalog,
                  selected: Callable[[str], bool]) -> str | None:
    """Why the catalog does not ask for ``change`` (None: it does)."""
    if not selected(change.key):
        return "the product is outside the plan's --target/--exclude selection"
    spec = specs.get(change.key)
    if change.vendor == "readycloud":
        return _readycloud(change, spec, catalog)
    if change.vendor == "cobuilder":
        return _cobuilder(change, spec)
    return f"unknown vendor {change.vendor!r}"


def _readycloud(change: Change, spec: ProductSpec | None, catalog: Catalog) -> str | None:
    if catalog.readycloud is None:
        return "the catalog has no readycloud section"
    if change.action == "create":
        if change.resource_id is not None:
            return "a create has no resource_id"
    elif not isinstance(change.resource_id, str) or not _PK.fullmatch(change.resource_id):
        return f"resource_id {change.resource_id!r} is not a ReadyCloud product id"
    if change.action == "delete":
        if catalog.policy.protected(change.key):
            return "the code is protected by policy.protect"
        if spec is not None and not spec.absent:
            return "the catalog declares the product (no tombstone)"
        if spec is None and not (catalog.policy.prune and catalog.policy.in_scope(change.key)):
            return "the catalog neither tombstones it nor prunes it (prune and scope)"
        return None if change.body is None else "a delete sends no body"
    if spec is None or spec.absent or not spec.manages_readycloud:
        return "the catalog does not declare the product's ReadyCloud fields"
    body = change.body if isinstance(change.body, dict) else {}
    if not body or (change.action == "create" and set(body) != set(spec.fields)):
        return "the fields differ from the catalog entry"
    for name, value in body.items():
        if not _declared(value, name, spec.fields, spec.sensitive):
            return f"{name} is not the catalog's value"
    return None


def _declared(value: Any, name: str, fields: Mapping[str, Any], sensitive: frozenset[str]) -> bool:
    if name not in fields:
        return False
    if isinstance(value, dict) and set(value) == {SENSITIVE_KEY}:
        return name in sensitive and value[SENSITIVE_KEY] == name
    return _canonical(value) == _canonical(fields[name])


def _cobuilder(change: Change, spec: ProductSpec | None) -> str | None:
    product = spec.cobuilder if spec is not None else None
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
                else _canonical(values) != _canonical(list(want.values))):
            return f"property {want.guid} is not the catalog's value"
    return None
