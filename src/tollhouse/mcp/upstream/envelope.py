"""Speaking 2026-07-28 to an upstream: every request carries the ``_meta`` envelope and
mirrors its routing fields in headers; an ``input_required`` result is answered by asking
the caller (through the call's relay) and retrying with ``inputResponses``."""

from __future__ import annotations

from typing import Any

from mcp.shared.inbound import (
    NAME_BEARING_METHODS,
    encode_header_value,
    find_invalid_x_mcp_header,
    mcp_param_headers,
    x_mcp_header_map,
)
from mcp_types import CLIENT_CAPABILITIES_META_KEY, CLIENT_INFO_META_KEY, PROTOCOL_VERSION_META_KEY

from tollhouse.mcp.protocol import INTERNAL_ERROR, MODERN_VERSIONS, RpcError
from tollhouse.mcp.upstream.link import CLIENT_CAPABILITIES, CLIENT_INFO, Relay

MODERN = MODERN_VERSIONS[-1]
MAX_ROUNDS = 8


def stamp(
    method: str, params: dict[str, Any] | None, schema: Any = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """``params`` with the envelope, and the routing headers that mirror it (for a tool whose
    ``schema`` marks arguments with ``x-mcp-header``, their ``Mcp-Param-*`` headers too)."""
    body = dict(params or {})
    meta = dict(body.get("_meta") or {})
    meta[PROTOCOL_VERSION_META_KEY] = MODERN
    meta[CLIENT_CAPABILITIES_META_KEY] = CLIENT_CAPABILITIES
    meta[CLIENT_INFO_META_KEY] = CLIENT_INFO
    body["_meta"] = meta
    headers = {"mcp-protocol-version": MODERN, "mcp-method": method}
    field = NAME_BEARING_METHODS.get(method)
    if field is not None and isinstance(body.get(field), str):
        headers["mcp-name"] = encode_header_value(body[field])
    args = body.get("arguments")
    mirrored = isinstance(schema, dict) and find_invalid_x_mcp_header(schema) is None
    if method == "tools/call" and mirrored and isinstance(args, dict):
        headers.update(mcp_param_headers(x_mcp_header_map(schema), args))
    return body, headers


async def answers(relay: Relay | None, result: dict[str, Any]) -> dict[str, Any]:
    """The caller's answers to an ``input_required`` result's requests."""
    asked = result.get("inputRequests")
    if not isinstance(asked, dict) or not asked:
        return {}
    if relay is None:
        raise RpcError(INTERNAL_ERROR, "the MCP server needs input, and there is no caller to ask")
    out: dict[str, Any] = {}
    for key, request in asked.items():
        if isinstance(request, dict) and isinstance(request.get("method"), str):
            params = request.get("params")
            out[key] = await relay.ask(request["method"], params if isinstance(params, dict) else None)
    return out


def retry_params(
    params: dict[str, Any] | None, result: dict[str, Any], given: dict[str, Any]
) -> dict[str, Any]:
    """The request again, with the caller's answers and the server's state."""
    retry = dict(params or {})
    retry["inputResponses"] = given
    if isinstance(result.get("requestState"), str):
        retry["requestState"] = result["requestState"]
    return retry
