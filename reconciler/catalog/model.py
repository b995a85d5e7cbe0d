"""Immutable, validated catalog data. Built only by :mod:`reconciler.catalog.load`."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from reconciler.vendors.cobuilder.catalog import CobuilderProductSpec, CobuilderSettings
from reconciler.catalog.policy import Policy
from reconciler.catalog.yamlload import LineFinder
from reconciler.errors import Location


def frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class ReadyCloudSettings:
    org: int
    base_url: str
    location: Location = field(compare=False)  # (where it was declared, not what it is)
    max_reads_per_minute: float | None = None   # None: unpaced
    max_writes_per_minute: float | None = None


@dataclass(frozen=True, slots=True)
class ProductSpec:
    """One product entry: its code, whether it is a tombstone, and its managed fields.

    ``fields`` holds the ReadyCloud fields the entry declares (``code`` included);
    fields it leaves out are not managed. ``sensitive`` names the fields whose
    value came from the environment or that the catalog marks sensitive.
    """

    code: str
    location: Location
    absent: bool = False
    fields: Mapping[str, Any] = field(default_factory=lambda: frozen({}))
    sensitive: frozenset[str] = frozenset()
    cobuilder: CobuilderProductSpec | None = None

    @property
    def manages_readycloud(self) -> bool:
        """False for an entry that only declares Cobuilder values (code alone)."""
        return self.absent or len(self.fields) > ("code" in self.fields)  # (a field other than code)


@dataclass(frozen=True)
class Catalog:
    path: str
    digest: str
    readycloud: ReadyCloudSettings | None
    products: tuple[ProductSpec, ...]
    notify: Any = None  # reconciler.catalog.notify.NotifySettings
    cobuilder: CobuilderSettings | None = None
    policy: Policy = Policy()
    #: finds the line of a location made without one (the fast, unlocated parse)
    lines: LineFinder | None = field(default=None, compare=False, repr=False)
    #: the top-level ``sensitive:`` fields, hidden for every product (those
    #: the catalog declares carry them in ``ProductSpec.sensitive`` too)
    sensitive: frozenset[str] = frozenset()

    def locate(self, location: Location) -> Location:
        """``location`` with its line, looked up in the file if it was loaded without lines."""
        if location.line is not None or self.lines is None:
            return location
        return Location(location.file, self.lines.line(location.path), location.path)

    def by_code(self) -> dict[str, ProductSpec]:
        return {p.code: p for p in self.products}
