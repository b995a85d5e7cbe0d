"""The local cache of the last ReadyCloud listing, for incremental refresh.

Only an optimisation: anything unexpected about it (missing, corrupt, another
org or base URL, another version, a MAC that does not verify) means a full
refresh. It is untrusted input (CI caches): with a ``key`` (:func:`cache_key`,
derived from the ReadyCloud token) it is sealed with an HMAC over the whole
document, base URL and org included, and a cache that does not verify is
ignored. It holds products as
the API answered them, never credentials, and never a sensitive value in
clear: a field the catalog marks sensitive is kept as a digest of its value
(see :class:`Secrets`), restored from the catalog when it matches.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from reconciler import integrity, tempfiles
from reconciler.catalog.model import Catalog, ProductSpec
from reconciler.vendors.readycloud import contract as rc

VERSION = 1
CACHE_KEY_LABEL = "reconciler-cache-v1"


def cache_key(token: str) -> bytes:
    """The key that authenticates the cache: derived from the ReadyCloud token."""
    return integrity.derive_key(CACHE_KEY_LABEL, token)


@dataclass(frozen=True)
class Snapshot:
    watermark: str
    products: list[dict[str, Any]]
    hidden: tuple[str, ...] = ()  # fields some products hold as digests (see Secrets)


#: the key of a hidden value in a cached product: ``{"$sha256": <hex digest of its JSON>}``
DIGEST_KEY = "$sha256"


def _digest(value: Any) -> dict[str, str]:
    return {DIGEST_KEY: hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()}


class Secrets:
    """The sensitive fields of cached products (the catalog's top-level
    ``sensitive:`` for every product, plus each declared product's own), kept
    as digests, and the catalog's values to restore them from."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog
        self._specs: dict[str, ProductSpec] | None = None

    def _by_code(self) -> dict[str, ProductSpec]:
        if self._specs is None:
            self._specs = self._catalog.by_code() if self._catalog is not None else {}
        return self._specs

    def hide(self, products: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
        """``products`` with their sensitive values replaced by digests, and
        the names of the fields that were."""
        catalog = self._catalog
        if catalog is None or not catalog.sensitive and not any(s.sensitive for s in catalog.products):
            return products, []
        specs, everywhere = self._by_code(), catalog.sensitive
        result, names = [], set()
        for product in products:
            spec = specs.get(product.get("code"))  # type: ignore[arg-type]
            hidden = everywhere if spec is None or not spec.sensitive else spec.sensitive | everywhere
            if hidden and not hidden.isdisjoint(product):
                product = {k: _digest(v) if k in hidden and v is not None else v for k, v in product.items()}
                names.update(k for k in hidden if isinstance(product.get(k), dict))
            result.append(product)
        return result, sorted(names)

    def restore(self, snapshot: Snapshot) -> list[dict[str, Any]] | None:
        """The cached products with the catalog's values back where their
        digests match; None (list everything) if a value the catalog declares
        differs (the plan must compare it). A field the catalog does not
        declare for the product stays a digest: nothing compares it."""
        if not snapshot.hidden:
            return snapshot.products
        specs, result = self._by_code(), []
        for product in snapshot.products:
            spec = specs.get(product.get("code"))  # type: ignore[arg-type]
            if spec is not None and not spec.absent:
                for name in snapshot.hidden:
                    value = product.get(name)
                    if isinstance(value, dict) and DIGEST_KEY in value and name in spec.fields:
                        if _digest(spec.fields[name]) != value:
                            return None
                        product = {**product, name: spec.fields[name]}
            result.append(product)
        return result


def cache_path(directory: str | os.PathLike[str], base_url: str, org: int) -> Path:
    key = hashlib.sha256(f"{base_url.rstrip('/')}|{org}".encode()).hexdigest()[:16]
    return Path(directory) / f"readycloud-{key}.json"


def load(path: Path, base_url: str, org: int, *, key: bytes | None = None) -> Snapshot | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if key is not None and not integrity.verifies(data, key):
            return None
        if (data["version"] != VERSION or data["base_url"] != base_url.rstrip("/") or data["org"] != org
                or not isinstance(data["watermark"], str) or not isinstance(data["products"], list)
                or data["count"] != len(data["products"])
                or not all(type(p) is dict and isinstance(p.get("code"), (str, type(None)))
                           for p in data["products"])):
            return None
        return Snapshot(data["watermark"], data["products"], tuple(map(str, data.get("hidden", ()))))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget(path: Path, base_url: str, org: int, pks: set[str], *, key: bytes | None = None) -> None:
    """Drop deleted products from a cached listing, if there is one: apply
    deleted them, and a deletion is what an ``updated_at__gte`` listing cannot
    show (the next incremental refresh would otherwise list everything)."""
    snapshot = load(path, base_url, org, key=key)
    if snapshot is not None:
        kept = [p for p in snapshot.products if rc.product_pk_from_url(str(p.get("url", ""))) not in pks]
        save(path, base_url, org, snapshot.watermark, kept, snapshot.hidden, key=key)


def save(path: Path, base_url: str, org: int, watermark: str, products: list[dict[str, Any]],
         hidden: Iterable[str] = (), *, key: bytes | None = None) -> None:
    """Write the listing; ``hidden``: the fields some ``products`` hold as
    digests (:meth:`Secrets.hide` made them); ``key``: seal it (:func:`cache_key`)."""
    # json.dumps, not json.dump: the whole document at once goes through the C encoder (10× faster)
    document = {"version": VERSION, "base_url": base_url.rstrip("/"), "org": org, "watermark": watermark,
                "count": len(products), "hidden": list(hidden), "products": products}
    text = json.dumps(integrity.seal(document, key) if key is not None else document, separators=(",", ":"))
    with tempfiles.replaced(path, ".cache-", durable=False) as out:  # (a cache: losing it costs a full listing)
        out.write(text)
