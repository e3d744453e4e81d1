"""The MCP endpoint: ``/mcp/{route}`` over Streamable HTTP, both protocol eras.

    POST    one JSON-RPC message. 2025-11-25: ``initialize`` opens a session
            (``Mcp-Session-Id``); later messages carry it. 2026-07-28: every request is
            self-contained (``_meta`` envelope, ``MCP-Protocol-Version``, ``Mcp-Method``,
            ``Mcp-Name`` headers checked against the body before anything relies on them).
    GET     a 2025-11-25 session's standalone stream (SSE): updates of the resources it
            follows (``resources/subscribe``); one per session.
    DELETE  ends a 2025-11-25 session.

A request from a browser ``Origin`` that is not allowed is refused with 403 before anything
else (DNS rebinding). Authentication is the gateway's own (master key, virtual key, JWT);
a 401 points at the route's OAuth protected-resource metadata.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import orjson

from tollhouse.config.runtime import Runtime
from tollhouse.errors import NotFound
from tollhouse.http.body import read_body
from tollhouse.mcp import modern, oauth
from tollhouse.mcp.call import Caller, McpRoute
from tollhouse.mcp.gateway import McpGateway
from tollhouse.mcp.handlers import handle
from tollhouse.mcp.protocol import (
    INVALID_REQUEST,
    PARSE_ERROR,
    SERVER_INFO,
    SESSION_CAPABILITIES,
    SUPPORTED_VERSIONS,
    UNAUTHENTICATED,
    Message,
    RpcError,
    error_message,
    is_notification,
    is_response,
    negotiate,
    valid_shape,
)
from tollhouse.mcp.sessions import Channel, ClientSession
from tollhouse.mcp.transport import answer, send_accepted, send_json, stream_outbox
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.pipeline.phases import CallKind

Send = Any
SESSION_HEADER = "mcp-session-id"
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def _gateway(runtime: Runtime) -> McpGateway:
    gateway = runtime.mcp
    if gateway is None:
        raise NotFound("no MCP routes are configured", code="unknown_url")
    return gateway


def origin_allowed(gateway: McpGateway, origin: str | None) -> bool:
    """No Origin (not a browser), a loopback origin, or one configured."""
    if origin is None:
        return True
    if origin in gateway.config.allowed_origins:
        return True
    host = urlsplit(origin).hostname or ""
    return host in _LOOPBACK


async def handle_metadata(runtime: Runtime, ctx: RequestContext, send: Send, path: str) -> None:
    """GET /.well-known/oauth-protected-resource/mcp/{route}."""
    gateway = _gateway(runtime)
    name = path.removeprefix(oauth.WELL_KNOWN).removeprefix("/mcp/")
    if name not in gateway.routes:
        raise NotFound(f"no MCP route {name!r}", code="unknown_url")
    await send_json(send, ctx, 200, oauth.metadata(gateway.config.oauth, ctx.headers, name))


async def handle_mcp(runtime: Runtime, ctx: RequestContext, send: Send, method: str, path: str) -> None:
    """Every method on /mcp/{route}."""
    gateway = _gateway(runtime)
    ctx.kind = CallKind.MCP
    ctx.dialect = "mcp"
    route = gateway.routes.get(path.removeprefix("/mcp/"))
    if route is None:
        raise NotFound(f"no MCP route at {path}", code="unknown_url")
    ctx.model = route.name
    if not origin_allowed(gateway, ctx.headers.get("origin")):
        ctx.error_code = "origin_not_allowed"
        await send_json(send, ctx, 403, _rpc_error(INVALID_REQUEST, "origin not allowed"))
        return
    outcome, reached = await gateway.auth.enter(ctx)
    try:
        if isinstance(outcome, Deny):
            error = None if outcome.reason == "no_key" else "invalid_token"  # RFC 6750 §3.1
            await _refuse(
                send,
                ctx,
                gateway,
                route,
                outcome.error.status,
                outcome.error.message,
                outcome.error.headers,
                error,
            )
            return
        if route.audience is not None and not oauth.audience_ok(ctx.headers, route.audience):
            ctx.error_code = "wrong_audience"
            await _refuse(
                send, ctx, gateway, route, 401, "token audience is not this MCP route", {}, "invalid_token"
            )
            return
        await _dispatch(runtime, gateway, route, ctx, send, method)
    finally:
        await gateway.auth.exit(ctx, reached)


async def _refuse(
    send: Send,
    ctx: RequestContext,
    gateway: McpGateway,
    route: McpRoute,
    status: int,
    message: str,
    headers: dict[str, str],
    error: str | None = None,
) -> None:
    extra = [(k.encode(), v.encode()) for k, v in headers.items()]
    if status == 401:
        value = oauth.challenge(gateway.config.oauth, ctx.headers, route.name, error)
        extra.append((b"www-authenticate", value.encode()))
    ctx.error_code = ctx.error_code or ("unauthenticated" if status == 401 else "forbidden")
    await send_json(send, ctx, status, _rpc_error(UNAUTHENTICATED, message), extra)


def _rpc_error(code: int, message: str) -> Message:
    return error_message(None, RpcError(code, message))


async def _dispatch(
    runtime: Runtime, gateway: McpGateway, route: McpRoute, ctx: RequestContext, send: Send, method: str
) -> None:
    if method == "DELETE":
        await _delete(gateway, ctx, send)
        return
    if method == "GET":
        await _standalone(gateway, route, ctx, send)
        return
    if method != "POST":
        ctx.error_code = "method_not_allowed"
        await send_json(
            send, ctx, 405, _rpc_error(INVALID_REQUEST, "use POST"), [(b"allow", b"GET, POST, DELETE")]
        )
        return
    server = runtime.config.server
    body = await read_body(
        ctx.receive, ctx.headers, server.max_body_bytes, server.body_timeout_s, ctx.inflight
    )
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        await send_json(send, ctx, 400, _rpc_error(PARSE_ERROR, "the body is not JSON"))
        return
    if not valid_shape(message):
        await send_json(send, ctx, 400, _rpc_error(INVALID_REQUEST, "not a single JSON-RPC 2.0 message"))
        return
    if modern.is_modern(ctx.headers, message):
        await modern.serve(gateway, route, ctx, send, message)
        return
    await _handshake_era(gateway, route, ctx, send, message)


async def _handshake_era(
    gateway: McpGateway, route: McpRoute, ctx: RequestContext, send: Send, message: Message
) -> None:
    if message.get("method") == "initialize":
        await _initialize(gateway, route, ctx, send, message)
        return
    session = await _session(gateway, route, ctx)
    if session is None:
        status = 400 if SESSION_HEADER not in ctx.headers else 404
        await send_json(send, ctx, status, _rpc_error(INVALID_REQUEST, "unknown or missing Mcp-Session-Id"))
        return
    version = ctx.headers.get("mcp-protocol-version")
    if version is not None and version not in SUPPORTED_VERSIONS:
        await send_json(
            send, ctx, 400, _rpc_error(INVALID_REQUEST, f"unsupported MCP-Protocol-Version {version}")
        )
        return
    ctx.session_id = ctx.session_id or session.id
    if is_response(message):
        future = session.asks.get(str(message.get("id")))
        if future is not None and not future.done():
            future.set_result(message)
        await send_accepted(send, ctx)
        return
    if is_notification(message):
        _notification(session, message)
        await send_accepted(send, ctx)
        return
    await _request(gateway, route, ctx, send, message, session)


async def _session(gateway: McpGateway, route: McpRoute, ctx: RequestContext) -> ClientSession | None:
    sid = ctx.headers.get(SESSION_HEADER)
    session = await gateway.sessions.resolve(sid) if sid else None
    if session is None or session.route != route.name or session.owner != _owner(ctx):
        return None  # another principal's session id is as good as none
    return session


def _owner(ctx: RequestContext) -> str:
    p = ctx.principal
    return f"{p.kind}:{p.id}" if p is not None else "anonymous"


async def _initialize(
    gateway: McpGateway, route: McpRoute, ctx: RequestContext, send: Send, message: Message
) -> None:
    params = message.get("params") or {}
    version = negotiate(params.get("protocolVersion"))
    session = gateway.sessions.open(route.name, _owner(ctx), version, params)
    await gateway.sessions.share(session)
    ctx.session_id = ctx.session_id or session.id
    result = {
        "protocolVersion": version,
        "capabilities": SESSION_CAPABILITIES,
        "serverInfo": SERVER_INFO,
        "instructions": f"Tools of {', '.join(route.servers)} through the Tollhouse gateway.",
    }
    extra = [(SESSION_HEADER.encode(), session.id.encode())]
    await send_json(send, ctx, 200, {"jsonrpc": "2.0", "id": message["id"], "result": result}, extra)


def _notification(session: ClientSession, message: Message) -> None:
    if message.get("method") == "notifications/cancelled":
        params = message.get("params") or {}
        task = session.calls.get(params.get("requestId"))
        if task is not None:
            task.cancel()


async def _request(
    gateway: McpGateway,
    route: McpRoute,
    ctx: RequestContext,
    send: Send,
    message: Message,
    session: ClientSession,
) -> None:
    streams = "text/event-stream" in ctx.headers.get("accept", "")
    channel = Channel(session, streams, gateway.config.relay.timeout_s)
    caller = Caller(ctx.principal, route, session, channel, ctx, session.version)
    rid = message["id"]
    params = message.get("params") or {}

    task = asyncio.ensure_future(handle(gateway, caller, str(message["method"]), params))
    session.calls[rid] = task
    try:
        await answer(send, ctx, rid, task, channel, [])
    finally:
        session.calls.pop(rid, None)
    if task.cancelled():
        ctx.error_code = "cancelled"


async def _standalone(gateway: McpGateway, route: McpRoute, ctx: RequestContext, send: Send) -> None:
    """GET: the session's stream for notifications outside any call, until the client leaves."""
    session = await _session(gateway, route, ctx)
    if session is None:
        status = 400 if SESSION_HEADER not in ctx.headers else 404
        await send_json(send, ctx, status, _rpc_error(INVALID_REQUEST, "unknown or missing Mcp-Session-Id"))
        return
    if "text/event-stream" not in ctx.headers.get("accept", ""):
        await send_json(send, ctx, 406, _rpc_error(INVALID_REQUEST, "accept text/event-stream"))
        return
    if session.outbox is not None:
        await send_json(send, ctx, 409, _rpc_error(INVALID_REQUEST, "this session's stream is already open"))
        return
    ctx.session_id = ctx.session_id or session.id
    outbox: asyncio.Queue[Message] = asyncio.Queue()
    session.outbox = outbox
    if ctx.inflight is not None:
        ctx.inflight.watch = True  # no body to read: the client leaving cancels this task
    try:
        await stream_outbox(send, ctx, outbox)
    except asyncio.CancelledError:
        if ctx.inflight is not None and ctx.inflight.consume_client_gone():  # the usual end
            ctx.error_code = "client_closed"
            return
        raise
    finally:
        if session.outbox is outbox:
            session.outbox = None


async def _delete(gateway: McpGateway, ctx: RequestContext, send: Send) -> None:
    sid = ctx.headers.get(SESSION_HEADER)
    session = await gateway.sessions.resolve(sid) if sid else None
    if session is None or session.owner != _owner(ctx):
        await send_json(send, ctx, 404, _rpc_error(INVALID_REQUEST, "unknown session"))
        return
    await gateway.sessions.end(session.id)
    await send_json(send, ctx, 200, None)
