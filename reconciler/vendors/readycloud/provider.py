"""ReadyCloud API v2 products adapter."""
from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Generator, Iterator, Mapping, Sequence

import httpx

from reconciler import endpoints
from reconciler.vendors.readycloud.catalog import ReadyCloudSettings
from reconciler.vendors.readycloud import contract as rc
from reconciler.errors import ConfigError, ProviderError
from reconciler.plan.model import Change
from reconciler.vendors.readycloud.normalize import equal_normalised
from reconciler.progress import NULL, Progress
from reconciler.vendors.readycloud import cache
from reconciler.providers.base import Provider, read_all
from reconciler.pacing import Limits
from reconciler.http import (AmbiguousWriteError, Requester, RetryPolicy, DEFAULT_RETRY, build_client,
                                       json_answer)
from reconciler.values import format_datetime, parse_datetime
from reconciler.workers import Prefetch

class LiveIndex(dict):  # type: ignore[type-arg]
    """Live products by code (a list each: codes are not unique), plus what a
    later ``updated_at__gte`` listing needs to see every change since this one:
    ``watermark`` (None: unknown, list everything) and ``recent``, the ids of the
    products already stamped at or after it."""

    watermark: str | None = None
    recent: tuple[str, ...] = ()


def _server_time(header: str | None) -> datetime | None:
    if not header:
        return None
    try:
        return parsedate_to_datetime(header).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return None


def _index(index: LiveIndex, products: Sequence[dict[str, Any]]) -> None:
    """Add ``products`` to ``index``, by code (a list: codes are not unique)."""
    for product in products:
        index.setdefault(str(product.get("code")), []).append(product)


def _stamps(products: Sequence[Mapping[str, Any]]) -> list[datetime] | None:
    """The products' ``updated_at`` stamps, or None if one has none (missing
    or not a date-time)."""
    stamps = []
    fromisoformat = datetime.fromisoformat  # (looked up once, not per product)
    for product in products:
        text = product.get("updated_at")
        if not isinstance(text, str):
            return None
        try:
            stamp = fromisoformat(text)  # the server's "...Z" form; others through parse_datetime
            stamps.append(stamp if stamp.tzinfo is not None else parse_datetime(text))
        except ValueError:
            return None
    return stamps


#: How far our idea of the server's clock may be off: a lost-create lookup
#: lists this far back, and an incremental refresh re-reads what changed this
#: long before the previous listing began (the server's clock and the stamps
#: in its database need not agree to the second).
CLOCK_SKEW = timedelta(minutes=10)


def page_size_from_env(environ: Mapping[str, str], default: int) -> int:
    """``READYCLOUD_PAGE_SIZE`` if set (an integer within the contract's range), else ``default``."""
    raw = environ.get("READYCLOUD_PAGE_SIZE", "").strip()
    if not raw:
        return default
    low, high = rc.PAGE_SIZE_RANGE
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"READYCLOUD_PAGE_SIZE must be an integer from {low} to {high} (products per listing page)")
    return int(raw)


