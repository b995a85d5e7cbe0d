"""Saved plans: the versioned JSON document ``plan --out`` writes, ``--format
json`` prints and ``apply PLANFILE`` reads (schema: ``schemas/plan.v1.json``).

The document holds no secrets: sensitive values are markers, filled in from
the catalog when the plan is applied.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reconciler.catalog.model import Catalog
from reconciler.errors import ReconcilerError
from reconciler.plan.model import ACTIONS, SENSITIVE_KEY, Change, FieldChange, Plan, PlanIssue
from reconciler.plan.select import Selection

FORMAT = "reconciler-plan"
SCHEMA_VERSION = 1


class PlanFileError(ReconcilerError):
    """A saved plan cannot be read, or does not fit the catalog it is applied with."""


def to_document(plan: Plan, selection: Selection = Selection(), created_at: datetime | None = None) -> dict[str, Any]:
    return {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "kind": "plan",
        "created_at": (created_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        "catalog_digest": plan.catalog_digest, "checksum": plan.checksum,
        "selection": {"targets": list(selection.targets), "excludes": list(selection.excludes)},
        "counts": plan.counts, "violations": list(plan.violations),
        "errors": [{"vendor": e.vendor, "key": e.key, "message": e.message} for e in plan.errors],
        "notes": list(plan.notes), "context": dict(plan.context),
        "changes": [c.to_dict() for c in plan.changes],
    }


def save(plan: Plan, path: str | os.PathLike[str], selection: Selection = Selection()) -> None:
    """Write atomically, so an interrupted run never leaves half a plan."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".plan-", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(to_document(plan, selection), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    os.replace(tmp, target)


def load(path: str | os.PathLike[str]) -> tuple[Plan, Selection]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read plan file: {exc.strerror}") from None
    except ValueError as exc:
        raise PlanFileError(f"{path}: not a JSON plan file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PlanFileError(f"{path}: not a reconciler plan file")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise PlanFileError(f"{path}: plan schema version {doc.get('schema_version')!r} is not supported "
                            f"(this reconciler reads version {SCHEMA_VERSION})")
    try:
        changes = tuple(_change(c) for c in doc["changes"])
        plan = Plan(changes=changes, unchanged=int(doc["counts"]["unchanged"]),
                    errors=tuple(PlanIssue(e["vendor"], e["key"], e["message"]) for e in doc["errors"]),
                    notes=tuple(doc["notes"]), catalog_digest=str(doc["catalog_digest"]),
                    unmanaged=int(doc["counts"].get("unmanaged", 0)), violations=tuple(doc["violations"]),
                    context=tuple(doc["context"].items()),
                    properties_unchanged=_optional_int(doc["counts"].get("properties_unchanged")))
        selection = Selection(tuple(doc["selection"]["targets"]), tuple(doc["selection"]["excludes"]))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFileError(f"{path}: malformed plan file ({type(exc).__name__}: {exc})") from None
    if plan.checksum != doc.get("checksum"):
        raise PlanFileError(f"{path}: checksum mismatch; the plan file was edited or damaged")
    return plan, selection


def _change(data: dict[str, Any]) -> Change:
    if data["action"] not in ACTIONS:
        raise ValueError(f"unknown action {data['action']!r}")
    fields = tuple(FieldChange(f["field"], f["before"], f["after"], bool(f.get("sensitive")),
                               tuple(str(d) for d in f.get("detail") or ()))
                   for f in data["fields"])
    return Change(data["vendor"], data["action"], data["key"], data["resource_id"], fields, data["body"],
                  live=data.get("live"), fingerprint=data.get("fingerprint"), patch=tuple(data.get("patch") or ()))


def resolve_sensitive(plan: Plan, catalog: Catalog) -> Plan:
    """Fill sensitive markers in bodies from the catalog (resolved in this environment)."""
    specs = catalog.by_code()
    changes = []
    for change in plan.changes:
        body = change.body
        if change.vendor == "cobuilder" and isinstance(body, dict) and any(
                _is_marker(p.get("values")) for p in body.get("properties", []) if isinstance(p, dict)):
            change = _resolve_cobuilder(change, specs.get(change.key))
        elif isinstance(body, dict) and any(_is_marker(v) for v in body.values()):
            spec = specs.get(change.key)
            filled = {}
            for name, value in body.items():
                if _is_marker(value):
                    if spec is None or name not in spec.fields:
                        raise PlanFileError(f"the plan needs the sensitive field {name} of {change.key}, "
                                            "which the catalog no longer declares")
                    value = spec.fields[name]
                filled[name] = value
            change = Change(change.vendor, change.action, change.key, change.resource_id, change.fields, filled,
                            change.live, change.fingerprint, change.patch)
        changes.append(change)
    return dataclasses.replace(plan, changes=tuple(changes))


def _resolve_cobuilder(change: Change, spec: Any) -> Change:
    """Fill the values of sensitive Cobuilder properties from the catalog."""
    declared = {p.guid: p for p in spec.cobuilder.properties} if spec is not None and spec.cobuilder else {}
    properties = []
    for prop in change.body["properties"]:
        if _is_marker(prop.get("values")):
            guid = prop.get("propertyGuid")
            if guid not in declared:
                raise PlanFileError(f"the plan needs the sensitive values of Cobuilder property {guid} of "
                                    f"{change.key}, which the catalog no longer declares")
            prop = {**prop, "values": list(declared[guid].values)}
        properties.append(prop)
    return Change(change.vendor, change.action, change.key, change.resource_id, change.fields,
                  {**change.body, "properties": properties}, change.live, change.fingerprint, change.patch)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _is_marker(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {SENSITIVE_KEY}
