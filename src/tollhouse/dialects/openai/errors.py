"""OpenAI's error envelope: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import orjson

from tollhouse.errors import TollhouseError


def error_body(error: TollhouseError) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": error.message,
                "type": error.type,
                "param": error.param,
                "code": error.code,
                **error.details,
            }
        }
    )


def error_event(error: TollhouseError) -> bytes:
    """An error inside an already-started SSE stream, as OpenAI sends it."""
    return b"data: " + error_body(error) + b"\n\n"
