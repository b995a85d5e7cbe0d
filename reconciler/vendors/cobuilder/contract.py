"""Cobuilder Products Management API v3: the documented and assumed contract."""
from __future__ import annotations

import json
import re
import string
from types import MappingProxyType
from typing import Any, Final, Mapping
from urllib.parse import quote

from reconciler.contracts import Contract, assumed, documented
from reconciler.errors import ProviderError

#: Documented (developer.cobuilder.com, "Products_CreatePropertiesValues").
DEFAULT_BASE_URL: Final = "https://api.cobuilder.com/products-management/api/v3"
#: Assumed: the audience the token is asked for when the catalog names none (a
#: guess: no public page gives one).
DEFAULT_AUDIENCE_URL: Final = "https://api.cobuilder.com"
#: Hosts a catalog's ``cobuilder.base_url`` and ``token_url`` may name (https only).
HOSTS: Final = ("*.cobuilder.com",)

#: Documented request-model pattern for GUIDs. Use ``fullmatch``: with ``match``,
#: ``$`` also matches before a trailing newline, which JSON Schema patterns do not.
GUID_PATTERN: Final = re.compile(r"^\S{22}$")
MAX_VALUE_LENGTH: Final = 2000

#: The value object keys of the documented request model.
VALUE_KEYS: Final = ("value", "operator", "ifdValues", "lowerValue", "lowerOperator",
                     "upperValue", "upperOperator", "valueTranslations")
VALUE_STRING_KEYS: Final = ("value", "operator", "lowerValue", "lowerOperator", "upperValue", "upperOperator")
LENGTH_LIMITED_KEYS: Final = ("value", "lowerValue", "upperValue")
IFD_KEYS: Final = ("valueGuid", "title", "defaultTitle")
TRANSLATION_KEYS: Final = ("text", "languageCode")


#: Documented (portal guide "Manage property values for a product, which is a part of a
#: product line"): the keys of a ``GET .../properties/values`` entry.
ENTRY_KEYS: Final = ("propertyGuid", "unitGuid", "propertyTitle", "propertyDefaultTitle", "unitTitle",
                     "unitDefaultTitle", "parentId", "values")
#: Documented (same page, and the vendor notes): keys a GET value carries beyond the request
#: model; compared never (only what the request model sets is compared).
ANSWER_VALUE_KEYS: Final = ("valueGuid", "dataType")


def is_own(entry: Mapping[str, Any]) -> bool:
    """Whether a GET entry is the product's own value, not one inherited.
    Documented: ``parentId`` is ``0`` for the product's own values and the
    parent's id as a string (``"111111"``) when inherited; ``"0"`` and null
    (assumed) read as own too."""
    parent = entry.get("parentId")
    if parent is None or isinstance(parent, bool):
        return parent is None or parent is False
    if isinstance(parent, str):
        return parent.strip() in ("", "0")
    return bool(parent == 0)


def entry_problem(entry: Any) -> str | None:
    """What makes a GET entry unusable, or None. The answer is untrusted: its
    ``propertyGuid`` goes into the delete path (so it must be a GUID of the
    documented pattern, never ``..`` or ``a/b``) and its ``parentId`` decides
    whether a value is the product's to change (a number, a string or null;
    a boolean, an object, a list or a fraction says neither)."""
    if type(entry) is not dict:
        return f"an entry is {json.dumps(entry, default=str)[:80]}, not an object"
    guid = entry.get("propertyGuid")
    if not isinstance(guid, str) or not GUID_PATTERN.fullmatch(guid):
        return f"propertyGuid {json.dumps(guid)[:80]} is not a GUID (22 non-space characters)"
    parent = entry.get("parentId")
    if isinstance(parent, (bool, dict, list)) or (isinstance(parent, float) and not parent.is_integer()):
        return f"parentId {json.dumps(parent)[:80]} of {guid} is neither a product id nor 0"
    return None


def values_path(product_id: int) -> str:  # documented (GET)
    return f"/products/{product_id}/properties/values"


def create_path(product_id: int) -> str:  # documented ("Products_CreatePropertiesValues")
    return f"/products/{product_id}/properties/values/create"


