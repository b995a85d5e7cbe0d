"""Formatting helpers shared by the renderers (presentation only)."""
from __future__ import annotations

import json
import re
from typing import Any

from reconciler.plan.model import SENSITIVE, Change, FieldChange, Plan, is_property_change

SYMBOL = {"create": "+", "update": "~", "delete": "-"}


# What must never reach a terminal or a comment raw: C0 controls (a newline
# would forge a line of the plan, ESC starts a terminal sequence), DEL, C1
# controls, line/paragraph separators and the bidirectional overrides and
# isolates (which reorder what is shown around them), and lone UTF-16
# surrogates (JSON's "\ud800": no UTF-8 output can hold one; printing it fails).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _NAMED.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")


def clean(text: object, lines: bool = False) -> str:
    """``text`` (a code, a value, a message: anything from a vendor or a
    catalog) safe to print: control and bidi characters escaped, ``\\n`` style.
    ``lines``: a message of several lines, each cleaned (its newlines kept)."""
    text = str(text)
    if lines:
        return "\n".join(clean(line) for line in text.split("\n"))
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


#: what ``json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)``
#: makes for each value (made once, not once per value shown)
_SHOW = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def show(value: Any) -> str:
    """A value as it reads in a plan: JSON for structures and strings."""
    return clean(_SHOW.encode(value))


def before(f: FieldChange) -> Any:
    return SENSITIVE if f.sensitive else f.before


def after(f: FieldChange) -> Any:
    return SENSITIVE if f.sensitive else f.after


def title(change: Change) -> str:
    from reconciler.vendors import get
    vendor = get(change.vendor)
    titled = vendor.title(change) if vendor is not None else None
    if titled is not None:
        return titled
    key = clean(change.key)
    ident = f", id {clean(change.resource_id)}" if change.resource_id else ""
    return f"product {key} ({change.vendor}{ident})"


def grouped(changes: tuple[Change, ...]) -> list[tuple[str, list[Change]]]:
    """Changes grouped by product code, in plan order."""
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.key, []).append(change)
    return list(groups.items())


def counts_line(counts: dict[str, int]) -> str:
    """Products, each counted once."""
    return (f"{counts['create']} to create, {counts['update']} to update, "
            f"{counts['delete']} to delete, {counts['unchanged']} unchanged")


def unmanaged_line(plan: Plan) -> str:
    """What the list of unmanaged codes is (``plan --show-unmanaged``)."""
    count = len(plan.unmanaged_codes)
    return (f"{count} live product code{'s' * (count != 1)} the catalog does not manage "
            "(`reconciler import -c CATALOG` writes them as entries to adopt)")


def properties_label() -> str:
    """What property values are called in counts: after the vendors that set them."""
    from reconciler.vendors import registered
    return " / ".join(v.label for v in registered() if v.properties) + " properties"


def properties_line(counts: dict[str, int]) -> str | None:
    """Property values, counted apart from products (None: the plan has none)."""
    if "properties_unchanged" not in counts:
        return None
    return (f"{properties_label()}: {counts['properties_create']} to add, {counts['properties_update']} to change, "
            f"{counts['properties_delete']} to delete, {counts['properties_unchanged']} unchanged")


#: what a delete shows of the product it deletes
DELETED_SHOWN = ("code", "description", "unit_price")


def deleted_fields(change: Change) -> list[tuple[str, Any]]:
    """For a product delete, the fields that say what is deleted (from the live product)."""
    if change.action != "delete" or is_property_change(change) or not isinstance(change.live, dict):
        return []
    return [(name, change.live[name]) for name in DELETED_SHOWN if change.live.get(name) not in (None, "")]
