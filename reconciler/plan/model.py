"""Immutable plan data: what would change, per resource and field."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

Action = Literal["create", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete")
SENSITIVE = "(sensitive)"
#: In saved bodies and patches a sensitive value is ``{"$sensitive": field}``,
#: filled in from the catalog (and its environment) when the plan is applied.
SENSITIVE_KEY = "$sensitive"


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field going from ``before`` (live) to ``after`` (desired)."""

    field: str
    before: Any
    after: Any
    sensitive: bool = False
    #: for a structured value, where inside it the two differ (DeepDiff paths, like ``['Top color']['value']``)
    detail: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """One call's worth of change to one resource.

    ``key`` is the natural key (the product code); ``resource_id`` the vendor's
    id when the resource exists. ``body`` is exactly what will be sent.
    """

    vendor: str
    action: Action
    key: str
    resource_id: str | None
    fields: tuple[FieldChange, ...] = ()
    body: Any = None
    live: Any = None  # the live representation it was planned against (update/delete)
    fingerprint: str | None = None  # digest of ``live``; apply of a saved plan checks it
    patch: tuple[Any, ...] = ()  # RFC 6902 operations from the live state to the desired one

    @property
    def sensitive_fields(self) -> frozenset[str]:
        return frozenset(f.field for f in self.fields if f.sensitive)

    def hide(self, text: str) -> str:
        """``text`` (a vendor's error may quote the value it was sent, or the
        one it had) with this change's sensitive values, before and after,
        replaced by the marker. Values shorter than :data:`HIDE_FROM` are left:
        they would match unrelated text; a value the vendor reformats is not
        recognised."""
        found = {value for f in self.fields if f.sensitive for v in (f.before, f.after) for value in _texts(v)}
        for value in sorted(found, key=len, reverse=True):
            text = text.replace(value, SENSITIVE)
        return text

    def to_dict(self) -> dict[str, Any]:
        """The change as saved and shown: sensitive values replaced by markers."""
        from reconciler.vendors import Vendor, get
        hidden = self.sensitive_fields
        vendor = get(self.vendor) or Vendor()
        body = vendor.saved_body(self, hidden)
        patch = [({**op, "value": {SENSITIVE_KEY: op["path"].lstrip("/")}}
                  if "value" in op and op.get("path", "").lstrip("/").split("/")[0] in hidden else op)
                 for op in self.patch]
        return {
            "vendor": self.vendor, "action": self.action, "key": self.key, "resource_id": self.resource_id,
            "fingerprint": self.fingerprint,
            "fields": [{"field": f.field, "before": SENSITIVE if f.sensitive else f.before,
                        "after": SENSITIVE if f.sensitive else f.after, "sensitive": f.sensitive,
                        **({"detail": list(f.detail)} if f.detail and not f.sensitive else {})}
                       for f in self.fields],
            "body": body, "patch": patch,
            # a product vendor's delete keeps the product it deletes: its "before", and the
            # last known state product.deleted announces after `apply PLANFILE`
            # (its sensitive fields, named by the catalog's top-level sensitive:, already hidden)
            **({"live": self.live} if self.action == "delete" and vendor.keeps_deleted else {}),
        }


#: the shortest sensitive value :meth:`Change.hide` looks for in a message
HIDE_FROM = 4


def _texts(value: Any) -> Iterable[str]:
    """The strings (and numbers, as written) in a field's value, nested ones too."""
    if isinstance(value, str):
        if len(value) >= HIDE_FROM:
            yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if len(str(value)) >= HIDE_FROM:
            yield str(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


def is_property_change(change: Change) -> bool:
    """Whether ``change`` sets a product's property values, not the product itself."""
    from reconciler.vendors import get
    vendor = get(change.vendor)
    return vendor is not None and vendor.properties


def product_action(changes: Iterable[Change]) -> Action:
    """What one product's changes amount to, the product counted once: created
    or deleted when the product itself is; otherwise updated (its fields, its
    property values, or both)."""
    for change in changes:
        if change.action != "update" and not is_property_change(change):
            return change.action
    return "update"


def properties_touched(change: Change) -> int:
    """How many properties a property-value change sets or deletes."""
    if change.action == "delete":
        return 1
    return len(change.body.get("properties", ())) if isinstance(change.body, dict) else 0


#: what ``json.dumps(live, sort_keys=True, default=str)`` makes for a
#: fingerprint (made once, not once per change)
_FINGERPRINTED = json.JSONEncoder(sort_keys=True, default=str)


def fingerprint(live: Any) -> str:
    """A digest of a live object, to tell whether it changed since a plan."""
    return hashlib.sha256(_FINGERPRINTED.encode(live).encode()).hexdigest()


@dataclass(frozen=True)
class PlanIssue:
    """A problem that stops a resource from being planned (e.g. ambiguous live state)."""

    vendor: str
    key: str
    message: str


@dataclass
class VendorPlan:
    """What one vendor contributes to a plan."""

    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    unmanaged: int = 0
    #: the codes of the live products counted in :attr:`unmanaged`
    unmanaged_codes: list[str] = field(default_factory=list)
    managed_live: int = 0
    errors: list[PlanIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    #: declared products with nothing to change
    unchanged: int = 0
    errors: tuple[PlanIssue, ...] = ()
    notes: tuple[str, ...] = ()
    catalog_digest: str = ""
    unmanaged: int = 0
    #: safety thresholds the plan crosses; apply refuses them without --force
    violations: tuple[str, ...] = ()
    #: per-vendor facts about the live state the plan was made from (watermarks, counts)
    context: tuple[tuple[str, Any], ...] = field(default=())
    #: declared properties whose values need no change (None: no property values planned)
    properties_unchanged: int | None = None
    #: the codes of the live products the catalog does not manage (sorted, each once)
    unmanaged_codes: tuple[str, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Products to create, update, delete, unchanged (each product once,
        whatever vendors its changes are for) and unmanaged; with property
        values, also ``properties_create``/``_update``/``_delete``/``_unchanged``."""
        actions: dict[str, list[Change]] = {}
        properties = {action: 0 for action in ACTIONS}
        for change in self.changes:
            actions.setdefault(change.key, []).append(change)
            if is_property_change(change):
                properties[change.action] += properties_touched(change)
        counts = {action: 0 for action in ACTIONS}
        for changes in actions.values():
            counts[product_action(changes)] += 1
        counts["unchanged"] = self.unchanged
        counts["unmanaged"] = self.unmanaged
        if self.properties_unchanged is not None:
            counts.update({f"properties_{action}": n for action, n in properties.items()},
                          properties_unchanged=self.properties_unchanged)
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def checksum(self) -> str:
        """A digest of the plan, stable across runs for the same plan: the
        changes and everything ``apply PLANFILE`` decides by (the catalog
        digest, the errors and thresholds crossed, the live-state context its
        freshness check starts from), so that editing any of them is noticed."""
        payload = json.dumps({
            "changes": [c.to_dict() for c in self.changes], "catalog_digest": self.catalog_digest,
            "errors": [[e.vendor, e.key, e.message] for e in self.errors], "violations": list(self.violations),
            "notes": list(self.notes), "unchanged": self.unchanged, "unmanaged": self.unmanaged,
            "context": dict(self.context),
            **({"properties_unchanged": self.properties_unchanged} if self.properties_unchanged is not None else {}),
            # (only when there are some: a plan saved before the codes were kept still verifies)
            **({"unmanaged_codes": list(self.unmanaged_codes)} if self.unmanaged_codes else {}),
        }, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()
