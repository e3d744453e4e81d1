"""Anthropic's error envelope: ``{"type": "error", "error": {"type", "message"}, "request_id"}``.

The HTTP status stays the gateway's; the error ``type`` is the one Anthropic documents for
that status (other 4xx are ``invalid_request_error``, other 5xx ``api_error``).
"""

from __future__ import annotations

import orjson

from tollhouse.errors import TollhouseError

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    """Anthropic's error type for an HTTP status."""
    known = _TYPES.get(status)
    if known is not None:
        return known
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


def error_json(error: TollhouseError, request_id: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "type": "error",
        "error": {"type": error_type(error.status), "message": error.message, **error.details},
    }
    if request_id:
        body["request_id"] = request_id
    return body


def error_body(error: TollhouseError, request_id: str | None = None) -> bytes:
    return orjson.dumps(error_json(error, request_id))


def error_event(error: TollhouseError) -> bytes:
    """An error inside an already-started stream, as Anthropic sends it (then the stream ends)."""
    return b"event: error\ndata: " + orjson.dumps(error_json(error)) + b"\n\n"
