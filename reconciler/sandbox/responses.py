"""Error bodies in each vendor's style, and reading a JSON request body.

ReadyCloud answers Django REST framework style (``{"detail": ...}`` or
``{field: [messages]}``); Cobuilder answers RFC 7807 problem details;
Voucherify ``{code, key, message, details, request_id}``.
"""
from __future__ import annotations

import json
import uuid
from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

#: Path prefixes served in Cobuilder's style; everything else is ReadyCloud's.
COBUILDER_PREFIXES = ("/products-management/", "/cobuilder-auth/")
#: Path prefixes served in Voucherify's style (the capture endpoint).
VOUCHERIFY_PREFIXES = ("/voucherify/",)


class BodyError(Exception):
    """The request body is not JSON."""


_NO_BODY = object()


async def read_json(request: Request, default: Any = _NO_BODY) -> Any:
    """The parsed JSON body; ``default`` (if given) for an empty body."""
    raw = await request.body()
    if not raw.strip() and default is not _NO_BODY:
        return default
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BodyError(str(exc)) from exc


def drf_error(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    """A ReadyCloud error: a ``{"detail": ...}`` body, or field errors as given."""
    body = detail if isinstance(detail, dict) else {"detail": detail}
    return JSONResponse(body, status_code=status, headers=headers)


def problem(status: int, detail: str, instance: str, *, title: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    """A Cobuilder error: RFC 7807 problem details."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type="application/problem+json")


def voucherify_error(status: int, key: str, message: str, details: str) -> dict[str, Any]:
    """A Voucherify error body."""
    return {"code": status, "key": key, "message": message, "details": details,
            "request_id": f"v-{uuid.uuid4().hex[:20]}"}


def vendor_error(path: str, status: int, detail: str,
                 headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in the style of whichever vendor serves ``path``."""
    if path.startswith(COBUILDER_PREFIXES):
        return problem(status, detail, path, headers=headers)
    if path.startswith(VOUCHERIFY_PREFIXES):
        key = "too_many_requests" if status == 429 else "injected_failure"
        return JSONResponse(voucherify_error(status, key, HTTPStatus(status).phrase, detail), status_code=status,
                            headers=headers)
    return drf_error(status, detail, headers)
