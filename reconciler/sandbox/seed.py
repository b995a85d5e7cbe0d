"""Putting state into the store directly: seed files and test set-up.

A seed document looks like::

    {"readycloud": {"orgs": {"1": [product, ...]}},
     "cobuilder": {"products": {"1000000": {"parentId": 0, "properties": [...]}}},
     "as_of": "2026-01-01T00:00:00Z"}

``as_of`` (optional) backdates the ReadyCloud products' ``created_at`` and
``updated_at``, as for a catalog that has been live for a while.

ReadyCloud products are normalised like a POST (unknown and read-only fields
dropped, ``kind`` optional); Cobuilder properties use the create body's shape.
Everything is validated before anything is written.

The demo seed (what the repository's ``catalog.yaml`` plans against with
``--sandbox``) ships inside the package as ``seed.json``, so that it is found
from any directory and by an installed wheel: :func:`demo_seed`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.vendors.cobuilder.sandbox_model import parse_properties
from reconciler.vendors.readycloud.sandbox_model import normalise, represent
from .store import PropertyWrite, Store


class SeedError(ValueError):
    """A seed document or product is invalid."""


def _prepare_readycloud(org: int, products: Iterable[Any]) -> list[dict[str, Any]]:
    prepared: list[dict[str, Any]] = []
    for index, product in enumerate(products):
        fields, errors = normalise(product, creating=True, kind_nullable=True)
        if errors:
            raise SeedError(f"readycloud org {org} product #{index}: {json.dumps(errors)}")
        prepared.append(fields)
    return prepared


def _prepare_cobuilder(product_id: Any, properties: Any) -> list[PropertyWrite]:
    try:
        return parse_properties({"properties": properties if properties is not None else []})
    except ValueError as exc:
        raise SeedError(f"cobuilder product {product_id}: {exc}") from exc


def seed_readycloud(store: Store, org: int, products: Iterable[Any],
                    as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Insert products (all or none) and return their representations;
    ``as_of``: when they were created and last updated (default now)."""
    prepared = _prepare_readycloud(org, products)
    return [represent(row) for row in store.rc_insert(int(org), prepared, as_of)]


def seed_cobuilder(store: Store, product_id: int, properties: Any = None,
                   parent_id: int | None = None) -> None:
    """Create (or overwrite) a Cobuilder product holding exactly these own values."""
    writes = _prepare_cobuilder(product_id, properties)
    store.cb_replace_all(int(product_id), int(parent_id or 0), writes)


def apply_seed(store: Store, document: Any, *, only_if_empty: bool = False) -> dict[str, Any]:
    """Load a seed document; with ``only_if_empty`` a store holding anything is left alone.

    Answers ``{"seeded": bool, "readycloud_products": n, "cobuilder_products": m}``.
    """
    if not isinstance(document, Mapping):
        raise SeedError("a seed document is a JSON object")
    if only_if_empty and not store.is_empty():
        return {"seeded": False, "readycloud_products": 0, "cobuilder_products": 0}
    as_of = _as_of(document.get("as_of"))
    rc_batches: list[tuple[int, list[dict[str, Any]]]] = []
    for org, items in _section(document, "readycloud", "orgs").items():
        if not isinstance(items, list):
            raise SeedError(f"readycloud.orgs.{org} must be a list of products")
        org_pk = _integer(org, "readycloud org")
        rc_batches.append((org_pk, _prepare_readycloud(org_pk, items)))
    cb_batches: list[tuple[int, int, list[PropertyWrite]]] = []
    for key, spec in _section(document, "cobuilder", "products").items():
        if not isinstance(spec, Mapping):
            raise SeedError(f"cobuilder.products.{key} must be an object")
        cb_batches.append((_integer(key, "cobuilder product id"),
                           _integer(spec.get("parentId") or 0, "parentId"),
                           _prepare_cobuilder(key, spec.get("properties"))))
    for org_pk, fields in rc_batches:
        store.rc_insert(org_pk, fields, as_of)
    for product_id, parent_id, writes in cb_batches:
        store.cb_replace_all(product_id, parent_id, writes)
    return {"seeded": True, "readycloud_products": sum(len(f) for _, f in rc_batches),
            "cobuilder_products": len(cb_batches)}


#: The demo seed's file name inside this package (package data).
DEMO_SEED = "seed.json"


def demo_seed() -> Any:
    """The demo seed document shipped with the package."""
    return json.loads(resources.files(__package__).joinpath(DEMO_SEED).read_text(encoding="utf-8"))


def load_seed_file(store: Store, path: str | Path | None, *, only_if_empty: bool = True) -> dict[str, Any]:
    """Load a seed file (None: the demo seed; by default only into an empty
    store, so state persists)."""
    if path is None:
        return apply_seed(store, demo_seed(), only_if_empty=only_if_empty)
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SeedError(f"{path}: not valid JSON: {exc}") from exc
    return apply_seed(store, document, only_if_empty=only_if_empty)


def _as_of(value: Any) -> datetime | None:
    """A seed's ``as_of``: an ISO 8601 date-time in the past, when the seeded
    ReadyCloud products were created and last updated."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise SeedError(f"as_of must be an ISO 8601 date-time, got {value!r}") from None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    if moment > datetime.now(timezone.utc):
        raise SeedError("as_of must not be in the future")
    return moment


def _section(document: Mapping[str, Any], vendor: str, key: str) -> Mapping[str, Any]:
    part = document.get(vendor) or {}
    inner = (part.get(key) or {}) if isinstance(part, Mapping) else None
    if not isinstance(inner, Mapping):
        raise SeedError(f"{vendor}.{key} must be an object")
    return inner


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise SeedError(f"{what} must be an integer, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SeedError(f"{what} must be an integer, got {value!r}") from None
