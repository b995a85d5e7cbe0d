"""ReadyCloud API v2 products adapter."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Mapping

import httpx

from reconciler.catalog.model import ReadyCloudSettings
from reconciler.contracts import readycloud as rc
from reconciler.errors import ConfigError, ProviderError
from reconciler.plan.model import Change
from reconciler.progress import NULL, Progress
from reconciler.providers.base import Provider
from reconciler.providers.pacing import Limits
from reconciler.providers.http import AmbiguousWriteError, Requester, RetryPolicy, DEFAULT_RETRY, build_client
from reconciler.values import format_datetime, parse_datetime

#: How far back a lost-create lookup lists, to absorb clock skew with the server.
CREATE_LOOKUP_SKEW = timedelta(minutes=10)


class ReadyCloudProvider(Provider):
    name = "readycloud"

    def __init__(self, org: int, base_url: str, token: str, *,
                 transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY, parallelism: int = 8, limits: Limits = Limits()) -> None:
        self.org = org
        self.base_url = base_url.rstrip("/")
        client = build_client(self.base_url, {"Authorization": f"Bearer {token}"},
                              transport=transport, max_connections=max(parallelism, 4), timeout=retry.httpx_timeout)
        self.http = Requester(self.name, client, retry, pacers=limits.pacers())
        self.collection = f"/orgs/{org}/products/"

    @classmethod
    def from_settings(cls, settings: ReadyCloudSettings, environ: Mapping[str, str] = os.environ,
                      **kwargs: Any) -> "ReadyCloudProvider":
        token = environ.get("READYCLOUD_TOKEN", "")
        if not token:
            raise ConfigError("READYCLOUD_TOKEN is not set (the ReadyCloud OAuth2 bearer token)")
        base_url = environ.get("READYCLOUD_BASE_URL") or settings.base_url
        limits = Limits(settings.max_reads_per_minute, settings.max_writes_per_minute)
        return cls(settings.org, base_url, token, limits=limits.resolve(environ, "READYCLOUD_MAX_RPM"), **kwargs)

    def close(self) -> None:
        self.http.client.close()

    # -- reading -----------------------------------------------------------
    def iter_pages(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every page of the org's product listing, following ``next`` links."""
        params: dict[str, Any] | None = {"limit": rc.PAGE_SIZE}
        if updated_since is not None and params is not None:
            params["updated_at__gte"] = format_datetime(updated_since)
        url: str | None = self.collection
        while url:
            page = self.http.send("GET", url, params=params).json()
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise ProviderError(self.name, f"unexpected list answer from {url}")
            yield page
            url, params = page.get("next"), None

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        for page in self.iter_pages(updated_since):
            yield from page["results"]

    def refresh(self, progress: Progress = NULL) -> dict[str, list[dict[str, Any]]]:
        """All live products indexed by code (a list: codes are not unique)."""
        index: dict[str, list[dict[str, Any]]] = {}
        task = None
        for page in self.iter_pages():
            if task is None:
                pages = max(1, -(-int(page.get("count") or 0) // rc.PAGE_SIZE))
                task = progress.task("Reading ReadyCloud products (pages)", pages,
                                     eta_hint=self.http.eta("read", pages - 1))
            for product in page["results"]:
                index.setdefault(str(product.get("code")), []).append(product)
            task.advance()
        if task is not None:
            task.close()
        return index

    def write_eta(self, writes: int) -> float:
        return self.http.eta("write", writes)

    def changed_since(self, watermark: str) -> list[dict[str, Any]]:
        """Products updated at or after ``watermark`` (one short listing)."""
        return list(self.iter_products(updated_since=parse_datetime(watermark)))

    def total_count(self) -> int:
        """How many products the org has now (one request)."""
        page = self.http.send("GET", self.collection, params={"limit": 1}).json()
        return int(page.get("count", 0))

    # -- writing -----------------------------------------------------------
    def _item(self, pk: str) -> str:
        return f"{self.collection}{pk}/"

    def execute(self, change: Change) -> dict[str, Any] | None:
        if change.action == "create":
            return self.create(change.key, change.body)
        if change.action == "update":
            return self.http.send("PATCH", self._item(str(change.resource_id)), json=change.body).json()
        self.http.send("DELETE", self._item(str(change.resource_id)))
        return None

    def create(self, code: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a product. A lost answer is resolved by looking the code up
        before anything is sent again, so no fault creates a duplicate: after a
        5xx answer the server is done, so a product that is not there is posted
        again; after a timeout or a dropped connection the server may still be
        working, so reconciler looks again for a while and, if the product has
        still not appeared, reports the outcome as unknown instead of risking a
        second POST (the next apply finishes it)."""
        last: AmbiguousWriteError | None = None
        for _ in range(self.http.retry.attempts):
            started = datetime.now(timezone.utc)
            try:
                return self.http.send("POST", self.collection, json=dict(body)).json()
            except AmbiguousWriteError as exc:
                last = exc
                found = self.find_created(code, started - CREATE_LOOKUP_SKEW)
                if found is None and exc.in_flight:
                    found = self._wait_for_created(code, started - CREATE_LOOKUP_SKEW)
                    if found is None:
                        raise ProviderError(self.name, f"creating {code}: {exc.detail}, and the product has not "
                                            "appeared since; it was not sent again to avoid a duplicate. Run "
                                            "apply again to finish it.") from None
                if found is not None:
                    return found
        assert last is not None
        raise last

    def _wait_for_created(self, code: str, since: datetime) -> dict[str, Any] | None:
        """Look for a create that may still be in flight, over about twice the request timeout."""
        waited, step = 0.0, max(0.1, self.http.retry.timeout / 4)
        while waited < 2 * self.http.retry.timeout:
            self.http.sleep(step)
            waited += step
            found = self.find_created(code, since)
            if found is not None:
                return found
        return None

    def find_created(self, code: str, since: datetime) -> dict[str, Any] | None:
        """The product with ``code`` updated since ``since``, if one exists."""
        for product in self.iter_products(updated_since=since):
            if product.get("code") == code:
                return product
        return None
