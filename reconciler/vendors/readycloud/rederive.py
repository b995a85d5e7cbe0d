"""ReadyCloud's part of re-deriving a saved plan (:mod:`reconciler.plan.rederive`):
whether the catalog asks for a saved product change."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reconciler.plan.model import Change
from reconciler.plan.rederive import declared
from reconciler.vendors.readycloud.catalog import manages, settings_of

if TYPE_CHECKING:
    from reconciler.catalog.model import Catalog, ProductSpec

_PK = re.compile(r"\d+")


def _readycloud(change: Change, spec: ProductSpec | None, catalog: Catalog) -> str | None:
    if settings_of(catalog) is None:
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
    if spec is None or spec.absent or not manages(spec):
        return "the catalog does not declare the product's ReadyCloud fields"
    body = change.body if isinstance(change.body, dict) else {}
    if not body or (change.action == "create" and set(body) != set(spec.fields)):
        return "the fields differ from the catalog entry"
    for name, value in body.items():
        if not declared(value, name, spec.fields, spec.sensitive):
            return f"{name} is not the catalog's value"
    return None
