"""Library entry points: :func:`deliver` the events of an apply, and
:func:`retry_outbox` what could not be delivered.

Each sink runs on its own (one thread per sink, events in order): a sink that
fails never raises out and never stops another sink. A sink that is down
(network error, 429 or 5xx after retries) or refuses our credentials gets
nothing more in this run; its remaining events go to the outbox with the
error. An event one sink refuses (another 4xx) is kept and the next is tried.
Reports name sinks by label and never contain a secret.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import httpx

from reconciler import integrity
from reconciler.catalog.notify import NotifySettings, WebhookSettings
from reconciler.contracts import notify as nc
from reconciler.errors import AuthError, ReconcilerError, TransientError
from reconciler.http import DEFAULT_RETRY, RetryPolicy
from reconciler.sinks import usercom, voucherify
from reconciler.sinks.base import Sink
from reconciler.sinks.events import Event, coalesce
from reconciler.sinks.outbox import Outbox, OutboxEntry
from reconciler.sinks.usercom import UserComSink
from reconciler.sinks.voucherify import VoucherifySink
from reconciler.sinks.webhook import WebhookSink

#: At most this many per-event messages per sink; the rest are counted.
MAX_MESSAGES = 10


@dataclass(frozen=True)
class SinkReport:
    sink: str  # the label, e.g. "webhooks[0] (hooks.example.com)", "user.com", "Voucherify"
    kind: str  # webhook | usercom | voucherify
    delivered: int = 0
    failed: int = 0
    messages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class DeliveryReport:
    sinks: tuple[SinkReport, ...] = ()
    outbox_path: str = ""
    pending: int = 0  # entries in the outbox after this run
    messages: tuple[str, ...] = ()  # about the outbox rather than one sink
    notes: tuple[str, ...] = ()  # informational (e.g. what a recovery found), not failures

    @property
    def delivered(self) -> int:
        return sum(s.delivered for s in self.sinks)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.sinks)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.messages

    def lines(self) -> list[str]:
        """A plain-text summary, one line per sink and message."""
        out: list[str] = list(self.notes)
        for sink in self.sinks:
            state = f"{sink.delivered} delivered" + (f", {sink.failed} failed" if sink.failed else "")
            out.append(f"{sink.sink}: {state}")
            out.extend(f"  {m}" for m in sink.messages)
        out.extend(self.messages)
        if self.pending:
            out.append(f"{self.pending} undelivered event(s) kept in {self.outbox_path}; "
                       "run `reconciler notify --retry` to deliver them")
        return out


@dataclass
class _Target:
    """One configured sink, before it is opened."""

    kind: str
    key: str
    label: str
    settings: Any
    accepts: Callable[[Any, Event], bool]
    open: Callable[[bool], Sink]  # livemode -> sink; raises ReconcilerError (e.g. missing credentials)


@dataclass
class _Outcome:
    delivered: list[Event] = field(default_factory=list)
    failed: list[tuple[Event, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def _targets(settings: NotifySettings, environ: Mapping[str, str], transport: httpx.BaseTransport | None,
             retry: RetryPolicy, sleep: Callable[[float], None], webhook_base_url: str | None) -> list[_Target]:
    common: dict[str, Any] = {"transport": transport, "retry": retry, "sleep": sleep}

    def webhook(hook: WebhookSettings) -> Callable[[bool], Sink]:
        url = f"{webhook_base_url.rstrip('/')}/webhook-{hook.index}" if webhook_base_url else None
        return lambda livemode: WebhookSink(hook, livemode=livemode, url=url, **common)

    targets = [_Target("webhook", hook.key, hook.label, hook, WebhookSink.accepts, webhook(hook))
               for hook in settings.webhooks]
    if settings.usercom is not None:
        uconf = settings.usercom
        targets.append(_Target("usercom", usercom.KEY, usercom.LABEL, uconf, UserComSink.accepts,
                               lambda livemode: UserComSink(uconf, environ=environ, **common)))
    if settings.voucherify is not None:
        vconf = settings.voucherify
        targets.append(_Target("voucherify", voucherify.KEY, voucherify.LABEL, vconf, VoucherifySink.accepts,
                               lambda livemode: VoucherifySink(vconf, environ=environ, **common)))
    return targets


def _run(target: _Target, events: list[Event], livemode: bool) -> _Outcome:
    """Send ``events`` in order through one sink; never raises."""
    outcome = _Outcome()
    if not events:
        return outcome
    try:
        sink = target.open(livemode)
    except Exception as exc:  # noqa: BLE001 - e.g. ConfigError for missing credentials
        reason = str(exc) if isinstance(exc, ReconcilerError) else f"{target.kind}: {type(exc).__name__}"
        outcome.failed = [(e, reason) for e in events]
        outcome.messages.append(f"{reason}; {len(events)} event(s) not sent")
        return outcome
    with sink:
        for position, event in enumerate(events):
            try:
                sink.send(event)
            except (TransientError, AuthError) as exc:
                message = sink.scrub(str(exc))
                rest = events[position:]
                outcome.failed.extend((e, message) for e in rest)
                outcome.messages.append(f"{message}; {len(rest)} event(s) not delivered")
                break
            except ReconcilerError as exc:
                _refused(outcome, event, sink.scrub(str(exc)))
            except Exception as exc:  # noqa: BLE001 - a broken sink must not break the apply
                _refused(outcome, event, sink.scrub(f"{target.kind}: unexpected {type(exc).__name__}: {exc}"))
            else:
                outcome.delivered.append(event)
    return outcome


def _refused(outcome: _Outcome, event: Event, message: str) -> None:
    outcome.failed.append((event, message))
    if len(outcome.messages) < MAX_MESSAGES:
        outcome.messages.append(f"{event.event} {event.code}: {message}")
    elif len(outcome.messages) == MAX_MESSAGES:
        outcome.messages.append("further refusals are recorded in the outbox")


def _run_all(jobs: list[tuple[_Target, list[Event], bool]]) -> list[_Outcome]:
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="notify") as pool:
        return list(pool.map(lambda job: _run(*job), jobs))


def _entries(target: _Target, outcome: _Outcome, livemode: bool,
             previous: Mapping[tuple[str, str], OutboxEntry]) -> list[OutboxEntry]:
    now = int(time.time())
    result = []
    for event, message in outcome.failed:
        old = previous.get((target.key, event.id))
        result.append(OutboxEntry(sink=target.key, label=target.label, event=event, livemode=livemode,
                                  attempts=(old.attempts + 1) if old else 1, last_error=message, failed_at=now))
    return result


def _report(per_sink: dict[str, tuple[str, str, _Outcome]], outbox: Outbox, pending: int,
            extra: Iterable[str] = ()) -> DeliveryReport:
    sinks = tuple(SinkReport(label, kind, len(o.delivered), len(o.failed), tuple(o.messages))
                  for label, kind, o in per_sink.values())
    return DeliveryReport(sinks=sinks, outbox_path=str(outbox.path), pending=pending,
                          messages=tuple(outbox.warnings) + tuple(extra))


def missing_credentials(settings: NotifySettings | None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every environment variable the configured sinks need and do not have,
    each with what it is for: the notify section's unset ``${VAR}``s and the
    user.com and Voucherify credentials. ``apply`` and ``notify`` check this
    before they change or send anything."""
    if settings is None:
        return []
    needed: dict[str, str] = {}
    for name, path in settings.unset_env:
        needed.setdefault(name, path)

    def need(name: str, what: str) -> None:
        if not environ.get(name, "").strip():
            needed.setdefault(name, what)

    if settings.usercom is not None:
        need(nc.USERCOM_TOKEN_ENV, "the user.com API key")
        if settings.usercom.base_url is None:
            need(nc.USERCOM_BASE_URL_ENV, "user.com's base URL, or notify.usercom.base_url")
    if settings.voucherify is not None:
        need(nc.VOUCHERIFY_APP_ID_ENV, "the Voucherify application id")
        need(nc.VOUCHERIFY_APP_TOKEN_ENV, "the Voucherify secret key")
    return [f"{name} ({what})" for name, what in needed.items()]


