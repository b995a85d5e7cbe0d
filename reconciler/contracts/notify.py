"""Notification targets: the documented and assumed contracts of outbound
webhooks, user.com product events and Voucherify custom events.

Sources: seeds ``002`` (webhook envelope), ``000`` (user.com product event),
``003`` (Voucherify custom event) and ``shared/vendor-notes.md``. The sinks, the
catalog validation and the sandbox's capture endpoints all import from here.
"""
from __future__ import annotations

from typing import Final

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

# -- outbound webhooks (seed 002; signing assumed, Stripe-style) ---------------
#: Envelope keys, in the order they are serialised.
ENVELOPE_KEYS: Final = ("id", "attemptId", "created", "event", "livemode", "data")
#: ``Reconciler-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``.
SIGNATURE_HEADER: Final = "Reconciler-Signature"
SIGNATURE_SCHEME: Final = "v1"
#: How old (in seconds) a signature timestamp may be before receivers reject it.
SIGNATURE_TOLERANCE: Final = 300

# -- user.com (seed 000, vendor notes) ----------------------------------------
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
#: Who the event is attributed to: exactly one of these keys.
USERCOM_ATTRIBUTIONS: Final = ("user_id", "user_custom_id", "client")
USERCOM_EVENT_TYPES: Final = (
    "click", "promo click", "view", "detail", "liking", "add to observation", "reservation",
    "add", "add to cart", "remove", "checkout", "checkout option", "order", "purchase",
    "return", "refund",
)

# -- Voucherify (seed 003, vendor notes) ----------------------------------------
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
