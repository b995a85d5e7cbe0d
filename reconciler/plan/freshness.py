"""Is a saved plan still valid? Compare the fingerprints of the live objects it
touches now with those it was planned against."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from reconciler.contracts import readycloud as rc
from reconciler.plan.model import Change, Plan, fingerprint
from reconciler.values import parse_datetime


def readycloud_touched(plan: Plan) -> tuple[dict[str, Change], set[str]]:
    """(pk -> update/delete change, codes to be created)."""
    touched = {str(c.resource_id): c for c in plan.changes
               if c.vendor == "readycloud" and c.action in ("update", "delete")}
    creates = {c.key for c in plan.changes if c.vendor == "readycloud" and c.action == "create"}
    return touched, creates


def stale_readycloud(plan: Plan, products: Iterable[Mapping[str, Any]], *, complete: bool) -> list[str]:
    """What changed among the products the plan touches. ``products`` is either
    the complete listing (``complete``) or those updated since the watermark."""
    touched, creates = readycloud_touched(plan)
    seen: set[str] = set()
    problems = []
    for product in products:
        pk = rc.product_pk_from_url(str(product.get("url", "")))
        change = touched.get(pk)
        if change is not None:
            seen.add(pk)
            if fingerprint(product) != change.fingerprint:
                problems.append(f"{change.key} (readycloud id {pk}) changed since the plan "
                                f"(updated_at {product.get('updated_at')})")
        if product.get("code") in creates:
            problems.append(f"{product.get('code')} was created in ReadyCloud since the plan "
                            f"(id {pk}); the plan would create a duplicate")
    if complete:
        for pk, change in touched.items():
            if pk not in seen:
                problems.append(f"{change.key} (readycloud id {pk}) was deleted since the plan")
    return problems


def new_since(products: Iterable[Mapping[str, Any]], watermark: str, known_recent: Iterable[str]) -> int:
    """How many of ``products`` (listed with ``updated_at__gte=watermark``) did
    not exist when the plan was made: not among the products the plan saw
    stamped at or after the watermark, and created at or after it (a product
    that existed then with an older creation date was counted by the plan)."""
    mark = parse_datetime(watermark)
    known = set(known_recent)
    new = 0
    for product in products:
        if rc.product_pk_from_url(str(product.get("url", ""))) in known:
            continue
        try:
            created = parse_datetime(str(product.get("created_at")))
        except ValueError:
            continue
        new += created >= mark
    return new


def stale_cobuilder(plan: Plan, answers: Mapping[int, Any]) -> list[str]:
    problems = []
    for change in plan.changes:
        if change.vendor != "cobuilder":
            continue
        answer = answers.get(int(str(change.resource_id)))
        if isinstance(answer, Exception):
            problems.append(f"{change.key} (Cobuilder {change.resource_id}) cannot be read: {answer}")
        elif fingerprint(answer) != change.fingerprint:
            problems.append(f"{change.key} (Cobuilder {change.resource_id}) property values changed since the plan")
    return sorted(set(problems))
