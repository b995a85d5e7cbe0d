"""Cobuilder property values: the documented request schema, and what GET answers.

The schema is the seed's ``ProductPropertyValueUpdateRequestModel`` (its constants
live in :mod:`reconciler.vendors.cobuilder.contract`). Unknown keys are dropped; what a
client leaves out is filled in (nulls, empty lists, titles) when stored, so GET
answers every documented key.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from reconciler.vendors.cobuilder.contract import (
    GUID_PATTERN,
    IFD_KEYS,
    LENGTH_LIMITED_KEYS,
    MAX_VALUE_LENGTH,
    TRANSLATION_KEYS,
    VALUE_KEYS,
    VALUE_STRING_KEYS,
)

from reconciler.sandbox.store import PropertyRow, PropertyWrite, Store


class SchemaError(ValueError):
    """The body breaks the schema; ``path`` names the offending place."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemaError(path, "must be an object")
    return value


def _array(value: Any, path: str, *, required: bool) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise SchemaError(path, "must be an array" if value is not None else "is required")
    return value


def _string(value: Any, path: str, *, max_length: int | None = None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SchemaError(path, "must be a string")
    if max_length is not None and len(value) > max_length:
        raise SchemaError(path, f"must be at most {max_length} characters (got {len(value)})")
    return value


def _guid(value: Any, path: str, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise SchemaError(path, "is required")
        return None
    if not isinstance(value, str) or not GUID_PATTERN.fullmatch(value):
        raise SchemaError(path, f"must match {GUID_PATTERN.pattern}")
    return value


def _ifd_value(item: Any, path: str) -> dict[str, Any]:
    item = _object(item, path)
    guid = _guid(item.get("valueGuid"), f"{path}.valueGuid", required=False)
    title = _string(item.get("title"), f"{path}.title")
    default_title = _string(item.get("defaultTitle"), f"{path}.defaultTitle")
    if title is None and guid is not None:
        title = f"Value {guid[:6]}"
    filled = {"valueGuid": guid, "title": title,
              "defaultTitle": default_title if default_title is not None else title}
    return {key: filled[key] for key in IFD_KEYS}


def _translation(item: Any, path: str) -> dict[str, Any]:
    item = _object(item, path)
    return {key: _string(item.get(key), f"{path}.{key}") for key in TRANSLATION_KEYS}


def _value(item: Any, path: str) -> dict[str, Any]:
    item = _object(item, path)
    out: dict[str, Any] = {}
    for key in VALUE_STRING_KEYS:
        limit = MAX_VALUE_LENGTH if key in LENGTH_LIMITED_KEYS else None
        out[key] = _string(item.get(key), f"{path}.{key}", max_length=limit)
    ifd = _array(item.get("ifdValues"), f"{path}.ifdValues", required=False)
    out["ifdValues"] = [_ifd_value(v, f"{path}.ifdValues[{i}]") for i, v in enumerate(ifd)]
    translations = _array(item.get("valueTranslations"), f"{path}.valueTranslations", required=False)
    out["valueTranslations"] = [_translation(v, f"{path}.valueTranslations[{i}]")
                                for i, v in enumerate(translations)]
    return {key: out[key] for key in VALUE_KEYS}


def parse_properties(body: Any) -> list[PropertyWrite]:
    """The ``properties`` of a create/update body, validated and filled in."""
    body = _object(body, "$")
    if "properties" not in body:
        raise SchemaError("properties", "is required")
    writes: list[PropertyWrite] = []
    for i, prop in enumerate(_array(body["properties"], "properties", required=True)):
        path = f"properties[{i}]"
        prop = _object(prop, path)
        guid = _guid(prop.get("propertyGuid"), f"{path}.propertyGuid", required=True)
        unit = _guid(prop.get("unitGuid"), f"{path}.unitGuid", required=True)
        values = _array(prop.get("values"), f"{path}.values", required=True)
        assert guid is not None and unit is not None
        writes.append((guid, unit, [_value(v, f"{path}.values[{j}]") for j, v in enumerate(values)]))
    return writes


def ancestors(store: Store, product_id: int) -> list[int]:
    """Existing parent, grandparent, ... of a product, nearest first."""
    chain: list[int] = []
    parent = store.cb_parent(product_id) or 0
    while parent and parent != product_id and parent not in chain:
        chain.append(parent)
        parent = store.cb_parent(parent) or 0
    return [p for p in chain if store.cb_parent(p) is not None]


def inherited_guids(store: Store, product_id: int) -> set[str]:
    """Properties a product gets from its ancestors (not its own to change)."""
    return {row.property_guid for parent in ancestors(store, product_id)
            for row in store.cb_properties(parent)}


def _entry(row: PropertyRow, owner: int, product_id: int) -> dict[str, Any]:
    """One GET entry in the documented shape (portal guide "Manage property
    values for a product, which is a part of a product line"): titles and
    default titles, ``parentId`` ``0`` for the product's own values and the
    owner's id **as a string** when inherited, each value with a ``valueGuid``
    and a ``dataType`` (always ``"string"`` here: the sandbox knows no data
    template)."""
    property_title, unit_title = f"Property {row.property_guid[:6]}", f"Unit {row.unit_guid[:6]}"
    values = [{**value, "valueGuid": _value_guid(owner, row.property_guid, index), "dataType": "string"}
              for index, value in enumerate(row.values)]
    return {"propertyGuid": row.property_guid, "unitGuid": row.unit_guid,
            "propertyTitle": property_title, "propertyDefaultTitle": property_title,
            "unitTitle": unit_title, "unitDefaultTitle": unit_title,
            "parentId": 0 if owner == product_id else str(owner), "values": values}


def _value_guid(product_id: int, property_guid: str, index: int) -> str:
    """A stable 22-character GUID for a stored value (the server assigns one)."""
    digest = hashlib.sha256(f"{product_id}/{property_guid}/{index}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:22]


def values_view(store: Store, product_id: int) -> list[dict[str, Any]] | None:
    """What ``GET /products/{id}/properties/values`` answers; None for an unknown product.

    Own values first (``parentId: 0``), then each ancestor's (``parentId``
    the ancestor's id as a string), nearest first,
    skipping properties a nearer product already answered.
    """
    if store.cb_parent(product_id) is None:
        return None
    seen: set[str] = set()
    answer: list[dict[str, Any]] = []
    for owner in [product_id, *ancestors(store, product_id)]:
        for row in store.cb_properties(owner):
            if row.property_guid not in seen:
                seen.add(row.property_guid)
                answer.append(_entry(row, owner, product_id))
    return answer
