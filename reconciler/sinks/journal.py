"""Write-ahead for notifications: no announced change is lost, even when the
process is killed.

Before a change that produces an event is sent, its *intent* is recorded in
the outbox with the event id it will be announced with. When the vendor
answers, the event (built from the answer) is recorded as *ready*; once it
was delivered (or handed to the outbox's per-target entries), the record is
dropped. A run killed in between leaves intents and ready events behind, and
:func:`resolve` (at the next ``apply`` or ``notify --retry``) settles them: a
ready event is sent again; an intent whose answer never came is read back
from the vendor (:meth:`reconciler.providers.base.Provider.confirm`): if the
change happened, its event is sent with the id it was given, otherwise the
intent is dropped. Delivery is therefore at least once, with stable ids.

Writes are batched: the intents of the next ``batch`` changes (more as the
apply goes on: half as many as are recorded so far) are recorded in one write
before the first of them is sent, and answers are recorded with the next such
write (or after ``coalesce`` seconds), so a 1,000-change apply costs tens of
writes, not thousands (``bench/outbox_bench.py``). A record holds no secret: sensitive fields are
named, never valued (a read-back compares them with the catalog instead).
"""
from __future__ import annotations

import contextlib
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

from reconciler.apply import ChangeResult
from reconciler.contracts import notify as nc
from reconciler.errors import AuthError, ConfigError, ProviderError, ReconcilerError
from reconciler.plan.model import Change, FieldChange
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler.sinks.events import Event, announced, event_for, values_only
from reconciler.sinks.outbox import Outbox
from reconciler.workers import bounded_map

INTENT, READY = "intent", "ready"


def announces(change: Change) -> bool:
    """Whether applying ``change`` produces an event (see :func:`event_for`)."""
    return announced(change)


