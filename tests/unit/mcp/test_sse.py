"""Parsing an upstream's event stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson

from tollhouse.mcp.sse import frame, read_events


class _Content:
    def __init__(self, data: bytes) -> None:
        self._lines = data.splitlines(keepends=True)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        for line in self._lines:
            yield line


async def _events(data: bytes) -> list[tuple[str, str, str | None]]:
    content: Any = _Content(data)
    return [(e.event, e.data, e.id) for e in [e async for e in read_events(content)]]


def test_events_comments_and_multiline_data() -> None:
    data = (
        b': keepalive\n\nevent: endpoint\ndata: /messages?s=1\n\nid: 7\ndata: {"a":\ndata: 1}\n\ndata: tail'
    )
    events = asyncio.run(_events(data))
    assert events == [
        ("endpoint", "/messages?s=1", None),
        ("message", '{"a":\n1}', "7"),
        ("message", "tail", "7"),
    ]  # the last event id carries over, as in the SSE spec


def test_frame_round_trips() -> None:
    message = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}}
    events = asyncio.run(_events(frame(message, "e1")))
    assert events == [("message", orjson.dumps(message).decode(), "e1")]
