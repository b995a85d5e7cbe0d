"""Cobuilder Products Management API v3: the documented and assumed contract."""
from __future__ import annotations

import re
from typing import Final

DEFAULT_BASE_URL: Final = "https://api.cobuilder.com/products-management/api/v3"
#: Assumed: the audience the token is asked for when the catalog names none.
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


def values_path(product_id: int) -> str:
    return f"/products/{product_id}/properties/values"


def create_path(product_id: int) -> str:
    return f"/products/{product_id}/properties/values/create"


def update_path(product_id: int) -> str:  # assumed (not public)
    return f"/products/{product_id}/properties/values/update"


def delete_path(product_id: int, property_guid: str) -> str:  # assumed (not public)
    return f"/products/{product_id}/properties/{property_guid}/values"
