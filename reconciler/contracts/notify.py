"""Notification targets: the documented and assumed contracts of outbound
webhooks, user.com product events and Voucherify custom events.

Sources: seeds ``002`` (webhook envelope), ``000`` (user.com product event),
``003`` (Voucherify custom event), ``shared/vendor-notes.md`` and the vendors'
public pages named next to each fact below ("documented"); what we chose where
they are silent is marked "assumed". The sinks, the catalog validation and the
sandbox's capture endpoints all import from here.

De-duplication (documented: neither user.com's apidocs v2 nor Voucherify's
"Track custom event" offer an idempotency key): delivery is at least once, so
every user.com ``data`` and Voucherify ``metadata`` carries the event's id
(the webhook envelope's ``id``) as :data:`EVENT_ID_KEY` for receivers to
de-duplicate on.
"""
from __future__ import annotations

from typing import Final

from reconciler.contracts import Contract, assumed, documented

# -- events -------------------------------------------------------------------
#: Event names, per plan action (``product.deleted`` is our addition to the seed's two).
EVENT_FOR_ACTION: Final[dict[str, str]] = {
    "create": "product.created",
    "update": "product.updated",
    "delete": "product.deleted",
}
EVENT_NAMES: Final[tuple[str, ...]] = tuple(EVENT_FOR_ACTION.values())
#: The short change kind (``created``...) that Voucherify's metadata carries.
CHANGE_KIND: Final[dict[str, str]] = {name: name.split(".", 1)[1] for name in EVENT_NAMES}

#: The key under which user.com ``data`` and Voucherify ``metadata`` carry the
#: event's id (assumed name; the need for it is documented, see above).
EVENT_ID_KEY: Final = "event_id"

# -- outbound webhooks (seed 002) -----------------------------------------------
# Documented (vendor notes, "Checked against the vendors' public documentation"):
# seed 002's envelope is Betterez's, which signs "{t}.{body}" with HMAC-SHA256
# in ``x-btrz-signature: t=<unix seconds>,s2=<signature>`` (Betterez's page
# "Signature": ``s2`` is the signature, ``s`` a deprecated one). We keep our own header
# name and ``v1=`` label (assumed, Stripe-style) over the same signed string,
# so a receiver built for Betterez only reads another header and label.
BETTEREZ_SIGNATURE_HEADER: Final = "x-btrz-signature"
BETTEREZ_SIGNATURE_SCHEME: Final = "s2"
#: Envelope keys, in the order they are serialised.
ENVELOPE_KEYS: Final = ("id", "attemptId", "created", "event", "livemode", "data")
#: ``Reconciler-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``.
SIGNATURE_HEADER: Final = "Reconciler-Signature"
SIGNATURE_SCHEME: Final = "v1"
#: How old (in seconds) a signature timestamp may be before receivers reject it.
SIGNATURE_TOLERANCE: Final = 300

# -- user.com (seed 000; user.com apidocs v2, "Create product event") ----------
#: No usable default: the host is ``https://<app>.user.com/api/public``.
USERCOM_BASE_URL_ENV: Final = "USERCOM_BASE_URL"
USERCOM_TOKEN_ENV: Final = "USERCOM_TOKEN"
USERCOM_AUTH_SCHEME: Final = "Token"
#: Hosts a catalog's ``notify.usercom.base_url`` may name (https only): ``<app>.user.com``.
USERCOM_HOSTS: Final = ("*.user.com",)
#: Product events by our product code (``custom_id``) or by user.com's product id.
#: The trailing slash is required.
USERCOM_EVENT_BY_CUSTOM_ID: Final = "/products-by-id/{custom_id}/product_event/"
USERCOM_EVENT_BY_ID: Final = "/products/{id}/product_event/"
#: Documented (apidocs v2): v2 is chosen with this Accept header.
USERCOM_ACCEPT: Final = "*/*; version=2"
#: Documented (apidocs v2): who the event is attributed to, exactly one of
#: ``user_id`` (user.com's integer id) and ``user_custom_id`` (your string id).
USERCOM_ATTRIBUTIONS: Final = ("user_id", "user_custom_id")
#: Documented (apidocs v1): ``client`` was v1's integer id (and v1's ``user_id``
#: a string). Refused in the catalog with a pointer to ``user_id``.
USERCOM_V1_ATTRIBUTION: Final = "client"
#: Assumed: what v2 does without the Accept version (we believe: v1 meaning);
#: the sandbox answers 406 so that a client that forgets it is caught.
USERCOM_EVENT_TYPES: Final = (
    "click", "promo click", "view", "detail", "liking", "add to observation", "reservation",
    "add", "add to cart", "remove", "checkout", "checkout option", "order", "purchase",
    "return", "refund",
)

