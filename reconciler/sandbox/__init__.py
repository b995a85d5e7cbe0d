"""A simulation of the vendor HTTP APIs (ReadyCloud products, Cobuilder property
values) for tests, the demo and benchmarks. State lives in a SQLite file.

    with Sandbox() as sb:
        httpx.get(f"{sb.readycloud_base_url}/orgs/1/products/",
                  headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
"""
from __future__ import annotations

import importlib
from typing import Any

#: what this package offers, and the module each comes from (imported when first
#: asked for: the vendors' simulators import the sandbox's store and responses)
_EXPORTS = {
    "DEFAULT_TOKEN": ("reconciler.sandbox.app", "DEFAULT_TOKEN"),
    "build_app": ("reconciler.sandbox.app", "build_app"),
    "DEFAULT_COBUILDER_CLIENT_ID": ("reconciler.vendors.cobuilder.sandbox", "DEFAULT_CLIENT_ID"),
    "DEFAULT_COBUILDER_CLIENT_SECRET": ("reconciler.vendors.cobuilder.sandbox", "DEFAULT_CLIENT_SECRET"),
    "SeedError": ("reconciler.sandbox.seed", "SeedError"),
    "documented_rate_limits": ("reconciler.vendors.readycloud.sandbox", "rate_limit_faults"),
    "DEFAULT_STATE_PATH": ("reconciler.sandbox.server", "DEFAULT_STATE_PATH"),
    "Sandbox": ("reconciler.sandbox.server", "Sandbox"),
    "serve": ("reconciler.sandbox.server", "serve"),
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_COBUILDER_CLIENT_ID",
    "DEFAULT_COBUILDER_CLIENT_SECRET",
    "DEFAULT_STATE_PATH",
    "DEFAULT_TOKEN",
    "documented_rate_limits",
    "Sandbox",
    "SeedError",
    "build_app",
    "serve",
]
