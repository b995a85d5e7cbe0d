"""Plan ReadyCloud product changes from the catalog and the live listing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import jsonpatch
from deepdiff import DeepDiff

from reconciler.catalog.model import Catalog, ProductSpec
from reconciler.contracts import readycloud as rc
from reconciler.plan.model import Change, FieldChange, PlanIssue, fingerprint
from reconciler.plan.normalize import normalise_fields
from reconciler.values import parse_datetime

VENDOR = "readycloud"
LiveIndex = Mapping[str, list[dict[str, Any]]]


@dataclass
class VendorPlan:
    """What one vendor contributes to a plan."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    unmanaged: int = 0
    managed_live: int = 0
    errors: list[PlanIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


def changed_fields(live: Mapping[str, Any], spec: ProductSpec) -> list[str]:
    """The managed fields whose normalised live value differs from the desired one.

    Plain equality first (cheap); DeepDiff only for products that differ.
    """
    names = [n for n in spec.fields if n != "code"]
    want = normalise_fields(spec.fields, names)
    have = normalise_fields(live, names)
    if want == have:
        return []
    diff = DeepDiff(have, want, ignore_order=False, verbose_level=0)
    roots = {str(k) for k in diff.affected_root_keys}
    return [n for n in names if n in roots]


def plan_readycloud(catalog: Catalog, live: LiveIndex, selected: Callable[[str], bool]) -> VendorPlan:
    result = VendorPlan(context=_context(live))
    policy = catalog.policy
    declared: set[str] = set()
    for spec in catalog.products:
        if not spec.manages_readycloud or not selected(spec.code):
            continue
        declared.add(spec.code)
        matches = live.get(spec.code, [])
        result.managed_live += len(matches)
        if len(matches) > 1:
            result.errors.append(_duplicate(spec.code, matches))
            continue
        current = matches[0] if matches else None
        if spec.absent:
            if current is None:
                result.unchanged += 1
            elif policy.protected(spec.code):
                result.errors.append(_protected(spec.code, f"the tombstone at {spec.location}"))
            else:
                result.changes.append(_delete(spec.code, current))
            continue
        if current is None:
            _create(spec, result)
            continue
        names = changed_fields(current, spec)
        if not names:
            result.unchanged += 1
            continue
        result.changes.append(_update(spec, current, names))
    for code, matches in live.items():
        if code in declared or not selected(code):
            continue
        if not (policy.prune and policy.in_scope(code)):
            result.unmanaged += len(matches)
            continue
        result.managed_live += len(matches)
        if policy.protected(code):
            result.errors.append(_protected(code, "prune (it is in scope and no longer in the catalog)"))
        elif len(matches) > 1:
            result.errors.append(_duplicate(code, matches))
        else:
            result.changes.append(_delete(code, matches[0]))
    return result


def _context(live: LiveIndex) -> dict[str, Any]:
    stamps = [str(p["updated_at"]) for ps in live.values() for p in ps if p.get("updated_at")]
    try:
        watermark = max(stamps, key=parse_datetime) if stamps else None
    except ValueError:
        watermark = None  # unparseable stamps: a saved plan then checks with a full listing
    return {"count": sum(len(ps) for ps in live.values()), "watermark": watermark}


def _create(spec: ProductSpec, result: VendorPlan) -> None:
    if "kind" not in spec.fields:
        result.errors.append(PlanIssue(VENDOR, spec.code,
            f"{spec.location}: 'kind' is required to create product {spec.code!r} (one of {', '.join(rc.KINDS)})"))
        return
    body = dict(spec.fields)
    fields = tuple(FieldChange(n, None, v, n in spec.sensitive) for n, v in body.items())
    result.changes.append(Change(VENDOR, "create", spec.code, None, fields, body))


def _update(spec: ProductSpec, current: dict[str, Any], names: list[str]) -> Change:
    fields = tuple(FieldChange(n, current.get(n), spec.fields[n], n in spec.sensitive) for n in names)
    body = {n: spec.fields[n] for n in names}
    writable = {k: v for k, v in current.items() if k not in rc.READ_ONLY_FIELDS}
    patch = jsonpatch.make_patch(writable, {**writable, **body}).patch
    return Change(VENDOR, "update", spec.code, _pk(current), fields, body, live=current,
                  fingerprint=fingerprint(current), patch=tuple(patch))


def _delete(code: str, current: dict[str, Any]) -> Change:
    return Change(VENDOR, "delete", code, _pk(current), live=current, fingerprint=fingerprint(current))


def _duplicate(code: str, matches: list[dict[str, Any]]) -> PlanIssue:
    pks = ", ".join(_pk(m) for m in matches)
    return PlanIssue(VENDOR, code, f"{len(matches)} live products share code {code!r} (ids {pks}); "
                     "resolve the duplicate in ReadyCloud, reconciler will not guess between them")


def _protected(code: str, by: str) -> PlanIssue:
    return PlanIssue(VENDOR, code, f"product {code!r} is protected by policy.protect and would be deleted by {by}")


def _pk(product: Mapping[str, Any]) -> str:
    return rc.product_pk_from_url(str(product.get("url", "")))
