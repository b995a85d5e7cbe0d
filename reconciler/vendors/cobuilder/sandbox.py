"""Cobuilder routes: the token endpoint and Products Management API v3 property values.

Create and GET are documented; the update and delete paths are the assumed
contract in vendor-notes (``PUT .../values/update``, ``DELETE .../{propertyGuid}/values``),
served where :data:`contract.ENDPOINTS` says unless the sandbox is told other
paths (a server whose paths differ; one without them: a 404/405 fault).
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from reconciler.vendors.cobuilder.contract import ENDPOINT_METHODS, ENDPOINTS
from reconciler.vendors.cobuilder.sandbox_model import SchemaError, inherited_guids, parse_properties, values_view
from reconciler.sandbox.responses import BodyError, problem, read_json
from reconciler.sandbox.store import Store, UnitConflict

PREFIX = "/products-management/api/v3"
TOKEN_PATH = "/cobuilder-auth/token"
DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
VALIDATION_TITLE = "One or more validation errors occurred."


class CobuilderApi:
    """Token issuing and property values over a :class:`Store`."""

    def __init__(self, store: Store, token: str, client_id: str = DEFAULT_CLIENT_ID,
                 client_secret: str = DEFAULT_CLIENT_SECRET, endpoints: Mapping[str, str] | None = None) -> None:
        self.store = store
        #: the (assumed) update and delete path templates served
        self.endpoints = {**ENDPOINTS, **(endpoints or {})}
        self.static_token = token
        self.client_id = client_id
        self.client_secret = client_secret

    def routes(self) -> list[BaseRoute]:
        values = f"{PREFIX}/products/{{product_id:int}}/properties/values"
        return [
            Route(TOKEN_PATH, self.issue_token, methods=["POST"]),
            Route(values, self.get_values, methods=["GET"]),
            Route(values + "/create", self.create_values, methods=["POST"]),
            Route(_route(self.endpoints["update"]), self.update_values, methods=[ENDPOINT_METHODS["update"]]),
            Route(_route(self.endpoints["delete"]), self.delete_values, methods=[ENDPOINT_METHODS["delete"]]),
        ]

    # -- authentication ------------------------------------------------------------
    async def issue_token(self, request: Request) -> Response:
        path = request.url.path
        try:
            body = await read_json(request)
        except BodyError as exc:
            return problem(400, f"The request body is not valid JSON: {exc}", path)
        if not isinstance(body, dict):
            return problem(400, "The body must be an object {clientId, clientSecret, audienceUrl}.", path)
        missing = [k for k in ("clientId", "clientSecret", "audienceUrl")
                   if not isinstance(body.get(k), str) or not body[k]]
        if missing:
            return problem(400, f"Missing or empty: {', '.join(missing)}.", path, title=VALIDATION_TITLE)
        if not (_same(body["clientId"], self.client_id) and _same(body["clientSecret"], self.client_secret)):
            return problem(401, "Invalid client credentials.", path)
        token = f"cb-{secrets.token_hex(16)}"
        self.store.cb_add_token(token)
        return JSONResponse(token)

    def _auth_problem(self, request: Request) -> Response | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = credentials.strip()
        if scheme.lower() != "bearer" or not token:
            detail = "Missing bearer token."
        elif _same(token, self.static_token) or self.store.cb_token_valid(token):
            return None
        else:
            detail = "The access token is invalid or has expired."
        return problem(401, detail, request.url.path,
                       headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    # -- property values ---------------------------------------------------------
    async def get_values(self, request: Request) -> Response:
        denied = self._auth_problem(request)
        if denied:
            return denied
        product_id = int(request.path_params["product_id"])
        answer = values_view(self.store, product_id)
        if answer is None:
            return _unknown_product(product_id, request.url.path)
        return JSONResponse(answer)

    async def create_values(self, request: Request) -> Response:
        return await self._write(request, "append", 201)

    async def update_values(self, request: Request) -> Response:
        return await self._write(request, "replace", 204)

    async def _write(self, request: Request, mode: Literal["append", "replace"],
                     success: int) -> Response:
        denied = self._auth_problem(request)
        if denied:
            return denied
        path = request.url.path
        try:
            writes = parse_properties(await read_json(request))
        except BodyError as exc:
            return problem(400, f"The request body is not valid JSON: {exc}", path)
        except SchemaError as exc:
            return problem(400, str(exc), path, title=VALIDATION_TITLE,
                           errors={exc.path: [exc.message]})
        product_id = int(request.path_params["product_id"])
        conflict = self._precheck(product_id, [w[0] for w in writes], path)
        if conflict:
            return conflict
        try:
            self.store.cb_write(product_id, writes, mode)
        except UnitConflict as exc:
            return problem(409, f"Property {exc.property_guid} already has values in unit "
                                f"{exc.unit_guid}; replace them with an update to change the unit.", path)
        return Response(status_code=success)

    def _precheck(self, product_id: int, guids: list[str], path: str) -> Response | None:
        """404 for an unknown product, 409 for a property it inherits."""
        if self.store.cb_parent(product_id) is None:
            return _unknown_product(product_id, path)
        inherited = sorted(set(guids) & inherited_guids(self.store, product_id))
        if inherited:
            return problem(409, f"Property {', '.join(inherited)} is inherited from a parent "
                                f"product; change it on the parent.", path)
        return None

    async def delete_values(self, request: Request) -> Response:
        denied = self._auth_problem(request)
        if denied:
            return denied
        product_id = int(request.path_params["product_id"])
        guid = str(request.path_params["property_guid"])
        path = request.url.path
        conflict = self._precheck(product_id, [guid], path)
        if conflict:
            return conflict
        if not self.store.cb_delete_property(product_id, guid):
            return problem(404, f"Product {product_id} has no values for property {guid}.", path)
        return Response(status_code=204)


def _route(template: str) -> str:
    """A starlette route for an endpoint template of the contract (``{product_id}`` an integer)."""
    return PREFIX + template.replace("{product_id}", "{product_id:int}")


def _unknown_product(product_id: int, path: str) -> Response:
    return problem(404, f"Product {product_id} was not found.", path)


def _same(supplied: str, expected: str) -> bool:
    return hmac.compare_digest(supplied.encode(), expected.encode())
