"""Library entry points the CLI (and other programs) call: build providers
from a catalog and the environment, refresh, plan, apply. (The notification
steps, write-ahead, announce, recovery, are :mod:`reconciler.notifications`.)"""
from __future__ import annotations

import functools
import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import httpx

from reconciler.catalog import sources
from reconciler.catalog.load import build, load_catalog, read_catalog, vendor_settings
from reconciler.catalog.model import Catalog
from reconciler.endpoints import without_userinfo
from reconciler.errors import ConfigError
from reconciler.plan import Plan, build_plan
from reconciler.plan.select import ALL, Selection
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler import vendors
from reconciler.workers import at_once, in_background

# What only saved plans and applies use is imported where they use it: a
# plan, the command users run most, does not wait for it.
if TYPE_CHECKING:
    from reconciler.apply import ApplyResult, ChangeResult
    from reconciler.plan import planfile
    from reconciler.plan.rederive import Rederived
    from reconciler.sinks.journal import WriteAhead


def cache_dir(catalog_path: str) -> Path:
    """Where incremental refresh keeps the last listing: ``.reconciler/cache`` next to the catalog."""
    return Path(catalog_path).resolve().parent / ".reconciler" / "cache"


def open_providers(catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str] = os.environ,
                   transport: httpx.BaseTransport | None = None, parallelism: int = 8,
                   incremental: bool = False, opened: Mapping[str, Provider] | None = None) -> dict[str, Provider]:
    """One provider per registered vendor the catalog needs read; closed with ``stack``.
    ``incremental``: a vendor that can refreshes from a local cache of its
    last reading plus what changed since (a full one whenever in doubt).
    ``opened``: providers already open for this catalog (see :func:`load_and_open`)."""
    providers: dict[str, Provider] = {}
    for vendor in vendors.registered():
        provider = (opened or {}).get(vendor.name)
        if provider is None:
            provider = vendor.open(catalog, stack, environ=environ, transport=transport, parallelism=parallelism,
                                   incremental=incremental, cache_dir=cache_dir(catalog.path))
        if provider is not None:
            vendor.bind(provider, catalog)
            providers[vendor.name] = provider
    return providers


#: Catalog size (bytes) from which its products' validation overlaps the
#: vendors' reading (1 MiB, about 5,000 products: a load of 0.1 s or more).
EARLY_LISTING_FROM = 1 << 20


def load_and_open(catalog_path: str | Sequence[str], stack: ExitStack, *, environ: Mapping[str, str] = os.environ,
                  transport: httpx.BaseTransport | None = None, parallelism: int = 8,
                  incremental: bool = False) -> tuple[Catalog, dict[str, Provider]]:
    """Load the catalog and open its providers, in stages: parse the file;
    start each vendor whose settings it declares, which for a catalog large
    enough for it to matter (:data:`EARLY_LISTING_FROM`) begins reading live
    state; then validate the products meanwhile. A smaller catalog is
    validated before any request. An invalid catalog stops what was started,
    which has only read. A catalog of several files or a directory is loaded
    first, then opened.

    A large catalog's vendors start here, before the validation: the listing
    is what the plan waits for, and a thread making the HTTP client (which
    loads the TLS certificates) would get the interpreter lock only by turns
    with the validation, sending the first request a tenth of a second or
    more later. A small catalog's vendors start in a thread beside it."""
    if sources.is_multi(catalog_path):
        catalog = load_catalog(catalog_path, environ)
        return catalog, open_providers(catalog, stack, environ=environ, transport=transport,
                                       parallelism=parallelism, incremental=incremental)
    catalog_path = sources.arguments(catalog_path)[0]
    source = read_catalog(catalog_path)
    read = len(source.text) >= EARLY_LISTING_FROM
    declared = vendor_settings(source, environ)
    started = {}
    for vendor in vendors.registered():
        if vendor.name in declared:
            settings = declared[vendor.name]
            begin = functools.partial(_start, vendor, settings, catalog_path, environ, transport, parallelism,
                                      incremental, read)
            started[vendor.name] = (settings, at_once(begin) if read else in_background(begin, f"{vendor.name}-open"))
    try:
        catalog = build(source, environ)
    except BaseException:
        for _, opening in started.values():
            if opening.exception() is None and (provider := opening.result()) is not None:
                provider.close()
        raise
    del source
    opened = {}
    for name, (settings, opening) in started.items():
        provider = opening.result()
        if provider is not None and settings == catalog.settings.get(name):
            opened[name] = stack.enter_context(provider)
        elif provider is not None:
            provider.close()
    return catalog, open_providers(catalog, stack, environ=environ, transport=transport, parallelism=parallelism,
                                   incremental=incremental, opened=opened)


def _start(vendor: vendors.Vendor, settings: Any, catalog_path: str, environ: Mapping[str, str],
           transport: httpx.BaseTransport | None, parallelism: int, incremental: bool, read: bool) -> Provider | None:
    try:
        return vendor.start(settings, environ=environ, transport=transport, parallelism=parallelism,
                            incremental=incremental, cache_dir=cache_dir(catalog_path), read=read)
    except ConfigError:
        return None  # missing credentials are reported after the catalog's own problems


