"""Events built from what an apply actually did: one per changed product.

Only succeeded ReadyCloud changes with a product produce an event; a plan, a
failed or skipped change and an unchanged product produce none. Fields the
catalog marks sensitive (or that came from ``${VAR}``) are left out of ``data``
so they never reach a receiver, the outbox file or a log.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.catalog.model import Catalog
from reconciler.contracts import notify as nc
from reconciler.errors import ConfigError
from reconciler.plan.model import Change



def announced(change: Change) -> bool:
    """Whether applying ``change`` produces an event: a product change of a
    vendor that announces its changes (:attr:`reconciler.vendors.base.Vendor.announces`)."""
    from reconciler.vendors import get
    vendor = get(change.vendor)
    return vendor is not None and vendor.announces and change.action in nc.EVENT_FOR_ACTION


@dataclass(frozen=True)
class Event:
    """One change to announce. ``id`` stays the same for every delivery attempt."""

    id: str
    event: str  # product.created | product.updated | product.deleted
    created: int  # unix seconds
    code: str
    data: Mapping[str, Any] = field(default_factory=dict)  # the product as it now is (deletes: last known)
    changed: tuple[str, ...] = ()  # names of the fields the change set

    @property
    def kind(self) -> str:
        """``created``, ``updated`` or ``deleted``."""
        return nc.CHANGE_KIND[self.event]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "created": self.created, "code": self.code,
                "data": dict(self.data), "changed": list(self.changed)}

    @classmethod
    def from_json(cls, raw: Any) -> "Event":
        """Read back :meth:`to_json`; :class:`ConfigError` if it is not an event."""
        try:
            if raw["event"] not in nc.EVENT_NAMES:
                raise ValueError(f"unknown event {raw['event']!r}")
            return cls(id=str(raw["id"]), event=str(raw["event"]), created=int(raw["created"]),
                       code=str(raw["code"]), data=dict(raw.get("data") or {}),
                       changed=tuple(str(n) for n in raw.get("changed") or ()))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # (1e999 reads as infinity)
            raise ConfigError(f"not a notification event ({exc})") from None


def build_events(result: ApplyResult, *, catalog: Catalog | None = None,
                 now: Callable[[], float] = time.time) -> tuple[Event, ...]:
    """One event per succeeded ReadyCloud change, in the order apply reports them.

    ``catalog`` (when given) supplies which fields are sensitive beyond those the
    change itself marks: a product's own, and the top-level ``sensitive:`` ones
    for every product (a deleted one, which the catalog no longer declares, too).
    """
    hidden = hidden_fields(catalog)
    created = int(now())
    events: list[Event] = []
    for item in result.results:
        event = event_for(item, created, hidden(item.change.key))
        if event is not None:
            events.append(event)
    return tuple(events)


def hidden_fields(catalog: Catalog | None) -> Callable[[str], frozenset[str]]:
    """The fields the catalog marks sensitive for a product code: the product's
    own, and the top-level ``sensitive:`` ones for every product (a deleted or
    pruned one, which the catalog no longer declares, too)."""
    if catalog is None:
        return lambda code: frozenset()
    own = {spec.code: spec.sensitive for spec in catalog.products}
    everywhere = catalog.sensitive
    return lambda code: own.get(code, frozenset()) | everywhere


def event_for(item: ChangeResult, created: int, sensitive: frozenset[str] = frozenset(),
              ident: str | None = None) -> Event | None:
    """The event announcing ``item``, if it is one to announce; ``ident`` is the
    id assigned when its intent was recorded (see :mod:`reconciler.sinks.journal`)."""
    change = item.change
    if item.status != "succeeded" or not announced(change):
        return None
    product = change.live if change.action == "delete" else item.resource
    if not isinstance(product, Mapping):
        return None
    hidden = sensitive | change.sensitive_fields
    data = {k: v for k, v in product.items() if k not in hidden}
    changed = tuple(f.field for f in change.fields) if change.action != "delete" else ()
    return Event(id=ident or str(uuid.uuid4()), event=nc.EVENT_FOR_ACTION[change.action], created=created,
                 code=change.key, data=data, changed=changed)