@dataclass(frozen=True)
class Intent:
    """One write-ahead record: a change about to be sent (``ready`` None) or
    answered and not yet announced (``ready``: its event)."""

    id: str  # the event id, assigned before the change is sent
    vendor: str
    action: str
    code: str
    resource_id: str | None
    recorded_at: float  # unix seconds, before the change was sent
    livemode: bool
    changed: tuple[str, ...] = ()  # the fields the change sets
    hidden: tuple[str, ...] = ()  # sensitive fields: named, never valued
    expected: Mapping[str, Any] = field(default_factory=dict)  # an update's non-sensitive after-values
    last_known: Mapping[str, Any] | None = None  # a delete's product, as planned against (no hidden field)
    ready: Event | None = None
    org: str | None = None  # where the change was made (the vendor's scope: an org; None: recorded before)

    @classmethod
    def of(cls, change: Change, recorded_at: float, livemode: bool, sensitive: frozenset[str],
           org: str | None = None) -> "Intent":
        hidden = sensitive | change.sensitive_fields
        # (property values are never recorded: a read-back checks which properties are the product's own)
        record = not values_only(change)
        body = change.body if isinstance(change.body, Mapping) and change.action == "update" and record else {}
        live = change.live if change.action == "delete" and isinstance(change.live, Mapping) and record else None
        return cls(id=str(uuid.uuid4()), vendor=change.vendor, action=change.action, code=change.key,
                   resource_id=change.resource_id, recorded_at=recorded_at, livemode=livemode,
                   changed=tuple(f.field for f in change.fields), hidden=tuple(sorted(hidden)),
                   expected={k: v for k, v in body.items() if k not in hidden},
                   last_known={k: v for k, v in live.items() if k not in hidden} if live is not None else None,
                   org=org)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "state": READY if self.ready else INTENT, "vendor": self.vendor,
                "action": self.action, "code": self.code, "resource_id": self.resource_id,
                "recorded_at": self.recorded_at, "livemode": self.livemode, "changed": list(self.changed),
                "hidden": list(self.hidden), "expected": dict(self.expected), "last_known": self.last_known,
                **({"event": self.ready.to_json()} if self.ready else {}),
                **({"org": self.org} if self.org is not None else {})}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> "Intent":
        """Read back :meth:`to_json` (the outbox is untrusted): :class:`ConfigError` if malformed."""
        try:
            state, action = raw["state"], raw["action"]
            if state not in (INTENT, READY) or action not in nc.EVENT_FOR_ACTION:
                raise ValueError(f"state {state!r}, action {action!r}")
            resource_id = raw.get("resource_id")
            expected, last_known = raw.get("expected") or {}, raw.get("last_known")
            if not isinstance(expected, dict) or not (last_known is None or isinstance(last_known, dict)):
                raise ValueError("expected/last_known are not mappings")
            names = [raw.get("changed") or [], raw.get("hidden") or []]
            if not all(isinstance(n, list) and all(isinstance(x, str) for x in n) for n in names):
                raise ValueError("changed/hidden are not lists of names")
            recorded_at = float(raw["recorded_at"])
            if not 0 <= recorded_at < 2 ** 33:  # (unix seconds a read-back can ask from; not nan/inf)
                raise ValueError(f"recorded_at {recorded_at!r}")
            return cls(id=str(raw["id"]), vendor=str(raw["vendor"]), action=action, code=str(raw["code"]),
                       resource_id=None if resource_id is None else str(resource_id),
                       recorded_at=recorded_at, livemode=raw.get("livemode") is not False,
                       changed=tuple(names[0]), hidden=tuple(names[1]), expected=expected, last_known=last_known,
                       ready=Event.from_json(raw["event"]) if state == READY else None,
                       org=None if raw.get("org") is None else str(raw["org"]))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise ConfigError(f"a write-ahead record is malformed ({exc})") from None

    def change(self, sensitive_values: Mapping[str, Any] = {}) -> Change:
        """The change as far as it can be rebuilt: what a read-back compares
        (sensitive after-values from ``sensitive_values``, the catalog's) and
        what its event is built from."""
        hidden = set(self.hidden)
        fields = tuple(FieldChange(name, None, None, name in hidden) for name in self.changed)
        body = dict(self.expected)
        if self.action == "update":
            body.update({n: sensitive_values[n] for n in self.changed if n in hidden and n in sensitive_values})
        return Change(self.vendor, self.action, self.code, self.resource_id, fields,  # type: ignore[arg-type]
                      body, live=self.last_known)

    def event(self, resource: Any) -> Event | None:
        """The event announcing this change, now known to have happened."""
        result = ChangeResult(self.change(), "succeeded", resource=resource)
        return event_for(result, int(self.recorded_at), frozenset(self.hidden), ident=self.id)


def _definite(exc: ProviderError) -> bool:
    """Whether a failed write surely did not act: the vendor refused it (4xx)."""
    return isinstance(exc, AuthError) or (exc.status is not None and 400 <= exc.status < 500
                                          and exc.status not in (408, 429))