# -- Voucherify (seed 003; Voucherify "Track custom event", "Limits") -------------
VOUCHERIFY_DEFAULT_BASE_URL: Final = "https://api.voucherify.io"
#: Hosts a catalog's ``notify.voucherify.base_url`` may name (https only): the
#: clusters ``api``, ``us1.api``, ``as1.api`` ...
VOUCHERIFY_HOSTS: Final = ("api.voucherify.io", "*.api.voucherify.io")
VOUCHERIFY_BASE_URL_ENV: Final = "VOUCHERIFY_BASE_URL"
VOUCHERIFY_APP_ID_ENV: Final = "VOUCHERIFY_APP_ID"
VOUCHERIFY_APP_TOKEN_ENV: Final = "VOUCHERIFY_APP_TOKEN"
VOUCHERIFY_APP_ID_HEADER: Final = "X-App-Id"
VOUCHERIFY_APP_TOKEN_HEADER: Final = "X-App-Token"
VOUCHERIFY_EVENTS_PATH: Final = "/v1/events"
#: Customer keys the catalog may set (``source_id`` is required; the customer is
#: created in Voucherify if it does not exist).
VOUCHERIFY_CUSTOMER_KEYS: Final = ("source_id", "name", "email", "phone", "description", "metadata")
#: Documented ("Track custom event"): the event name is 1-300 characters and
#: must be defined in the project's event schema.
VOUCHERIFY_EVENT_MAX_LENGTH: Final = 300
#: The metadata keys every custom event carries (ours, assumed). Documented
#: ("Track custom event"): when the event's schema allows only defined
#: metadata, each of these must be defined in the schema in Voucherify.
VOUCHERIFY_METADATA_KEYS: Final = (EVENT_ID_KEY, "code", "change", "changed_fields")
#: Documented ("Limits"): 100 requests a minute on the Business plan; the limit
#: depends on the plan.
VOUCHERIFY_RATE_LIMIT_PER_MINUTE: Final = 100
#: Assumed: the default pace keeps a 10% margin under that limit (arrival jitter
#: against a window-counting server), overridable by the catalog's
#: ``notify.voucherify.max_requests_per_minute`` and this variable (0: unpaced).
VOUCHERIFY_DEFAULT_MAX_RPM: Final = 90.0
VOUCHERIFY_MAX_RPM_ENV: Final = "VOUCHERIFY_MAX_RPM"
#: Documented ("Limits"): a 429 carries these headers, not ``Retry-After``;
#: ``X-Rate-Limit-Retry`` is the unix time from which to retry (seconds;
#: assumed: a value above 10^11 is read as milliseconds).
VOUCHERIFY_LIMIT_HEADER: Final = "X-Rate-Limit-Limit"
VOUCHERIFY_REMAINING_HEADER: Final = "X-Rate-Limit-Remaining"
VOUCHERIFY_RETRY_HEADER: Final = "X-Rate-Limit-Retry"