class ReadyCloudProvider(Provider):
    name = "readycloud"

    def __init__(self, org: int, base_url: str, token: str, *,
                 transport: httpx.BaseTransport | None = None,
                 retry: RetryPolicy = DEFAULT_RETRY, parallelism: int = 8, limits: Limits = Limits(),
                 page_size: int = rc.PAGE_SIZE) -> None:
        self.org = org
        self.page_size = page_size  # asked for; ``served_page_size``: what the server answered
        self.base_url = base_url.rstrip("/")
        client = build_client(self.base_url, {"Authorization": f"Bearer {token}"},
                              transport=transport, max_connections=max(parallelism, 4), timeout=retry.httpx_timeout)
        retry = retry.throttled(rc.THROTTLE_BACKOFF_INITIAL, rc.THROTTLE_BACKOFF_MAX)  # (documented)
        self.http = Requester(self.name, client, retry, pacers=limits.pacers())
        self.collection = f"/orgs/{org}/products/"
        self.cache_dir: Path | None = None  # where the last listing is kept (see refresh)
        self.incremental = False  # refresh from that cache (else it is only kept up to date)
        self.secrets = cache.Secrets()  # the sensitive fields the cache keeps as digests
        self._cache_key = cache.cache_key(token)  # authenticates the cache (it is untrusted input)
        self._deleted: set[str] = set()
        self._lock = threading.Lock()
        self._changed, self._cached_mark = 0, ""  # what the last incremental refresh found
        self.refresh_mode = "full"
        self.listing_started: datetime | None = None
        self._listing: Prefetch[dict[str, Any]] | None = None  # a full listing begun ahead (start_listing)
        self.served_page_size: int | None = None  # set when the server ignores ``limit`` (see _full)

    @classmethod
    def from_settings(cls, settings: ReadyCloudSettings, environ: Mapping[str, str] = os.environ,
                      **kwargs: Any) -> "ReadyCloudProvider":
        token = endpoints.require_credential(environ, "READYCLOUD_TOKEN", "the ReadyCloud OAuth2 bearer token")
        base_url = endpoints.resolve(environ, "READYCLOUD_BASE_URL", "readycloud.base_url", settings.base_url,
                                     label="ReadyCloud", hosts=rc.HOSTS)
        if base_url is None:
            raise ConfigError("readycloud.base_url is empty; leave it out for the default")
        limits = Limits(settings.max_reads_per_minute, settings.max_writes_per_minute)
        return cls(settings.org, base_url, token, limits=limits.resolve(environ, "READYCLOUD_MAX_RPM"),
                   page_size=page_size_from_env(environ, settings.page_size), **kwargs)

    def close(self) -> None:
        if self._listing is not None:
            self._listing.close()
        self.http.client.close()
        if self._deleted and self.cache_dir is not None:
            cache.forget(self._cache_file(), self.base_url, self.org, self._deleted, key=self._cache_key)

    # -- reading -----------------------------------------------------------
    def iter_pages(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        """Every page of the org's product listing, following ``next`` links.
        ``self.listing_started`` is set to the server's clock at the first page."""
        params: dict[str, Any] | None = {"limit": self.page_size}
        if updated_since is not None and params is not None:
            params["updated_at__gte"] = format_datetime(updated_since)
        url: str | None = self.collection
        base = endpoints.link_base(self.base_url)  # (parsed once: each page's next link is resolved against it)
        first = True
        while url:
            response = self.http.send("GET", url, params=params)
            if first:
                self.listing_started = _server_time(response.headers.get("Date"))
                first = False
            page = json_answer(self.name, response, "listing products")
            if not isinstance(page, dict) or not isinstance(page.get("results"), list) \
                    or not all(type(product) is dict for product in page["results"]):
                raise ProviderError(self.name, f"unexpected list answer from {url}")
            yield page
            url, params = self._follow(page.get("next"), base), None

    def _origin(self) -> str:
        url = httpx.URL(self.base_url)
        return f"{url.scheme}://{url.netloc.decode('ascii')}"

    def _follow(self, link: Any, base: httpx.URL) -> str | None:
        """A ``next`` link (absolute or root-relative) resolved against the
        API's origin (``base``: :func:`endpoints.link_base` of ``base_url``);
        a link to another origin, or down to http, is refused: the token
        would go along."""
        if link is None or link == "":
            return None
        url = endpoints.same_origin_link(base, link) if isinstance(link, str) else None
        if url is None:
            raise ProviderError(self.name, f"the listing's next link {str(link)[:200]!r} leaves "
                                f"{self._origin()}; it was not followed "
                                "(links are followed only on the API's own origin, never over plain http)")
        return url

    def iter_products(self, updated_since: datetime | None = None) -> Iterator[dict[str, Any]]:
        for page in self.iter_pages(updated_since):
            yield from page["results"]

    def read(self, progress: Progress = NULL) -> Generator[list[dict[str, Any]], None, LiveIndex]:
        """The live products a page at a time, each handed over while the next
        one is fetched; returns them all indexed by code (a list: codes are not
        unique). With a ``cache_dir`` and ``incremental``, only what changed
        since the cached listing is asked for (one ``updated_at__gte`` listing
        and one count), handed over at once; any doubt about the cache means a
        full listing."""
        index = LiveIndex()
        products = self._incremental() if self.incremental else None
        if products is None:
            products, stamps = yield from self._full(progress, index)
        else:
            stamps = _stamps(products)
            _index(index, products)
            yield products
        self._mark(index, products, stamps)
        if self.incremental and self.cache_dir is not None and index.watermark is not None \
                and (self.refresh_mode == "full" or self._changed or index.watermark != self._cached_mark):
            cache.save(self._cache_file(), self.base_url, self.org, index.watermark, *self.secrets.hide(products),
                       key=self._cache_key)
        return index

    def refresh(self, progress: Progress = NULL) -> LiveIndex:
        """All live products indexed by code (:meth:`read`, read to the end)."""
        return read_all(self.read(progress))

    def start_listing(self) -> None:
        """Begin the full listing the next :meth:`refresh` reads, in the
        background: its pages then arrive while the caller is still busy (the
        engine validates the catalog's products meanwhile). Not for an
        incremental refresh, which lists only what changed."""
        if self._listing is None and not self.incremental:
            self._listing = Prefetch(self.iter_pages(), depth=0)

    def _full(self, progress: Progress, index: LiveIndex
              ) -> Generator[list[dict[str, Any]], None, tuple[list[dict[str, Any]], list[datetime] | None]]:
        """Every product (also put in ``index``), and their ``updated_at``
        stamps (None if one has none), all worked out page by page while the
        next page is fetched; each page's products handed over as they come."""
        self.refresh_mode = "full"
        products: list[dict[str, Any]] = []
        stamps: list[datetime] | None = []
        for page in self.listed_pages(progress):
            products.extend(page["results"])
            _index(index, page["results"])
            yield page["results"]
            if stamps is not None:
                page_stamps = _stamps(page["results"])
                if page_stamps is None:
                    stamps = None
                else:
                    stamps.extend(page_stamps)
        return products, stamps

    def listed_pages(self, progress: Progress = NULL) -> Iterator[dict[str, Any]]:
        """Every page of the full listing (begun ahead by :meth:`start_listing`,
        or now, fetched in the background while the caller works on the page
        before), with a progress task sized from the first page's count."""
        task = None
        pages, self._listing = self._listing or Prefetch(self.iter_pages()), None
        try:
            for page in pages:
                count = page.get("count")  # (only sizes the progress bar: a vendor's odd count is ignored)
                if task is None:
                    total = max(1, -(-count // self.page_size)) if type(count) is int else 1
                    task = progress.task("Reading ReadyCloud products (pages)", total,
                                         eta_hint=self.http.eta("read", total - 1))
                served = len(page["results"])
                if self.served_page_size is None and served and served != self.page_size \
                        and (served > self.page_size or page.get("next")) and type(count) is int:
                    # The server ignores ``limit`` (or caps it): the estimate follows the pages it serves.
                    self.served_page_size = served
                    task.set_total(max(1, -(-count // served)))
                yield page
                task.advance()
        finally:
            if task is not None:
                task.close()
            if isinstance(pages, Prefetch):
                pages.close()

    def _incremental(self) -> list[dict[str, Any]] | None:
        """The cached listing brought up to date, or None if that cannot be trusted."""
        if self.cache_dir is None:
            return None
        snapshot = cache.load(self._cache_file(), self.base_url, self.org, key=self._cache_key)
        cached = self.secrets.restore(snapshot) if snapshot is not None else None
        if snapshot is None or cached is None:
            return None
        try:
            since = parse_datetime(snapshot.watermark)
        except ValueError:
            return None
        changed = list(self.iter_products(updated_since=since))
        by_pk = {rc.product_pk_from_url(str(p.get("url", ""))): p for p in cached}
        self._changed, self._cached_mark = 0, snapshot.watermark
        for product in changed:  # (the newest cached ones are listed again: updated_at__gte)
            pk = rc.product_pk_from_url(str(product.get("url", "")))
            self._changed += by_pk.get(pk) != product
            by_pk[pk] = product
        if len(by_pk) != self.total_count():
            return None  # something was deleted since: only a full listing can say what
        self.refresh_mode = "incremental"
        return list(by_pk.values())

    def _cache_file(self) -> Path:
        assert self.cache_dir is not None
        return cache.cache_path(self.cache_dir, self.base_url, self.org)

    def _mark(self, index: LiveIndex, products: list[dict[str, Any]], stamps: list[datetime] | None) -> None:
        """Set the index's watermark: from when a later listing must ask to see
        every change since this one. That is the newest ``updated_at`` seen, but
        no later than the server's clock when the listing began less
        :data:`CLOCK_SKEW` (a product changed while the pages were being read
        may carry an older stamp than one listed after it). Unknown (None) if
        the server sent no ``Date`` or a product has no readable stamp
        (``stamps``: the products' stamps, None then)."""
        if self.listing_started is None or stamps is None:
            return
        mark = self.listing_started - CLOCK_SKEW
        if stamps:
            mark = min(mark, max(stamps))
        index.watermark = format_datetime(mark)
        index.recent = tuple(sorted(rc.product_pk_from_url(str(p.get("url", "")))
                                    for p, stamp in zip(products, stamps) if stamp >= mark))

    def write_eta(self, writes: int) -> float:
        return self.http.eta("write", writes)

    def changed_since(self, watermark: str) -> list[dict[str, Any]]:
        """Products updated at or after ``watermark`` (one short listing)."""
        return list(self.iter_products(updated_since=parse_datetime(watermark)))

    def total_count(self) -> int:
        """How many products the org has now (one request)."""
        page = json_answer(self.name, self.http.send("GET", self.collection, params={"limit": 1}),
                           "counting products")
        if not isinstance(page, dict) or not isinstance(page.get("count", 0), int):
            raise ProviderError(self.name, "counting products: the answer has no count")
        return int(page.get("count", 0))

    # -- writing -----------------------------------------------------------
    def _item(self, pk: str) -> str:
        if rc.product_pk_from_url(pk) != pk:  # (defence in depth: the plan never holds such an id)
            raise ProviderError(self.name, f"product id {pk!r} is not a plain positive integer; nothing was sent")
        return f"{self.collection}{pk}/"

    def execute(self, change: Change) -> dict[str, Any] | None:
        if change.action == "create":
            return self.create(change.key, change.body)
        if change.action == "update":
            return self._product(self.http.send("PATCH", self._item(str(change.resource_id)), json=change.body),
                                 f"updating {change.key}")
        try:
            self.http.send("DELETE", self._item(str(change.resource_id)))
        except ProviderError as exc:
            if exc.status != 404:
                raise
            # Gone already: a DELETE that acted but whose answer was lost, retried,
            # or someone else's. Either way the product no longer exists, as planned.
        with self._lock:
            self._deleted.add(str(change.resource_id))  # a cached listing forgets it (see close)
        return None

    def _product(self, response: httpx.Response, what: str) -> dict[str, Any]:
        """The product a write answered; a :class:`ProviderError` if the answer is not one."""
        product = json_answer(self.name, response, what)
        if not isinstance(product, dict):
            raise ProviderError(self.name, f"{what}: the answer is not a product", response.status_code)
        return product

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
                return self._product(self.http.send("POST", self.collection, json=dict(body)), f"creating {code}")
            except AmbiguousWriteError as exc:
                last = exc
                found = self.find_created(code, started - CLOCK_SKEW)
                if found is None and exc.in_flight:
                    found = self._wait_for_created(code, started - CLOCK_SKEW)
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

    def confirm(self, change: Change, since: datetime) -> tuple[bool, Any]:
        """A create by looking its code up among products changed since
        ``since`` (as for a lost POST answer); an update by reading the product
        and comparing it with every value ``change.body`` sets; a delete by a 404."""
        if change.action == "create":
            found = self.find_created(change.key, since - CLOCK_SKEW)
            return found is not None, found
        try:
            product = json_answer(self.name, self.http.send("GET", self._item(str(change.resource_id))),
                                  f"reading back {change.key}")
        except ProviderError as exc:
            if exc.status != 404:
                raise
            return change.action == "delete", None
        if change.action == "delete" or not isinstance(product, dict):
            return False, None
        body = change.body if isinstance(change.body, Mapping) else {}
        done = all(equal_normalised(name, product.get(name), value) for name, value in body.items())
        return done, product if done else None

    def find_created(self, code: str, since: datetime) -> dict[str, Any] | None:
        """The product with ``code`` updated since ``since``, if one exists."""
        for product in self.iter_products(updated_since=since):
            if product.get("code") == code:
                return product
        return None
