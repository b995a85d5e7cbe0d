"""Immutable plan data: what would change, per resource and field."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class FieldChange:
    """One field going from ``before`` (live) to ``after`` (desired)."""

    field: str
    before: Any
    after: Any
    sensitive: bool = False


@dataclass(frozen=True)
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

    @property
    def sensitive_fields(self) -> frozenset[str]:
        return frozenset(f.field for f in self.fields if f.sensitive)


@dataclass(frozen=True)
class PlanIssue:
    """A problem that stops a resource from being planned (e.g. ambiguous live state)."""

    vendor: str
    key: str
    message: str


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    unchanged: int = 0
    errors: tuple[PlanIssue, ...] = ()
    notes: tuple[str, ...] = ()
    catalog_digest: str = ""
    extra: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def counts(self) -> dict[str, int]:
        counts = {action: 0 for action in ACTIONS}
        for change in self.changes:
            counts[change.action] += 1
        counts["unchanged"] = self.unchanged
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def checksum(self) -> str:
        """A digest of the changes, stable across runs for the same plan."""
        payload = json.dumps([asdict(c) for c in self.changes], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()
