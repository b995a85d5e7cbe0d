"""HTTP clients, built in one place: timeouts, retries with backoff honouring
``Retry-After``, and mapping of answers to the :mod:`reconciler.errors` tree.

The transport is injectable (``httpx.MockTransport`` in unit tests); nothing
here ever puts a credential into a message.
"""
from __future__ import annotations

import functools
import os
import random
import ssl
import time
from dataclasses import dataclass, replace
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from reconciler.errors import AuthError, ConfigError, ProviderError, TransientError
from reconciler.pacing import Pacer

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6          # total tries, the first included
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0
    #: A vendor's documented schedule after a 429 without ``Retry-After``
    #: (ReadyCloud: 1, 2, 4 ... 128 s); None: the backoff above.
    throttle_initial: float | None = None
    throttle_max: float = 128.0
    timeout: float = 30.0      # seconds per request (connect: at most 10)

    def throttled(self, initial: float, maximum: float) -> "RetryPolicy":
        """This policy with a vendor's documented 429 schedule, unless one is
        set already (``RECONCILER_RETRY_BACKOFF`` sets it, for tests and impatient users)."""
        if self.throttle_initial is not None:
            return self
        return replace(self, throttle_initial=initial, throttle_max=maximum)

    @property
    def httpx_timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.timeout, connect=min(10.0, self.timeout))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "RetryPolicy":
        """``RECONCILER_RETRY_ATTEMPTS``, ``RECONCILER_RETRY_BACKOFF`` and
        ``RECONCILER_TIMEOUT`` (seconds)."""
        try:
            attempts = int(environ.get("RECONCILER_RETRY_ATTEMPTS", cls.attempts))
            backoff = float(environ.get("RECONCILER_RETRY_BACKOFF", cls.backoff_initial))
            timeout = float(environ.get("RECONCILER_TIMEOUT", cls.timeout))
        except ValueError:
            raise ConfigError("RECONCILER_RETRY_ATTEMPTS must be an integer, RECONCILER_RETRY_BACKOFF and "
                              "RECONCILER_TIMEOUT numbers of seconds") from None
        if attempts < 1 or backoff < 0 or timeout <= 0:
            raise ConfigError("RECONCILER_RETRY_ATTEMPTS must be at least 1, RECONCILER_RETRY_BACKOFF >= 0 "
                              "and RECONCILER_TIMEOUT > 0")
        throttle = backoff if "RECONCILER_RETRY_BACKOFF" in environ else None
        return cls(attempts=attempts, backoff_initial=backoff, timeout=timeout, throttle_initial=throttle)


DEFAULT_RETRY = RetryPolicy()
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


def build_client(base_url: str, headers: Mapping[str, str], *,
                 transport: httpx.BaseTransport | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, max_connections: int = 16) -> httpx.Client:
    """The one place HTTP clients are made."""
    return httpx.Client(
        base_url=base_url, headers={"Accept": "application/json", "User-Agent": "reconciler", **headers},
        transport=transport, timeout=timeout, follow_redirects=False, verify=tls_context(),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections))


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every client shares: httpx's defaults (certifi's
    certificates, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), made once. Loading
    the certificates takes about 45 ms, which each vendor's client and each
    notification sink would otherwise pay again."""
    try:
        return httpx.create_ssl_context()
    except (OSError, ssl.SSLError) as exc:  # (a name from the environment: no secret in it)
        named = next((f"{name}={os.environ[name]}" for name in ("SSL_CERT_FILE", "SSL_CERT_DIR")
                      if os.environ.get(name)), "certifi's bundle")
        raise ConfigError(f"cannot load the TLS certificates ({named}): {exc.strerror or exc}") from None


def json_answer(vendor: str, response: httpx.Response, what: str) -> Any:
    """The answer's JSON body; a :class:`ProviderError` saying what came
    instead (an HTML page, a body cut short) if it is not JSON."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        raise ProviderError(vendor, f"{what}: the answer is not JSON ({kind}, {len(response.content)} bytes)",
                            response.status_code) from None


class AmbiguousWriteError(TransientError):
    """A non-idempotent request may or may not have acted (timeout, dropped
    connection, 5xx). The caller must check the live state before retrying.
    ``in_flight``: no answer came (timeout, connection lost), so the server may
    still be working on it; after a 5xx answer it is done."""

    in_flight: bool = False


