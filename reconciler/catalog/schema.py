"""The catalog's JSON Schema (draft 2020-12), for editors and CI
(``reconciler schema``; committed as ``schemas/catalog.v1.json``).

It is assembled from the rules the loader keeps as constants (its keys, the
typed settings, the ``${VAR}`` grammar, the notification contracts) and from
each registered vendor's fragments (:meth:`Vendor.settings_schema`,
:meth:`Vendor.product_schema`), so that a key the loader rejects fails the
schema too (``additionalProperties: false`` wherever the loader names unknown
keys). What a schema cannot say (rules across files and products, the
environment, URL hosts trusted by the environment) stays the loader's alone:
``tests/catalog/test_schema.py`` lists each such difference.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Iterable, Mapping, Sequence

from reconciler.catalog import env as catalog_env
from reconciler.catalog.check import ENV_VAR
from reconciler.catalog.load import TOP_LEVEL_KEYS, _Entries
from reconciler.catalog.notify import NOTIFY_KEYS, USERCOM_KEYS, VOUCHERIFY_KEYS, WEBHOOK_KEYS
from reconciler.catalog.policy import DEFAULT_MAX_DELETE_PERCENT, DEFAULT_MIN_EXISTING, POLICY_KEYS
from reconciler.contracts import notify as nc
from reconciler.vendors import Vendor, registered

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: where the schema is committed, relative to the repository root
SCHEMA_FILE = "schemas/catalog.v1.json"

#: Pieces the catalog's schema names in its ``$defs`` (vendors' fragments use them by the constants below).
DEFS: dict[str, Schema] = {
    # a string holding a ``${VAR}`` (or ``${VAR:-default}``): checked once substituted, so any such string
    "env_reference": {"type": "string", "pattern": ENV_VAR.pattern,
                      "description": "A value with ${VAR} or ${VAR:-default}, from the environment."},
    # one whole ``${VAR}``: a typed setting or field (integer, number, boolean) takes its type from it
    "env_whole": {"type": "string", "pattern": "^(?:" + catalog_env.WHOLE.pattern + ")$",
                  "description": "One whole ${VAR}: its value is read as this setting's type."},
    # requests per minute (:meth:`Checker.rate`)
    "rate": {"type": ["number", "null"], "minimum": 0, "description": "Requests per minute (0 or null: unpaced)."},
    # a URL that receives credentials: https with a host (which hosts: the loader, given the environment)
    "credential_url": {"anyOf": [{"type": "string", "pattern": r"^https://[^/?#\s]"},
                                 {"$ref": "#/$defs/env_reference"}],
                       "description": "An https:// URL of one of the service's hosts (or one the environment "
                                      "trusts); ${VAR} allowed."},
    "http_url": {"anyOf": [{"type": "string", "pattern": r"^https?://[^/?#\s]"}, {"$ref": "#/$defs/env_reference"}]},
}
ENV_REFERENCE: Schema = {"$ref": "#/$defs/env_reference"}
ENV_WHOLE: Schema = {"$ref": "#/$defs/env_whole"}
RATE: Schema = {"$ref": "#/$defs/rate"}
CREDENTIAL_URL: Schema = {"$ref": "#/$defs/credential_url"}
HTTP_URL: Schema = {"$ref": "#/$defs/http_url"}
#: a string with something in it (the loader's ``.strip()`` test)
NON_EMPTY: Schema = {"type": "string", "pattern": r"\S"}


def with_env(schema: Schema) -> Schema:
    """``schema``, or a string with a ``${VAR}`` in it (substituted before it is checked)."""
    return {"anyOf": [schema, ENV_REFERENCE]}


def typed_env(schema: Schema) -> Schema:
    """``schema``, or one whole ``${VAR}`` (a typed setting: :data:`env.TYPED_SETTINGS`)."""
    return {"anyOf": [schema, ENV_WHOLE]}


def strict(properties: Mapping[str, Schema], required: Iterable[str] = (), nullable: bool = False,
           **extra: Any) -> Schema:
    """A mapping of exactly these keys (the loader names any other as unknown)."""
    schema: Schema = {"type": ["object", "null"] if nullable else "object", "properties": dict(properties),
                      "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return {**schema, **extra}


def exactly(keys: Iterable[str], known: Mapping[str, Schema], **extra: Any) -> Schema:
    """A mapping of exactly the ``keys`` the loader accepts there, each as
    ``known`` describes it (any value if it does not): :func:`strict`."""
    return strict(_own(known, keys, "a mapping"), **extra)


def catalog_schema(vendors: Sequence[Vendor] | None = None) -> Schema:
    """The whole catalog's schema, for ``vendors`` (default: the registered ones)."""
    vendors = registered() if vendors is None else vendors
    shape = _Entries.of(vendors)
    fields = [name for name in shape.known if name != "code"]
    sections: dict[str, Schema] = {}
    for vendor in vendors:
        sections.update(_own(copy.deepcopy(vendor.settings_schema()), vendor.sections, f"{vendor.name} settings"))
    sections = {
        **sections,
        "products": {"type": ["array", "null"], "items": _product(vendors, shape.known, shape.keys),
                     "description": "The products, each keyed by its code."},
        "policy": _policy(),
        "notify": _notify(vendors),
        "sensitive": {"type": "array", "items": {"enum": fields},
                      "description": "Fields hidden for every product (tombstoned and pruned ones too)."},
        "plain_env": {"type": "array", "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                                                 "not": {"pattern": _any_case(catalog_env.SECRET_NAME)}},
                      "description": "Environment variables whose values are plain configuration (shown)."},
    }
    typed = {**catalog_env.TYPED_SETTINGS}
    for vendor in vendors:
        typed.update(vendor.typed_settings)
    for section, kinds in typed.items():
        properties = sections.get(section, {}).get("properties", {})
        for key in kinds:
            if key in properties:
                properties[key] = typed_env(properties[key])
    order = [*(s for v in vendors for s in v.sections), *TOP_LEVEL_KEYS]
    return copy.deepcopy({  # (its parts are shared with the vendors' fragments: a caller may change its copy)
        "$schema": DIALECT,
        "title": "reconciler catalog",
        "description": "The desired state of products (catalog.yaml), as `reconciler validate` checks it. "
                       "${VAR} and ${VAR:-default} come from the environment.",
        "type": ["object", "null"],
        "properties": {key: sections[key] for key in order},
        "patternProperties": {"^x-": {"description": "Free: anchors that products merge (<<: *defaults)."}},
        "additionalProperties": False,
        "$defs": DEFS,
    })


