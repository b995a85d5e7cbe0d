"""Library entry points the CLI (and other programs) call: build providers
from a catalog and the environment, refresh, plan, apply."""
from __future__ import annotations

import functools
import os
import time
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Mapping

import httpx

from reconciler import precreate
from reconciler.endpoints import without_userinfo
from reconciler.apply import ApplyResult, ChangeResult, apply_plan, phases
from reconciler.catalog.load import load_catalog
from reconciler.catalog.model import Catalog, ReadyCloudSettings
from reconciler.errors import ConfigError
from reconciler.gcpause import paused_gc
from reconciler.plan import Plan, Prediff, build_plan, planfile
from reconciler.plan.rederive import Rederived, rederive
from reconciler.plan.select import ALL, Selection
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler.providers.cobuilder import CobuilderProvider
from reconciler.providers.http import RetryPolicy
from reconciler.providers.cache import Secrets
from reconciler.providers.readycloud import ReadyCloudProvider
from reconciler.workers import in_background
from reconciler.sinks import (DeliveryReport, build_events, default_outbox_path, deliver, missing_credentials,
                             outbox_key, retry_outbox)
from reconciler.sinks.events import hidden_fields
from reconciler.sinks.journal import WriteAhead, resolve
from reconciler.sinks.journal import pending as journal_pending
from reconciler.sinks.outbox import Outbox


def cache_dir(catalog_path: str) -> Path:
    """Where incremental refresh keeps the last listing: ``.reconciler/cache`` next to the catalog."""
    return Path(catalog_path).resolve().parent / ".reconciler" / "cache"


def _open_readycloud(settings: ReadyCloudSettings, catalog_path: str, environ: Mapping[str, str],
                     transport: httpx.BaseTransport | None, parallelism: int, incremental: bool) -> ReadyCloudProvider:
    provider = ReadyCloudProvider.from_settings(settings, environ, transport=transport, parallelism=parallelism,
                                                retry=RetryPolicy.from_env(environ))
    provider.cache_dir, provider.incremental = cache_dir(catalog_path), incremental
    return provider


def open_providers(catalog: Catalog, stack: ExitStack, *, environ: Mapping[str, str] = os.environ,
                   transport: httpx.BaseTransport | None = None, parallelism: int = 8,
                   incremental: bool = False, readycloud: ReadyCloudProvider | None = None) -> dict[str, Provider]:
    """One provider per vendor the catalog configures; closed with ``stack``.
    ``incremental``: ReadyCloud refreshes from a local cache of its last
    listing plus what changed since (a full listing whenever in doubt).
    ``readycloud``: one already open for this catalog (see :func:`load_and_open`)."""
    providers: dict[str, Provider] = {}
    retry = RetryPolicy.from_env(environ)
    if catalog.readycloud is not None:
        readycloud = readycloud if readycloud is not None else stack.enter_context(
            _open_readycloud(catalog.readycloud, catalog.path, environ, transport, parallelism, incremental))
        readycloud.secrets = Secrets(catalog)  # (kept as digests in its cache)
        providers["readycloud"] = readycloud
    cobuilder_ids = [p.cobuilder.id for p in catalog.products if p.cobuilder is not None]
    if catalog.cobuilder is not None and cobuilder_ids:
        providers["cobuilder"] = stack.enter_context(CobuilderProvider.from_settings(
            catalog.cobuilder, cobuilder_ids, environ, transport=transport, parallelism=parallelism, retry=retry))
    return providers


#: Catalog size (bytes) from which its products' validation overlaps the
#: ReadyCloud listing (1 MiB, about 5,000 products: a load of 0.1 s or more).
EARLY_LISTING_FROM = 1 << 20


def load_and_open(catalog_path: str, stack: ExitStack, *, environ: Mapping[str, str] = os.environ,
                  transport: httpx.BaseTransport | None = None, parallelism: int = 8,
                  incremental: bool = False) -> tuple[Catalog, dict[str, Provider]]:
    """:func:`load_catalog` and :func:`open_providers`, with the ReadyCloud
    client made (in a thread) as soon as the catalog's ``readycloud`` section
    is read, and its full listing begun then: the pages arrive while the
    products are being validated (the listing is most of a plan's time; the
    load most of the rest). The listing only for a catalog large enough for
    that to matter (:data:`EARLY_LISTING_FROM`): a smaller one is validated
    before any request. An invalid catalog stops the listing, which has only
    read."""
    early: list[tuple[ReadyCloudSettings, Future[ReadyCloudProvider | None]]] = []
    try:
        large = os.path.getsize(catalog_path) >= EARLY_LISTING_FROM
    except (OSError, TypeError):  # (TypeError: several -c, loaded without an early listing)
        large = False  # (load_catalog says what is wrong with the path)

    def open_early(settings: ReadyCloudSettings) -> ReadyCloudProvider | None:
        try:
            provider = _open_readycloud(settings, catalog_path, environ, transport, parallelism, incremental)
        except ConfigError:
            return None  # missing credentials are reported after the catalog's own problems
        if large and not incremental:  # (incremental: a short listing of what changed, nothing to gain)
            provider.start_listing()
        return provider

    def start(settings: ReadyCloudSettings) -> None:
        # In a thread: making an HTTP client loads the TLS certificates, tens
        # of milliseconds, for a small catalog as long as its whole load.
        early.append((settings, in_background(functools.partial(open_early, settings), "readycloud-open")))

    try:
        catalog = load_catalog(catalog_path, environ, on_readycloud=start)
    except BaseException:
        for _, opening in early:
            if opening.exception() is None and (provider := opening.result()) is not None:
                provider.close()
        raise
    readycloud = None
    for settings, opening in early:
        provider = opening.result()
        if provider is None:
            continue
        if settings == catalog.readycloud:
            readycloud = stack.enter_context(provider)
        else:  # read ahead from the catalog's first lines, which the whole catalog says otherwise
            provider.close()
    return catalog, open_providers(catalog, stack, environ=environ, transport=transport, parallelism=parallelism,
                                   incremental=incremental, readycloud=readycloud)


