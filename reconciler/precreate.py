"""Right before creating: did a product apply is about to create appear since
the plan? (Another apply, from a machine this one's lock does not reach, or
someone else.) One ``updated_at__gte`` listing since the plan's watermark, not
a read per product; such a create is skipped rather than making a duplicate."""
from __future__ import annotations

import dataclasses
from typing import Mapping

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.contracts import readycloud as rc
from reconciler.errors import ProviderError, ReconcilerError
from reconciler.plan.model import Plan
from reconciler.providers.base import Provider
from reconciler.providers.readycloud import ReadyCloudProvider


def appeared(plan: Plan, providers: Mapping[str, Provider]) -> tuple[ChangeResult, ...]:
    """A skipped result for each ReadyCloud create whose code is live now.
    Nothing is read when the plan creates nothing in ReadyCloud, or when its
    listing had no watermark (the server sent no ``Date``: no listing can then
    be bounded; the lost-answer look-ups still guard each POST)."""
    provider = providers.get("readycloud")
    creates = [c for c in plan.changes if c.vendor == "readycloud" and c.action == "create"]
    watermark = dict(plan.context).get("readycloud", {}).get("watermark")
    if not creates or watermark is None or not isinstance(provider, ReadyCloudProvider):
        return ()
    try:
        recent = provider.changed_since(watermark)
    except ProviderError as exc:
        raise ReconcilerError(f"checking for products created since the plan: {exc}; nothing was applied") \
            from None
    live: dict[str, Mapping[str, object]] = {}
    for product in recent:
        live.setdefault(str(product.get("code")), product)
    skipped = []
    for change in creates:
        product = live.get(change.key)
        if product is not None:
            pk = rc.product_pk_from_url(str(product.get("url", "")))
            skipped.append(ChangeResult(change, "skipped", benign=True, resource=product, error=(
                f"appeared in ReadyCloud since the plan (id {pk}, created_at {product.get('created_at')}); "
                "not created again, to avoid a duplicate. Run plan to compare it with the catalog")))
    return tuple(skipped)


def without(plan: Plan, skipped: tuple[ChangeResult, ...]) -> Plan:
    """``plan`` less the ``skipped`` changes."""
    left_out = {id(r.change) for r in skipped}
    return dataclasses.replace(plan, changes=tuple(c for c in plan.changes if id(c) not in left_out))


def merged(plan: Plan, skipped: tuple[ChangeResult, ...], result: ApplyResult) -> ApplyResult:
    """``skipped`` and ``result`` together, in ``plan``'s order."""
    by_change = {id(r.change): r for r in (*skipped, *result.results)}
    return ApplyResult(tuple(by_change[id(c)] for c in plan.changes if id(c) in by_change))
