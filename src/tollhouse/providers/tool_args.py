"""Tool-call arguments between canonical JSON text and the parsed objects native APIs carry."""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.errors import InvalidRequest


def parse_arguments(arguments: str, call_id: str) -> Any:
    """A tool call's JSON arguments as an object; empty text is an empty object."""
    if not arguments.strip():
        return {}
    try:
        return orjson.loads(arguments)
    except orjson.JSONDecodeError:
        raise InvalidRequest(
            f"tool call {call_id!r} has arguments that are not valid JSON", param="messages"
        ) from None


def dump_arguments(value: Any) -> str:
    """Parsed arguments as compact JSON text, the canonical form."""
    return orjson.dumps(value if value is not None else {}).decode()