def refresh_and_plan(catalog: Catalog, providers: Mapping[str, Provider],
                     selection: Selection = ALL, progress: Progress = NULL,
                     phases: dict[str, float] | None = None,
                     cobuilder_selected: Callable[[str], bool] | None = None) -> Plan:
    """Read the live state of every provider and diff it against the catalog
    (ReadyCloud products as their pages arrive, overlapping the listing)."""
    prediff = Prediff(catalog, selection)
    live: dict[str, Any] = {}
    started = time.perf_counter()
    for name, provider in providers.items():
        if name == "readycloud":  # one big listing of plain data (Cobuilder's many reads leave cyclic garbage)
            with paused_gc():
                live[name] = provider.refresh(progress, prediff.observe)
        else:
            live[name] = provider.refresh(progress)
    refreshed = time.perf_counter()
    with paused_gc():
        plan = build_plan(catalog, live.get("readycloud"), live.get("cobuilder"), selection, prediff,
                          cobuilder_selected)
    if phases is not None:  # seconds per phase, for the benchmark
        phases.update(refresh=refreshed - started, prediff=prediff.seconds, diff=time.perf_counter() - refreshed)
    return plan


def provenance(providers: Mapping[str, Provider], force: bool = False) -> planfile.Provenance:
    """Where this run talks to (each vendor's server, the ReadyCloud org), as a plan records it."""
    vendors: dict[str, dict[str, Any]] = {}
    for name, provider in providers.items():
        if isinstance(provider, ReadyCloudProvider):
            vendors[name] = {"base_url": without_userinfo(provider.base_url), "org": provider.org}
        elif isinstance(provider, CobuilderProvider):
            vendors[name] = {"base_url": without_userinfo(str(provider.http.client.base_url).rstrip("/"))}
    return planfile.Provenance(vendors, force=force)


def rederive_saved(saved: planfile.SavedPlan, catalog: Catalog, providers: Mapping[str, Provider],
                   progress: Progress = NULL, here: planfile.Provenance | None = None) -> Rederived:
    """What applying ``saved`` means now, decided from the catalog and the live
    state alone (:mod:`reconciler.plan.rederive`): refused if it was made
    against another server or org or with another catalog. ReadyCloud is
    listed as ``plan`` lists it; Cobuilder values are read only for the
    products the saved plan touches (their ids from the catalog). ``here``:
    where this run is (default: :func:`provenance` of ``providers``)."""
    if saved.plan.catalog_digest != catalog.digest:
        raise planfile.PlanFileError(f"{catalog.path} changed since the plan was made; run plan again")
    elsewhere = saved.provenance.mismatches(here or provenance(providers))
    if elsewhere:
        raise planfile.PlanFileError("the plan was made against another server or org; nothing was applied:\n"
                                     + "\n".join(f"  {m}" for m in elsewhere))
    codes = {c.key for c in saved.plan.changes if c.vendor == "cobuilder"}
    wanted = (lambda code: code in codes and saved.selection(code))  # noqa: E731
    cobuilder = providers.get("cobuilder")
    if isinstance(cobuilder, CobuilderProvider):
        cobuilder.product_ids = tuple(sorted({p.cobuilder.id for p in catalog.products
                                              if p.cobuilder is not None and wanted(p.code)}))
    fresh = refresh_and_plan(catalog, providers, saved.selection, progress, cobuilder_selected=wanted)
    return rederive(saved.plan, fresh, catalog, saved.selection)


def announce(catalog: Catalog, result: ApplyResult, *, environ: Mapping[str, str] = os.environ,
             livemode: bool = True, webhook_base_url: str | None = None,
             journal: WriteAhead | None = None) -> DeliveryReport | None:
    """Tell the catalog's notification sinks what the apply did (None: no sinks).
    Never raises for a sink's failure: the report says it, and undelivered
    events wait in the outbox for :func:`retry_notifications`. ``journal``:
    the apply's write-ahead records (their event ids; settled once delivered)."""
    if catalog.notify is None or not catalog.notify.configured:
        return None
    events = journal.events(result.results) if journal is not None else build_events(result, catalog=catalog)
    report = deliver(events, catalog.notify, environ=environ,
                     outbox_path=default_outbox_path(catalog.path), livemode=livemode,
                     retry=RetryPolicy.from_env(environ), webhook_base_url=webhook_base_url)
    if journal is not None:
        journal.settle()
    return report