class WriteAhead:
    """The write-ahead records of one apply (see the module docstring).
    :meth:`wrap` the providers given to ``apply_plan`` and pass
    :meth:`answered` as its ``on_result``; then :meth:`events`, deliver, :meth:`settle`."""

    def __init__(self, outbox: Outbox, changes: Sequence[Change], *, livemode: bool,
                 sensitive: Callable[[str], frozenset[str]] = lambda code: frozenset(), batch: int = 32, coalesce: float = 0.25,
                 grow: bool = True, now: Callable[[], float] = time.time, org: str | None = None) -> None:
        self.outbox, self._org = outbox, org
        self._order = [c for c in changes if announces(c)]
        self._position = {id(c): i for i, c in enumerate(self._order)}
        self._livemode, self._sensitive = livemode, sensitive
        self._batch, self._coalesce, self._grow, self._now = max(1, batch), coalesce, grow, now
        self._intents: dict[int, Intent] = {}  # by id() of the change
        self._refused: set[int] = set()  # changes the vendor surely did not apply
        self._put: dict[str, Intent] = {}  # records changed since the last write
        self._drop: set[str] = set()
        self._lock = threading.Lock()
        self._next = 0  # the first change whose intent may not be recorded yet
        self._last_write = 0.0
        self.writes = 0

    def wrap(self, providers: Mapping[str, Provider]) -> dict[str, Provider]:
        return {name: _Journaled(provider, self) for name, provider in providers.items()}

    def before(self, change: Change) -> None:
        """Record (durably) the intent of ``change`` and of the next ones, unless done."""
        if id(change) not in self._position and not announces(change):
            return
        with self._lock:
            if id(change) in self._intents:
                return
            position = self._position.get(id(change))
            if position is None:  # (not among the changes given: recorded all the same)
                position = self._position[id(change)] = len(self._order)
                self._order.append(change)
            recorded_at = self._now()
            # (the batch grows with the apply, to half of what is recorded so far:
            # each write rewrites the whole file, so a fixed size would cost O(n²))
            size = max(self._batch, len(self._intents) // 2 if self._grow else 0)
            batch = [change] + [c for c in self._order[max(position + 1, self._next):]
                                if id(c) not in self._intents][:size - 1]
            intents = {id(item): Intent.of(item, recorded_at, self._livemode,
                                           self._sensitive(item.key), self._org) for item in batch}
            self._write(intents.values())  # (raises: nothing of the batch is sent)
            self._intents.update(intents)
            while self._next < len(self._order) and id(self._order[self._next]) in self._intents:
                self._next += 1

    def refused(self, change: Change, exc: ProviderError) -> None:
        if _definite(exc):
            with self._lock:
                self._refused.add(id(change))

    def answered(self, result: ChangeResult) -> None:
        """Note the outcome of a change; written with the next batch of intents
        (or now, if the last write is ``coalesce`` seconds old)."""
        with self._lock:
            intent = self._intents.get(id(result.change))
            if intent is None:
                return
            if result.status == "succeeded":
                event = event_for(result, int(intent.recorded_at), frozenset(intent.hidden), ident=intent.id)
                if event is None:
                    self._forget(intent)
                else:
                    self._intents[id(result.change)] = ready = replace(intent, ready=event)
                    self._put[ready.id] = ready
            elif result.status == "skipped" or id(result.change) in self._refused:
                self._forget(intent)
            # (otherwise the answer never came or is unknown: the intent stays for a read-back)
            if self._now() - self._last_write >= self._coalesce:
                self._write_if_possible()

    def flush(self) -> None:
        with self._lock:
            self._write_if_possible()

    def _write_if_possible(self) -> None:
        """Write what is pending; if the outbox cannot be written, it stays
        pending (an answer not recorded is read back by the next run)."""
        with contextlib.suppress(ConfigError):
            self._write()

    def events(self, results: Iterable[ChangeResult]) -> list[Event]:
        """The ready events of ``results``, in their order (recorded first)."""
        self.flush()
        return [intent.ready for r in results
                if (intent := self._intents.get(id(r.change))) is not None and intent.ready is not None]

    def settle(self) -> None:
        """After delivery: drop the ready records (delivered, or kept per target
        in the outbox's entries). Intents whose answer never came stay."""
        with self._lock:
            for intent in self._intents.values():
                if intent.ready is not None:
                    self._forget(intent)
            self._write_if_possible()

    def _forget(self, intent: Intent) -> None:
        self._put.pop(intent.id, None)
        self._drop.add(intent.id)

    def _write(self, new: Iterable[Intent] = ()) -> None:
        """One durable write of ``new`` intents and what changed since the last
        write. :class:`ConfigError` if the outbox cannot be written."""
        put = [i.to_json() for i in self._put.values()] + [i.to_json() for i in new]
        if not put and not self._drop:
            return
        self.outbox.record(put=put, drop=self._drop)
        self._put, self._drop = {}, set()
        self._last_write = self._now()
        self.writes += 1


class _Journaled(Provider):
    """A provider whose writes are preceded by their recorded intent."""

    def __init__(self, inner: Provider, journal: WriteAhead) -> None:
        self.inner, self.journal, self.name = inner, journal, inner.name

    def refresh(self, progress: Progress = NULL) -> Any:
        return self.inner.refresh(progress)

    def execute(self, change: Change) -> Any:
        self.journal.before(change)
        try:
            return self.inner.execute(change)
        except ProviderError as exc:
            self.journal.refused(change, exc)
            raise

    def confirm(self, change: Change, since: datetime) -> tuple[bool, Any]:
        return self.inner.confirm(change, since)

    def write_eta(self, writes: int) -> float:
        return self.inner.write_eta(writes)


@dataclass
class Recovery:
    """What :func:`resolve` found: events to send (with their ``livemode``),
    the records settled by sending them, and messages about the rest."""

    events: list[tuple[Event, bool]] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)  # ids to drop once the events were handed to delivery
    dropped: list[str] = field(default_factory=list)  # intents that did not happen
    messages: list[str] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)  # notes on records of another catalog's org, kept


