"""Events built from what an apply actually did: one per changed product.

Succeeded changes of a vendor that :attr:`~reconciler.vendors.base.Vendor.announces`
(with the product it answered) produce an event; so do succeeded changes of a
vendor whose changes set a product's property values
(:attr:`~reconciler.vendors.base.Vendor.properties`): a ``product.updated``
whose ``changed`` names the properties and whose ``data`` is only the product
code (the product itself was not read). :func:`coalesce` makes that one event
per product: a product's property changes are folded into its product event,
or into one ``product.updated`` when its values alone changed. A plan, a
failed or skipped change and an unchanged product produce none. Fields the
catalog marks sensitive (or that came from ``${VAR}``) are left out of ``data``
so they never reach a receiver, the outbox file or a log; property values are
never sent at all.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from reconciler.apply import ApplyResult, ChangeResult
from reconciler.catalog.model import Catalog
from reconciler.contracts import notify as nc
from reconciler.errors import ConfigError
from reconciler.plan.model import Change



def announced(change: Change) -> bool:
    """Whether applying ``change`` produces an event: a product change of a
    vendor that announces its changes (:attr:`reconciler.vendors.base.Vendor.announces`),
    or a change of a product's property values (:func:`values_only`)."""
    from reconciler.vendors import get
    vendor = get(change.vendor)
    return (vendor is not None and (vendor.announces or vendor.properties)
            and change.action in nc.EVENT_FOR_ACTION)


def values_only(change: Change) -> bool:
    """Whether ``change`` sets a product's property values (of a vendor whose
    changes are :attr:`~reconciler.vendors.base.Vendor.properties`), announced
    as that product's ``product.updated`` naming the properties, never their values."""
    from reconciler.vendors import get
    vendor = get(change.vendor)
    return vendor is not None and vendor.properties and not vendor.announces


@dataclass(frozen=True)
class Event:
    """One change to announce. ``id`` stays the same for every delivery attempt."""

    id: str
    event: str  # product.created | product.updated | product.deleted
    created: int  # unix seconds
    code: str
    data: Mapping[str, Any] = field(default_factory=dict)  # the product as it now is (deletes: last known)
    changed: tuple[str, ...] = ()  # names of the fields the change set
    values_only: bool = False  # announces property values alone: ``data`` is only the code

    @property
    def kind(self) -> str:
        """``created``, ``updated`` or ``deleted``."""
        return nc.CHANGE_KIND[self.event]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "event": self.event, "created": self.created, "code": self.code,
                "data": dict(self.data), "changed": list(self.changed),
                **({"values_only": True} if self.values_only else {})}

    @classmethod
    def from_json(cls, raw: Any) -> "Event":
        """Read back :meth:`to_json`; :class:`ConfigError` if it is not an event."""
        try:
            if raw["event"] not in nc.EVENT_NAMES:
                raise ValueError(f"unknown event {raw['event']!r}")
            return cls(id=str(raw["id"]), event=str(raw["event"]), created=int(raw["created"]),
                       code=str(raw["code"]), data=dict(raw.get("data") or {}),
                       changed=tuple(str(n) for n in raw.get("changed") or ()),
                       values_only=raw.get("values_only") is True)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:  # (1e999 reads as infinity)
            raise ConfigError(f"not a notification event ({exc})") from None


def build_events(result: ApplyResult, *, catalog: Catalog | None = None,
                 now: Callable[[], float] = time.time) -> tuple[Event, ...]:
    """One event per succeeded announced change, in the order apply reports
    them (see :func:`coalesce` for one per product).

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
    if values_only(change):
        from reconciler.vendors import get
        units = get(change.vendor).units(change)  # type: ignore[union-attr]
        return Event(id=ident or str(uuid.uuid4()), event=nc.EVENT_FOR_ACTION["update"], created=created,
                     code=change.key, data={"code": change.key}, changed=tuple(sorted(units)), values_only=True)
    product = change.live if change.action == "delete" else item.resource
    if not isinstance(product, Mapping):
        return None
    hidden = sensitive | change.sensitive_fields
    data = {k: v for k, v in product.items() if k not in hidden}
    changed = tuple(f.field for f in change.fields) if change.action != "delete" else ()
    return Event(id=ident or str(uuid.uuid4()), event=nc.EVENT_FOR_ACTION[change.action], created=created,
                 code=change.key, data=data, changed=changed)


def coalesce(events: Sequence[Event]) -> list[Event]:
    """One event per product: the property changes of a product that has a
    product event (created or updated) are added to its ``changed``; those of
    a product whose values alone changed become one ``product.updated`` (the
    first one's id and time). Order: as the first event of each product came."""
    product_event = {e.code: e for e in reversed(events) if not e.values_only and e.event != "product.deleted"}
    properties: dict[str, list[str]] = {}
    for event in events:
        if event.values_only:
            names = properties.setdefault(event.code, [])
            names.extend(n for n in event.changed if n not in names)
    merged: list[Event] = []
    for event in events:
        if not event.values_only:
            extra = properties.get(event.code, []) if product_event.get(event.code) is event else []
            merged.append(replace(event, changed=event.changed + tuple(n for n in extra if n not in event.changed))
                          if extra else event)
        elif event.code not in product_event and properties.get(event.code) is not None:
            merged.append(replace(event, changed=tuple(properties.pop(event.code))))
    return merged
