"""Request log and fault injection, as ASGI middleware over the vendor routes.

Control routes (``/_sandbox/...``) pass straight through: they are neither
logged nor subject to faults. The ``Authorization`` header is never logged (only its
scheme, as ``auth_scheme``) and a ``bearer_token`` query parameter is logged
as ``[redacted]``.
"""
from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.contracts import notify as nc

from .responses import VOUCHERIFY_PREFIXES, vendor_error

CONTROL_PREFIX = "/_sandbox"
LOG_LIMIT = 200_000
REDACTED = "[redacted]"
_SECRET_PARAMS = frozenset({"bearer_token"})
#: Credentials never kept in the request log (lower-case header names).
_SECRET_HEADERS = ("authorization", "x-app-token", "x-app-id", "reconciler-signature")
_SECRET_BODY_KEYS = frozenset({"clientSecret"})
_DROP_MESSAGE = "ASGI callable returned without completing response."
_FAULT_KEYS = frozenset({"status", "count", "every_nth", "retry_after", "method", "path_contains",
                         "mode", "latency_ms", "drop", "body", "content_type", "location", "per_window",
                         "window_s", "skip"})


@dataclass
class Fault:
    """One injected fault; see :func:`parse_fault` for the dict it comes from."""

    status: int | None = None
    count: int | None = 1
    every_nth: int | None = None
    retry_after: float | None = None
    method: str | None = None
    path_contains: str | None = None
    mode: str = "before"
    latency_ms: float = 0
    drop: bool = False
    body: str | None = None  # answer this instead of a vendor error (an HTML page, JSON cut short...)
    content_type: str = "text/html; charset=utf-8"
    location: str | None = None  # a Location header (for a 3xx)
    #: A sliding-window rate limit (as Django REST Framework's throttles count):
    #: the fault fires on a request when ``per_window`` matching requests were
    #: let through in the last ``window_s`` seconds (refused ones do not count).
    per_window: int | None = None
    window_s: float = 60.0
    skip: int = 0  # let the first ``skip`` matching requests through (a token that expires mid-run)
    seen: int = field(default=0, repr=False)
    hits: int = field(default=0, repr=False)
    arrivals: deque[float] = field(default_factory=deque, repr=False)

    def matches(self, method: str, path: str) -> bool:
        """``method`` may list several, comma-separated (``POST,PATCH,DELETE``)."""
        return ((self.method is None or method in self.method.split(","))
                and (self.path_contains is None or self.path_contains in path))

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items()
                if v is not None and k != "arrivals" and (k != "content_type" or self.body is not None)}

    def throttles(self, now: float) -> bool:
        """For a rate limit: whether this request is over it (else it is counted);
        ``retry_after`` becomes the time until the oldest counted one leaves the window."""
        while self.arrivals and self.arrivals[0] <= now - self.window_s:
            self.arrivals.popleft()
        if self.per_window is not None and len(self.arrivals) >= self.per_window:
            self.retry_after = round(self.arrivals[0] + self.window_s - now, 3)
            return True
        self.arrivals.append(now)
        return False


