"""ReadyCloud API v2 products routes (``/api/v2/orgs/{org_pk}/products/``)."""
from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.vendors.readycloud.contract import (MAX_READS_PER_MINUTE, MAX_WRITES_PER_MINUTE, PAGE_SIZE,
                                                    RATE_WINDOW_SECONDS)

from reconciler.vendors.readycloud.sandbox_model import normalise, parse_datetime, represent
from reconciler.sandbox.responses import BodyError, drf_error, read_json
from reconciler.sandbox.store import Store, format_stamp

PREFIX = "/api/v2"

_INVALID_TOKEN = "Invalid token."
_NOT_FOUND = "Not found."
_PARSE_ERROR = "JSON parse error"


def _int_param(raw: str | None, default: int, *, minimum: int, cutoff: int | None = None) -> int:
    """Django REST framework's lenient paging parameters: invalid means default."""
    try:
        value = int(raw) if raw is not None else default
    except ValueError:
        return default
    if value < minimum:
        return default
    return min(value, cutoff) if cutoff is not None else value


def _page_url(request: Request, limit: int, offset: int) -> str:
    """The request's absolute URL for another page; other parameters are kept."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "offset")]
    query.append(("limit", str(limit)))
    if offset > 0:
        query.append(("offset", str(offset)))
    return str(request.url.replace(query=urlencode(query)))


def rate_limit_faults(window_s: float = RATE_WINDOW_SECONDS, reads: int = MAX_READS_PER_MINUTE,
                      writes: int = MAX_WRITES_PER_MINUTE) -> list[dict[str, Any]]:
    """The documented rate limits as sandbox faults: sliding windows of
    ``window_s`` seconds (Django REST Framework's throttles), one for GETs and
    one for writes, answering 429 with ``Retry-After`` past them. A shorter
    window scales the limit down for tests."""
    path = f"{PREFIX}/orgs/"
    return [{"status": 429, "per_window": reads, "window_s": window_s, "method": "GET", "path_contains": path},
            {"status": 429, "per_window": writes, "window_s": window_s, "method": "POST,PATCH,DELETE",
             "path_contains": path}]


class ReadyCloudApi:
    """The products collection and item endpoints over a :class:`Store`."""

    def __init__(self, store: Store, token: str) -> None:
        self.store = store
        self.token = token

    def routes(self) -> list[BaseRoute]:
        base = f"{PREFIX}/orgs/{{org:int}}/products/"
        return [
            Route(base, self.collection, methods=["GET", "POST"]),
            Route(base + "{pk:int}/", self.item, methods=["GET", "PATCH", "DELETE"]),
        ]

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            supplied = credentials.strip()
        else:
            supplied = request.query_params.get("bearer_token", "")
        return bool(supplied) and hmac.compare_digest(supplied.encode(), self.token.encode())

    @staticmethod
    async def _fields(request: Request, creating: bool) -> tuple[dict[str, Any], Response | None]:
        """The product fields a POST or PATCH body sets, as the server stores
        them, or the 400 answer that refuses it."""
        try:
            body = await read_json(request, default={})
        except BodyError:
            return {}, drf_error(400, _PARSE_ERROR)
        fields, errors = normalise(body, creating=creating)
        return fields, (drf_error(400, errors) if errors else None)

    def _denied(self) -> Response:
        return drf_error(401, _INVALID_TOKEN, {"WWW-Authenticate": 'Bearer realm="api"'})

    async def collection(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._denied()
        org = int(request.path_params["org"])
        if request.method == "GET":
            return self._list(request, org)
        fields, refused = await self._fields(request, creating=True)
        if refused is not None:
            return refused
        (row,) = self.store.rc_insert(org, [fields])
        return JSONResponse(represent(row), status_code=201)

    def _list(self, request: Request, org: int) -> Response:
        params = request.query_params
        since: str | None = None
        if "updated_at__gte" in params:
            try:
                since = format_stamp(parse_datetime(params["updated_at__gte"]))
            except ValueError:
                return drf_error(400, {"updated_at__gte": ["Enter a valid date/time."]})
        limit = _int_param(params.get("limit"), PAGE_SIZE, minimum=1, cutoff=PAGE_SIZE)
        offset = _int_param(params.get("offset"), 0, minimum=0)
        count, rows = self.store.rc_page(org, since, limit, offset)
        next_url = _page_url(request, limit, offset + limit) if offset + limit < count else None
        previous_url = _page_url(request, limit, offset - limit) if offset > 0 else None
        page: dict[str, Any] = {"count": count, "next": next_url, "previous": previous_url,
                                "results": [represent(row) for row in rows]}
        return JSONResponse(page)

    async def item(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._denied()
        org, pk = int(request.path_params["org"]), int(request.path_params["pk"])
        if request.method == "GET":
            row = self.store.rc_get(org, pk)
            return JSONResponse(represent(row)) if row else drf_error(404, _NOT_FOUND)
        if request.method == "DELETE":
            return Response(status_code=204) if self.store.rc_delete(org, pk) \
                else drf_error(404, _NOT_FOUND)
        if self.store.rc_get(org, pk) is None:
            return drf_error(404, _NOT_FOUND)
        fields, refused = await self._fields(request, creating=False)
        if refused is not None:
            return refused
        row = self.store.rc_update(org, pk, fields)
        return JSONResponse(represent(row)) if row else drf_error(404, _NOT_FOUND)

