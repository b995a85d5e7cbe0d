"""Capture endpoints for the notification sinks: a webhook receiver, user.com's
product events and Voucherify's custom events. They check what the real
services check (auth headers, required fields, user.com's event types and
trailing slash) and remember what arrived so tests can read it back.

Vendor routes:

- ``POST /hooks/{name}`` (any name; records headers and the raw body; 400
  without the signature header or an envelope)
- ``POST /usercom/api/public/products-by-id/{custom_id}/product_event/``
- ``POST /usercom/api/public/products/{id}/product_event/``
- ``POST /voucherify/v1/events``

user.com answers 406 without ``Accept: */*; version=2`` (the API version we
speak; the real service would fall back to v1 and read ``user_id`` as a
string). An injected 429 on Voucherify carries ``X-Rate-Limit-Retry`` (a unix
time) and no ``Retry-After``, as Voucherify's does.

Control routes:

- ``GET /_sandbox/captures/{sink}`` (``webhook``, ``usercom`` or ``voucherify``)
- ``DELETE /_sandbox/captures`` (forget captures and pending failures)
- ``POST|DELETE /_sandbox/capture/fail`` (POST ``{"sink", "count", "status",
  "retry_after"}``: the sink's next ``count`` requests (``null``: all, until
  deleted) answer ``status``, 503 unless given)

Captured headers never include ``Authorization`` or ``X-App-Token``.
"""
from __future__ import annotations

import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.contracts import notify as nc

from .faults import throttle_headers
from .responses import voucherify_error as _voucherify_error

DEFAULT_USERCOM_TOKEN = "sandbox-usercom-token"
DEFAULT_VOUCHERIFY_APP_ID = "sandbox-app-id"
DEFAULT_VOUCHERIFY_APP_TOKEN = "sandbox-app-token"

HOOKS_PREFIX = "/hooks"
USERCOM_PREFIX = "/usercom/api/public"
VOUCHERIFY_PREFIX = "/voucherify"
CONTROL = "/_sandbox"
SINKS = ("webhook", "usercom", "voucherify")
_HIDDEN_HEADERS = frozenset({"authorization", nc.VOUCHERIFY_APP_TOKEN_HEADER.lower()})
REDACTED = "[redacted]"


def sandbox_notify_environ(sandbox_url: str, *, usercom_token: str = DEFAULT_USERCOM_TOKEN,
                           app_id: str = DEFAULT_VOUCHERIFY_APP_ID,
                           app_token: str = DEFAULT_VOUCHERIFY_APP_TOKEN) -> dict[str, str]:
    """Environment variables pointing user.com and Voucherify deliveries at a
    sandbox (Voucherify unpaced: the sandbox has no rate limit)."""
    base = sandbox_url.rstrip("/")
    return {nc.USERCOM_BASE_URL_ENV: base + USERCOM_PREFIX, nc.USERCOM_TOKEN_ENV: usercom_token,
            nc.VOUCHERIFY_BASE_URL_ENV: base + VOUCHERIFY_PREFIX, nc.VOUCHERIFY_APP_ID_ENV: app_id,
            nc.VOUCHERIFY_APP_TOKEN_ENV: app_token, nc.VOUCHERIFY_MAX_RPM_ENV: "0"}


@dataclass
class _Failure:
    status: int
    remaining: int | None  # None: until cleared
    retry_after: float | None


