"""The 2026-07-28 era on the client side: stateless, self-contained requests.

Every request carries the ``_meta`` envelope (protocol version, client capabilities) and
mirrors its routing fields in headers: ``MCP-Protocol-Version``, ``Mcp-Method``, ``Mcp-Name``
and, for tool arguments a schema marks with ``x-mcp-header``, ``Mcp-Param-*``. The headers
are checked against the body with the official SDK's validation ladder before any decision
is based on either; a mismatch is a ``HEADER_MISMATCH`` error with HTTP 400. ``server/discover``
replaces the handshake. Upstreams of the older era are bridged: the envelope is stripped and
the gateway's own session with them carries the call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    InboundLadderRejection,
    classify_inbound_request,
    validate_mcp_param_headers,
)
from mcp_types import PROTOCOL_VERSION_META_KEY, SERVER_INFO_META_KEY

from tollhouse.mcp import invoke
from tollhouse.mcp.call import Caller, McpRoute
from tollhouse.mcp.gateway import McpGateway
from tollhouse.mcp.handlers import handle
from tollhouse.mcp.held import STATE_PREFIX, Held, HeldChannel
from tollhouse.mcp.protocol import (
    CAPABILITIES,
    HEADER_MISMATCH,
    MODERN_VERSIONS,
    SERVER_INFO,
    SUPPORTED_VERSIONS,
    Message,
    RpcError,
    error_message,
    is_notification,
    is_response,
)
from tollhouse.mcp.transport import answer, send_accepted, send_json
from tollhouse.pipeline.context import RequestContext

Send = Any
_LISTS = frozenset({"tools/list", "prompts/list", "resources/list", "resources/templates/list"})


def is_modern(headers: dict[str, str], message: Message) -> bool:
    """Whether a message speaks the 2026-07-28 era (by header, envelope or method)."""
    if headers.get("mcp-protocol-version") in MODERN_VERSIONS:
        return True
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    if isinstance(meta, dict) and PROTOCOL_VERSION_META_KEY in meta:
        return True
    return message.get("method") == "server/discover"


def status_of(message: Message) -> int:
    """The HTTP status of a JSON-RPC answer in this era (400/404 for protocol errors)."""
    error = message.get("error")
    code = error.get("code") if isinstance(error, dict) else None
    return ERROR_CODE_HTTP_STATUS.get(code, 200) if isinstance(code, int) else 200


def discover_result(route: McpRoute) -> dict[str, Any]:
    """The ``server/discover`` answer for a route."""
    return {
        "_meta": {SERVER_INFO_META_KEY: SERVER_INFO},
        "resultType": "complete",
        "supportedVersions": list(SUPPORTED_VERSIONS),
        "capabilities": CAPABILITIES,
        "instructions": f"Tools of {', '.join(route.servers)} through the Tollhouse gateway.",
        "cacheScope": "private",
        "ttlMs": 0,
    }


async def _param_headers(
    gateway: McpGateway, caller: Caller, message: Message
) -> InboundLadderRejection | None:
    """``Mcp-Param-*`` headers against the arguments, for tools whose schema declares them."""
    params = message.get("params") or {}
    name, args = params.get("name"), params.get("arguments")
    if not isinstance(name, str):
        return None
    try:
        item = await invoke.find(gateway, caller, "tool", name)
    except RpcError:
        return None  # the call itself reports the unknown tool
    schema = item.body.get("inputSchema")
    return validate_mcp_param_headers(schema, args if isinstance(args, dict) else {}, caller.ctx.headers)


async def serve(
    gateway: McpGateway, route: McpRoute, ctx: RequestContext, send: Send, message: Message
) -> None:
    """Answer one 2026-07-28 message."""
    if is_notification(message) or is_response(message):
        await send_accepted(send, ctx)  # no client-to-server notifications on this wire
        return
    rid = message.get("id")
    checked = classify_inbound_request(
        message, headers=ctx.headers, supported_modern_versions=MODERN_VERSIONS
    )
    if isinstance(checked, InboundLadderRejection):
        await _reject(send, ctx, rid, checked)
        return
    streams = "text/event-stream" in ctx.headers.get("accept", "")
    capabilities = checked.client_capabilities if isinstance(checked.client_capabilities, dict) else {}
    channel = HeldChannel(streams, gateway.config.relay.timeout_s, capabilities)
    caller = Caller(ctx.principal, route, None, channel, ctx, checked.protocol_version)
    method = str(message["method"])
    params = message.get("params") or {}
    if method == "server/discover":
        await send_json(send, ctx, 200, {"jsonrpc": "2.0", "id": rid, "result": discover_result(route)})
        return
    if method == "tools/call":
        mismatch = await _param_headers(gateway, caller, message)
        if mismatch is not None:
            await _reject(send, ctx, rid, mismatch)
            return
    owner = f"{ctx.principal.kind}:{ctx.principal.id}" if ctx.principal is not None else "anonymous"
    state = params.get("requestState")
    try:
        if isinstance(state, str) and state.startswith(STATE_PREFIX):
            held = gateway.held.resume(state, owner, method, params.get("inputResponses"))
        else:
            held = Held(
                owner, method, asyncio.ensure_future(handle(gateway, caller, method, params)), channel
            )
    except RpcError as exc:
        await send_json(send, ctx, 400, error_message(rid, exc))
        return
    task = asyncio.ensure_future(_run(gateway, held, method))
    await answer(send, ctx, rid, task, held.channel, [], status_of)


async def _run(gateway: McpGateway, held: Held, method: str) -> dict[str, Any]:
    result = dict(await gateway.held.next(held))
    result.setdefault("resultType", "complete")
    if method in _LISTS and result["resultType"] == "complete":
        result["cacheScope"] = "private"  # filtered per caller: never shared
        result["ttlMs"] = 0
    return result


async def _reject(send: Send, ctx: RequestContext, rid: Any, rejection: InboundLadderRejection) -> None:
    ctx.error_code = "header_mismatch" if rejection.code == HEADER_MISMATCH else "invalid_envelope"
    error = RpcError(rejection.code, rejection.message, rejection.data)
    await send_json(send, ctx, ERROR_CODE_HTTP_STATUS.get(rejection.code, 400), error_message(rid, error))
