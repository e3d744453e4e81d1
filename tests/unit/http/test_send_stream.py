"""send_stream: what goes out on the ASGI channel for a relayed stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from tollhouse.errors import TollhouseError
from tollhouse.http.endpoints.stream import send_stream
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.phases import CallKind
from tollhouse.providers.protocol import StreamItem, WireChunk

CONTENT = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
DONE = b"data: [DONE]\n\n"


async def _items(*chunks: bytes) -> AsyncIterator[StreamItem]:
    for chunk in chunks:
        yield WireChunk(chunk)


def _run(before_end: Any, *chunks: bytes) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        ctx = RequestContext("req_1", "chat", CallKind.LLM, {}, None, 0.0)
        await send_stream(send, ctx, _items(*chunks), Redactor(()), before_end)

    asyncio.run(main())
    return sent


def test_without_an_end_hook_the_last_content_and_done_are_one_final_write() -> None:
    sent = _run(None, CONTENT, CONTENT + DONE)
    bodies = [(m["body"], m["more_body"]) for m in sent[1:]]
    assert bodies == [(CONTENT, True), (CONTENT + DONE, False)]


def test_an_end_hook_speaks_between_the_content_and_the_final_event() -> None:
    calls: list[str] = []

    async def hook() -> TollhouseError | None:
        calls.append("hook")
        return TollhouseError("refused at the end")

    sent = _run(hook, CONTENT + DONE)
    assert calls == ["hook"]
    assert (sent[1]["body"], sent[1]["more_body"]) == (CONTENT, True)
    assert sent[2]["more_body"] is False and b"refused at the end" in sent[2]["body"]
    assert DONE not in sent[2]["body"]
