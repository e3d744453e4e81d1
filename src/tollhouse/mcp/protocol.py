"""JSON-RPC and MCP wire basics: message shapes, error codes, protocol eras.

The version registry and error codes come from the official SDK's ``mcp_types`` so the
gateway speaks exactly the revisions the SDK does.
"""

from __future__ import annotations

from typing import Any

from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, LATEST_HANDSHAKE_VERSION, MODERN_PROTOCOL_VERSIONS

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
REQUEST_CANCELLED = -32800
UNSUPPORTED_PROTOCOL_VERSION = -32022
# Gateway-defined server errors (the -32000..-32099 range is the implementation's).
UNAUTHENTICATED = -32001  # with HTTP 401/403/429 from authentication
FORBIDDEN = -32003
UPSTREAM_ERROR = -32010
UPSTREAM_TIMEOUT = -32011
RATE_LIMITED = -32029
APPROVAL_DENIED = -32030
BLOCKED = -32031
AUDIT_UNAVAILABLE = -32032

HANDSHAKE_VERSIONS: tuple[str, ...] = tuple(HANDSHAKE_PROTOCOL_VERSIONS)
MODERN_VERSIONS: tuple[str, ...] = tuple(MODERN_PROTOCOL_VERSIONS)
LATEST_HANDSHAKE = LATEST_HANDSHAKE_VERSION
SUPPORTED_VERSIONS = (*HANDSHAKE_VERSIONS, *MODERN_VERSIONS)
ENVELOPE_PREFIX = "io.modelcontextprotocol/"  # reserved `_meta` keys of the 2026-07-28 envelope

Message = dict[str, Any]

SERVER_INFO = {"name": "tollhouse", "title": "Tollhouse MCP gateway", "version": "0.1"}
CAPABILITIES: dict[str, Any] = {
    "tools": {"listChanged": False},
    "prompts": {"listChanged": False},
    "resources": {"subscribe": False, "listChanged": False},
    "completions": {},
    "logging": {},
}
# A 2025-11-25 session can follow resources (updates come on its standalone GET stream).
SESSION_CAPABILITIES: dict[str, Any] = {
    **CAPABILITIES,
    "resources": {"subscribe": True, "listChanged": False},
}


class RpcError(Exception):
    """A JSON-RPC error to send back (or one an upstream sent us)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def is_request(message: Message) -> bool:
    return "method" in message and "id" in message


def is_notification(message: Message) -> bool:
    return "method" in message and "id" not in message


def is_response(message: Message) -> bool:
    return "method" not in message and "id" in message and ("result" in message or "error" in message)


def result_message(request_id: Any, result: dict[str, Any]) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_message(request_id: Any, error: RpcError) -> Message:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}


def request_message(request_id: Any, method: str, params: dict[str, Any] | None) -> Message:
    message: Message = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification_message(method: str, params: dict[str, Any] | None) -> Message:
    message: Message = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    return message


def valid_shape(message: Any) -> bool:
    """A single JSON-RPC 2.0 message (batches are not part of the 2025-06-18+ transports)."""
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return False
    if "method" in message:
        ident = message.get("id")
        if "id" in message and (isinstance(ident, bool) or not isinstance(ident, str | int)):
            return False
        return isinstance(message["method"], str) and isinstance(message.get("params", {}), dict)
    return "id" in message and ("result" in message or "error" in message)


def strip_envelope(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """``params`` without the 2026-07-28 per-request envelope keys in ``_meta`` (they
    describe the caller's hop, not the upstream's)."""
    if not params or not isinstance(params.get("_meta"), dict):
        return params
    meta = {k: v for k, v in params["_meta"].items() if not k.startswith(ENVELOPE_PREFIX)}
    out = {k: v for k, v in params.items() if k != "_meta"}
    if meta:
        out["_meta"] = meta
    return out


def progress_token(params: dict[str, Any] | None) -> Any:
    """The caller's ``_meta.progressToken``, if it sent one."""
    meta = params.get("_meta") if params else None
    return meta.get("progressToken") if isinstance(meta, dict) else None


def negotiate(requested: Any) -> str:
    """The handshake version to answer an ``initialize`` with: the client's when we speak it."""
    return requested if requested in HANDSHAKE_VERSIONS else LATEST_HANDSHAKE
