"""Right before creating: did a product apply is about to create appear since
the plan? (Another apply, from a machine this one's lock does not reach, or
someone else.) One ``updated_at__gte`` listing since the plan's watermark, not
a read per product; such a create is skipped rather than making a duplicate."""
from __future__ import annotations

from typing import Mapping

from reconciler.apply import ChangeResult
from reconciler.vendors.readycloud import contract as rc
from reconciler.errors import ProviderError, ReconcilerError
from reconciler.plan.model import Plan
from reconciler.providers.base import Provider
from reconciler.vendors.readycloud.provider import ReadyCloudProvider


def appeared(plan: Plan, provider: Provider) -> tuple[ChangeResult, ...]:
    """A skipped result for each ReadyCloud create whose code is live now.
    Nothing is read when the plan creates nothing in ReadyCloud, or when its
    listing had no watermark (the server sent no ``Date``: no listing can then
    be bounded; the lost-answer look-ups still guard each POST)."""
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