def vendor_message(response: httpx.Response) -> str:
    """The vendor's own words: RFC 7807 ``title: detail``, DRF ``detail`` or
    ``{field: [messages]}``, Voucherify ``message``, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else response.reason_phrase
    if isinstance(body, dict):
        if "title" in body or ("detail" in body and "status" in body):
            parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
            return ": ".join(parts) or response.reason_phrase
        if "detail" in body:
            return str(body["detail"])
        if "message" in body:
            return str(body["message"])
        parts = []
        for key, messages in body.items():
            text = "; ".join(map(str, messages)) if isinstance(messages, list) else str(messages)
            parts.append(f"{key}: {text}")
        return ", ".join(parts) or response.reason_phrase
    return str(body)[:300]


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def redirect_message(response: httpx.Response) -> str:
    """What a 3xx answer says: where it points (redirects are never followed:
    the credentials would go along), and the host to use instead."""
    location = response.headers.get("Location", "")
    if not location:
        return "redirected without a Location; redirects are not followed"
    try:
        target = response.request.url.join(location)
    except (httpx.InvalidURL, RuntimeError):
        return f"redirected to {location[:200]!r}; redirects are not followed"
    hint = ""
    asked = response.request.url
    if target.host and target.host != asked.host:
        hint = (f" (the API answers at {target.scheme}://{target.host}, not {asked.host}: point the base URL "
                "there, in the catalog or its *_BASE_URL variable)")
    return f"redirected to {str(target)[:200]!r}; redirects are not followed, credentials would go along{hint}"


#: Reads how long a transient answer asks to wait (seconds), or None.
RetryAfter = Callable[[httpx.Response], float | None]


def raise_for_answer(vendor: str, response: httpx.Response, retry_after: RetryAfter = retry_after_seconds) -> None:
    """Map a non-2xx answer to the error tree. A 3xx is an error too: it is
    not what the vendor's contract answers, and it is never followed.
    ``retry_after``: how the vendor says when to retry (``Retry-After`` unless given)."""
    status = response.status_code
    if status < 300:
        return
    if status < 400:
        raise ProviderError(vendor, redirect_message(response), status)
    message = vendor_message(response)
    if status in (401, 403):
        raise AuthError(vendor, message, status)
    if status in TRANSIENT_STATUSES:
        raise TransientError(vendor, message, status, retry_after(response))
    raise ProviderError(vendor, message, status)


def _wait(policy: RetryPolicy):  # type: ignore[no-untyped-def]
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientError) and exc.retry_after is not None:
            # At least what the server asked, plus a little jitter: clients told
            # the same Retry-After (0 included) would otherwise come back in
            # lockstep, and the same one could be turned away every time.
            return min(exc.retry_after, policy.retry_after_max) + random.uniform(0, policy.backoff_initial / 4)
        if isinstance(exc, TransientError) and exc.status == 429 and policy.throttle_initial is not None:
            # The vendor's documented schedule, at least, plus up to a quarter more as jitter.
            step = min(policy.throttle_max, policy.throttle_initial * 2 ** (state.attempt_number - 1))
            return step + random.uniform(0, step / 4)  # noqa: S311 - jitter, not crypto
        ceiling = min(policy.backoff_max, policy.backoff_initial * 2 ** (state.attempt_number - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not crypto
    return wait


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, TransientError) and not isinstance(exc, AmbiguousWriteError)


class Requester:
    """Sends requests for one vendor with retries; one per provider."""

    def __init__(self, vendor: str, client: httpx.Client, retry: RetryPolicy = DEFAULT_RETRY,
                 sleep: Callable[[float], None] = time.sleep, pacers: Mapping[str, Pacer] | None = None,
                 retry_after: RetryAfter = retry_after_seconds) -> None:
        self.vendor = vendor
        self.retry_after = retry_after  # a vendor's own header (Voucherify's X-Rate-Limit-Retry)
        self.client = client
        self.retry = retry
        self.sleep = sleep
        #: "read" paces GETs, "write" everything else; every attempt takes a slot.
        self.pacers = dict(pacers or {})

    def eta(self, kind: str, calls: int) -> float:
        """Seconds that ``calls`` more "read" or "write" calls need at this vendor's pace."""
        pacer = self.pacers.get(kind)
        return pacer.eta(calls) if pacer is not None else 0.0

    def send(self, method: str, url: str, *, json: Any = None, params: Mapping[str, Any] | None = None,
             content: bytes | None = None, headers: Mapping[str, str] | None = None,
             idempotent: bool | None = None) -> httpx.Response:
        """Send with retries. Idempotent requests are retried on 429, 5xx and
        network errors. A non-idempotent one is retried only when the server
        certainly did not act (429, connection refused); otherwise it raises
        :class:`AmbiguousWriteError` for the caller to resolve. ``idempotent``
        overrides the method's default (e.g. for POSTs the receiver
        de-duplicates, like webhook deliveries with a stable event id)."""
        safe = method.upper() in IDEMPOTENT if idempotent is None else idempotent
        for attempt in self._retrying():
            with attempt:
                return self._send_once(method.upper(), url, json, params, content, headers, safe)
        raise AssertionError("unreachable")  # pragma: no cover

    def send_fresh(self, method: str, make: Callable[[], tuple[str, bytes, Mapping[str, str]]], *,
                   idempotent: bool | None = None) -> httpx.Response:
        """Like :meth:`send`, but ``make`` builds (url, body, headers) anew for
        every attempt: for requests that carry a per-attempt id or signature."""
        safe = method.upper() in IDEMPOTENT if idempotent is None else idempotent
        for attempt in self._retrying():
            with attempt:
                url, content, headers = make()
                return self._send_once(method.upper(), url, None, None, content, headers, safe)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retrying(self) -> Retrying:
        return Retrying(stop=stop_after_attempt(self.retry.attempts), wait=_wait(self.retry),
                        retry=retry_if_exception(_retryable), reraise=True, sleep=self.sleep)

    def _send_once(self, method: str, url: str, json: Any, params: Any, content: bytes | None,
                   headers: Mapping[str, str] | None, safe: bool) -> httpx.Response:
        pacer = self.pacers.get("read" if method in ("GET", "HEAD") else "write")
        if pacer is not None:
            pacer.wait()
        try:
            response = self.client.request(method, url, json=json, params=params, content=content,
                                           headers=headers)
        except httpx.ConnectError as exc:
            raise TransientError(self.vendor, f"cannot connect: {exc}") from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else f"connection lost: {exc}"
            if safe:
                raise TransientError(self.vendor, f"{method} {kind}") from None
            error = AmbiguousWriteError(self.vendor, f"{method} {kind}; it may have been applied")
            error.in_flight = True
            raise error from None
        if response.status_code in TRANSIENT_STATUSES and response.status_code != 429 and not safe:
            raise AmbiguousWriteError(self.vendor, vendor_message(response), response.status_code,
                                      self.retry_after(response))
        raise_for_answer(self.vendor, response, self.retry_after)
        return response
