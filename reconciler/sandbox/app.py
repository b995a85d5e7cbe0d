"""The sandbox's Starlette application: vendor routes plus ``/_sandbox`` control routes.

Control routes need no authentication and are neither logged nor faulted:

- ``GET /_sandbox/health``
- ``GET|DELETE /_sandbox/requests`` (the request log)
- ``GET|POST|DELETE /_sandbox/faults`` (POST body: one fault dict)
- ``POST /_sandbox/seed`` (body: a seed document; ``?only_if_empty=true`` to keep existing state)
- ``POST /_sandbox/cobuilder/expire-tokens`` (issued Cobuilder tokens stop working)
- ``DELETE /_sandbox/state`` (forget every product, value and token)
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .capture import capture_routes
from reconciler.vendors.cobuilder.sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, CobuilderApi
from .faults import CONTROL_PREFIX, FaultInjector, RequestLog, VendorMiddleware, quiet_dropped_responses
from reconciler.vendors.readycloud.sandbox import ReadyCloudApi
from .responses import BodyError, drf_error, read_json, vendor_error
from .seed import SeedError, apply_seed
from .store import Store

#: The token the sandbox accepts unless told otherwise (ReadyCloud and Cobuilder).
DEFAULT_TOKEN = "sandbox-token"


@dataclass
class SandboxState:
    """What the control routes (and :class:`~reconciler.sandbox.Sandbox`) act on."""

    store: Store
    log: RequestLog = field(default_factory=RequestLog)
    faults: FaultInjector = field(default_factory=FaultInjector)


class _Control:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def routes(self) -> list[Route]:
        p = CONTROL_PREFIX
        return [
            Route(f"{p}/health", self.health, methods=["GET"]),
            Route(f"{p}/requests", self.requests, methods=["GET", "DELETE"]),
            Route(f"{p}/faults", self.faults, methods=["GET", "POST", "DELETE"]),
            Route(f"{p}/seed", self.seed, methods=["POST"]),
            Route(f"{p}/cobuilder/expire-tokens", self.expire_tokens, methods=["POST"]),
            Route(f"{p}/state", self.reset, methods=["DELETE"]),
        ]

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.log.clear()
            return Response(status_code=204)
        return JSONResponse(self.state.log.entries())

    async def faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.state.faults.clear()
            return Response(status_code=204)
        if request.method == "GET":
            return JSONResponse(self.state.faults.active())
        try:
            fault = self.state.faults.add(await read_json(request))
        except (BodyError, ValueError) as exc:
            return drf_error(400, f"Invalid fault: {exc}")
        return JSONResponse(fault.describe(), status_code=201)

    async def seed(self, request: Request) -> Response:
        only_if_empty = request.query_params.get("only_if_empty", "").lower() in ("1", "true", "yes")
        try:
            summary = apply_seed(self.state.store, await read_json(request), only_if_empty=only_if_empty)
        except (BodyError, SeedError) as exc:
            return drf_error(400, f"Invalid seed: {exc}")
        return JSONResponse(summary)

    async def expire_tokens(self, request: Request) -> Response:
        self.state.store.cb_expire_tokens()
        return Response(status_code=204)

    async def reset(self, request: Request) -> Response:
        self.state.store.reset()
        return Response(status_code=204)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unmatched paths and methods, answered in the style of the vendor they look like."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = "Not found."
    elif exc.status_code == 405:
        detail = f'Method "{request.method}" not allowed.'
    else:
        detail = str(exc.detail)
    return vendor_error(request.url.path, exc.status_code, detail, dict(exc.headers or {}))


def build_app(state: Store | SandboxState, *, token: str = DEFAULT_TOKEN,
              cobuilder_client_id: str = DEFAULT_CLIENT_ID,
              cobuilder_client_secret: str = DEFAULT_CLIENT_SECRET,
              cobuilder_endpoints: Mapping[str, str] | None = None) -> Starlette:
    """The whole sandbox over one store; ``app.state.sandbox`` holds its :class:`SandboxState`.
    ``cobuilder_endpoints``: where Cobuilder's (assumed) update and delete are
    served instead of the contract's paths (a server whose paths differ)."""
    if isinstance(state, Store):
        state = SandboxState(state)
    quiet_dropped_responses()
    routes = [
        *_Control(state).routes(),
        *ReadyCloudApi(state.store, token).routes(),
        *CobuilderApi(state.store, token, cobuilder_client_id, cobuilder_client_secret,
                      cobuilder_endpoints).routes(),
    ]
    routes += capture_routes()
    app = Starlette(routes=routes,
                    middleware=[Middleware(VendorMiddleware, log=state.log, faults=state.faults)],
                    exception_handlers={HTTPException: _http_error})
    app.state.sandbox = state
    return app
