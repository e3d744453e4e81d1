"""The admin API's machinery: authenticate, check the role, parse the body, call the handler.

Endpoints are rows in a table (``routes.ENDPOINTS``): method, path, the admin action the
caller's role must allow, the handler and its body model. The same table builds the
Starlette routes and the OpenAPI document, and the role matrix test walks it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from tollhouse.admin.roles import Actor
from tollhouse.admin.services import AdminServices
from tollhouse.errors import INTERNAL_ERROR, TollhouseError
from tollhouse.identity.errors import IdentityError, NotPermitted
from tollhouse.identity.snapshot import IdentityState
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.pipeline.phases import CallKind
from tollhouse.pipeline.policy import Policy

log = logging.getLogger("tollhouse.admin")


@dataclass(frozen=True, slots=True)
class AdminCall:
    """One authenticated admin request, as handlers see it."""

    actor: Actor
    action: str
    services: AdminServices
    state: IdentityState
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    request_id: str

    def team_scope(self) -> str | None:
        return self.actor.team_scope(self.action)

    def require_team(self, team_id: str | None) -> None:
        """Refuse a team admin reaching outside its team."""
        scope = self.team_scope()
        if scope is not None and team_id != scope:
            raise NotPermitted("outside your team")

    def require(self, action: str) -> None:
        """Refuse unless the caller may also take ``action`` (a second action within one endpoint)."""
        if not self.actor.can(action):
            raise NotPermitted(f"your roles do not allow {action}")
        forbidding = policy_forbids(self.state, self.actor, action)
        if forbidding is not None:
            raise NotPermitted(f"denied by policy {', '.join(forbidding)}")


Handler = Callable[[AdminCall], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True, slots=True)
class QueryParam:
    """An optional query parameter of an endpoint, for the OpenAPI document."""

    name: str
    description: str
    type: str = "string"  # its JSON Schema type


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    action: str | None  # None: any authenticated caller
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: tuple[QueryParam, ...] = ()


def policy_forbids(state: IdentityState, actor: Actor, action: str) -> tuple[str, ...] | None:
    """The ids of the Cedar policies forbidding ``actor`` the admin ``action``, None if none does
    (a forbid wins over a role; master keys are not principals Cedar knows)."""
    if actor.principal.kind == "master":
        return None
    verdict = state.current.engine.decide(actor.principal, action, "Admin", "api")
    return verdict.policies if verdict.reason == "forbid" else None


def json_response(status: int, data: Any, request_id: str) -> Response:
    return Response(
        orjson.dumps(data), status, media_type="application/json", headers={"x-request-id": request_id}
    )


def error_response(status: int, message: str, code: str, request_id: str, kind: str = "") -> Response:
    body = {"error": {"message": message, "type": kind or code, "code": code}}
    return json_response(status, body, request_id)


class AdminDispatcher:
    """Turns one endpoint row into a Starlette endpoint function."""

    def __init__(self, services: AdminServices, state: IdentityState, front: Sequence[Policy]) -> None:
        self._services = services
        self._state = state
        self._auth = Chain(front, CallKind.LLM)

    def bind(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            return await self._handle(endpoint, request)

        return run

    async def _handle(self, endpoint: Endpoint, request: Request) -> Response:
        rid = "adm_" + os.urandom(12).hex()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
        ctx = RequestContext(rid, "admin", CallKind.LLM, headers, request.receive, time.perf_counter())
        ctx.client = request.client.host if request.client else ""
        outcome, reached = await self._auth.enter(ctx)
        try:
            if isinstance(outcome, Deny):
                ctx.status = outcome.error.status
                return _deny(outcome.error, rid)
            assert ctx.principal is not None  # the authenticate policy sets it or denies
            actor = Actor(ctx.principal)
            denied = self._check_role(actor, endpoint.action, rid)
            if denied is not None:
                return denied
            return await self._call(endpoint, request, actor, rid)
        finally:
            await self._auth.exit(ctx, reached)

    def _check_role(self, actor: Actor, action: str | None, rid: str) -> Response | None:
        if action is None:
            return None
        if not actor.can(action):
            return error_response(
                403, f"your roles do not allow {action}", "forbidden", rid, "permission_error"
            )
        # Cedar has the last word: an explicit forbid on an admin action wins over a role.
        forbidding = policy_forbids(self._state, actor, action)
        if forbidding is not None:
            message = f"denied by policy {', '.join(forbidding)}"
            return error_response(403, message, "forbidden", rid, "permission_error")
        return None

    async def _call(self, endpoint: Endpoint, request: Request, actor: Actor, rid: str) -> Response:
        try:
            body = await _body(endpoint, request)
            call = AdminCall(
                actor,
                endpoint.action or "",
                self._services,
                self._state,
                dict(request.path_params),
                dict(request.query_params),
                body,
                rid,
            )
            status, data = await endpoint.handler(call)
        except IdentityError as exc:
            return error_response(exc.status, exc.message, exc.code, rid)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                for e in exc.errors(include_url=False, include_input=False)
            )
            return error_response(400, problems, "invalid_request", rid)
        except Exception:  # a bug: the caller gets the admin API's envelope, the log the traceback
            log.exception("unhandled error in admin %s %s (request %s)", endpoint.method, endpoint.path, rid)
            return error_response(500, INTERNAL_ERROR, "internal_error", rid)
        if isinstance(data, Response):  # e.g. a CSV export
            return data
        return json_response(status, data, rid)


async def _body(endpoint: Endpoint, request: Request) -> Any:
    if endpoint.body is None:
        return None
    raw = await request.body()
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise IdentityError("request body is not valid JSON") from None
    return endpoint.body.model_validate(data)


def _deny(error: TollhouseError, rid: str) -> Response:
    response = error_response(error.status, error.message, error.code or error.type, rid, error.type)
    response.headers.update(error.headers)
    return response
