"""Using one tool, prompt or resource: the checks in order, then the upstream.

resolve the name on the route        unknown → invalid params
authorize (scopes, Cedar with args)  denied → forbidden
pinned definition approved?          pending / changed → blocked (mode block)
tool-call limits                     exceeded → rate limited
guards over the arguments            block → blocked; redact → rewritten
human approval (configured tools)    denied / timed out → approval denied
the upstream call (its timeout)      failures → upstream error
guards over the result               block → an `isError` result; redact → rewritten
"""

from __future__ import annotations

from typing import Any

from tollhouse.errors import TollhouseError, UpstreamTimeout
from tollhouse.mcp.call import Caller, McpCall, digest
from tollhouse.mcp.catalog import Definition
from tollhouse.mcp.gateway import McpGateway
from tollhouse.mcp.protocol import (
    BLOCKED,
    FORBIDDEN,
    INVALID_PARAMS,
    UPSTREAM_ERROR,
    UPSTREAM_TIMEOUT,
    RpcError,
    strip_envelope,
)
from tollhouse.mcp.relay import CallRelay

_LIST_OF = {"tool": "tools/list", "prompt": "prompts/list"}


def _as_rpc(exc: TollhouseError) -> RpcError:
    """An upstream failure while looking a name up (its list could not be fetched)."""
    code = UPSTREAM_TIMEOUT if isinstance(exc, UpstreamTimeout) else UPSTREAM_ERROR
    return RpcError(code, exc.message)


async def find(gateway: McpGateway, caller: Caller, kind: str, exposed: str) -> Definition:
    """The definition a caller names (a tool or prompt), or an invalid-params error."""
    resolved = caller.route.names.resolve(exposed)
    if resolved is not None:
        server, name = resolved
        try:
            item = await gateway.catalogs[server].find(_LIST_OF[kind], name)
        except TollhouseError as exc:
            raise _as_rpc(exc) from exc
        if item is not None:
            return item
    raise RpcError(INVALID_PARAMS, f"Unknown {kind}: {exposed}")


async def find_resource(gateway: McpGateway, caller: Caller, uri: str) -> Definition:
    """The server behind a resource URI: the one listing it, else one whose template fits."""
    try:
        return await _find_resource(gateway, caller, uri)
    except TollhouseError as exc:
        raise _as_rpc(exc) from exc


async def _find_resource(gateway: McpGateway, caller: Caller, uri: str) -> Definition:
    for server in caller.route.servers:
        item = await gateway.catalogs[server].find("resources/list", uri)
        if item is not None:
            return item
    for server in caller.route.servers:
        for template in await gateway.catalogs[server].items("resources/templates/list"):
            prefix = template.key.split("{", 1)[0]
            if prefix and uri.startswith(prefix):
                return Definition(server, "resource", uri, {"uri": uri, "template": template.key})
    raise RpcError(INVALID_PARAMS, f"Unknown resource: {uri}")


def authorize(gateway: McpGateway, caller: Caller, call: McpCall, item: Definition, args: Any) -> None:
    """Refuse (``RpcError``) unless scopes and Cedar allow the caller ``item`` with ``args``."""
    permission = gateway.authorizer.check(caller.principal, item.kind, item.server, item.key, args)
    if permission.allowed:
        call.detail["authz"] = permission.note
        return
    call.deny("denied", "authorize", permission.note)
    who = caller.principal.id if caller.principal is not None else "caller"
    raise RpcError(FORBIDDEN, f"{who} may not use {item.kind} {call.exposed} (denied: {permission.note})")


def check_pin(gateway: McpGateway, call: McpCall, item: Definition) -> None:
    """Refuse a definition that is not approved (pinning mode ``block``)."""
    pins = gateway.pins
    if pins is None:
        return
    if not pins.usable(item):
        pins.observe([item])  # called before it was ever listed: judge it now
    status = pins.status(item)
    call.detail["pin"] = status
    if not pins.usable(item):
        call.deny("blocked", "pinning", status)
        raise RpcError(
            BLOCKED,
            f"{item.kind} {call.exposed} is blocked until an operator approves its definition ({status})",
        )


