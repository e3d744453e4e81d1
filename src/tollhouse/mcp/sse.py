"""Server-sent events: parsing an upstream's stream and framing events for a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import orjson

from tollhouse.mcp.protocol import Message

_MAX_EVENT = 16 * 1024 * 1024


class SseEvent:
    """One server-sent event: its name, data and last event id."""

    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: str, ident: str | None) -> None:
        self.event = event
        self.data = data
        self.id = ident


async def read_events(content: aiohttp.StreamReader) -> AsyncIterator[SseEvent]:
    """The events of an SSE body, as they arrive (comments and retry hints skipped)."""
    event, ident = "message", None
    data: list[str] = []
    size = 0
    async for raw in content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield SseEvent(event, "\n".join(data), ident)
            event, data, size = "message", [], 0
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            size += len(value)
            if size > _MAX_EVENT:
                raise ValueError("an SSE event exceeds 16 MiB")
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            ident = value
    if data:
        yield SseEvent(event, "\n".join(data), ident)


def frame(message: Message, event_id: str | None = None) -> bytes:
    """One JSON-RPC message as an SSE ``message`` event."""
    head = b"id: " + event_id.encode() + b"\n" if event_id else b""
    return head + b"event: message\ndata: " + orjson.dumps(message) + b"\n\n"
