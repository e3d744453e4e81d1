"""Anthropic error responses (``{"type": "error", "error": {"type", "message"}}``) → typed errors.

https://docs.anthropic.com/en/api/errors: 400 invalid_request_error, 401 authentication_error,
403 permission_error, 404 not_found_error, 413 request_too_large, 429 rate_limit_error,
500 api_error, 529 overloaded_error. A stream that already began reports failures as an
``error`` event with the same body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from tollhouse.errors import UpstreamError
from tollhouse.providers.upstream_errors import error_for_status

_STATUS_BY_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def _detail(data: Any) -> tuple[str, str]:
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return "", ""
    return str(err.get("type") or ""), str(err.get("message") or "")


def map_error(status: int, body: bytes, provider: str, headers: Mapping[str, str]) -> UpstreamError:
    try:
        message = _detail(orjson.loads(body))[1]
    except orjson.JSONDecodeError:
        message = ""
    return error_for_status(status, message, provider, headers.get("retry-after"))


def stream_error(data: dict[str, Any], provider: str) -> UpstreamError:
    """An ``error`` event inside a stream, typed as its HTTP status would have been."""
    kind, message = _detail(data)
    return error_for_status(_STATUS_BY_TYPE.get(kind, 500), message, provider)