async def forward(
    gateway: McpGateway, caller: Caller, call: McpCall, server: str, method: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Send the request upstream with the call's relay; failures as JSON-RPC errors."""
    relay = CallRelay(caller.channel, gateway.config.relay, server)
    try:
        return await gateway.links[server].request(method, params, relay)
    except RpcError as exc:
        call.outcome, call.error_code, call.error = "error", exc.code, "upstream"
        raise
    except TollhouseError as exc:
        code = UPSTREAM_TIMEOUT if isinstance(exc, UpstreamTimeout) else UPSTREAM_ERROR
        call.outcome, call.error_code, call.error = "error", code, exc.code or exc.type
        raise RpcError(code, exc.message) from exc
    finally:
        if relay.asked:
            call.detail["relayed"] = list(relay.asked)


async def call_tool(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    """``tools/call``: every check in order, then the upstream."""
    exposed = params.get("name")
    if not isinstance(exposed, str):
        raise RpcError(INVALID_PARAMS, "tools/call needs a tool `name`")
    args = params.get("arguments")
    args = args if isinstance(args, dict) else {}
    call.exposed = exposed
    item = await find(gateway, caller, "tool", exposed)
    call.server, call.name, call.args_sha256 = item.server, item.key, digest(args)
    authorize(gateway, caller, call, item, args)
    check_pin(gateway, call, item)
    if gateway.limits is not None:
        await gateway.limits.admit(caller, call, item)
    if gateway.guards is not None:
        args = await gateway.guards.check_args(caller, call, item, args)
    if gateway.approvals is not None:
        await gateway.approvals.hold(caller, call, item, args)
    upstream = {**(strip_envelope(params) or {}), "name": item.key, "arguments": args}
    result = await forward(gateway, caller, call, item.server, "tools/call", upstream)
    if gateway.guards is not None:
        result = await gateway.guards.check_result(caller, call, item, result)
    if result.get("isError") is True:
        call.outcome = "tool_error" if call.outcome == "ok" else call.outcome
    call.result_sha256 = digest(result)
    return result


async def get_prompt(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    """``prompts/get``: authorized, pinned, its messages guarded."""
    exposed = params.get("name")
    if not isinstance(exposed, str):
        raise RpcError(INVALID_PARAMS, "prompts/get needs a prompt `name`")
    args = params.get("arguments") if isinstance(params.get("arguments"), dict) else {}
    call.exposed = exposed
    item = await find(gateway, caller, "prompt", exposed)
    call.server, call.name, call.args_sha256 = item.server, item.key, digest(args)
    authorize(gateway, caller, call, item, args)
    check_pin(gateway, call, item)
    upstream = {**(strip_envelope(params) or {}), "name": item.key}
    result = await forward(gateway, caller, call, item.server, "prompts/get", upstream)
    if gateway.guards is not None:
        result = await gateway.guards.check_result(caller, call, item, result)
    call.result_sha256 = digest(result)
    return result


async def read_resource(
    gateway: McpGateway, caller: Caller, call: McpCall, params: dict[str, Any]
) -> dict[str, Any]:
    """``resources/read``: authorized, its contents guarded."""
    uri = params.get("uri")
    if not isinstance(uri, str):
        raise RpcError(INVALID_PARAMS, "resources/read needs a `uri`")
    call.exposed = uri
    item = await find_resource(gateway, caller, uri)
    call.server, call.name = item.server, uri
    authorize(gateway, caller, call, item, None)
    if "template" not in item.body:
        check_pin(gateway, call, item)
    result = await forward(gateway, caller, call, item.server, "resources/read", strip_envelope(params) or {})
    if gateway.guards is not None:
        result = await gateway.guards.check_result(caller, call, item, result)
    call.result_sha256 = digest(result)
    return result
