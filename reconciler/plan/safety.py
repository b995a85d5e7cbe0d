"""Safety thresholds, octoDNS-style: a percentage of the managed live products.

A plan past a threshold still renders in full; it carries the violations and
apply refuses it without ``--force``.
"""
from __future__ import annotations

from reconciler.catalog.policy import Policy
from reconciler.plan.model import Change, product_action


def violations(policy: Policy, changes: tuple[Change, ...], managed_live: int) -> tuple[str, ...]:
    """What the product changes cross, with by how much."""
    if managed_live < max(policy.min_existing, 1):
        return ()
    by_product: dict[str, list[Change]] = {}
    for change in changes:
        by_product.setdefault(change.key, []).append(change)
    # each product once, as the plan counts it: a change to its property values
    # (set, changed or deleted) updates it
    actions = [product_action(group) for group in by_product.values()]
    deletes, updated = actions.count("delete"), actions.count("update")
    found = []
    for what, count, limit, key in (("delete", deletes, policy.max_delete_percent, "max_delete_percent"),
                                    ("update", updated, policy.max_update_percent, "max_update_percent")):
        if limit is None:
            continue
        percent = 100.0 * count / managed_live
        if percent > limit:
            found.append(f"{key}: the plan would {what} {count} of {managed_live} managed live products "
                         f"({percent:.1f}%), {percent - limit:.1f} points over the limit of {limit:g}%")
    return tuple(found)
