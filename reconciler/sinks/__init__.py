"""Notification sinks: announce what an apply changed to signed webhooks,
user.com product events and Voucherify custom events.

    events = build_events(apply_result, catalog=catalog)
    report = deliver(events, catalog.notify, outbox_path=default_outbox_path(catalog.path),
                     livemode=not sandbox)
    ...
    report = retry_outbox(catalog.notify, outbox_path=default_outbox_path(catalog.path))
"""
from __future__ import annotations

from reconciler.sinks.deliver import (DeliveryReport, SinkReport, deliver, missing_credentials, outbox_key,
                                     retry_outbox)
from reconciler.sinks.events import Event, build_events
from reconciler.sinks.outbox import Outbox, OutboxEntry, default_outbox_path
from reconciler.sinks.webhook import sign, verify_signature

__all__ = [
    "DeliveryReport",
    "Event",
    "Outbox",
    "OutboxEntry",
    "SinkReport",
    "build_events",
    "default_outbox_path",
    "deliver",
    "missing_credentials",
    "outbox_key",
    "retry_outbox",
    "sign",
    "verify_signature",
]
