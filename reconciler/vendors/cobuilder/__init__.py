"""Cobuilder property values: the catalog's ``cobuilder`` section and each
product's ``cobuilder:`` entry. Modules: :mod:`.contract`, :mod:`.catalog`
(parse and validate), :mod:`.provider` (values read per product, one write
per change), :mod:`.planner` (values compared as multisets)."""
from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Callable, Mapping

from reconciler.errors import Location
from reconciler.vendors.base import Vendor

if TYPE_CHECKING:
    import httpx

    from reconciler.catalog.check import Checker
    from reconciler.catalog.model import Catalog, ProductSpec
    from reconciler.contracts import Contract
    from reconciler.plan.model import Change, VendorPlan
    from reconciler.plan.select import Selection
    from reconciler.providers.base import Provider


class Cobuilder(Vendor):
    name = "cobuilder"
    label = "Cobuilder"
    sections = ("cobuilder",)
    typed_settings = {"cobuilder": {"max_reads_per_minute": "number", "max_writes_per_minute": "number"}}
    product_key = "cobuilder"
    properties = True
    sandbox_path = "/products-management/api/v3"

    def sandbox_environ(self, box: Any) -> dict[str, str | None]:
        from reconciler.sandbox import DEFAULT_COBUILDER_CLIENT_ID, DEFAULT_COBUILDER_CLIENT_SECRET
        return {"COBUILDER_BASE_URL": box.cobuilder_base_url, "COBUILDER_TOKEN_URL": box.cobuilder_token_url,
                "COBUILDER_CLIENT_ID": DEFAULT_COBUILDER_CLIENT_ID,
                "COBUILDER_CLIENT_SECRET": DEFAULT_COBUILDER_CLIENT_SECRET, "COBUILDER_TOKEN": None,
                "COBUILDER_MAX_RPM": "0"}  # (the sandbox has no rate limit)

    def parse_product(self, section: Any, path: str, location: Location, check: Checker) -> Any:
        from reconciler.vendors.cobuilder.catalog import parse_product
        return parse_product(section, path, location, check)

    def finish_settings(self, settings: Any, data: Mapping[str, Any], products: tuple[ProductSpec, ...],
                        check: Checker) -> Any:
        from reconciler.vendors.cobuilder.catalog import (_unique_cobuilder_ids, client_credentials_problems,
                                                          entry_of, parse_settings)
        used = any(map(entry_of, products))
        if "cobuilder" in data or used:
            location = check.at(data, "cobuilder", "cobuilder")
            settings = parse_settings(data.get("cobuilder"), location, check)
            if used and settings is not None:
                for problem in client_credentials_problems(settings, check.environ):
                    check.add(location, problem)
        _unique_cobuilder_ids(products, check)
        return settings

    def settings_schema(self) -> dict[str, Any]:
        from reconciler.vendors.cobuilder import schema
        return schema.settings()

    def product_schema(self) -> dict[str, Any]:
        from reconciler.vendors.cobuilder import schema
        return schema.product()

    def contract(self) -> Contract:
        from reconciler.vendors.cobuilder.contract import CONTRACT
        return CONTRACT

    def advice(self, catalog: Catalog, environ: Mapping[str, str]) -> tuple[str, ...]:
        from reconciler.vendors.cobuilder.catalog import client_credentials_advice, settings_of
        settings = settings_of(catalog)
        if settings is None or not self.configured(catalog):
            return ()
        return tuple(client_credentials_advice(settings, environ))

    def configured(self, catalog: Catalog) -> bool:
        from reconciler.vendors.cobuilder.catalog import entry_of
        return any(map(entry_of, catalog.products))

    def open(self, catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str],
             transport: httpx.BaseTransport | None, parallelism: int, incremental: bool,
             cache_dir: Any) -> Provider | None:
        from reconciler.vendors.cobuilder.catalog import entry_of, settings_of
        settings = settings_of(catalog)
        if settings is None:
            return None  # (no product declares Cobuilder values: no need to walk them for ids)
        ids = [entry.id for entry in map(entry_of, catalog.products) if entry is not None]
        if not ids:
            return None  # (before its client is imported: a catalog without Cobuilder values never needs it)
        from reconciler.http import RetryPolicy
        from reconciler.vendors.cobuilder.provider import CobuilderProvider
        return stack.enter_context(CobuilderProvider.from_settings(
            settings, ids, environ, transport=transport, parallelism=parallelism,
            retry=RetryPolicy.from_env(environ)))

    def plan(self, catalog: Catalog, live: Any, selection: Selection,
             selected: Callable[[str], bool] | None = None) -> VendorPlan:
        from reconciler.vendors.cobuilder.planner import plan_cobuilder
        return plan_cobuilder(catalog, live or {}, selected or selection)

    def provenance(self, provider: Provider) -> dict[str, Any]:
        return {"base_url": str(provider.http.client.base_url).rstrip("/")}  # type: ignore[attr-defined]

    def narrow(self, provider: Provider, catalog: Catalog, wanted: Callable[[str], bool]) -> None:
        from reconciler.vendors.cobuilder.catalog import entry_of
        provider.product_ids = tuple(sorted({entry.id for p in catalog.products  # type: ignore[attr-defined]
                                             if (entry := entry_of(p)) is not None and wanted(p.code)}))

    def narrowed(self) -> bool:
        return True

    def not_asked_for(self, change: Change, spec: ProductSpec | None, catalog: Catalog) -> str | None:
        from reconciler.vendors.cobuilder.rederive import _cobuilder
        return _cobuilder(change, spec)

    def units(self, change: Change) -> frozenset[str]:
        return frozenset(f.field.split(".")[0] for f in change.fields)

    def saved_title(self, change: Change) -> str:
        guids = ", ".join(sorted(self.units(change)))
        return f"{change.key} (Cobuilder {change.resource_id}, {change.action} of {guids})"

    def title(self, change: Change) -> str | None:
        from reconciler.render.common import clean
        return f"property values of {clean(change.key)} (Cobuilder product {clean(change.resource_id)})"

    # -- import --------------------------------------------------------------
    import_ids = "cobuilder"  # ``--cobuilder-ids FILE``: a CSV of code,cobuilder_id (the ids are not in ReadyCloud)

    def import_hint(self) -> str:
        return ("cobuilder:   (its settings, when not the defaults: base_url, token_url, audience_url;\n"
                "             credentials from COBUILDER_TOKEN, or COBUILDER_CLIENT_ID and COBUILDER_CLIENT_SECRET)")

    def import_id(self, text: str) -> Any:
        from reconciler.vendors.cobuilder.importer import parse_id
        return parse_id(text)

    def import_open(self, catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str],
                    transport: httpx.BaseTransport | None, parallelism: int) -> Provider | None:
        from reconciler.catalog.check import Checker
        from reconciler.http import RetryPolicy
        from reconciler.vendors.cobuilder.catalog import parse_settings, settings_of
        from reconciler.vendors.cobuilder.provider import CobuilderProvider
        settings = settings_of(catalog)
        if settings is None:  # (the defaults, and the environment's endpoints)
            check = Checker(catalog.path, environ)
            settings = parse_settings(None, Location(catalog.path, None, "cobuilder"), check)
        provider = CobuilderProvider.from_settings(settings, (), environ, transport=transport,
                                                   parallelism=parallelism, retry=RetryPolicy.from_env(environ))
        return stack.enter_context(provider)

    def import_extend(self, provider: Provider, entries: list[dict[str, Any]], ids: Mapping[str, Any] | None,
                      note: Callable[[str], None]) -> None:
        from reconciler.vendors.cobuilder.importer import extend
        if ids:
            extend(provider, entries, ids, provider.parallelism, note)  # type: ignore[arg-type, attr-defined]

    def saved_body(self, change: Change, hidden: frozenset[str]) -> Any:
        from reconciler.plan.model import SENSITIVE_KEY
        body = change.body
        if isinstance(body, dict) and hidden:
            body = {**body, "properties": [
                {**p, "values": {SENSITIVE_KEY: p.get("propertyGuid")}} if p.get("propertyGuid") in hidden else p
                for p in body.get("properties", [])]}
        return body


VENDOR = Cobuilder()
