"""Validation of the catalog's ``notify`` section (being written)."""
from __future__ import annotations

from typing import Any

from reconciler.catalog.check import Checker
from reconciler.errors import Location


def parse_notify(section: Any, location: Location, check: Checker) -> Any:
    check.add(location, "the notify section is not supported yet")
    return None