def render(schema: Schema) -> str:
    """The schema as committed: JSON, keys sorted, indented by 2, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _own(fragment: Mapping[str, Schema], keys: Iterable[str], whose: str) -> dict[str, Schema]:
    """``fragment`` for exactly ``keys`` (any value for a key it leaves out);
    a key the loader would not accept is a programming error."""
    allowed = list(keys)
    extra = [key for key in fragment if key not in allowed]
    if extra:
        raise ValueError(f"the schema of {whose} names keys the loader does not accept: {extra}")
    return {key: fragment.get(key, {}) for key in allowed}


def _product(vendors: Sequence[Vendor], known: Mapping[str, str], keys: Iterable[str]) -> Schema:
    properties: dict[str, Schema] = {
        "code": {**NON_EMPTY, "description": "The product's code: unique in the catalog."},
        "absent": {"type": "boolean", "description": "true: a tombstone (delete the product if it exists)."},
        "sensitive": {"anyOf": [{"const": True}, {"type": "array", "items": {"enum": list(known)}}],
                      "description": "true (every field the entry declares) or the fields hidden in output."},
    }
    owner = next((v for v in vendors if v.owns_top_level_fields), None)  # (as the loader: one vendor at most)
    for vendor in vendors:
        mine = [*(vendor.product_fields if vendor is owner else ()), *filter(None, [vendor.product_key])]
        for key, schema in _own(vendor.product_schema(), mine, f"{vendor.name} products").items():
            properties.setdefault(key, schema)  # (the entry's own code, absent, sensitive first)
    tombstone = {"if": {"required": ["absent"], "properties": {"absent": {"const": True}}},
                 "then": {"propertyNames": {"enum": ["code", "absent"]},
                          "description": "A tombstone (absent: true) takes no other fields than code."}}
    return strict(_own(properties, keys, "a product entry"), required=["code"], **tombstone)


def _policy() -> Schema:
    patterns: Schema = {"anyOf": [{"type": "string", "minLength": 1},
                                  {"type": "array", "items": {"type": "string", "minLength": 1}}],
                        "description": "Code patterns (globs like 'SHOP-*')."}
    percent: Schema = {"type": ["number", "null"], "minimum": 0, "maximum": 100}
    return strict(_own({
        "prune": {"type": "boolean", "description": "Delete live products in scope that the catalog omits."},
        "scope": patterns,
        "protect": patterns,
        "max_delete_percent": {**percent, "default": DEFAULT_MAX_DELETE_PERCENT},
        "max_update_percent": percent,
        "min_existing": {"type": "integer", "minimum": 0, "default": DEFAULT_MIN_EXISTING},
    }, POLICY_KEYS, "policy"), nullable=True, **{
        "if": {"required": ["prune"], "properties": {"prune": {"const": True}}},
        "then": {"required": ["scope"], "properties": {"scope": {"anyOf": [{"type": "string"},
                                                                             {"type": "array", "minItems": 1}]}},
                 "description": "prune: true needs a scope: the code patterns this catalog owns."}})


def _notify(vendors: Sequence[Vendor]) -> Schema:
    announced = {name: kind for v in vendors if v.announces for name, kind in v.product_fields.items()}
    webhook = strict(_own({
        "url": HTTP_URL,
        "secret": {"type": "string", "pattern": r"\$\{[A-Za-z_][A-Za-z0-9_]*\}",
                   "description": "From the environment, like ${WEBHOOK_SECRET} (never written in the catalog)."},
        "events": {"type": "array", "minItems": 1, "items": {"enum": list(nc.EVENT_NAMES)}},
    }, WEBHOOK_KEYS, "notify.webhooks"), required=["url", "secret"])
    attributions: dict[str, Schema] = {"user_id": {"type": "integer", "minimum": 1},
                                       "user_custom_id": NON_EMPTY}
    usercom = strict(_own({
        "base_url": CREDENTIAL_URL,
        "event_type": {"enum": list(nc.USERCOM_EVENT_TYPES)},
        **{key: attributions[key] for key in nc.USERCOM_ATTRIBUTIONS},
        nc.USERCOM_V1_ATTRIBUTION: {"not": {}, "description": "user.com API v1; use user_id or user_custom_id."},
        "attributes": {"type": "array",
                       "items": {"enum": [name for name, kind in announced.items() if kind != "object"]}},
    }, USERCOM_KEYS, "notify.usercom"), required=["event_type", "attributes"],
        oneOf=[{"required": [key]} for key in nc.USERCOM_ATTRIBUTIONS])
    customer_fields: dict[str, Schema] = {"source_id": NON_EMPTY, "metadata": {"type": "object"}}
    voucherify = strict(_own({
        "base_url": CREDENTIAL_URL,
        "event": {**NON_EMPTY, "maxLength": nc.VOUCHERIFY_EVENT_MAX_LENGTH},
        "customer": strict({key: customer_fields.get(key, {"type": "string"})
                            for key in nc.VOUCHERIFY_CUSTOMER_KEYS}, required=["source_id"]),
        "max_requests_per_minute": RATE,
    }, VOUCHERIFY_KEYS, "notify.voucherify"), required=["event", "customer"])
    return strict(_own({"webhooks": {"type": "array", "items": webhook}, "usercom": usercom,
                        "voucherify": voucherify}, NOTIFY_KEYS, "notify"), nullable=True)


def _any_case(pattern: str) -> str:
    """``pattern`` (upper-case letters) matching either case: JSON Schema's
    regular expressions (ECMA-262, as schemas are read) have no flags."""
    return "".join(f"[{c}{c.lower()}]" if c.isalpha() else c for c in pattern)