OUTBOX_KEY_LABEL = "reconciler-outbox-v1"


def outbox_key(settings: NotifySettings | None, environ: Mapping[str, str] = os.environ) -> bytes:
    """The key that authenticates the outbox: derived from the notify section's
    credentials (webhook secrets in order, then the user.com and Voucherify
    tokens from ``environ``), which every run that writes or delivers the
    outbox holds (:func:`missing_credentials`). Changing any of them makes an
    existing outbox unreadable (a clear error, not a delivery)."""
    settings = settings or NotifySettings()
    secrets = [hook.secret.reveal() if hook.secret is not None else "" for hook in settings.webhooks]
    if settings.usercom is not None:
        secrets.append(environ.get(nc.USERCOM_TOKEN_ENV, "").strip())
    if settings.voucherify is not None:
        secrets += [environ.get(nc.VOUCHERIFY_APP_ID_ENV, "").strip(),
                    environ.get(nc.VOUCHERIFY_APP_TOKEN_ENV, "").strip()]
    return integrity.derive_key(OUTBOX_KEY_LABEL, *secrets)


def deliver(events: Iterable[Event], settings: NotifySettings | None, *, environ: Mapping[str, str] = os.environ,
            outbox_path: str | os.PathLike[str], livemode: bool,
            transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
            sleep: Callable[[float], None] = time.sleep, webhook_base_url: str | None = None) -> DeliveryReport:
    """Send every event to every configured sink that wants it (``settings``
    None: nothing to do). Never raises for a sink's failure: it is reported and
    its undelivered events are kept in the outbox at ``outbox_path``.
    ``livemode`` is false for an apply against the sandbox.
    ``webhook_base_url`` (the sandbox's ``/hooks``) sends webhook ``i`` to
    ``{webhook_base_url}/webhook-{i}`` instead of its configured url."""
    events = coalesce(list(events))  # (one event per product)
    outbox = Outbox(outbox_path, outbox_key(settings, environ))
    if settings is None or not events:
        return DeliveryReport(outbox_path=str(outbox.path), pending=outbox.pending())
    targets = _targets(settings, environ, transport, retry, sleep, webhook_base_url)
    jobs = [(t, [e for e in events if t.accepts(t.settings, e)], livemode) for t in targets]
    outcomes = _run_all(jobs)
    failed: list[OutboxEntry] = []
    per_sink: dict[str, tuple[str, str, _Outcome]] = {}
    for (target, wanted, _), outcome in zip(jobs, outcomes):
        if wanted:
            per_sink[target.key] = (target.label, target.kind, outcome)
        failed.extend(_entries(target, outcome, livemode, {}))
    extra: list[str] = []
    try:
        pending = outbox.add(failed) if failed else outbox.pending()
    except (OSError, ReconcilerError) as exc:
        pending = 0
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        extra.append(f"could not keep {len(failed)} undelivered event(s) in the outbox {outbox.path}: {reason}")
    return _report(per_sink, outbox, pending, extra)


