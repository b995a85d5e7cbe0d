"""ReadyCloud API v2 products: the documented and assumed contract."""
from __future__ import annotations

import re
from typing import Final

from reconciler.contracts import Contract, assumed, documented

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

#: Documented (API reference v2, "API Rate Limits and Retry Strategy"): 30 GET and 30
#: POST/PATCH/DELETE requests a minute per API client; 429 past that.
MAX_READS_PER_MINUTE: Final = 30
MAX_WRITES_PER_MINUTE: Final = 30
#: Assumed (the page says "a minute", not how it is counted): ReadyCloud is a
#: Django REST Framework API, whose throttles count the requests of the last
#: 60 seconds (a sliding window).
RATE_WINDOW_SECONDS: Final = 60.0
#: Assumed: the share of the documented rate we pace at by default. Even
#: spacing at exactly the limit leaves no room for arrival jitter in a sliding
#: window (one 429 in 40 writes was seen); 90 % leaves that room.
#: ``max_*_per_minute`` and ``READYCLOUD_MAX_RPM`` override it.
PACING_MARGIN: Final = 0.9
DEFAULT_READS_PER_MINUTE: Final = MAX_READS_PER_MINUTE * PACING_MARGIN
DEFAULT_WRITES_PER_MINUTE: Final = MAX_WRITES_PER_MINUTE * PACING_MARGIN
#: Documented (API reference v2, "API Rate Limits and Retry Strategy"): after a 429, back off
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


# -- what is documented and what is assumed (listed by :func:`reconciler.contracts.index`) ------------
_R = "reconciler.vendors.readycloud."
CONTRACT: Final = Contract("ReadyCloud", (
    documented("Base URL https://www.readycloud.com/api/v2; GET/POST /orgs/{org_pk}/products/, "
               "GET/PATCH/DELETE /orgs/{org_pk}/products/{product_pk}/ (DELETE answers 204)",
               "ReadyCloud API reference v2, \"Products\"; seed 004", _R + "contract.DEFAULT_BASE_URL"),
    assumed("Catalog URLs that receive the token must be https on www.readycloud.com or readycloud.com",
            "the documented host, and the one the vendor's own Python client uses", _R + "contract.HOSTS"),
    documented("Authorization: Bearer <token> header (never ?bearer_token= in the URL)",
               "API reference v2 (Bearer is the recommended scheme); seed 004", _R + "provider.ReadyCloudProvider"),
    documented("Lists are {count, next, previous, results}; next is followed, resolved against the origin "
               "(product urls are root-relative); a link to another origin or a redirect is refused",
               "seed 004; a Django REST framework API", "reconciler.endpoints.same_origin_link",
               "reconciler.http.redirect_message"),
    assumed("Pages are asked for with limit (default 100, readycloud.page_size, READYCLOUD_PAGE_SIZE); a server "
            "answering other page lengths is followed", "v2 documents no page-size parameter (v1 used "
            "limit/offset)", _R + "contract.PAGE_SIZE", _R + "contract.PAGE_SIZE_RANGE"),
    documented("updated_at__gte filter (ISO 8601, UTC): incremental refresh", "seed 004",
               _R + "provider.ReadyCloudProvider.iter_pages"),
    documented("30 GET and 30 POST/PATCH/DELETE a minute per API client; 429 past that; back off "
               "exponentially 1, 2, 4 ... 128 s", "API reference v2, \"API Rate Limits and Retry Strategy\"",
               _R + "contract.MAX_READS_PER_MINUTE", _R + "contract.MAX_WRITES_PER_MINUTE",
               _R + "contract.THROTTLE_BACKOFF_INITIAL", _R + "contract.THROTTLE_BACKOFF_MAX"),
    assumed("The minute is counted over the last 60 s (a sliding window)",
            "the page says only \"per minute\"; ReadyCloud is a Django REST Framework API, whose throttles count "
            "so (the sandbox's --rate-limit plays it)", _R + "contract.RATE_WINDOW_SECONDS"),
    assumed("Paced at 90 % of the documented rate by default (27 a minute each way)",
            "arrival jitter against a sliding window met a 429 at exactly the limit",
            _R + "contract.PACING_MARGIN"),
    documented("A 401 is an invalid or expired key: the vendor's remaining changes are not sent, said once",
               "API reference v2 (keys expire and are refreshed in the web app)",
               "reconciler.apply.refusal_message"),
    documented("kind is goods, discount, tax or adjustment (required on create; may read back null)", "seed 004",
               _R + "contract.KINDS"),
    documented("The writable fields and the server-owned url, created_at, updated_at, source",
               "seed 004", _R + "contract.WRITABLE_FIELDS", _R + "contract.READ_ONLY_FIELDS"),
    documented("The server normalises amounts (\"88.00 USD\", \"180.0000 g\") and date-times (UTC Z); unknown "
               "fields are silently ignored (so field names are checked locally)", "seed 004's examples",
               _R + "contract.MONEY_DECIMALS", _R + "contract.WEIGHT_DECIMALS", _R + "normalize.normalise_field"),
    documented("A product's primary key is the last path segment of its url", "seed 004",
               _R + "contract.product_pk_from_url"),
    assumed("A PATCH sending custom_fields replaces the whole object", "the seed does not say",
            _R + "normalize.normalise_field"),
    assumed("Codes are not unique: two live products with one code are that code's error, never guessed "
            "between", "codes are not documented as unique"),
    assumed("400 answers are {field: [messages]}", "Django REST framework style; not documented",
            "reconciler.http.vendor_message"),
))
