"""Notifying what an apply did: the write-ahead records, the announcement
to the catalog's sinks, and settling what a killed run left in the outbox."""
from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Mapping

from reconciler.apply import ApplyResult, phases
from reconciler.catalog.model import Catalog
from reconciler.errors import ConfigError
from reconciler.http import RetryPolicy
from reconciler.plan.model import Plan
from reconciler.providers.base import Provider
from reconciler.sinks import (DeliveryReport, build_events, default_outbox_path, deliver, missing_credentials,
                             outbox_key, retry_outbox)
from reconciler.sinks.events import hidden_fields
from reconciler.sinks.journal import WriteAhead, resolve
from reconciler.sinks.journal import pending as journal_pending
from reconciler.sinks.outbox import Outbox
from reconciler.vendors import registered


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
    return WriteAhead(Outbox(default_outbox_path(catalog.path), outbox_key(catalog.notify, environ)),
                      [c for p in phases(plan) for c in p],
                      livemode=livemode, sensitive=hidden_fields(catalog), org=_org(catalog))


def _org(catalog: Catalog) -> str | None:
    """Where the catalog's announced changes are made (for ReadyCloud its
    org), as write-ahead records name it: records made elsewhere are left
    for a run of their own catalog."""
    for vendor in registered():
        if vendor.announces and vendor.configured(catalog):
            return vendor.scope(catalog)
    return None


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
                from reconciler.engine import open_providers
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
