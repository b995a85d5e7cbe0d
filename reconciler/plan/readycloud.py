"""Plan ReadyCloud product changes from the catalog and the live listing."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from deepdiff import DeepDiff

from reconciler.catalog.model import Catalog, ProductSpec
from reconciler.contracts import readycloud as rc
from reconciler.plan.model import Change, FieldChange, PlanIssue
from reconciler.plan.normalize import normalise_fields

VENDOR = "readycloud"
LiveIndex = Mapping[str, list[dict[str, Any]]]


@dataclass
class VendorPlan:
    """What one vendor contributes to a plan."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    errors: list[PlanIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


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


def plan_readycloud(catalog: Catalog, live: LiveIndex) -> VendorPlan:
    result = VendorPlan()
    for spec in catalog.products:
        if not spec.manages_readycloud:
            continue
        matches = live.get(spec.code, [])
        if len(matches) > 1:
            pks = ", ".join(rc.product_pk_from_url(str(m.get("url", "?"))) for m in matches)
            result.errors.append(PlanIssue(VENDOR, spec.code,
                f"{len(matches)} live products share code {spec.code!r} (ids {pks}); "
                "resolve the duplicate in ReadyCloud, reconciler will not guess between them"))
            continue
        current = matches[0] if matches else None
        if spec.absent:
            if current is None:
                result.unchanged += 1
            else:
                result.changes.append(Change(VENDOR, "delete", spec.code, _pk(current), live=current))
            continue
        if current is None:
            if "kind" not in spec.fields:
                result.errors.append(PlanIssue(VENDOR, spec.code,
                    f"{spec.location}: 'kind' is required to create product {spec.code!r} "
                    f"(one of {', '.join(rc.KINDS)})"))
                continue
            body = dict(spec.fields)
            fields = tuple(FieldChange(n, None, v, n in spec.sensitive) for n, v in body.items())
            result.changes.append(Change(VENDOR, "create", spec.code, None, fields, body))
            continue
        names = changed_fields(current, spec)
        if not names:
            result.unchanged += 1
            continue
        fields = tuple(FieldChange(n, current.get(n), spec.fields[n], n in spec.sensitive) for n in names)
        body = {n: spec.fields[n] for n in names}
        result.changes.append(Change(VENDOR, "update", spec.code, _pk(current), fields, body, live=current))
    return result


def _pk(product: Mapping[str, Any]) -> str:
    return rc.product_pk_from_url(str(product.get("url", "")))
