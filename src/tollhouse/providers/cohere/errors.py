"""Cohere errors (``{"id", "message"}``) → typed errors (https://docs.cohere.com/reference/errors).

400 bad request, 401 unauthorized, 402 payment required, 404 not found, 422 unprocessable,
429 too many requests, 498 invalid token, 499 request cancelled, 500 server error,
503 service unavailable.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from tollhouse.errors import UpstreamError
from tollhouse.providers.upstream_errors import error_for_status


def map_error(status: int, body: bytes, provider: str, headers: Mapping[str, str]) -> UpstreamError:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    message = str(data.get("message") or "") if isinstance(data, dict) else ""
    if status in (402, 498):
        status = 401  # the gateway's account (payment) or token: an operator problem
    elif status == 499:
        status = 502
    return error_for_status(status, message, provider, headers.get("retry-after"))
