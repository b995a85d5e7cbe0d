"""Library entry points the CLI (and other programs) call: build providers
from a catalog and the environment, refresh, plan, apply."""
from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any, Callable, Mapping

import httpx

from reconciler.apply import ApplyResult, ChangeResult, apply_plan
from reconciler.catalog.model import Catalog
from reconciler.plan import Plan, build_plan
from reconciler.providers.base import Provider
from reconciler.providers.cobuilder import CobuilderProvider
from reconciler.providers.http import RetryPolicy
from reconciler.providers.readycloud import ReadyCloudProvider


def open_providers(catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str] = os.environ,
                   transport: httpx.BaseTransport | None = None, parallelism: int = 8) -> dict[str, Provider]:
    """One provider per vendor the catalog configures; closed with ``stack``."""
    providers: dict[str, Provider] = {}
    retry = RetryPolicy.from_env(environ)
    if catalog.readycloud is not None:
        providers["readycloud"] = stack.enter_context(ReadyCloudProvider.from_settings(
            catalog.readycloud, environ, transport=transport, parallelism=parallelism, retry=retry))
    cobuilder_ids = [p.cobuilder.id for p in catalog.products if p.cobuilder is not None]
    if catalog.cobuilder is not None and cobuilder_ids:
        providers["cobuilder"] = stack.enter_context(CobuilderProvider.from_settings(
            catalog.cobuilder, cobuilder_ids, environ, transport=transport, parallelism=parallelism, retry=retry))
    return providers


def refresh_and_plan(catalog: Catalog, providers: Mapping[str, Provider]) -> Plan:
    """Read the live state of every provider and diff it against the catalog."""
    live: dict[str, Any] = {name: provider.refresh() for name, provider in providers.items()}
    return build_plan(catalog, live.get("readycloud"), live.get("cobuilder"))


def apply(plan: Plan, providers: Mapping[str, Provider], *, parallelism: int = 8,
          on_result: Callable[[ChangeResult], None] | None = None) -> ApplyResult:
    return apply_plan(plan, providers, parallelism=parallelism, on_result=on_result)