def parse_fault(spec: Mapping[str, Any]) -> Fault:
    """Validate a fault dict; raise ValueError saying what is wrong.

    ``count`` defaults to 1, or to unlimited with ``every_nth``; an explicit
    ``"count": null`` means unlimited.
    """
    if not isinstance(spec, Mapping):
        raise ValueError("a fault is a JSON object")
    unknown = sorted(set(spec) - _FAULT_KEYS)
    if unknown:
        raise ValueError(f"unknown fault keys: {', '.join(unknown)}")

    def number(key: str, minimum: float, *, integer: bool = False) -> Any:
        value = spec.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int if integer else (int, float)) \
                or value < minimum:
            kind = "an integer" if integer else "a number"
            raise ValueError(f"{key} must be {kind} >= {minimum}")
        return value

    for key in ("body", "content_type", "location"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise ValueError(f"{key} must be a string")
    # An error status answers a vendor error; with a body or a Location, any status
    # from 200 answers that instead (an HTML page on a 200, a redirect).
    own_answer = spec.get("body") is not None or spec.get("location") is not None
    status = number("status", 200 if own_answer else 400, integer=True)
    if status is not None and status > 599:
        raise ValueError("status must be an HTTP status (400-599; from 200 with body or location)")
    every_nth = number("every_nth", 1, integer=True)
    per_window = number("per_window", 1, integer=True)
    window = number("window_s", 0.001)
    count = number("count", 1, integer=True) if "count" in spec else (None if every_nth or per_window else 1)
    if per_window is not None and (every_nth is not None or status != 429):
        raise ValueError("a rate limit (per_window) answers status 429 and takes no every_nth")
    mode = spec.get("mode", "before")
    if mode not in ("before", "after"):
        raise ValueError('mode must be "before" or "after"')
    drop = spec.get("drop", False)
    if not isinstance(drop, bool):
        raise ValueError("drop must be true or false")
    latency = number("latency_ms", 0) or 0
    if status is None and not drop and not latency:
        raise ValueError("a fault needs status, drop or latency_ms")
    for key in ("method", "path_contains"):
        if spec.get(key) is not None and not isinstance(spec[key], str):
            raise ValueError(f"{key} must be a string")
    method = spec.get("method")
    return Fault(status=status, count=count, every_nth=every_nth,
                 retry_after=number("retry_after", 0), method=method.upper() if method else None,
                 path_contains=spec.get("path_contains"), mode=mode, latency_ms=latency, drop=drop,
                 body=spec.get("body"), content_type=spec.get("content_type") or Fault.content_type,
                 location=spec.get("location"), per_window=per_window,
                 window_s=window if window is not None else Fault.window_s,
                 skip=number("skip", 0, integer=True) or 0)


class FaultInjector:
    """Active faults, consumed in the order they were injected. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, spec: Mapping[str, Any]) -> Fault:
        fault = parse_fault(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def take(self, method: str, path: str) -> Fault | None:
        """The fault hitting this request, if any (the first that fires)."""
        with self._lock:
            chosen: Fault | None = None
            for fault in self._faults:
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                if fault.seen <= fault.skip:
                    continue
                if fault.per_window is not None:
                    fires = fault.throttles(time.monotonic())
                else:
                    fires = fault.every_nth is None or fault.seen % fault.every_nth == 0
                if fires and chosen is None:
                    chosen = fault
            if chosen is not None:
                chosen.hits += 1
                if chosen.count is not None and chosen.hits >= chosen.count:
                    self._faults.remove(chosen)
            return chosen


class RequestLog:
    """The last :data:`LOG_LIMIT` vendor requests. Thread-safe."""

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=limit)

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _redact_body(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if k in _SECRET_BODY_KEYS else v for k, v in value.items()}
    return value


def _entry(scope: Scope, body: bytes) -> dict[str, Any]:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    pairs = [(k, REDACTED if k in _SECRET_PARAMS else v) for k, v in pairs]
    try:
        parsed = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    # The scheme of the Authorization header (e.g. "Bearer"), never its credentials,
    # so that tests can tell how a client authenticated.
    auth_scheme = headers.get("authorization", "").strip().partition(" ")[0] or None
    for secret in _SECRET_HEADERS:
        headers.pop(secret, None)
    return {"method": scope["method"], "path": scope["path"], "query": dict(pairs),
            "raw_query": urlencode(pairs), "json": _redact_body(parsed), "status": None,
            "headers": headers, "auth_scheme": auth_scheme, "time": time.time(), "fault": None}


class _DropFilter(logging.Filter):
    """Hide uvicorn's complaint about the responses we cut off on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != _DROP_MESSAGE


_DROP_FILTER = _DropFilter()


def quiet_dropped_responses() -> None:
    """Install (once) the filter hiding uvicorn's error for responses cut off on purpose."""
    logger = logging.getLogger("uvicorn.error")
    if _DROP_FILTER not in logger.filters:
        logger.addFilter(_DROP_FILTER)


class VendorMiddleware:
    """Logs every vendor request and applies injected faults to it."""

    def __init__(self, app: ASGIApp, log: RequestLog, faults: FaultInjector) -> None:
        self.app = app
        self.log = log
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        entry = _entry(scope, body)
        replay = _replayer(body, receive)
        fault = self.faults.take(scope["method"], scope["path"])
        if fault is not None:
            entry["fault"] = fault.describe()
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)
        if fault is None or (fault.status is None and not fault.drop):
            await self._answer(scope, replay, send, entry)
            return
        if fault.mode == "after":
            await self.app(scope, replay, _swallowing_send(entry))
        if fault.drop:
            self.log.append(entry | {"status": None})
            await _drop(send)
            return
        assert fault.status is not None
        entry["status"] = fault.status
        headers = throttle_headers(scope["path"], fault.status, fault.retry_after)
        if fault.location is not None:
            headers["Location"] = fault.location
        self.log.append(entry)
        if fault.body is not None or fault.location is not None:
            answer: Response = Response(fault.body or "", fault.status, headers,
                                        media_type=fault.content_type if fault.body is not None else None)
        else:
            answer = vendor_error(scope["path"], fault.status, _fault_detail(fault.status, fault.retry_after),
                                  headers or None)
        await answer(scope, replay, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]) -> None:
        """Let the app answer, logging the request once its status is known."""

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                self.log.append(entry)
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        except Exception:
            if entry["status"] is None:  # the server error middleware will answer 500
                self.log.append(entry | {"status": 500})
            raise


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replayer(body: bytes, receive: Receive) -> Receive:
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay


def _swallowing_send(entry: dict[str, Any]) -> Send:
    async def swallow(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry["real_status"] = message["status"]

    return swallow


async def _drop(send: Send) -> None:
    """Start a response and never finish it: the server closes the connection and
    the client sees a network error instead of an answer."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})


def throttle_headers(path: str, status: int, retry_after: float | None) -> dict[str, str]:
    """How the vendor serving ``path`` says when to retry: a Voucherify 429
    carries ``X-Rate-Limit-Limit``, ``-Remaining`` and ``-Retry`` (the unix time
    from which to retry, rounded up to a second), never ``Retry-After``;
    everything else a ``Retry-After`` when one is given."""
    if status == 429 and path.startswith(VOUCHERIFY_PREFIXES):
        return {nc.VOUCHERIFY_LIMIT_HEADER: str(nc.VOUCHERIFY_RATE_LIMIT_PER_MINUTE),
                nc.VOUCHERIFY_REMAINING_HEADER: "0",
                nc.VOUCHERIFY_RETRY_HEADER: str(math.ceil(time.time() + (retry_after or 0)))}
    return {"Retry-After": _seconds(retry_after)} if retry_after is not None else {}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _fault_detail(status: int, retry_after: float | None) -> str:
    if status == 429:
        wait = f" Expected available in {_seconds(retry_after)} seconds." if retry_after else ""
        return "Request was throttled." + wait
    return "Injected fault: the sandbox answered an error on purpose."
