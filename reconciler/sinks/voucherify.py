"""Voucherify custom events: ``POST /v1/events`` with the configured event name
and customer, and ``metadata`` holding the product code, the change kind
(``created``/``updated``/``deleted``) and the changed field names."""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Mapping

import httpx

from reconciler.catalog.notify import VoucherifySettings
from reconciler.contracts import notify as nc
from reconciler.http import DEFAULT_RETRY, RetryPolicy
from reconciler.sinks.base import Outgoing, Sink, base_url_from, require_env, require_resolved
from reconciler.sinks.events import Event

KEY = "voucherify"
LABEL = "Voucherify"


def custom_event_body(settings: VoucherifySettings, event: Event) -> dict[str, Any]:
    return {"event": settings.event, "customer": dict(settings.customer),
            "metadata": {"code": event.code, "change": event.kind, "changed_fields": list(event.changed)}}


class VoucherifySink(Sink):
    kind = "voucherify"

    def __init__(self, settings: VoucherifySettings, *, environ: Mapping[str, str] = os.environ,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        require_resolved(LABEL, settings.unset_env)
        base_url = base_url_from(environ, nc.VOUCHERIFY_BASE_URL_ENV, settings.base_url, LABEL,
                                 nc.VOUCHERIFY_HOSTS, f"notify.{KEY}.base_url")
        app_id = require_env(environ, nc.VOUCHERIFY_APP_ID_ENV, "the Voucherify application id")
        app_token = require_env(environ, nc.VOUCHERIFY_APP_TOKEN_ENV, "the Voucherify secret key")
        headers = {nc.VOUCHERIFY_APP_ID_HEADER: app_id, nc.VOUCHERIFY_APP_TOKEN_HEADER: app_token}
        super().__init__(settings, KEY, LABEL, base_url, headers, secrets=[app_token], transport=transport,
                         retry=retry, sleep=sleep)
        self.base_url = base_url
        self.settings: VoucherifySettings = settings

    @staticmethod
    def accepts(settings: VoucherifySettings, event: Event) -> bool:
        return True

    def build(self, event: Event, attempt_id: str) -> Outgoing:
        body = json.dumps(custom_event_body(self.settings, event), separators=(",", ":")).encode()
        return Outgoing(self.base_url + nc.VOUCHERIFY_EVENTS_PATH, body, {})