# -- what is documented and what is assumed (listed by :func:`reconciler.contracts.index`) ------------
_N = "reconciler.contracts.notify."
CONTRACTS: Final[tuple[Contract, ...]] = (
    Contract("Webhooks (seed 002, Betterez)", (
        documented("Envelope {id, attemptId, created (unix seconds), event, livemode, data}; id the same for "
                   "every attempt and subscriber, attemptId new per attempt; events product.created and "
                   "product.updated", "seed 002 (Betterez's webhook documentation)", _N + "ENVELOPE_KEYS"),
        assumed("product.deleted for deletions", "the seed has only created and updated", _N + "EVENT_FOR_ACTION"),
        documented("Betterez signs \"{t}.{body}\" with HMAC-SHA256 in x-btrz-signature: t=...,s2=... (s is a "
                   "deprecated signature)", "Betterez webhook documentation, \"Signature\"", _N + "BETTEREZ_SIGNATURE_HEADER",
                   _N + "BETTEREZ_SIGNATURE_SCHEME"),
        assumed("We sign the same string in Reconciler-Signature: t=...,v1=... (Stripe-style label)",
                "our header name; a Betterez receiver only reads another header and label",
                _N + "SIGNATURE_HEADER", _N + "SIGNATURE_SCHEME", _N + "SIGNATURE_TOLERANCE"),
        assumed("A change of a product's property values alone is its product.updated naming the properties, "
                "data only its code", "ours: one event per changed product", "reconciler.sinks.events.coalesce"),
    )),
    Contract("user.com", (
        documented("POST {base}/products-by-id/{custom_id}/product_event/ (trailing slash required), "
                   "Authorization: Token <64-character key>", "user.com apidocs v2, \"Create product event\"; "
                   "seed 000", _N + "USERCOM_EVENT_BY_CUSTOM_ID", _N + "USERCOM_AUTH_SCHEME"),
        documented("API v2 is chosen with Accept: */*; version=2", "user.com apidocs v2", _N + "USERCOM_ACCEPT"),
        documented("Attribution: user_id (integer) or user_custom_id (string) in v2; v1's client refused",
                   "user.com apidocs v2 and v1", _N + "USERCOM_ATTRIBUTIONS", _N + "USERCOM_V1_ATTRIBUTION"),
        documented("event_type is one of 16 values; timestamp and data are required", "user.com apidocs v2; "
                   "seed 000", _N + "USERCOM_EVENT_TYPES"),
        documented("No idempotency key: data carries the event's id as event_id",
                   "user.com apidocs v2 (none documented)", _N + "EVENT_ID_KEY"),
        assumed("The sandbox answers 406 without the v2 Accept header", "what v2 does without it is not "
                "documented; a client that forgets it is caught", _N + "USERCOM_ACCEPT"),
        assumed("Unpaced", "user.com publishes no rate limit that we found"),
    )),
    Contract("Voucherify", (
        documented("POST {cluster}/v1/events with X-App-Id and X-App-Token; clusters api, us1.api, as1.api",
                   "Voucherify \"Track custom event\"; seed 003", _N + "VOUCHERIFY_EVENTS_PATH",
                   _N + "VOUCHERIFY_HOSTS", _N + "VOUCHERIFY_APP_ID_HEADER", _N + "VOUCHERIFY_APP_TOKEN_HEADER"),
        documented("event is 1-300 characters and defined in the project's event schema (its metadata too when "
                   "the schema allows only defined fields)", "Voucherify \"Track custom event\"",
                   _N + "VOUCHERIFY_EVENT_MAX_LENGTH"),
        assumed("Metadata keys event_id, code, change, changed_fields", "ours; to be defined in the schema",
                _N + "VOUCHERIFY_METADATA_KEYS"),
        documented("100 requests a minute on the Business plan; a 429 carries X-Rate-Limit-Retry (unix time), "
                   "not Retry-After", "Voucherify \"Limits\"", _N + "VOUCHERIFY_RATE_LIMIT_PER_MINUTE",
                   _N + "VOUCHERIFY_RETRY_HEADER"),
        assumed("Paced at 90 a minute by default; X-Rate-Limit-Retry above 10^11 read as milliseconds",
                "a 10 % margin under the Business plan's limit", _N + "VOUCHERIFY_DEFAULT_MAX_RPM"),
        documented("No idempotency key: metadata carries the event's id as event_id",
                   "Voucherify \"Track custom event\" (none documented)", _N + "EVENT_ID_KEY"),
    )),
)
