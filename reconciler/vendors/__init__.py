"""The registry of vendors, in plan order.

A vendor is one package here exposing ``VENDOR`` (a
:class:`reconciler.vendors.base.Vendor`); adding one is a new package and
one line in :data:`MODULES`. Packages are imported when first asked for.
"""
from __future__ import annotations

import importlib

from reconciler.vendors.base import Vendor

#: the vendor packages, in the order their changes and messages come
MODULES: tuple[str, ...] = ("reconciler.vendors.readycloud", "reconciler.vendors.cobuilder")

_loaded: list[Vendor] | None = None
_extra: list[Vendor] = []

def registered() -> tuple[Vendor, ...]:
    """Every vendor: those of :data:`MODULES`, then any :func:`register`-ed."""
    global _loaded
    if _loaded is None:
        _loaded = [importlib.import_module(module).VENDOR for module in MODULES]
    return (*_loaded, *_extra)

def register(vendor: Vendor) -> None:
    """Add a vendor at run time (tests, plug-ins); :func:`unregister` removes it."""
    _extra.append(vendor)

def unregister(vendor: Vendor) -> None:
    _extra.remove(vendor)

def get(name: str) -> Vendor | None:
    """The vendor called ``name`` (None: no such vendor)."""
    for vendor in registered():
        if vendor.name == name:
            return vendor
    return None

__all__ = ["Vendor", "get", "register", "registered", "unregister", "MODULES"]