#: Assumed, not public: no public page shows the update and delete paths. The
#: defaults of the catalog's ``cobuilder.endpoints``, each a path template
#: relative to ``base_url`` (never another host).
ENDPOINTS: Final[Mapping[str, str]] = MappingProxyType({
    "update": "/products/{product_id}/properties/values/update",
    "delete": "/products/{product_id}/properties/{property_guid}/values",
})
#: The HTTP method of each assumed endpoint (assumed too; not overridable).
ENDPOINT_METHODS: Final[Mapping[str, str]] = MappingProxyType({"update": "PUT", "delete": "DELETE"})
#: The placeholders each template must hold (and the only ones it may).
ENDPOINT_PLACEHOLDERS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType({
    "update": ("product_id",), "delete": ("product_id", "property_guid")})
#: What an endpoint template may hold: a root-relative path of plain URL path characters.
_TEMPLATE = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/{}-]*$")
#: Longer templates are refused at load (httpx refuses URLs over 65,536 characters when sending).
MAX_TEMPLATE_LENGTH: Final = 1000
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_HIDDEN_ESCAPE = re.compile(r"%(?:2[EeFf]|5[Cc])")


def endpoint_problem(kind: str, template: Any) -> str | None:
    """Why ``template`` cannot be the ``kind`` endpoint, or None. It must be a
    path relative to ``base_url`` (so the catalog never decides which host a
    credential goes to), holding exactly the placeholders of its kind."""
    if not isinstance(template, str):
        return "expected a path template string"
    placeholders = ", ".join("{" + p + "}" for p in ENDPOINT_PLACEHOLDERS[kind])
    if not template.startswith("/") or template.startswith("//") or "://" in template:
        return (f"must be a path relative to base_url starting with a single '/' (it may not name a host), "
                f"e.g. {ENDPOINTS[kind]!r}")
    if len(template) > MAX_TEMPLATE_LENGTH:
        return f"is {len(template)} characters long; at most {MAX_TEMPLATE_LENGTH} (a URL has a length limit)"
    if not _TEMPLATE.fullmatch(template):
        return "may hold only URL path characters (no query, fragment, space or backslash)"
    if any(segment in (".", "..") for segment in template.split("/")):
        return "may not hold '.' or '..' segments"
    if _BAD_ESCAPE.search(template):
        return "holds a '%' that is not a percent-escape (%XX)"
    if _HIDDEN_ESCAPE.search(template):
        return ("may not percent-encode '.', '/' or '\\' (%2E, %2F, %5C): a server decoding them would see "
                "other segments")
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(template)
                  if name is not None]
    except ValueError as exc:
        return f"is not a valid template ({exc}); placeholders are written {placeholders}"
    for name, spec, conversion in fields:
        if name not in ENDPOINT_PLACEHOLDERS[kind]:
            return f"unknown placeholder {{{name}}}: the {kind} endpoint takes {placeholders}"
        if spec or conversion:
            return f"placeholder {{{name}}} takes no format spec or conversion"
    missing = [p for p in ENDPOINT_PLACEHOLDERS[kind] if p not in {f[0] for f in fields}]
    if missing:
        return f"must hold {', '.join('{' + p + '}' for p in missing)}"
    return None


def endpoint_path(template: str, product_id: int, property_guid: str | None = None) -> str:
    """A checked template (:func:`endpoint_problem`) filled in; the GUID (from
    the catalog or a vendor answer) is percent-encoded, so it is one segment,
    and must be one (:data:`GUID_PATTERN`): never ``..``, which would name another path."""
    if property_guid is not None and not GUID_PATTERN.fullmatch(property_guid):
        raise ProviderError("cobuilder", f"{json.dumps(property_guid)[:80]} is not a property GUID")
    return template.format(product_id=int(product_id), property_guid=quote(property_guid or "", safe="$"))


