"""The catalog's ``policy`` section: ownership (scope, prune), protection and
safety thresholds. The rules live in the catalog's top level so that removing
a product's YAML block never removes its protection."""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from reconciler.catalog.check import Checker
from reconciler.errors import Location

DEFAULT_MAX_DELETE_PERCENT = 10.0
DEFAULT_MIN_EXISTING = 10
#: the keys of the ``policy`` section
POLICY_KEYS = ("prune", "scope", "protect", "max_delete_percent", "max_update_percent", "min_existing")


@dataclass(frozen=True)
class Policy:
    prune: bool = False
    scope: tuple[str, ...] = ()
    protect: tuple[str, ...] = ()
    max_delete_percent: float = DEFAULT_MAX_DELETE_PERCENT
    max_update_percent: float | None = None
    min_existing: int = DEFAULT_MIN_EXISTING

    def in_scope(self, code: str) -> bool:
        return any(fnmatchcase(code, pattern) for pattern in self.scope)

    def protected(self, code: str) -> bool:
        return any(fnmatchcase(code, pattern) for pattern in self.protect)


def parse_policy(section: Any, location: Location, check: Checker) -> Policy:
    if section is None:
        return Policy()
    if not check.expect(section, (dict,), location, "a mapping"):
        return Policy()
    check.unknown_keys(section, POLICY_KEYS, "policy")

    def at(key: str) -> Location:
        return check.at(section, key, f"policy.{key}")

    prune = section.get("prune", False)
    if not check.expect(prune, (bool,), at("prune"), "true or false"):
        prune = False
    patterns: dict[str, tuple[str, ...]] = {}
    for key in ("scope", "protect"):
        value = section.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            check.add(at(key), f"{key} must be a list of code patterns like 'SHOP-*'")
            value = []
        patterns[key] = tuple(value)
    if prune and not patterns["scope"]:
        check.add(at("prune"), "prune: true needs a scope: the code patterns this catalog owns")
    percents: dict[str, float | None] = {}
    for key, default in (("max_delete_percent", DEFAULT_MAX_DELETE_PERCENT), ("max_update_percent", None)):
        value = section.get(key, default)
        if value is not None and check.expect(value, (int, float), at(key), "a percentage (0-100)"):
            if not 0 <= value <= 100:
                check.add(at(key), f"{key} must be between 0 and 100, got {value}")
        percents[key] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
    min_existing = section.get("min_existing", DEFAULT_MIN_EXISTING)
    if not check.expect(min_existing, (int,), at("min_existing"), "an integer"):
        min_existing = DEFAULT_MIN_EXISTING
    elif min_existing < 0:
        check.add(at("min_existing"), f"min_existing must not be negative, got {min_existing}")
        min_existing = DEFAULT_MIN_EXISTING
    return Policy(prune=bool(prune), scope=patterns["scope"], protect=patterns["protect"],
                  max_delete_percent=float(percents["max_delete_percent"] or 0.0),
                  max_update_percent=percents["max_update_percent"], min_existing=int(min_existing))
