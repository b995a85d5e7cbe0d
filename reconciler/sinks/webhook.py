"""Outbound webhooks: the seed's envelope ``{id, attemptId, created, event,
livemode, data}``, signed Stripe-style.

Every delivery carries ``Reconciler-Signature: t=<unix seconds>,v1=<hex>``
where ``<hex>`` is HMAC-SHA256, keyed with the webhook's secret, of
``f"{t}.{raw body}"``. Receivers check it with :func:`verify_signature` (the
snippet in ``docs/notifications.md`` is the same code), reject old timestamps,
and de-duplicate on ``id``: it stays the same across retries while
``attemptId`` is new for every attempt.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any, Callable, Mapping

import httpx

from reconciler.catalog.notify import WebhookSettings
from reconciler.contracts import notify as nc
from reconciler.errors import ConfigError
from reconciler.http import DEFAULT_RETRY, RetryPolicy
from reconciler.sinks.base import Outgoing, Sink, require_resolved
from reconciler.sinks.events import Event


def envelope(event: Event, attempt_id: str, *, livemode: bool) -> dict[str, Any]:
    """The JSON body of one delivery attempt."""
    return {"id": event.id, "attemptId": attempt_id, "created": event.created, "event": event.event,
            "livemode": livemode, "data": dict(event.data)}


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},{nc.SIGNATURE_SCHEME}={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = nc.SIGNATURE_TOLERANCE,
                     now: float | None = None) -> bool:
    """Whether ``header`` is a valid signature of the raw ``body`` no older than
    ``tolerance`` seconds (``tolerance <= 0`` skips the age check). Accepts
    several ``v1=`` entries (secret rotation)."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == nc.SIGNATURE_SCHEME:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if tolerance > 0 and abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


class WebhookSink(Sink):
    kind = "webhook"

    def __init__(self, settings: WebhookSettings, *, livemode: bool, url: str | None = None,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> None:
        require_resolved(settings.label, settings.unset_env)
        if settings.secret is None:
            raise ConfigError(f"{settings.label}: its secret is not set")
        self.secret = settings.secret
        super().__init__(settings, settings.key, settings.label, "", {}, secrets=[settings.secret.reveal()],
                         transport=transport, retry=retry, sleep=sleep)
        self.settings: WebhookSettings = settings
        self.url = url or settings.url
        self.livemode = livemode
        self.clock = clock

    @staticmethod
    def accepts(settings: WebhookSettings, event: Event) -> bool:
        return event.event in settings.events

    def build(self, event: Event, attempt_id: str) -> Outgoing:
        body = json.dumps(envelope(event, attempt_id, livemode=self.livemode),
                          separators=(",", ":"), ensure_ascii=False).encode()
        headers: Mapping[str, str] = {
            nc.SIGNATURE_HEADER: sign(self.secret.reveal(), body, int(self.clock())),
        }
        return Outgoing(self.url, body, headers)
