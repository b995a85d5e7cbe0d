"""What every sink shares: an HTTP client made by :mod:`reconciler.http`,
retries with backoff around a request that is rebuilt for every attempt (the
webhook envelope gets a new ``attemptId`` and signature each time), and
scrubbing of credentials out of messages."""
from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import httpx

from reconciler import endpoints
from reconciler.errors import ConfigError
from reconciler.http import (DEFAULT_RETRY, Requester, RetryAfter, RetryPolicy, build_client,
                             retry_after_seconds)
from reconciler.pacing import Pacer
from reconciler.sinks.events import Event

REDACTED = "[redacted]"


@dataclass(frozen=True)
class Outgoing:
    """One request to send: path (or absolute URL), raw body and extra headers."""

    url: str
    body: bytes
    headers: Mapping[str, str]


class Sink(ABC):
    """One notification target. Subclasses build the request for an event."""

    #: ``webhook``, ``usercom`` or ``voucherify``.
    kind: str = ""

    def __init__(self, settings: Any, key: str, label: str, base_url: str, headers: Mapping[str, str], *,
                 secrets: Iterable[str] = (), transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY, sleep: Callable[[float], None] = time.sleep,
                 pacer: Pacer | None = None, retry_after: RetryAfter = retry_after_seconds) -> None:
        self.settings = settings
        self.key = key  # stable name in the outbox; reveals nothing
        self.label = label  # how messages name the sink
        self.secrets = tuple(s for s in secrets if s)
        client = build_client(base_url, {"Content-Type": "application/json", **headers}, transport=transport)
        pacers = {"write": pacer} if pacer is not None and pacer.paced else None  # (sinks only POST)
        self.http = Requester(self.kind or label, client, retry, sleep, pacers, retry_after)

    def close(self) -> None:
        self.http.client.close()

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    @abstractmethod
    def accepts(settings: Any, event: Event) -> bool:
        """Whether a sink with ``settings`` is told about ``event`` at all."""

    def wants(self, event: Event) -> bool:
        return self.accepts(self.settings, event)

    @abstractmethod
    def build(self, event: Event, attempt_id: str) -> Outgoing:
        """The request announcing ``event``, for the attempt ``attempt_id``."""

    def send(self, event: Event) -> httpx.Response:
        """Deliver one event: paced (``pacer``), retried with backoff on network
        errors, 429 and 5xx, honouring ``Retry-After`` (or what the sink's
        ``retry_after`` reads, e.g. Voucherify's ``X-Rate-Limit-Retry``); every attempt is built afresh (new
        ``attemptId``, new signature). Raises the :mod:`reconciler.errors` tree
        once retries are exhausted."""
        def make() -> tuple[str, bytes, Mapping[str, str]]:
            outgoing = self.build(event, str(uuid.uuid4()))
            return outgoing.url, outgoing.body, outgoing.headers
        return self.http.send_fresh("POST", make, idempotent=True)

    def scrub(self, message: str) -> str:
        """``message`` with every credential this sink knows replaced."""
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
        return message


def require_resolved(label: str, unset_env: Iterable[tuple[str, str]]) -> None:
    """:class:`ConfigError` naming the variables a sink's settings still lack
    (a ``${VAR}`` of the notify section that was not set when it was loaded)."""
    names = ", ".join(dict.fromkeys(name for name, _ in unset_env))
    if names:
        raise ConfigError(f"{label}: {names} is not set")


def require_env(environ: Mapping[str, str], name: str, what: str) -> str:
    """A credential from the environment, checked (see :func:`reconciler.endpoints.credential`)."""
    return endpoints.require_credential(environ, name, what)


def base_url_from(environ: Mapping[str, str], env_name: str, configured: str | None, what: str,
                  hosts: Sequence[str], key: str = "base_url") -> str:
    """The environment's base URL, else the catalog's if ``what``'s credentials
    may go there (``hosts``: the documented ones); :class:`ConfigError` if neither."""
    url = endpoints.resolve(environ, env_name, key, configured, label=what, hosts=hosts)
    if not url:
        raise ConfigError(f"{what} has no base URL: set base_url in the catalog or {env_name}")
    return url
