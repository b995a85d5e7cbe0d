"""Cobuilder Products Management API v3 adapter: property values."""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from typing import Any, Generator, Iterable, Iterator, Mapping

import httpx

from reconciler import endpoints
from reconciler.vendors.cobuilder.catalog import CobuilderSettings
from reconciler.vendors.cobuilder import contract as cb
from reconciler.errors import AuthError, ConfigError, EndpointMissing, ProviderError, TransientError
from reconciler.vendors.cobuilder.planner import normalise_values
from reconciler.plan.model import Change
from reconciler.providers.base import Provider
from reconciler.pacing import Limits
from reconciler.progress import NULL, Progress
from reconciler.workers import bounded_map
from reconciler.http import (DEFAULT_RETRY, DEFAULT_TIMEOUT, AmbiguousWriteError, Requester, RetryPolicy,
                                       build_client, raise_for_answer)


class ClientCredentialsAuth(httpx.Auth):
    """Fetches a token from the authentication API (which answers it as a bare
    JSON string), caches it, and fetches a new one once if a call answers 401."""

    def __init__(self, token_url: str, client_id: str, client_secret: str, audience_url: str,
                 transport: httpx.BaseTransport | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 audience_assumed: bool = False) -> None:
        self._token_url = token_url
        self._audience_assumed = audience_assumed
        self._timeout = timeout
        self._form = {"clientId": client_id, "clientSecret": client_secret, "audienceUrl": audience_url}
        self._transport = transport
        self._token: str | None = None
        self._lock = threading.Lock()

    def _fetch(self) -> str:
        """A new token. Failures that no retry would mend (unreachable endpoint,
        refused credentials, an answer that is not a token) are an
        :class:`AuthError`: every call needs the token, so the run stops with
        one message rather than one per product."""
        with build_client("", {}, transport=self._transport, timeout=self._timeout) as client:
            try:
                response = client.post(self._token_url, json=self._form)
            except httpx.HTTPError as exc:
                raise AuthError("cobuilder", f"cannot reach the token endpoint: {type(exc).__name__}") from None
        if response.status_code >= 300:  # (a redirect is not followed: the client secret would go along)
            try:
                raise_for_answer("cobuilder", response)
            except TransientError:
                raise  # 429/5xx: the request is retried, token fetch included
            except ProviderError as exc:
                hint = (f" (the request named the assumed audience {cb.DEFAULT_AUDIENCE_URL}: set "
                        "cobuilder.audience_url if your client was issued for another)"
                        if self._audience_assumed else "")
                raise AuthError("cobuilder", f"token request refused: {exc.detail}{hint}", exc.status) from None
        try:
            token = response.json()
        except ValueError:
            token = None
        if not isinstance(token, str) or not token.strip():
            raise AuthError("cobuilder", "the token endpoint did not answer a token string", response.status_code)
        try:
            return endpoints.clean_credential(token, "the token endpoint's answer") or ""
        except ConfigError as exc:
            raise AuthError("cobuilder", str(exc), response.status_code) from None

    def _current(self, stale: str | None = None) -> str:
        with self._lock:
            if self._token is None or self._token == stale:
                self._token = self._fetch()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self._current(stale=token)}"
            yield request


class ValuesByProduct(Mapping[int, "list[dict[str, Any]] | ProviderError"]):
    """Each product's property values as the server sent them (its JSON
    bytes), decoded when asked for: a plan of 100,000 products reads each
    answer once, and the decoded objects of all of them would take three
    times the memory. Errors reading a product are kept as they are."""

    def __init__(self, answers: dict[int, bytes | ProviderError]) -> None:
        self._answers = answers

    def __getitem__(self, product_id: int) -> list[dict[str, Any]] | ProviderError:
        answer = self._answers[product_id]
        return answer if isinstance(answer, ProviderError) else json.loads(answer)

    def __iter__(self) -> Iterator[int]:
        return iter(self._answers)

    def __len__(self) -> int:
        return len(self._answers)