def write_ahead(catalog: Catalog, plan: Plan, *, livemode: bool = True,
                environ: Mapping[str, str] = os.environ) -> WriteAhead | None:
    """The write-ahead records for applying ``plan`` (None: the catalog has no
    notification sinks, nothing to announce)."""
    if catalog.notify is None or not catalog.notify.configured:
        return None
    return WriteAhead(Outbox(default_outbox_path(catalog.path), outbox_key(catalog.notify, environ)), [c for p in phases(plan) for c in p],
                      livemode=livemode, sensitive=hidden_fields(catalog), org=_org(catalog))


def _org(catalog: Catalog) -> str | None:
    """The catalog's ReadyCloud org, as write-ahead records name it."""
    return str(catalog.readycloud.org) if catalog.readycloud is not None else None


def recover_notifications(catalog: Catalog, providers: Mapping[str, Provider] | None = None, *,
                          environ: Mapping[str, str] = os.environ, webhook_base_url: str | None = None,
                          parallelism: int = 8, livemode: bool | None = None) -> DeliveryReport | None:
    """Settle what a killed run left in the outbox (see :mod:`reconciler.sinks.journal`):
    send its ready events, read back its unanswered changes and announce
    those that happened, with the ids they were given. None: nothing was left.
    ``providers`` None: opened here if a read-back is needed.
    :class:`ConfigError` if the outbox is damaged."""
    outbox = Outbox(default_outbox_path(catalog.path), outbox_key(catalog.notify, environ))
    intents = journal_pending(outbox)
    if not intents:
        return None
    unread: list[str] = []
    with ExitStack() as stack:
        if providers is None and any(i.ready is None and i.org in (None, _org(catalog))
                                     and livemode in (None, i.livemode) for i in intents):
            try:
                providers = open_providers(catalog, stack, environ=environ, parallelism=parallelism)
            except ConfigError as exc:  # (e.g. a notify job without vendor credentials: the next apply reads back)
                providers, unread = {}, [f"unanswered changes cannot be read back here: {exc}"]
        recovery = resolve(intents, providers or {}, {p.code: p.fields for p in catalog.products}, parallelism,
                           _org(catalog), livemode)
    reports = [deliver([e for e, live in recovery.events if live == livemode], catalog.notify, environ=environ,
                       outbox_path=outbox.path, livemode=livemode, retry=RetryPolicy.from_env(environ),
                       webhook_base_url=webhook_base_url)
               for livemode in (True, False) if any(live == livemode for _, live in recovery.events)]
    outbox.record(drop=recovery.settled + recovery.dropped)
    messages = [f"recovered {len(recovery.events)} notification(s) of an interrupted run"
                + (f"; {len(recovery.dropped)} unanswered change(s) had not happened" if recovery.dropped else "")]
    return DeliveryReport(sinks=tuple(s for r in reports for s in r.sinks), outbox_path=str(outbox.path),
                          pending=outbox.pending(), messages=tuple(recovery.messages),
                          notes=tuple(messages + recovery.elsewhere + unread))


def require_notify_credentials(catalog: Catalog, consequence: str, *,
                               environ: Mapping[str, str] = os.environ) -> None:
    """Raise :class:`ConfigError` naming every environment variable the
    catalog's notification targets need and do not have (``validate`` and
    ``plan`` need none of them; ``apply`` and ``notify`` call this first)."""
    missing = missing_credentials(catalog.notify, environ)
    if missing:
        raise ConfigError("the notify section needs environment variables that are not set: "
                          f"{', '.join(missing)}; {consequence}")


def retry_notifications(catalog: Catalog, *, environ: Mapping[str, str] = os.environ,
                        webhook_base_url: str | None = None) -> DeliveryReport:
    """Deliver what the outbox kept, with the original event ids."""
    return retry_outbox(catalog.notify, environ=environ, outbox_path=default_outbox_path(catalog.path),
                        retry=RetryPolicy.from_env(environ), webhook_base_url=webhook_base_url)


def apply(plan: Plan, providers: Mapping[str, Provider], *, parallelism: int = 8,
          on_result: Callable[[ChangeResult], None] | None = None, progress: Progress = NULL,
          check_creates: bool = True, journal: WriteAhead | None = None) -> ApplyResult:
    """Apply ``plan``, less the ReadyCloud creates whose products appeared
    since it was made (one listing first; those are skipped and reported).
    ``check_creates=False``: the caller has just checked them against a fresh
    listing. With ``journal``, every announced change's intent is recorded
    before it is sent and its answer after (see :func:`write_ahead`)."""
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
