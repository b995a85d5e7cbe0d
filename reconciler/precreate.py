"""Right before applying: planned creates whose resources appeared since the
plan (another apply, from a machine this one's lock does not reach, or someone
else) are skipped rather than made twice. Each vendor says which of its
creates appeared (:meth:`reconciler.vendors.base.Vendor.appeared`)."""
from __future__ import annotations

import dataclasses
from typing import Mapping

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.plan.model import Plan
from reconciler.providers.base import Provider
from reconciler.vendors import registered


def appeared(plan: Plan, providers: Mapping[str, Provider]) -> tuple[ChangeResult, ...]:
    """A skipped result for each planned create that is live now, vendor by vendor."""
    return tuple(r for vendor in registered() if (provider := providers.get(vendor.name)) is not None
                 for r in vendor.appeared(plan, provider))


def without(plan: Plan, skipped: tuple[ChangeResult, ...]) -> Plan:
    """``plan`` less the ``skipped`` changes."""
    left_out = {id(r.change) for r in skipped}
    return dataclasses.replace(plan, changes=tuple(c for c in plan.changes if id(c) not in left_out))


def merged(plan: Plan, skipped: tuple[ChangeResult, ...], result: ApplyResult) -> ApplyResult:
    """``skipped`` and ``result`` together, in ``plan``'s order."""
    by_change = {id(r.change): r for r in (*skipped, *result.results)}
    return ApplyResult(tuple(by_change[id(c)] for c in plan.changes if id(c) in by_change))
