"""The admin API as a Starlette app (off the hot path; its own port)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tollhouse.admin.api import AdminDispatcher, error_response
from tollhouse.admin.openapi import openapi_document
from tollhouse.admin.routes import ENDPOINTS
from tollhouse.admin.services import AdminServices
from tollhouse.identity.snapshot import IdentityState
from tollhouse.pipeline.policy import Policy


def build_admin_app(services: AdminServices, state: IdentityState, front: Sequence[Policy]) -> Starlette:
    """Every row of ``ENDPOINTS`` as a route, plus ``GET /openapi.json`` (public)."""
    dispatcher = AdminDispatcher(services, state, front)
    spec = orjson.dumps(openapi_document(ENDPOINTS))

    async def openapi(_request: Request) -> Response:
        return Response(spec, media_type="application/json")

    async def not_found(_request: Request, _exc: Exception) -> Response:
        return error_response(404, "unknown admin endpoint", "not_found", "-")

    async def not_allowed(_request: Request, _exc: Exception) -> Response:
        return error_response(405, "method not allowed", "method_not_allowed", "-")

    routes = [Route("/openapi.json", openapi, methods=["GET"])]
    by_path: dict[str, list[Route]] = {}
    for endpoint in ENDPOINTS:
        route = Route(endpoint.path, dispatcher.bind(endpoint), methods=[endpoint.method])
        by_path.setdefault(endpoint.path, []).append(route)
    # The literal "/v1/policies/test" must win over "/v1/policies/{policy_id}".
    ordered = sorted(by_path.items(), key=lambda item: item[0].count("{"))
    routes.extend(route for _, group in ordered for route in group)
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed})
