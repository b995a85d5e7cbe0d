"""ReadyCloud products: the catalog's ``readycloud`` section and each
product's own fields. Modules: :mod:`.contract` (the API as documented),
:mod:`.provider` (listing, incremental refresh, one write per change),
:mod:`.planner` (creates, updates, deletes by code)."""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from reconciler.vendors.base import Vendor
from reconciler.vendors.readycloud import fields

if TYPE_CHECKING:
    import httpx

    from reconciler.apply import ChangeResult
    from reconciler.catalog.check import Checker
    from reconciler.catalog.model import Catalog, ProductSpec
    from reconciler.contracts import Contract
    from reconciler.plan.model import Change, Plan, VendorPlan
    from reconciler.plan.select import Selection
    from reconciler.progress import Progress
    from reconciler.providers.base import Provider


@dataclass(frozen=True)
class Listed:
    """The live listing and the comparisons made while it was read."""

    index: Any
    compared: Any  # reconciler.vendors.readycloud.planner.PageComparison

    @property
    def overlapped(self) -> float:
        return float(self.compared.seconds)


class ReadyCloud(Vendor):
    name = "readycloud"
    label = "ReadyCloud"
    sections = ("readycloud",)
    #: both hosts are documented (``contract.HOSTS``): one endpoint, one apply lock
    same_hosts = {"readycloud.com": "www.readycloud.com"}
    typed_settings = {"readycloud": {"org": "int", "max_reads_per_minute": "number",
                                     "max_writes_per_minute": "number"}}
    owns_top_level_fields = True
    announces = True
    keeps_deleted = True
    sandbox_path = "/api/v2"

    def contract(self) -> Contract:
        from reconciler.vendors.readycloud.contract import CONTRACT
        return CONTRACT

    @property
    def product_fields(self) -> Mapping[str, str]:  # type: ignore[override]
        from reconciler.vendors.readycloud.contract import WRITABLE_FIELDS
        return WRITABLE_FIELDS

    #: (the module's function itself: this runs for every product)
    parse_fields = staticmethod(fields.parse_fields)  # type: ignore[assignment]

    def sandbox_environ(self, box: Any) -> dict[str, str | None]:
        from reconciler.sandbox import DEFAULT_TOKEN
        return {"READYCLOUD_BASE_URL": box.readycloud_base_url, "READYCLOUD_TOKEN": DEFAULT_TOKEN,
                "READYCLOUD_MAX_RPM": "0"}  # (the sandbox has no rate limit)

    def parse_settings(self, data: Mapping[str, Any], check: Checker) -> Any:
        from reconciler.vendors.readycloud.catalog import _readycloud
        return _readycloud(data, check)  # type: ignore[arg-type]

    def finish_settings(self, settings: Any, data: Mapping[str, Any], products: tuple[ProductSpec, ...],
                        check: Checker) -> Any:
        from reconciler.vendors.readycloud.catalog import _readycloud_section_needed
        if settings is None and data.get("readycloud") is None:  # absent, or ``readycloud:`` left empty
            _readycloud_section_needed(products, check)
        return settings

    def settings_schema(self) -> dict[str, Any]:
        from reconciler.vendors.readycloud import schema
        return schema.settings()

    def product_schema(self) -> dict[str, Any]:
        from reconciler.vendors.readycloud import schema
        return schema.product()

    def configured(self, catalog: Catalog) -> bool:
        return catalog.settings.get(self.name) is not None

    def scope(self, catalog: Catalog) -> str | None:
        settings = catalog.settings.get(self.name)
        return f"ReadyCloud org {settings.org}" if settings is not None else None

    def open(self, catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str],
             transport: httpx.BaseTransport | None, parallelism: int, incremental: bool,
             cache_dir: Any) -> Provider | None:
        settings = catalog.settings.get(self.name)
        if settings is None:
            return None
        return stack.enter_context(self.provider(settings, environ, transport, parallelism, incremental, cache_dir))

    def start(self, settings: Any, *, environ: Mapping[str, str], transport: httpx.BaseTransport | None,
              parallelism: int, incremental: bool, cache_dir: Any, read: bool) -> Provider | None:
        provider = self.provider(settings, environ, transport, parallelism, incremental, cache_dir)
        if read and not incremental:  # (incremental: a short listing of what changed, nothing to gain)
            provider.start_listing()  # type: ignore[attr-defined]
        return provider

    def provider(self, settings: Any, environ: Mapping[str, str], transport: httpx.BaseTransport | None,
                 parallelism: int, incremental: bool, cache_dir: Path | None) -> Provider:
        """A provider for these settings, not yet bound to a catalog's secrets."""
        from reconciler.http import RetryPolicy
        from reconciler.vendors.readycloud.provider import ReadyCloudProvider
        provider = ReadyCloudProvider.from_settings(settings, environ, transport=transport, parallelism=parallelism,
                                                    retry=RetryPolicy.from_env(environ))
        provider.cache_dir, provider.incremental = cache_dir, incremental
        return provider

    def bind(self, provider: Provider, catalog: Catalog) -> None:
        from reconciler.vendors.readycloud.cache import Secrets
        provider.secrets = Secrets(catalog)  # type: ignore[attr-defined]  # (kept as digests in its cache)

    def refresh(self, provider: Provider, catalog: Catalog, selection: Selection, progress: Progress) -> Any:
        """The listing, each page compared with the catalog as it arrives."""
        from reconciler.vendors.readycloud.planner import PageComparison
        compared = PageComparison(catalog, selection)
        reading = provider.read(progress)  # type: ignore[attr-defined]
        while True:
            try:
                compared.add(next(reading))
            except StopIteration as done:
                return Listed(done.value, compared)

    def plan(self, catalog: Catalog, live: Any, selection: Selection,
             selected: Callable[[str], bool] | None = None) -> VendorPlan:
        from reconciler.vendors.readycloud.planner import plan_readycloud
        compared = None
        if isinstance(live, Listed):
            live, compared = live.index, live.compared
        return plan_readycloud(catalog, {} if live is None else live, selected or selection, compared)

    def provenance(self, provider: Provider) -> dict[str, Any]:
        return {"base_url": provider.base_url, "org": provider.org}  # type: ignore[attr-defined]

    def not_asked_for(self, change: Change, spec: ProductSpec | None, catalog: Catalog) -> str | None:
        from reconciler.vendors.readycloud.rederive import _readycloud
        return _readycloud(change, spec, catalog)

    def moved_on(self, saved: Change, now: list[Change]) -> str | None:
        actions = {c.action for c in now}
        if actions == {"create"}:
            return f"{self.saved_title(saved)} was deleted since the plan"
        if saved.action == "create":
            ids = ", ".join(str(c.resource_id) for c in now)
            return (f"{saved.key} was created in ReadyCloud since the plan (id {ids}) and differs from the catalog; "
                    "the plan would create a duplicate")
        return None

    def appeared(self, plan: Plan, provider: Provider) -> tuple[ChangeResult, ...]:
        from reconciler.vendors.readycloud.precreate import appeared
        return appeared(plan, provider)

    # -- import --------------------------------------------------------------
    lists_products = True

    def import_sections(self, org: int) -> dict[str, Any]:
        return {"readycloud": {"org": org}}

    def import_hint(self) -> str:
        from reconciler.vendors.readycloud.contract import DEFAULT_BASE_URL, DEFAULT_READS_PER_MINUTE
        return (f"base_url: {DEFAULT_BASE_URL}   (the default; another host: READYCLOUD_BASE_URL)\n"
                f"max_reads_per_minute: {DEFAULT_READS_PER_MINUTE:g}   (the default pace; also READYCLOUD_MAX_RPM)")

    def import_open(self, catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str],
                    transport: httpx.BaseTransport | None, parallelism: int) -> Provider | None:
        settings = catalog.settings.get(self.name)
        if settings is None:
            return None
        return stack.enter_context(self.provider(settings, environ, transport, parallelism, False, None))

    def import_pages(self, provider: Provider, progress: Progress,
                     note: Callable[[str], None]) -> Iterator[list[dict[str, Any]]]:
        from reconciler.vendors.readycloud.importer import pages
        return pages(provider, progress, note)  # type: ignore[arg-type]

    def import_live(self, live: Any, codes: Iterable[str], note: Callable[[str], None]) -> list[dict[str, Any]]:
        from reconciler.vendors.readycloud.importer import from_live
        return from_live(live.index if isinstance(live, Listed) else live, codes, note)


VENDOR = ReadyCloud()