# -- what is documented and what is assumed (listed by :func:`reconciler.contracts.index`) ------------
_C = "reconciler.vendors.cobuilder."
CONTRACT: Final = Contract("Cobuilder", (
    documented("Base URL https://api.cobuilder.com/products-management/api/v3",
               "developer.cobuilder.com, Products Management API v3", _C + "contract.DEFAULT_BASE_URL"),
    documented("POST /products/{id}/properties/values/create adds values; 201 with no body",
               "developer.cobuilder.com, \"Products_CreatePropertiesValues\"; seed 001", _C + "contract.create_path"),
    documented("The request model: propertyGuid/unitGuid/values, value objects' keys, GUIDs ^\\S{22}$, "
               "value/lowerValue/upperValue at most 2000 characters (checked before any call)",
               "\"Products_CreatePropertiesValues\" (ProductPropertyValueUpdateRequestModel); seed 001",
               _C + "contract.GUID_PATTERN", _C + "contract.MAX_VALUE_LENGTH", _C + "contract.VALUE_KEYS",
               _C + "contract.IFD_KEYS", _C + "contract.TRANSLATION_KEYS"),
    documented("GET /products/{id}/properties/values answers entries with propertyTitle, "
               "propertyDefaultTitle, unitTitle, unitDefaultTitle, parentId and values carrying valueGuid and "
               "dataType; only what the request model sets is compared",
               "portal guide \"Manage property values for a product, which is a part of a product line\"",
               _C + "contract.values_path", _C + "contract.ENTRY_KEYS", _C + "contract.ANSWER_VALUE_KEYS",
               _C + "planner.normalise_value"),
    documented("parentId is 0 for the product's own values and the parent's id as a string (\"111111\") when "
               "inherited; inherited values are not the child's to change",
               "portal guide \"Manage property values for a product, which is a part of a product line\"",
               _C + "contract.is_own"),
    assumed("parentId \"0\" (spaces around it ignored), \"\" or null reads as the product's own too; a "
            "boolean, object, list or fraction makes the product's answer unexpected (that product is not planned)",
            "defensive: the guide shows 0 and a string id only", _C + "contract.is_own",
            _C + "contract.entry_problem"),
    assumed("A GET entry's propertyGuid matches the request model's GUID pattern; one that does not makes the "
            "product's answer unexpected (it would go into the delete path: \"..\" names another endpoint)",
            "the answer is untrusted input; the request model documents the pattern", _C + "contract.entry_problem",
            _C + "contract.endpoint_path"),
    documented("Token: POST {clientId, clientSecret, audienceUrl} to the authentication API, answered with the "
               "token as a bare JSON string; calls send Authorization: Bearer <token>",
               "developer.cobuilder.com, \"OAuth_GetToken\"", _C + "provider.ClientCredentialsAuth"),
    documented("The token endpoint has no public default URL: token_url (or COBUILDER_TOKEN_URL) must be given "
               "with client credentials (validate names it when missing)",
               "\"OAuth_GetToken\" gives no public URL", _C + "catalog.client_credentials_problems"),
    assumed("The audience sent when the catalog names none is https://api.cobuilder.com",
            "a guess: no public page gives one; validate warns, a refused token request says so",
            _C + "contract.DEFAULT_AUDIENCE_URL", _C + "catalog.client_credentials_advice"),
    documented("Errors are RFC 7807 problem details {type, title, status, detail, instance}; title and "
               "detail are shown", "seed 001; \"Products_CreatePropertiesValues\" responses",
               "reconciler.http.vendor_message"),
    assumed("PUT /products/{product_id}/properties/values/update replaces the values of each listed property "
            "(204); overridable as cobuilder.endpoints.update",
            "no public page shows an update path; a 404/405 stops updates once with a message naming this",
            _C + "contract.ENDPOINTS", _C + "contract.ENDPOINT_METHODS", _C + "provider.CobuilderProvider"),
    assumed("DELETE /products/{product_id}/properties/{property_guid}/values removes one property's values "
            "(204); overridable as cobuilder.endpoints.delete",
            "no public page shows a delete path; a 404/405 stops deletes once with a message naming this",
            _C + "contract.ENDPOINTS", _C + "contract.ENDPOINT_METHODS"),
    assumed("A 404 to update or delete for a product whose values still read is the endpoint missing, not "
            "the product, unless the read-back explains it (a delete's property gone: done; an update's "
            "property gone: that product's error)",
            "follows from the above; a product that no longer reads is that product's error",
            _C + "provider.CobuilderProvider"),
    assumed("Catalog URLs that receive credentials must be https on *.cobuilder.com",
            "the documented host is api.cobuilder.com; the token host is not public", _C + "contract.HOSTS"),
    assumed("No rate limit: unpaced unless max_*_per_minute or COBUILDER_MAX_RPM say otherwise",
            "Cobuilder publishes none that we found"),
    assumed("The sandbox answers every request-model key (nulls, empty lists, titles filled in) and "
            "dataType \"string\"", "the guide's example shows only value and dataType; the sandbox knows no "
            "data template", _C + "sandbox_model.values_view"),
))
