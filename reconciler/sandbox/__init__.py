"""A simulation of the vendor HTTP APIs (ReadyCloud products, Cobuilder property
values) for tests, the demo and benchmarks. State lives in a SQLite file.

    with Sandbox() as sb:
        httpx.get(f"{sb.readycloud_base_url}/orgs/1/products/",
                  headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
"""
from __future__ import annotations

from .app import DEFAULT_TOKEN, build_app
from .cobuilder import DEFAULT_CLIENT_ID as DEFAULT_COBUILDER_CLIENT_ID
from .cobuilder import DEFAULT_CLIENT_SECRET as DEFAULT_COBUILDER_CLIENT_SECRET
from .seed import SeedError
from .server import DEFAULT_STATE_PATH, Sandbox, serve

__all__ = [
    "DEFAULT_COBUILDER_CLIENT_ID",
    "DEFAULT_COBUILDER_CLIENT_SECRET",
    "DEFAULT_STATE_PATH",
    "DEFAULT_TOKEN",
    "Sandbox",
    "SeedError",
    "build_app",
    "serve",
]