class CobuilderProvider(Provider):
    name = "cobuilder"

    def __init__(self, base_url: str, *, token: str | None = None, auth: httpx.Auth | None = None,
                 transport: httpx.BaseTransport | None = None, retry: RetryPolicy = DEFAULT_RETRY,
                 parallelism: int = 8, limits: Limits = Limits(),
                 endpoints: Mapping[str, str] = cb.ENDPOINTS) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = build_client(base_url.rstrip("/"), headers, transport=transport,
                              max_connections=max(parallelism, 4), timeout=retry.httpx_timeout)
        if auth is not None:
            client.auth = auth
        self.http = Requester(self.name, client, retry, pacers=limits.pacers())
        self.parallelism = parallelism
        self.base_url = base_url.rstrip("/")  # (what an apply's lock is keyed by, with the vendor)
        self.product_ids: tuple[int, ...] = ()
        #: the assumed endpoints' path templates (checked by the catalog, :func:`contract.endpoint_problem`)
        self.endpoints: Mapping[str, str] = {**cb.ENDPOINTS, **endpoints}
        # Until an assumed endpoint has answered a success, its requests go one
        # at a time (``_gates``): if it is missing, one request finds out and the
        # others are not sent (``_missing``), however many run in parallel.
        self._gates = {kind: threading.Lock() for kind in cb.ENDPOINTS}
        self._works: set[str] = set()
        self._missing: dict[str, EndpointMissing] = {}

    @classmethod
    def from_settings(cls, settings: CobuilderSettings, product_ids: Iterable[int],
                      environ: Mapping[str, str] = os.environ, **kwargs: Any) -> "CobuilderProvider":
        base_url = endpoints.resolve(environ, "COBUILDER_BASE_URL", "cobuilder.base_url", settings.base_url,
                                     label="Cobuilder", hosts=cb.HOSTS) or cb.DEFAULT_BASE_URL
        token = endpoints.credential(environ, "COBUILDER_TOKEN")
        client_id = endpoints.credential(environ, "COBUILDER_CLIENT_ID")
        secret = endpoints.credential(environ, "COBUILDER_CLIENT_SECRET")
        auth = None
        if not token:
            if not (client_id and secret):
                raise ConfigError("Cobuilder credentials are not set: set COBUILDER_TOKEN, or "
                                  "COBUILDER_CLIENT_ID and COBUILDER_CLIENT_SECRET")
            token_url = endpoints.resolve(environ, "COBUILDER_TOKEN_URL", "cobuilder.token_url",
                                          settings.token_url, label="Cobuilder", hosts=cb.HOSTS)
            if not token_url:
                raise ConfigError("COBUILDER_CLIENT_ID is set but no token endpoint is configured: "
                                  "set COBUILDER_TOKEN_URL or cobuilder.token_url in the catalog")
            retry = kwargs.get("retry", DEFAULT_RETRY)  # RECONCILER_TIMEOUT applies to the token request too
            auth = ClientCredentialsAuth(token_url, client_id, secret, settings.audience_url,
                                         transport=kwargs.get("transport"), timeout=retry.httpx_timeout,
                                         audience_assumed=settings.audience_assumed)
        limits = Limits(settings.max_reads_per_minute, settings.max_writes_per_minute)
        provider = cls(base_url, token=token, auth=auth, limits=limits.resolve(environ, "COBUILDER_MAX_RPM"),
                       endpoints=settings.endpoints, **kwargs)
        provider.product_ids = tuple(product_ids)
        return provider

    def close(self) -> None:
        self.http.client.close()

    # -- reading -----------------------------------------------------------
    def read_values(self, product_id: int) -> list[dict[str, Any]] | ProviderError:
        """One product's property values, or the (non-auth) error reading them."""
        answer = self._read(product_id)
        return answer if isinstance(answer, ProviderError) else json.loads(answer)

    def _read(self, product_id: int) -> bytes | ProviderError:
        """One product's answer as sent (checked to be a JSON list), or the error."""
        try:
            content = self.http.send("GET", cb.values_path(product_id)).content
            answer = json.loads(content)
        except AuthError:
            raise
        except ProviderError as exc:
            return exc
        except ValueError:
            answer = None
        if not isinstance(answer, list):
            return ProviderError(self.name, f"unexpected answer for product {product_id}")
        for entry in answer:
            problem = cb.entry_problem(entry)
            if problem:
                return ProviderError(self.name, f"unexpected answer for product {product_id}: {problem}")
        return content

    def refresh(self, progress: Progress = NULL) -> ValuesByProduct:
        """Every declared product's values, read concurrently with a bound."""
        task = progress.task("Reading Cobuilder property values", len(self.product_ids),
                             eta_hint=self.http.eta("read", len(self.product_ids)))

        def read(product_id: int) -> bytes | ProviderError:
            try:
                return self._read(product_id)
            finally:
                task.advance()

        try:
            return ValuesByProduct(dict(zip(self.product_ids, bounded_map(read, self.product_ids, self.parallelism,
                                                                  "cobuilder"))))
        finally:
            task.close()

    def write_eta(self, writes: int) -> float:
        return self.http.eta("write", writes)

    # -- writing -----------------------------------------------------------
    def _create(self, product_id: int, body: Any) -> None:
        """POST new values; a lost answer is resolved by reading the values back
        before anything is sent again, so values are never created twice."""
        wanted = {p["propertyGuid"]: normalise_values(p["values"]) for p in body["properties"]}
        last: AmbiguousWriteError | None = None
        for _ in range(self.http.retry.attempts):
            try:
                self.http.send("POST", cb.create_path(product_id), json=body)
                return
            except AmbiguousWriteError as exc:
                last = exc
                now = self.read_values(product_id)
                if isinstance(now, ProviderError):
                    raise exc from None
                own = {p.get("propertyGuid"): normalise_values(p.get("values")) for p in now if cb.is_own(p)}
                if all(own.get(guid) == values for guid, values in wanted.items()):
                    return  # the lost create did happen
                if any(guid in own for guid in wanted):
                    raise ProviderError(self.name, f"a create of values was interrupted and only partly applied "
                                        f"({exc.detail}); run plan again") from None
        assert last is not None
        raise last

    def _send_assumed(self, kind: str, product_id: int, property_guid: str | None = None, **kwargs: Any) -> None:
        """Send to an assumed endpoint (``update``, ``delete``). A 405, or a
        404 for a product that exists, means the vendor has no such endpoint:
        :class:`EndpointMissing`, which stops the remaining changes of that
        kind once (see :mod:`reconciler.apply`); those held back meanwhile are
        not sent. A delete's 404 for a property no longer there is a success
        (a retried DELETE whose first answer was lost); an update's 404 for a
        property no longer there is that product's error (changed since the plan)."""
        if kind in self._works:
            self._send_checked(kind, product_id, property_guid, **kwargs)
            return
        with self._gates[kind]:
            known = self._missing.get(kind)
            if known is not None:
                raise EndpointMissing(self.name, known.detail, known.status, kind, sent=False)
            try:
                if self._send_checked(kind, product_id, property_guid, **kwargs):
                    self._works.add(kind)
            except EndpointMissing as exc:
                self._missing[kind] = exc
                raise

    def _send_checked(self, kind: str, product_id: int, property_guid: str | None, **kwargs: Any) -> bool:
        """Whether the endpoint answered a success (False: a delete's 404 a
        read-back explains: the property is gone). An update's 404 for
        properties the product no longer has is that product's error."""
        path = cb.endpoint_path(self.endpoints[kind], product_id, property_guid)
        method = cb.ENDPOINT_METHODS[kind]
        try:
            self.http.send(method, path, **kwargs)
            return True
        except ProviderError as exc:
            if isinstance(exc, AuthError) or exc.status not in (404, 405):
                raise
            now = self.read_values(product_id) if exc.status == 404 else None
            if isinstance(now, ProviderError):
                raise exc from None  # (the product itself is not there: that product's error)
            own = {p.get("propertyGuid") for p in now or () if cb.is_own(p)}
            if exc.status == 404 and kind == "delete" and property_guid not in own:
                return False  # (a retried DELETE whose first answer was lost: it did happen)
            gone = [p.get("propertyGuid") for p in (kwargs.get("json") or {}).get("properties", ())
                    if p.get("propertyGuid") not in own] if exc.status == 404 and kind == "update" else []
            if gone:  # (the 404 is explained: that product's values changed since the plan)
                raise ProviderError(self.name, f"{exc.detail}; the product no longer has values for "
                                    f"{', '.join(map(str, gone))} (changed since the plan; run plan again)",
                                    exc.status) from None
            raise EndpointMissing(self.name, self._missing_message(kind, method, path, exc), exc.status,
                                  kind) from None

    def _missing_message(self, kind: str, method: str, path: str, exc: ProviderError) -> str:
        template = self.endpoints[kind]
        assumed = "the assumed" if template == cb.ENDPOINTS[kind] else "the configured"
        return (f"Cobuilder answered {exc.status} to {method} {path}: {assumed} {kind} endpoint {method} "
                f"{template} does not exist there (Cobuilder documents no {kind} path; ours is an assumption); "
                f"set cobuilder.endpoints.{kind} in the catalog to the path your Cobuilder API uses")

    def execute(self, change: Change) -> Any:
        product_id = int(str(change.resource_id))
        guids = ", ".join(f.field for f in change.fields if "." not in f.field)
        try:
            if change.action == "create":
                self._create(product_id, change.body)
            elif change.action == "update":
                self._send_assumed("update", product_id, json=change.body)
            else:
                self._send_assumed("delete", product_id, change.body["propertyGuid"])
        except EndpointMissing:
            raise  # (one message for every product: it names no product)
        except ProviderError as exc:
            message = f"Cobuilder product {product_id}, properties {guids}: {exc.detail}"
            kind = AuthError if isinstance(exc, AuthError) else ProviderError
            raise kind(self.name, message, exc.status) from None
        return change.body

    def confirm(self, change: Change, since: datetime) -> tuple[bool, Any]:
        """Whether a change of values whose answer never came took effect (the
        write-ahead read-back): a create's properties are now the product's
        own, a delete's no longer; an update cannot be told from its before
        (its values are not recorded: they may be sensitive) and counts as
        done, a duplicate event rather than a lost one."""
        now = self.read_values(int(str(change.resource_id)))
        if isinstance(now, ProviderError):
            raise now
        own = {p.get("propertyGuid") for p in now if cb.is_own(p)}
        guids = {f.field.split(".")[0] for f in change.fields}
        if change.action == "create":
            return guids <= own, None
        if change.action == "delete":
            return not guids & own, None
        return True, None
