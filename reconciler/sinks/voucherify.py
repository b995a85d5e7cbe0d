"""Voucherify custom events: ``POST /v1/events`` with the configured event name
and customer, and ``metadata`` holding the event's id (``event_id``, to
de-duplicate on: Voucherify has no idempotency key), the product code, the
change kind (``created``/``updated``/``deleted``) and the changed field names.

Requests are paced under Voucherify's per-minute limit by default, and a 429's
``X-Rate-Limit-Retry`` (a unix time) says when to retry (see
:mod:`reconciler.contracts.notify`)."""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Mapping

import httpx

from reconciler.catalog.notify import VoucherifySettings
from reconciler.contracts import notify as nc
from reconciler.http import DEFAULT_RETRY, RetryPolicy, retry_after_seconds
from reconciler.pacing import Limits, Pacer
from reconciler.sinks.base import Outgoing, Sink, base_url_from, require_env, require_resolved
from reconciler.sinks.events import Event

KEY = "voucherify"
LABEL = "Voucherify"


def custom_event_body(settings: VoucherifySettings, event: Event) -> dict[str, Any]:
    metadata = {nc.EVENT_ID_KEY: event.id, "code": event.code, "change": event.kind,
                "changed_fields": list(event.changed)}
    return {"event": settings.event, "customer": dict(settings.customer), "metadata": metadata}


def rate_limit_retry(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Seconds until the unix time in ``X-Rate-Limit-Retry`` (0 if past), else
    what a ``Retry-After`` says, else None."""
    value = response.headers.get(nc.VOUCHERIFY_RETRY_HEADER, "").strip()
    try:
        when = float(value)
    except ValueError:
        return retry_after_seconds(response)
    if when > 1e11:  # milliseconds (assumed; see the contract)
        when /= 1000
    return max(0.0, when - now())


def max_requests_per_minute(settings: VoucherifySettings, environ: Mapping[str, str]) -> float | None:
    """The pace: ``VOUCHERIFY_MAX_RPM``, else the catalog's setting, else the default (None: unpaced)."""
    return Limits(writes=settings.max_requests_per_minute).resolve(environ, nc.VOUCHERIFY_MAX_RPM_ENV).writes


class VoucherifySink(Sink):
    kind = "voucherify"

    def __init__(self, settings: VoucherifySettings, *, environ: Mapping[str, str] = os.environ,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        require_resolved(LABEL, settings.unset_env)
        base_url = base_url_from(environ, nc.VOUCHERIFY_BASE_URL_ENV, settings.base_url, LABEL,
                                 nc.VOUCHERIFY_HOSTS, f"notify.{KEY}.base_url")
        app_id = require_env(environ, nc.VOUCHERIFY_APP_ID_ENV, "the Voucherify application id")
        app_token = require_env(environ, nc.VOUCHERIFY_APP_TOKEN_ENV, "the Voucherify secret key")
        headers = {nc.VOUCHERIFY_APP_ID_HEADER: app_id, nc.VOUCHERIFY_APP_TOKEN_HEADER: app_token}
        pacer = Pacer(max_requests_per_minute(settings, environ), clock=clock, sleep=sleep)
        super().__init__(settings, KEY, LABEL, base_url, headers, secrets=[app_token], transport=transport,
                         retry=retry, sleep=sleep, pacer=pacer,
                         retry_after=lambda response: rate_limit_retry(response, wall_clock))
        self.base_url = base_url
        self.settings: VoucherifySettings = settings

    @staticmethod
    def accepts(settings: VoucherifySettings, event: Event) -> bool:
        return True

    def build(self, event: Event, attempt_id: str) -> Outgoing:
        body = json.dumps(custom_event_body(self.settings, event), separators=(",", ":")).encode()
        return Outgoing(self.base_url + nc.VOUCHERIFY_EVENTS_PATH, body, {})
