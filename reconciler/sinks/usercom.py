"""user.com product events: ``POST /products-by-id/{code}/product_event/``.

The product is addressed by our product code (user.com's ``custom_id``; an
unknown one creates the product there). Requests speak API v2 (``Accept: */*;
version=2``). The body carries the configured attribution (``user_id`` or
``user_custom_id``), ``event_type``, the event's unix timestamp and ``data``
holding the configured product attributes and the event's id as ``event_id``
(user.com has no idempotency key: it is what a retried delivery is recognised
by). Deletions send nothing.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Mapping
from urllib.parse import quote

import httpx

from reconciler.catalog.notify import UserComSettings
from reconciler.contracts import notify as nc
from reconciler.http import DEFAULT_RETRY, RetryPolicy
from reconciler.sinks.base import Outgoing, Sink, base_url_from, require_env, require_resolved
from reconciler.sinks.events import Event

KEY = "usercom"
LABEL = "user.com"


def product_event_body(settings: UserComSettings, event: Event) -> dict[str, Any]:
    key, value = settings.attribution
    data = {name: event.data[name] for name in settings.attributes if name in event.data}
    data[nc.EVENT_ID_KEY] = event.id
    return {key: value, "event_type": settings.event_type, "timestamp": event.created, "data": data}


class UserComSink(Sink):
    kind = "usercom"

    def __init__(self, settings: UserComSettings, *, environ: Mapping[str, str] = os.environ,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        require_resolved(LABEL, settings.unset_env)
        base_url = base_url_from(environ, nc.USERCOM_BASE_URL_ENV, settings.base_url, LABEL, nc.USERCOM_HOSTS,
                                 f"notify.{KEY}.base_url")
        token = require_env(environ, nc.USERCOM_TOKEN_ENV, "the user.com API key")
        headers = {"Authorization": f"{nc.USERCOM_AUTH_SCHEME} {token}", "Accept": nc.USERCOM_ACCEPT}
        super().__init__(settings, KEY, LABEL, base_url, headers, secrets=[token], transport=transport,
                         retry=retry, sleep=sleep)
        self.base_url = base_url
        self.settings: UserComSettings = settings

    @staticmethod
    def accepts(settings: UserComSettings, event: Event) -> bool:
        return event.event != "product.deleted"

    def build(self, event: Event, attempt_id: str) -> Outgoing:
        path = nc.USERCOM_EVENT_BY_CUSTOM_ID.format(custom_id=quote(event.code, safe=""))
        body = json.dumps(product_event_body(self.settings, event), separators=(",", ":")).encode()
        return Outgoing(self.base_url + path, body, {})
