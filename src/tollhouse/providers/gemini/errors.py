"""Gemini / Vertex AI errors (``{"error": {"code", "message", "status", "details"}}``) and
safety blocks → typed errors.

https://ai.google.dev/gemini-api/docs/troubleshooting: 400 INVALID_ARGUMENT (also a bad API
key, with reason ``API_KEY_INVALID``), 403 PERMISSION_DENIED, 404 NOT_FOUND, 429
RESOURCE_EXHAUSTED, 500 INTERNAL, 503 UNAVAILABLE, 504 DEADLINE_EXCEEDED. A prompt the
safety system blocks is a 200 with ``promptFeedback.blockReason`` and no candidates.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from tollhouse.errors import UpstreamError
from tollhouse.providers.upstream_errors import error_for_status


def _key_invalid(err: dict[str, Any]) -> bool:
    details = err.get("details")
    return isinstance(details, list) and any(
        isinstance(d, dict) and d.get("reason") == "API_KEY_INVALID" for d in details
    )


def map_error(status: int, body: bytes, provider: str, headers: Mapping[str, str]) -> UpstreamError:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, list) and data:  # streamGenerateContent without alt=sse wraps it in an array
        data = data[0]
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return error_for_status(status, "", provider, headers.get("retry-after"))
    if status == 400 and _key_invalid(err):
        status = 401
    return error_for_status(status, str(err.get("message") or ""), provider, headers.get("retry-after"))


def blocked_prompt(body: dict[str, Any], provider: str) -> UpstreamError | None:
    """The content-filter error for a prompt Gemini refused to answer, else ``None``."""
    feedback = body.get("promptFeedback")
    reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if not reason or body.get("candidates"):
        return None
    return error_for_status(400, f"prompt blocked ({reason})", provider, content_filtered=True)