class CaptureStore:
    """What arrived, per sink, and the failures still to answer. Thread-safe, in memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._captures: dict[str, list[dict[str, Any]]] = {s: [] for s in SINKS}
        self._failures: dict[str, _Failure] = {}
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)

    def record(self, sink: str, entry: dict[str, Any]) -> int:
        with self._lock:
            number = next(self._ids)
            self._captures[sink].append({"seq": number, **entry})
            return number

    def next_event_id(self) -> int:
        with self._lock:
            return next(self._event_ids)

    def captures(self, sink: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._captures[sink]]

    def clear(self) -> None:
        with self._lock:
            for items in self._captures.values():
                items.clear()
            self._failures.clear()

    def fail(self, sink: str, status: int, count: int | None, retry_after: float | None) -> None:
        with self._lock:
            self._failures[sink] = _Failure(status, count, retry_after)

    def clear_failures(self) -> None:
        with self._lock:
            self._failures.clear()

    def take_failure(self, sink: str) -> _Failure | None:
        with self._lock:
            failure = self._failures.get(sink)
            if failure is None:
                return None
            if failure.remaining is not None:
                failure.remaining -= 1
                if failure.remaining <= 0:
                    del self._failures[sink]
            return failure


def _headers(request: Request) -> dict[str, str]:
    return {k: (REDACTED if k in _HIDDEN_HEADERS else v) for k, v in request.headers.items()}


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


class _Capture:
    def __init__(self, store: CaptureStore, usercom_token: str, app_id: str, app_token: str) -> None:
        self.store = store
        self.usercom_token = usercom_token
        self.app_id = app_id
        self.app_token = app_token

    def routes(self) -> list[BaseRoute]:
        by_custom_id = f"{USERCOM_PREFIX}/products-by-id/{{custom_id}}/product_event"
        by_id = f"{USERCOM_PREFIX}/products/{{product_id:int}}/product_event"
        return [
            Route(f"{HOOKS_PREFIX}/{{name}}", self.webhook, methods=["POST"]),
            Route(by_custom_id + "/", self.usercom, methods=["POST"]),
            Route(by_id + "/", self.usercom, methods=["POST"]),
            # user.com requires the trailing slash; answer 404 rather than redirect.
            Route(by_custom_id, self.usercom_no_slash, methods=["POST"]),
            Route(by_id, self.usercom_no_slash, methods=["POST"]),
            Route(f"{VOUCHERIFY_PREFIX}{nc.VOUCHERIFY_EVENTS_PATH}", self.voucherify, methods=["POST"]),
            Route(f"{CONTROL}/captures/{{sink}}", self.read, methods=["GET"]),
            Route(f"{CONTROL}/captures", self.clear, methods=["DELETE"]),
            Route(f"{CONTROL}/capture/fail", self.fail, methods=["POST", "DELETE"]),
        ]

    async def _arrival(self, request: Request, **extra: Any) -> tuple[dict[str, Any], Any]:
        raw = await request.body()
        entry = {"method": request.method, "path": request.url.path, "headers": _headers(request),
                 "body": raw.decode("utf-8", "replace"), "json": _parse(raw), "time": time.time(), **extra}
        return entry, entry["json"]

    def _finish(self, sink: str, entry: dict[str, Any], response: Response) -> Response:
        entry["status"] = response.status_code
        self.store.record(sink, entry)
        return response

    def _injected(self, sink: str) -> Response | None:
        failure = self.store.take_failure(sink)
        if failure is None:
            return None
        path = f"{VOUCHERIFY_PREFIX}{nc.VOUCHERIFY_EVENTS_PATH}" if sink == "voucherify" else ""
        headers = throttle_headers(path, failure.status, failure.retry_after) or None
        body: dict[str, Any] = {"detail": "Injected failure: the sandbox answered an error on purpose."}
        if sink == "voucherify":
            body = _voucherify_error(failure.status, "injected_failure", "Injected failure",
                                     "the sandbox answered an error on purpose")
        return JSONResponse(body, status_code=failure.status, headers=headers)

    # -- webhook receiver -------------------------------------------------------
    async def webhook(self, request: Request) -> Response:
        entry, body = await self._arrival(request, name=request.path_params["name"])
        response = self._injected("webhook") or self._webhook_answer(request, body)
        return self._finish("webhook", entry, response)

    def _webhook_answer(self, request: Request, body: Any) -> Response:
        """A receiver that cannot check signatures (it has no secret) still
        insists on the header and the envelope."""
        if nc.SIGNATURE_HEADER.lower() not in request.headers:
            return JSONResponse({"detail": f"Missing {nc.SIGNATURE_HEADER} header."}, status_code=400)
        missing = [k for k in nc.ENVELOPE_KEYS if not isinstance(body, dict) or k not in body]
        if missing:
            return JSONResponse({"detail": f"Not an event envelope: missing {', '.join(missing)}."},
                                status_code=400)
        return JSONResponse({"received": True})

    # -- user.com -------------------------------------------------------------
    async def usercom_no_slash(self, request: Request) -> Response:
        return JSONResponse({"detail": "Not found."}, status_code=404)

    async def usercom(self, request: Request) -> Response:
        params = request.path_params
        target = ({"custom_id": params["custom_id"]} if "custom_id" in params
                  else {"product_id": params["product_id"]})
        entry, body = await self._arrival(request, **target)
        response = self._injected("usercom") or self._usercom_answer(request, body)
        return self._finish("usercom", entry, response)

    def _usercom_answer(self, request: Request, body: Any) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != nc.USERCOM_AUTH_SCHEME.lower() or not _same(key.strip(), self.usercom_token):
            return JSONResponse({"detail": "Invalid token."}, status_code=401)
        if "version=2" not in request.headers.get("accept", "").replace(" ", ""):
            return JSONResponse({"detail": f'This sandbox speaks user.com API v2 only: send "Accept: '
                                           f'{nc.USERCOM_ACCEPT}".'}, status_code=406)
        if not isinstance(body, dict):
            return JSONResponse({"detail": "JSON parse error"}, status_code=400)
        errors: dict[str, list[str]] = {}
        event_type = body.get("event_type")
        if event_type is None:
            errors["event_type"] = ["This field is required."]
        elif event_type not in nc.USERCOM_EVENT_TYPES:
            errors["event_type"] = [f'"{event_type}" is not a valid choice.']
        timestamp = body.get("timestamp")
        if timestamp is None:
            errors["timestamp"] = ["This field is required."]
        elif isinstance(timestamp, bool) or not isinstance(timestamp, int):
            errors["timestamp"] = ["A valid integer (unix time) is required."]
        given = [k for k in (*nc.USERCOM_ATTRIBUTIONS, nc.USERCOM_V1_ATTRIBUTION) if body.get(k) is not None]
        if len(given) != 1 or given[0] not in nc.USERCOM_ATTRIBUTIONS:
            errors["non_field_errors"] = [f"Exactly one of {', '.join(nc.USERCOM_ATTRIBUTIONS)} is required."]
        elif given[0] == "user_id" and (isinstance(body["user_id"], bool) or not isinstance(body["user_id"], int)):
            errors["user_id"] = ["A valid integer is required (user.com's id; v2)."]
        elif given[0] == "user_custom_id" and not isinstance(body["user_custom_id"], str):
            errors["user_custom_id"] = ["Not a valid string."]
        if "data" in body and not isinstance(body["data"], dict):
            errors["data"] = ["Expected a dictionary of items."]
        if errors:
            return JSONResponse(errors, status_code=400)
        return JSONResponse({"id": self.store.next_event_id()}, status_code=201)

    # -- Voucherify ---------------------------------------------------------------
    async def voucherify(self, request: Request) -> Response:
        entry, body = await self._arrival(request)
        response = self._injected("voucherify") or self._voucherify_answer(request, body)
        return self._finish("voucherify", entry, response)

    def _voucherify_answer(self, request: Request, body: Any) -> Response:
        app_id = request.headers.get(nc.VOUCHERIFY_APP_ID_HEADER, "")
        app_token = request.headers.get(nc.VOUCHERIFY_APP_TOKEN_HEADER, "")
        if not (_same(app_id, self.app_id) and _same(app_token, self.app_token)):
            return JSONResponse(_voucherify_error(401, "unauthorized", "Unauthorized",
                                                  "Cannot authenticate: invalid X-App-Id or X-App-Token"),
                                status_code=401)
        if not isinstance(body, dict):
            return JSONResponse(_voucherify_error(400, "invalid_payload", "Invalid payload",
                                                  "The request body is not a JSON object"), status_code=400)
        event = body.get("event")
        if not isinstance(event, str) or not event.strip():
            return JSONResponse(_voucherify_error(400, "missing_required_field", "Missing required field",
                                                  "Property 'event' is required"), status_code=400)
        customer = body.get("customer")
        if not isinstance(customer, dict) or not isinstance(customer.get("source_id"), str) \
                or not customer["source_id"].strip():
            return JSONResponse(_voucherify_error(400, "missing_required_field", "Missing required field",
                                                  "Property 'customer.source_id' is required"), status_code=400)
        if "metadata" in body and not isinstance(body["metadata"], dict):
            return JSONResponse(_voucherify_error(400, "invalid_payload", "Invalid payload",
                                                  "Property 'metadata' must be an object"), status_code=400)
        answer = {"object": "event", "type": event,
                  "customer": {"id": f"cust_{customer['source_id']}", "source_id": customer["source_id"],
                               "object": "customer"},
                  "referral": None, "loyalty": None}
        return JSONResponse(answer, status_code=200)

    # -- control --------------------------------------------------------------------
    async def read(self, request: Request) -> Response:
        sink = request.path_params["sink"]
        if sink not in SINKS:
            return JSONResponse({"detail": f"unknown sink {sink!r}; one of {', '.join(SINKS)}"}, status_code=404)
        return JSONResponse({"sink": sink, "captures": self.store.captures(sink)})

    async def clear(self, request: Request) -> Response:
        self.store.clear()
        return Response(status_code=204)

    async def fail(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.store.clear_failures()
            return Response(status_code=204)
        spec = _parse(await request.body())
        problem = _fail_problem(spec)
        if problem:
            return JSONResponse({"detail": f"Invalid failure: {problem}"}, status_code=400)
        self.store.fail(spec["sink"], spec.get("status", 503), spec.get("count", 1), spec.get("retry_after"))
        return JSONResponse({"sink": spec["sink"], "status": spec.get("status", 503),
                             "count": spec.get("count", 1)}, status_code=201)


def _fail_problem(spec: Any) -> str | None:
    if not isinstance(spec, dict):
        return "expected a JSON object"
    unknown = sorted(set(spec) - {"sink", "count", "status", "retry_after"})
    if unknown:
        return f"unknown keys: {', '.join(unknown)}"
    if spec.get("sink") not in SINKS:
        return f"sink must be one of {', '.join(SINKS)}"
    status = spec.get("status", 503)
    if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
        return "status must be an HTTP error status (400-599)"
    count = spec.get("count", 1)
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        return "count must be a positive integer or null (until cleared)"
    retry_after = spec.get("retry_after")
    if retry_after is not None and (isinstance(retry_after, bool) or not isinstance(retry_after, (int, float))
                                    or retry_after < 0):
        return "retry_after must be a number >= 0"
    return None


def _same(supplied: str, expected: str) -> bool:
    return bool(supplied) and hmac.compare_digest(supplied.encode(), expected.encode())


def capture_routes(*, store: CaptureStore | None = None, usercom_token: str = DEFAULT_USERCOM_TOKEN,
                   voucherify_app_id: str = DEFAULT_VOUCHERIFY_APP_ID,
                   voucherify_app_token: str = DEFAULT_VOUCHERIFY_APP_TOKEN) -> list[BaseRoute]:
    """The capture endpoints over ``store`` (a new one unless given)."""
    return _Capture(store or CaptureStore(), usercom_token, voucherify_app_id, voucherify_app_token).routes()
