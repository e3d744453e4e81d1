"""Ollama errors (``{"error": "…"}``, also as the last NDJSON line of a failed stream) → typed errors."""

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
    message = str(data.get("error") or "") if isinstance(data, dict) else ""
    return error_for_status(status, message, provider, headers.get("retry-after"))