def pending(outbox: Outbox) -> list[Intent]:
    """The write-ahead records left in ``outbox``; :class:`ConfigError` (naming the file) if damaged."""
    try:
        return [Intent.from_json(raw) for raw in outbox.intents()]
    except ConfigError as exc:
        raise ConfigError(f"the outbox {outbox.path} is damaged: {exc}") from None


def resolve(intents: Sequence[Intent], providers: Mapping[str, Provider],
            values: Mapping[str, Mapping[str, Any]] = {}, parallelism: int = 8, org: str | None = None,
            livemode: bool | None = None) -> Recovery:
    """Settle records left by an interrupted run: ready events are sent again;
    intents are read back (in parallel) and either announced or dropped. An
    intent that cannot be read back now (vendor down, no provider) stays.
    ``values``: the catalog's fields by product code, which supply the
    sensitive after-values a read-back compares (the records hold none). An
    update with no value left to compare counts as done: a duplicate event
    rather than a lost one. ``org``: where this catalog's changes are made (an org); records
    of a change to another org (another catalog's, sharing the directory's
    outbox) are kept for a run of that catalog, neither read back here nor sent;
    so are those of a sandbox run when ``livemode`` is True, and the other way round."""
    recovery = Recovery()
    ours = [i for i in intents if (org is None or i.org is None or i.org == org)
            and (livemode is None or i.livemode == livemode)]
    for intent in (i for i in intents if i not in ours):
        if livemode is not None and intent.livemode != livemode:
            where = "a sandbox run" if livemode else "a run against the real vendor"
            recovery.elsewhere.append(f"the {intent.action} of {intent.code} was made by {where}; kept in the "
                                      "outbox for such a run")
        else:
            recovery.elsewhere.append(f"the {intent.action} of {intent.code} was made in {intent.org}, "
                                      f"not in this catalog's {org}; kept in the outbox for a run of its catalog")
    intents = ours

    def read_back(intent: Intent) -> tuple[Intent, bool, Any, str]:
        provider = providers.get(intent.vendor)
        if provider is None:
            return intent, False, None, f"no {intent.vendor} provider configured to read it back"
        since = datetime.fromtimestamp(intent.recorded_at, timezone.utc)
        try:
            happened, resource = provider.confirm(intent.change(values.get(intent.code, {})), since)
        except ReconcilerError as exc:
            return intent, False, None, str(exc)
        return intent, happened, resource, ""

    for intent in intents:
        if intent.ready is not None:
            recovery.events.append((intent.ready, intent.livemode))
            recovery.settled.append(intent.id)
    unsure = [i for i in intents if i.ready is None]
    for intent, happened, resource, problem in bounded_map(read_back, unsure, parallelism, "confirm"):
        if problem:
            recovery.messages.append(f"could not tell whether the {intent.action} of {intent.code} happened "
                                     f"({problem}); kept in the outbox for the next run")
        elif happened and (event := intent.event(resource)) is not None:
            recovery.events.append((event, intent.livemode))
            recovery.settled.append(intent.id)
        else:
            recovery.dropped.append(intent.id)
    return recovery
