"""Immutable, validated catalog data. Built only by :mod:`reconciler.catalog.load`."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from reconciler.catalog.policy import Policy
from reconciler.catalog.yamlload import LineFinder
from reconciler.errors import Location


def frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One product entry: its code, whether it is a tombstone, and its managed fields.

    ``fields`` holds the fields the entry declares as its own top-level keys
    (``code`` included), those of the vendor that owns them
    (:attr:`reconciler.vendors.base.Vendor.owns_top_level_fields`); fields it
    leaves out are not managed. ``sensitive`` names the fields whose
    value came from the environment or that the catalog marks sensitive.
    """

    code: str
    location: Location
    absent: bool = False
    fields: Mapping[str, Any] = field(default_factory=lambda: frozen({}))
    sensitive: frozenset[str] = frozenset()
    #: each vendor's own entry in the product (vendor name -> what its ``parse_product`` made)
    sections: Mapping[str, Any] = field(default_factory=lambda: frozen({}))


@dataclass(frozen=True)
class Catalog:
    path: str
    digest: str
    products: tuple[ProductSpec, ...]
    #: each vendor's settings (vendor name -> what its ``parse_settings`` made), configured vendors only
    settings: Mapping[str, Any] = field(default_factory=lambda: frozen({}))
    notify: Any = None  # reconciler.catalog.notify.NotifySettings
    policy: Policy = Policy()
    #: finds the line of a location made without one (the fast, unlocated parse)
    lines: LineFinder | None = field(default=None, compare=False, repr=False)
    #: the top-level ``sensitive:`` fields, hidden for every product (those
    #: the catalog declares carry them in ``ProductSpec.sensitive`` too)
    sensitive: frozenset[str] = frozenset()

    def locate(self, location: Location) -> Location:
        """``location`` with its line, looked up in the file if it was loaded without lines."""
        if self.lines is None:
            return location
        return self.lines.locate(location)

    def by_code(self) -> dict[str, ProductSpec]:
        return {p.code: p for p in self.products}
