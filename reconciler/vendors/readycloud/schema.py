"""ReadyCloud's part of the catalog's JSON Schema: the ``readycloud``
section and a product's own fields, by their kind (:data:`contract.WRITABLE_FIELDS`)."""
from __future__ import annotations

from typing import Any

from reconciler import values
from reconciler.catalog.schema import CREDENTIAL_URL, ENV_WHOLE, RATE, Schema, exactly, with_env
from reconciler.vendors.readycloud import contract as rc
from reconciler.vendors.readycloud.catalog import SETTINGS_KEYS
from reconciler.vendors.readycloud.fields import CUSTOM_FIELD_KEYS

_NULL: Schema = {"type": "null"}
#: a field's schema by its kind (an int or bool field may be one whole ``${VAR}``: it takes the field's type)
KINDS: dict[str, Schema] = {
    "str": {"type": ["string", "null"]},
    "bool": {"anyOf": [{"type": ["boolean", "null"]}, ENV_WHOLE]},
    "int": {"anyOf": [{"type": ["integer", "null"]}, ENV_WHOLE]},
    "money": {"anyOf": [_NULL, with_env({"type": "string", "pattern": values.MONEY_PATTERN})],
              "description": "An amount and a 3-letter currency, like '88.00 USD'."},
    "weight": {"anyOf": [_NULL, with_env({"type": "string", "pattern": values.WEIGHT_PATTERN})],
               "description": "An amount and a unit, like '180 g'."},
    "datetime": {"type": ["string", "null"], "description": "An ISO 8601 date-time (no zone: UTC)."},
    "object": {"type": "object", "description": "Custom fields: name -> {value, type}, compared as a whole.",
               "additionalProperties": exactly(CUSTOM_FIELD_KEYS, {}, required=["value"])},
    "kind": with_env({"enum": list(rc.KINDS)}),
}


def settings() -> dict[str, Any]:
    low, high = rc.PAGE_SIZE_RANGE
    known: dict[str, Schema] = {
        "org": {"type": "integer", "minimum": 1, "description": "The ReadyCloud org_pk."},
        "base_url": {**CREDENTIAL_URL, "default": rc.DEFAULT_BASE_URL},
        "max_reads_per_minute": {**RATE, "default": rc.DEFAULT_READS_PER_MINUTE},
        "max_writes_per_minute": {**RATE, "default": rc.DEFAULT_WRITES_PER_MINUTE},
        "page_size": {"type": "integer", "minimum": low, "maximum": high, "default": rc.PAGE_SIZE},
    }
    return {"readycloud": exactly(SETTINGS_KEYS, known, required=["org"], nullable=True)}


def product() -> dict[str, Any]:
    return {name: KINDS[kind] for name, kind in rc.WRITABLE_FIELDS.items()}
