"""ReadyCloud API v2 products: the documented and assumed contract."""
from __future__ import annotations

import re
from typing import Final

DEFAULT_BASE_URL: Final = "https://www.readycloud.com/api/v2"
#: Hosts a catalog's ``readycloud.base_url`` may name (https only): the API's
#: documented host, and the one the vendor's own Python client uses.
HOSTS: Final = ("www.readycloud.com", "readycloud.com")

#: Assumed: v2 documents no page-size parameters (v1 used ``limit``/``offset``,
#: Django REST framework style). 100 is the default page size the client asks
#: for (``readycloud.page_size``, ``READYCLOUD_PAGE_SIZE``) and the largest page
#: the sandbox serves; a server that answers other page lengths is detected and
#: the progress estimate sized from what it serves.
PAGE_SIZE: Final = 100
#: Our bounds on ``readycloud.page_size`` (assumed: no documented maximum).
PAGE_SIZE_RANGE: Final = (1, 1000)

#: Documented (API reference v2, "Rate limiting"): 30 GET and 30
#: POST/PATCH/DELETE requests a minute per API client; 429 past that.
MAX_READS_PER_MINUTE: Final = 30
MAX_WRITES_PER_MINUTE: Final = 30
#: Documented (same page): ReadyCloud is a Django REST Framework API, whose
#: throttles count the requests of the last 60 seconds (a sliding window).
RATE_WINDOW_SECONDS: Final = 60.0
#: Assumed: the share of the documented rate we pace at by default. Even
#: spacing at exactly the limit leaves no room for arrival jitter in a sliding
#: window (one 429 in 40 writes was seen); 90 % leaves that room.
#: ``max_*_per_minute`` and ``READYCLOUD_MAX_RPM`` override it.
PACING_MARGIN: Final = 0.9
DEFAULT_READS_PER_MINUTE: Final = MAX_READS_PER_MINUTE * PACING_MARGIN
DEFAULT_WRITES_PER_MINUTE: Final = MAX_WRITES_PER_MINUTE * PACING_MARGIN
#: Documented (API reference v2, "Rate limiting"): after a 429, back off
#: exponentially from 1 s to 128 s (1, 2, 4 ... 128). Used when the 429
#: carries no ``Retry-After`` (DRF sends one; the docs do not promise it).
THROTTLE_BACKOFF_INITIAL: Final = 1.0
THROTTLE_BACKOFF_MAX: Final = 128.0

KINDS: Final = ("goods", "discount", "tax", "adjustment")

# Field types: "str", "bool", "int", "money", "weight", "datetime", "object", "kind".
#: Every writable field in the seed, with the type we validate and normalise it as.
WRITABLE_FIELDS: Final[dict[str, str]] = {
    "code": "str",
    "commodity_code": "str",
    "custom_fields": "object",
    "description": "str",
    "export_type_code": "str",
    "image_link": "str",
    "joint_production": "bool",
    "kind": "kind",
    "link": "str",
    "net_cost_begin_date": "datetime",
    "net_cost_code": "str",
    "net_cost_end_date": "datetime",
    "origin_country_code": "str",
    "part_number": "str",
    "pick_location": "str",
    "preference_criteria_code": "str",
    "producer_info_code": "str",
    "quantity": "int",
    "scheduleb_commodity_code": "str",
    "unit_price": "money",
    "unit_weight": "weight",
    "ups": "str",
    "ean": "str",
    "isbn": "str",
}

#: Server-owned fields: never sent, never compared.
READ_ONLY_FIELDS: Final = ("url", "created_at", "updated_at", "source")

#: Decimal places the server stores amounts with (seed examples).
MONEY_DECIMALS: Final = 2
WEIGHT_DECIMALS: Final = 4


_PK: Final = re.compile(r"[1-9][0-9]{0,18}")


def product_pk_from_url(url: str) -> str:
    """The product's primary key is the last path segment of its ``url``,
    which must be a plain positive integer (the url is a vendor answer: a
    segment like ``..`` must never become a path to write to). "" when the url
    has no such id, or holds a ``.``/``..`` segment: no id to address."""
    segments = url.rstrip("/").split("/")
    if any(s in (".", "..") for s in segments) or _PK.fullmatch(segments[-1]) is None:
        return ""
    return segments[-1]