def refresh_and_plan(catalog: Catalog, providers: Mapping[str, Provider],
                     selection: Selection = ALL, progress: Progress = NULL,
                     phases: dict[str, float] | None = None,
                     only: Mapping[str, Callable[[str], bool]] | None = None,
                     live: dict[str, Any] | None = None) -> Plan:
    """Read the live state of every provider and diff it against the catalog.
    ``only``: per vendor, the products whose live state was read, if not all selected.
    ``live``: filled with each vendor's live state, for a caller that needs it after the plan (import)."""
    live = {} if live is None else live
    started = time.perf_counter()
    for vendor in vendors.registered():
        provider = providers.get(vendor.name)
        if provider is not None:
            live[vendor.name] = vendor.refresh(provider, catalog, selection, progress)
    refreshed = time.perf_counter()
    plan = build_plan(catalog, live, selection, only)
    if phases is not None:  # seconds per phase, for the benchmark
        overlapped = sum(float(getattr(state, "overlapped", 0.0)) for state in live.values())
        phases.update(refresh=refreshed - started, prediff=overlapped, diff=time.perf_counter() - refreshed)
    return plan


def provenance(providers: Mapping[str, Provider], force: bool = False) -> planfile.Provenance:
    """Where this run talks to (each vendor's server, and account), as a plan
    records it (without any user:password a URL from the environment holds)."""
    from reconciler.plan import planfile

    found: dict[str, dict[str, Any]] = {}
    for vendor in vendors.registered():
        provider = providers.get(vendor.name)
        if provider is not None:
            where = dict(vendor.provenance(provider))
            if isinstance(where.get("base_url"), str):
                where["base_url"] = without_userinfo(where["base_url"])
            found[vendor.name] = where
    return planfile.Provenance(found, force=force)


def rederive_saved(saved: planfile.SavedPlan, catalog: Catalog, providers: Mapping[str, Provider],
                   progress: Progress = NULL, here: planfile.Provenance | None = None) -> Rederived:
    """What applying ``saved`` means now, decided from the catalog and the live
    state alone (:mod:`reconciler.plan.rederive`): refused if it was made
    against another server or org or with another catalog. Each vendor reads
    what ``plan`` reads, less for a vendor that can narrow its reading to the
    products the saved plan touches. ``here``: where this run is (default:
    :func:`provenance` of ``providers``)."""
    from reconciler.plan import planfile
    from reconciler.plan.rederive import rederive

    if saved.plan.catalog_digest != catalog.digest:
        raise planfile.PlanFileError(f"{catalog.path} changed since the plan was made; run plan again")
    elsewhere = saved.provenance.mismatches(here or provenance(providers))
    if elsewhere:
        raise planfile.PlanFileError("the plan was made against another server or org; nothing was applied:\n"
                                     + "\n".join(f"  {m}" for m in elsewhere))
    only: dict[str, Callable[[str], bool]] = {}
    for vendor in vendors.registered():
        provider = providers.get(vendor.name)
        if provider is None or not vendor.narrowed():
            continue
        codes = {c.key for c in saved.plan.changes if c.vendor == vendor.name}
        wanted = functools.partial(_wanted, frozenset(codes), saved.selection)
        vendor.narrow(provider, catalog, wanted)
        only[vendor.name] = wanted
    fresh = refresh_and_plan(catalog, providers, saved.selection, progress, only=only)
    return rederive(saved.plan, fresh, catalog, saved.selection)


def _wanted(codes: frozenset[str], selection: Selection, code: str) -> bool:
    return code in codes and selection(code)


def apply(plan: Plan, providers: Mapping[str, Provider], *, parallelism: int = 8,
          on_result: Callable[[ChangeResult], None] | None = None, progress: Progress = NULL,
          check_creates: bool = True, journal: WriteAhead | None = None) -> ApplyResult:
    """Apply ``plan``, less the ReadyCloud creates whose products appeared
    since it was made (one listing first; those are skipped and reported).
    ``check_creates=False``: the caller has just checked them against a fresh
    listing. With ``journal``, every announced change's intent is recorded
    before it is sent and its answer after (see :func:`write_ahead`)."""
    from reconciler import precreate
    from reconciler.apply import apply_plan

    appeared = precreate.appeared(plan, providers) if check_creates and not plan.errors else ()
    if journal is not None:
        providers, shown = journal.wrap(providers), on_result

        def on_result(result: ChangeResult) -> None:
            journal.answered(result)
            if shown is not None:
                shown(result)
    for skipped in appeared:
        if on_result is not None:
            on_result(skipped)
    result = apply_plan(precreate.without(plan, appeared), providers, parallelism=parallelism,
                        on_result=on_result, progress=progress)
    return precreate.merged(plan, appeared, result)
