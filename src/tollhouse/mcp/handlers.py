"""A caller's request, by method, to its answer; each one leaves an ``mcp.call`` record."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tollhouse.audit.writer import AuditWriteFailed
from tollhouse.mcp import invoke
from tollhouse.mcp.audit import record
from tollhouse.mcp.call import Caller, McpCall
from tollhouse.mcp.gateway import McpGateway
from tollhouse.mcp.listing import list_items
from tollhouse.mcp.protocol import (
    AUDIT_UNAVAILABLE,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    RpcError,
    strip_envelope,
)
from tollhouse.mcp.sessions import ClientSession
from tollhouse.mcp.upstream.exchange import CURRENT_SUBJECT, Subject, subject_of
from tollhouse.mcp.upstream.http_link import HttpLink
from tollhouse.mcp.upstream.subject_links import SubjectLinks
from tollhouse.policies.master_key import presented_key

log = logging.getLogger("tollhouse.mcp")
Handler = Callable[[McpGateway, Caller, McpCall, dict[str, Any]], Awaitable[dict[str, Any]]]


async def _ping(gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]) -> dict[str, Any]:
    return {}


async def _set_level(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    return {}  # upstream log lines reach a call's caller whatever the level; nothing to forward


def _lister(method: str) -> Handler:
    async def run(
        gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await list_items(gateway, caller, method, call)

    return run


async def _complete(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    ref = params.get("ref")
    if not isinstance(ref, dict):
        raise RpcError(INVALID_PARAMS, "completion/complete needs a `ref`")
    upstream = dict(strip_envelope(params) or {})
    if ref.get("type") == "ref/prompt" and isinstance(ref.get("name"), str):
        item = await invoke.find(gateway, caller, "prompt", ref["name"])
        upstream["ref"] = {**ref, "name": item.key}
    elif ref.get("type") == "ref/resource" and isinstance(ref.get("uri"), str):
        item = await invoke.find_resource(gateway, caller, ref["uri"])
    else:
        raise RpcError(INVALID_PARAMS, "unknown completion reference")
    call.server, call.name = item.server, item.key
    invoke.authorize(gateway, caller, call, item, None)
    return await invoke.forward(gateway, caller, call, item.server, "completion/complete", upstream)


async def _subscribe(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    """``resources/subscribe``: a session follows a resource it may read."""
    session, uri = _following(caller, call, params)
    item = await invoke.find_resource(gateway, caller, uri)
    call.server, call.name = item.server, uri
    invoke.authorize(gateway, caller, call, item, None)
    if gateway.subscriptions.add(item.server, uri, session.id):
        try:
            await invoke.forward(gateway, caller, call, item.server, "resources/subscribe", {"uri": uri})
        except BaseException:
            gateway.subscriptions.remove(item.server, uri, session.id)
            raise
        link = gateway.links[item.server]
        if isinstance(link, HttpLink | SubjectLinks):
            link.listen()  # its updates come on the standalone stream
    return {}


async def _unsubscribe(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    """``resources/unsubscribe``: the upstream is told when nobody follows the resource any more."""
    session, uri = _following(caller, call, params)
    for server in caller.route.servers:
        if session.id in gateway.subscriptions.followers(server, uri):
            call.server, call.name = server, uri
            if gateway.subscriptions.remove(server, uri, session.id):
                await invoke.forward(gateway, caller, call, server, "resources/unsubscribe", {"uri": uri})
    return {}


def _following(caller: Caller, call: McpCall, params: dict[str, Any]) -> tuple[ClientSession, str]:
    uri = params.get("uri")
    if not isinstance(uri, str):
        raise RpcError(INVALID_PARAMS, f"{call.method} needs a `uri`")
    call.exposed = uri
    if caller.session is None:
        raise RpcError(METHOD_NOT_FOUND, f"{call.method} needs a 2025-11-25 session")
    return caller.session, uri


HANDLERS: dict[str, Handler] = {
    "ping": _ping,
    "logging/setLevel": _set_level,
    "tools/list": _lister("tools/list"),
    "prompts/list": _lister("prompts/list"),
    "resources/list": _lister("resources/list"),
    "resources/templates/list": _lister("resources/templates/list"),
    "tools/call": invoke.call_tool,
    "prompts/get": invoke.get_prompt,
    "resources/read": invoke.read_resource,
    "completion/complete": _complete,
    "resources/subscribe": _subscribe,
    "resources/unsubscribe": _unsubscribe,
}


async def handle(gateway: McpGateway, caller: Caller, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """The result of one request; ``RpcError`` for a JSON-RPC error. Always recorded."""
    call = McpCall(method)
    if gateway.exchanging:  # whose token an exchanging upstream gets (task-local)
        CURRENT_SUBJECT.set(_subject(caller))
    try:
        handler = HANDLERS.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
        result = await handler(gateway, caller, call, params)
    except RpcError as exc:
        if call.outcome == "ok":
            call.outcome = "error"
        call.error_code = exc.code
        await _record(gateway, caller, call)
        raise
    except BaseException:
        call.outcome, call.error = "error", "internal"
        await _record(gateway, caller, call)
        raise
    await _record(gateway, caller, call)
    return result


def _subject(caller: Caller) -> Subject | None:
    p = caller.principal
    if p is None:
        return None
    return subject_of(f"{p.kind}:{p.id}", presented_key(caller.ctx.headers))


async def _record(gateway: McpGateway, caller: Caller, call: McpCall) -> None:
    try:
        await record(gateway.trail, caller, call)
    except AuditWriteFailed as exc:
        log.error("strict audit: MCP %s refused: %s", call.method, exc)
        raise RpcError(AUDIT_UNAVAILABLE, "the audit trail cannot record this call") from None
