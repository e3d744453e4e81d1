"""Sending a chat stream as OpenAI server-sent events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import orjson

from tollhouse.dialects.openai.encode import ChunkEncoder
from tollhouse.dialects.openai.errors import error_event
from tollhouse.errors import TollhouseError
from tollhouse.http.responses import Send
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import StreamItem, WireChunk

_DONE = b"data: [DONE]\n\n"


def _headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),  # keep reverse proxies from buffering the stream
        (b"x-request-id", ctx.request_id.encode()),
    ]


async def send_stream(
    send: Send, ctx: RequestContext, items: AsyncIterator[StreamItem], redactor: Redactor
) -> None:
    """Relay ``items``. Errors before the first item raise (a normal HTTP error goes out);
    errors after it end the stream with an OpenAI error event."""
    first = await anext(items, None)  # fails over the plain-HTTP path while nothing is sent
    ctx.status = 200
    await send({"type": "http.response.start", "status": 200, "headers": _headers(ctx)})
    options = ctx.payload.get("stream_options")
    encoder = ChunkEncoder(include_usage=isinstance(options, dict) and options.get("include_usage") is True)
    canonical = False
    item = first
    try:
        while item is not None:
            if isinstance(item, WireChunk):
                data = item.data
            else:
                canonical = True
                chunk = encoder.encode(item)
                data = b"data: " + orjson.dumps(chunk) + b"\n\n" if chunk is not None else b""
            if data:
                if ctx.first_byte_at is None:
                    ctx.first_byte_at = time.perf_counter()
                await send({"type": "http.response.body", "body": data, "more_body": True})
            item = await anext(items, None)
        tail = _DONE if canonical else b""
    except TollhouseError as error:
        error.message = redactor.scrub(error.message)
        ctx.error_code = error.code or error.type
        tail = error_event(error)
    await send({"type": "http.response.body", "body": tail, "more_body": False})