def retry_outbox(settings: NotifySettings | None, *, environ: Mapping[str, str] = os.environ,
                 outbox_path: str | os.PathLike[str], transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY, sleep: Callable[[float], None] = time.sleep,
                 webhook_base_url: str | None = None) -> DeliveryReport:
    """Re-deliver the outbox: original event ids, a new ``attemptId`` per attempt,
    the ``livemode`` of the original apply. What succeeds is removed, what fails
    is kept (with its new error). Entries whose sink is no longer configured are
    kept and reported. Raises :class:`reconciler.errors.ConfigError` only if
    the outbox file cannot be read."""
    outbox = Outbox(outbox_path, outbox_key(settings, environ))
    entries = outbox.entries()
    previous = {e.ident: e for e in entries}
    settings = settings or NotifySettings()
    targets = {t.key: t for t in _targets(settings, environ, transport, retry, sleep, webhook_base_url)}
    per_sink: dict[str, tuple[str, str, _Outcome]] = {}
    orphans: dict[str, list[OutboxEntry]] = {}
    grouped: dict[tuple[str, bool], list[Event]] = {}
    for entry in entries:
        if entry.sink in targets:
            grouped.setdefault((entry.sink, entry.livemode), []).append(entry.event)
        else:
            orphans.setdefault(entry.sink, []).append(entry)
    jobs = [(targets[sink], events, livemode) for (sink, livemode), events in grouped.items()]
    delivered: list[tuple[str, str]] = []
    failed: list[OutboxEntry] = []
    for (target, _, live), outcome in zip(jobs, _run_all(jobs)):
        _, _, total = per_sink.setdefault(target.key, (target.label, target.kind, _Outcome()))
        total.delivered.extend(outcome.delivered)
        total.failed.extend(outcome.failed)
        total.messages.extend(outcome.messages)
        delivered.extend((target.key, e.id) for e in outcome.delivered)
        failed.extend(_entries(target, outcome, live, previous))
    for key, kept in orphans.items():
        message = "no longer configured in the catalog (or its url changed); kept in the outbox"
        per_sink[key] = (kept[0].label, key.split(":", 1)[0], _Outcome(
            failed=[(e.event, message) for e in kept], messages=[f"{len(kept)} event(s) {message}"]))
    pending = outbox.settle(delivered, failed) if entries else 0
    return _report(per_sink, outbox, pending)
