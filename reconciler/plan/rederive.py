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
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

from reconciler.catalog.model import Catalog, ProductSpec
from reconciler.plan.model import SENSITIVE_KEY, Change, Plan
from reconciler.vendors import Vendor, get

#: what identifies a change: vendor, action, product code and the parts it changes (:meth:`Vendor.units`)
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


def _vendor(change: Change) -> Vendor:
    return get(change.vendor) or Vendor()


def identity(change: Change) -> Identity:
    return change.vendor, change.action, change.key, _vendor(change).units(change)


def _overlaps(fresh: Change, saved: Change) -> bool:
    """Whether ``fresh`` touches what ``saved`` does (the same resource, or, for a
    vendor whose changes are to parts of one (:meth:`Vendor.units`), the same parts)."""
    if (fresh.vendor, fresh.key) != (saved.vendor, saved.key):
        return False
    mine, theirs = identity(saved)[3], identity(fresh)[3]
    return not (mine or theirs) or bool(mine & theirs)


def _title(change: Change) -> str:
    return _vendor(change).saved_title(change)


def _moved_on(saved: Change, now: list[Change]) -> str:
    """The message for a saved change whose object now needs another kind of change."""
    actions = {c.action for c in now}
    said = _vendor(saved).moved_on(saved, now)
    if said is not None:
        return said
    return (f"{_title(saved)} changed since the plan: the plan would {saved.action} it, "
            f"now it needs {', '.join(sorted(actions))}")


def canonical(value: Any) -> Any:
    """A value as a plan file holds it (what a loaded plan compares with)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _differences(saved: Change, fresh: Change) -> list[str]:
    """What differs between a saved change and the fresh one, shown without secrets."""
    mine, theirs = canonical(saved.to_dict()), canonical(fresh.to_dict())
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
    vendor = get(change.vendor)
    if vendor is None:
        return f"unknown vendor {change.vendor!r}"
    return vendor.not_asked_for(change, specs.get(change.key), catalog)


def declared(value: Any, name: str, fields: Mapping[str, Any], sensitive: frozenset[str]) -> bool:
    if name not in fields:
        return False
    if isinstance(value, dict) and set(value) == {SENSITIVE_KEY}:
        return name in sensitive and value[SENSITIVE_KEY] == name
    return canonical(value) == canonical(fields[name])
