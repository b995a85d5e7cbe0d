"""Cobuilder's part of the catalog's JSON Schema: the ``cobuilder`` section
and a product's ``cobuilder:`` entry, from the documented request model
(:mod:`.contract`) and the keys :mod:`.catalog` accepts."""
from __future__ import annotations

from typing import Any

from reconciler.catalog.schema import CREDENTIAL_URL, ENV_REFERENCE, HTTP_URL, RATE, Schema, exactly
from reconciler.vendors.cobuilder import contract as cb
from reconciler.vendors.cobuilder.catalog import PRODUCT_KEYS, PROPERTY_KEYS, SETTINGS_KEYS

GUID: Schema = {"type": "string", "pattern": cb.GUID_PATTERN.pattern, "description": "A 22-character GUID."}


def settings() -> dict[str, Any]:
    null: Schema = {"type": "null"}
    known: dict[str, Schema] = {
        "base_url": {"anyOf": [null, CREDENTIAL_URL], "default": cb.DEFAULT_BASE_URL},
        "token_url": {"anyOf": [null, CREDENTIAL_URL], "description": "The client-credentials token endpoint."},
        "audience_url": {"anyOf": [null, HTTP_URL], "default": cb.DEFAULT_AUDIENCE_URL},
        "max_reads_per_minute": RATE,
        "max_writes_per_minute": RATE,
        # each template must hold its placeholders (checked by the loader: cb.endpoint_problem)
        "endpoints": exactly(tuple(cb.ENDPOINTS), {
            kind: {"type": "string", "pattern": r"^/", "default": path,
                   "description": f"Path template of the assumed {cb.ENDPOINT_METHODS[kind]} endpoint, relative to "
                                  f"base_url (placeholders: {', '.join(cb.ENDPOINT_PLACEHOLDERS[kind])})."}
            for kind, path in cb.ENDPOINTS.items()}, nullable=True),
    }
    return {"cobuilder": exactly(SETTINGS_KEYS, known, nullable=True)}


def _value() -> Schema:
    text: Schema = {"type": ["string", "null"]}
    limited: Schema = {"anyOf": [{"type": ["string", "null"], "maxLength": cb.MAX_VALUE_LENGTH}, ENV_REFERENCE]}
    known: dict[str, Schema] = {key: limited if key in cb.LENGTH_LIMITED_KEYS else text
                                for key in cb.VALUE_STRING_KEYS}
    known["ifdValues"] = {"type": "array", "items": exactly(cb.IFD_KEYS, {
        key: GUID if key == "valueGuid" else {"type": "string"} for key in cb.IFD_KEYS})}
    known["valueTranslations"] = {"type": "array", "items": exactly(
        cb.TRANSLATION_KEYS, {key: {"type": "string"} for key in cb.TRANSLATION_KEYS})}
    return exactly(cb.VALUE_KEYS, known)


def product() -> dict[str, Any]:
    prop = exactly(PROPERTY_KEYS, {"propertyGuid": GUID, "unitGuid": GUID,
                                    "values": {"type": "array", "items": _value()}},
                    required=["propertyGuid", "unitGuid", "values"])
    entry = exactly(PRODUCT_KEYS, {
        "id": {"type": "integer", "description": "The Cobuilder product id."},
        "exclusive": {"type": "boolean", "description": "true: its own properties not listed here are deleted."},
        "properties": {"type": "array", "items": prop},
    }, required=["id"], description="This product's property values in Cobuilder.")
    return {"cobuilder": entry}
