"""Saved plans: the versioned JSON document ``plan --out`` writes, ``--format
json`` prints and ``apply PLANFILE`` reads (schema: ``schemas/plan.v1.json``).

The document holds no secrets: sensitive values are markers. ``apply
PLANFILE`` takes no decision from it (see :mod:`reconciler.plan.rederive`):
the changes it sends come from the catalog and the live state.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from reconciler import tempfiles
from reconciler.errors import ReconcilerError
from reconciler.plan.model import ACTIONS, Change, FieldChange, Plan, PlanIssue
from reconciler.plan.select import Selection

FORMAT = "reconciler-plan"
SCHEMA_VERSION = 1
#: The environment variable holding the key plans are signed and verified with.
KEY_VARIABLE = "RECONCILER_PLAN_KEY"
SIGNATURE_ALGORITHM = "hmac-sha256"


class PlanFileError(ReconcilerError):
    """A saved plan cannot be read, or does not fit the catalog it is applied with."""


def reconciler_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # (slow to import: only a saved plan needs it)

    try:
        return version("catalog-reconciler")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


@dataclass(frozen=True)
class Provenance:
    """Where and how a plan was made: each vendor's server (``base_url``, and
    the ReadyCloud ``org``), the reconciler version, and whether its crossed
    thresholds were approved at plan time (``plan --force``)."""

    vendors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    force: bool = False
    version: str = field(default_factory=reconciler_version)

    def origin(self) -> dict[str, Any]:
        return {"reconciler": self.version, "vendors": {k: dict(v) for k, v in self.vendors.items()}}

    def mismatches(self, now: "Provenance") -> list[str]:
        """Each vendor whose server or org differs between the plan and ``now``."""
        out = []
        for vendor in sorted(now.vendors):
            planned, here = dict(self.vendors.get(vendor, {})), dict(now.vendors[vendor])
            if not planned:
                out.append(f"{vendor}: the plan does not record which server it was made against "
                           f"(this run is against {_where(here)})")
            elif planned != here:
                out.append(f"{vendor}: the plan was made against {_where(planned)}, this run is against {_where(here)}")
        return out


def _where(vendor: Mapping[str, Any]) -> str:
    return " ".join(f"{k} {v}" for k, v in sorted(vendor.items()))


@dataclass(frozen=True)
class SavedPlan:
    plan: Plan
    selection: Selection
    provenance: Provenance
    signed: bool  # its signature was verified with the key
    created_at: datetime | None = None


def to_document(plan: Plan, selection: Selection = Selection(), created_at: datetime | None = None,
                provenance: Provenance | None = None) -> dict[str, Any]:
    # (violations first after the header: a reviewer or a script sees a crossed threshold on top)
    return {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "kind": "plan",
        "violations": list(plan.violations), "force": provenance.force if provenance else False,
        "created_at": (created_at or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        **({"origin": provenance.origin()} if provenance is not None else {}),
        "catalog_digest": plan.catalog_digest, "checksum": plan.checksum,
        "selection": {"targets": list(selection.targets), "excludes": list(selection.excludes)},
        "partial": not selection.everything,
        "counts": plan.counts,
        "unmanaged": list(plan.unmanaged_codes),
        "errors": [{"vendor": e.vendor, "key": e.key, "message": e.message} for e in plan.errors],
        "notes": list(plan.notes), "context": dict(plan.context),
        "changes": [c.to_dict() for c in plan.changes],
    }


def signature(doc: Mapping[str, Any], key: str) -> str:
    """HMAC-SHA256, keyed with ``key``, of the canonical JSON of ``doc`` without its signature."""
    unsigned = {k: v for k, v in doc.items() if k != "signature"}
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def save(plan: Plan, path: str | os.PathLike[str], selection: Selection = Selection(),
         provenance: Provenance | None = None, key: str | None = None) -> None:
    """Write atomically, so an interrupted run never leaves half a plan;
    signed when a ``key`` is given."""
    doc = json.loads(json.dumps(to_document(plan, selection, provenance=provenance), default=str))
    if key:
        doc["signature"] = {"algorithm": SIGNATURE_ALGORITHM, "value": signature(doc, key)}
    with tempfiles.replaced(tempfiles.target(path), ".plan-", name=os.fspath(path)) as out:
        json.dump(doc, out, indent=2, ensure_ascii=False)
        out.write("\n")


def _verify(path: str | os.PathLike[str], doc: Mapping[str, Any], key: str | None) -> bool:
    """Check the signature when a key is set: missing or wrong refuses the plan."""
    if not key:
        return False
    signed = doc.get("signature")
    if not isinstance(signed, dict) or "value" not in signed:
        raise PlanFileError(f"{path}: the plan is not signed, and {KEY_VARIABLE} is set: only a plan made "
                            f"by `plan --out` with the same key is applied")
    if signed.get("algorithm") != SIGNATURE_ALGORITHM or not hmac.compare_digest(  # (bytes: any text compares)
            str(signed["value"]).encode(), signature(doc, key).encode()):
        raise PlanFileError(f"{path}: the plan's signature does not verify with {KEY_VARIABLE}: it was edited, "
                            "or signed with another key; nothing was applied")
    return True


def load(path: str | os.PathLike[str], key: str | None = None) -> SavedPlan:
    """Read a saved plan; with ``key``, refuse it unless its signature verifies."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read plan file: {exc.strerror}") from None
    except ValueError as exc:
        raise PlanFileError(f"{path}: not a JSON plan file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PlanFileError(f"{path}: not a reconciler plan file")
    signed = _verify(path, doc, key)
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise PlanFileError(f"{path}: plan schema version {doc.get('schema_version')!r} is not supported "
                            f"(this reconciler reads version {SCHEMA_VERSION})")
    try:
        plan = plan_of(doc)
        selection = Selection(tuple(doc["selection"]["targets"]), tuple(doc["selection"]["excludes"]))
        origin = doc.get("origin") or {}
        provenance = Provenance({str(k): dict(v) for k, v in (origin.get("vendors") or {}).items()},
                                force=doc.get("force") is True, version=str(origin.get("reconciler", "unknown")))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise PlanFileError(f"{path}: malformed plan file ({type(exc).__name__}: {exc})") from None
    if plan.checksum != doc.get("checksum"):
        raise PlanFileError(f"{path}: checksum mismatch; the plan file was edited or damaged")
    return SavedPlan(plan, selection, provenance, signed, _created_at(doc.get("created_at")))


def plan_of(doc: Mapping[str, Any]) -> Plan:
    """The plan a document holds (KeyError, TypeError, ValueError if malformed)."""
    return Plan(changes=tuple(_change(c) for c in doc["changes"]), unchanged=int(doc["counts"]["unchanged"]),
                errors=tuple(PlanIssue(e["vendor"], e["key"], e["message"]) for e in doc["errors"]),
                notes=tuple(doc["notes"]), catalog_digest=str(doc["catalog_digest"]),
                unmanaged=int(doc["counts"].get("unmanaged", 0)), violations=tuple(doc["violations"]),
                context=tuple(doc["context"].items()),
                properties_unchanged=_optional_int(doc["counts"].get("properties_unchanged")),
                unmanaged_codes=_codes(doc.get("unmanaged")))


def _codes(value: Any) -> tuple[str, ...]:
    """The unmanaged codes of a document (a plan saved before they were kept has none)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValueError("unmanaged is not a list of codes")
    return tuple(value)


def _change(data: dict[str, Any]) -> Change:
    if data["action"] not in ACTIONS:
        raise ValueError(f"unknown action {data['action']!r}")
    fields = tuple(FieldChange(f["field"], f["before"], f["after"], bool(f.get("sensitive")),
                               tuple(str(d) for d in f.get("detail") or ()))
                   for f in data["fields"])
    patch = tuple(data.get("patch") or ())
    if not all(type(op) is dict and isinstance(op.get("path", ""), str) for op in patch):
        raise ValueError("a patch operation is not an object with a path")
    return Change(data["vendor"], data["action"], data["key"], data["resource_id"], fields, data["body"],
                  live=data.get("live"), fingerprint=data.get("fingerprint"), patch=patch)


def _created_at(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
