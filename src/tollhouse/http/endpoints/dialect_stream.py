"""Sending a stream in a dialect with named SSE events (Anthropic Messages, OpenAI Responses).

Canonical events go through the dialect's encoder; ``WireChunk``s (a provider's passthrough
lane in the caller's dialect) are relayed unchanged, their final event held back until the
``on_response`` hooks have spoken.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Protocol

from tollhouse.errors import TollhouseError
from tollhouse.guards.stream_items import inspect_items
from tollhouse.http.body import ClientGone
from tollhouse.http.endpoints.surface import BeforeEnd
from tollhouse.http.responses import Send, stream_broke
from tollhouse.model.stream import StreamEvent
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import StreamItem, WireChunk


class StreamEncoder(Protocol):
    """A dialect's encoder for one stream."""

    final_event: bytes  # how the dialect's last event begins, e.g. b"event: message_stop"

    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...

    def error(self, error: TollhouseError) -> bytes: ...


def _headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
        (b"x-request-id", ctx.request_id.encode()),
        *(ctx.response_headers or ()),
    ]


async def send_dialect_stream(
    send: Send,
    ctx: RequestContext,
    items: AsyncIterator[StreamItem],
    redactor: Redactor,
    before_end: BeforeEnd | None,
    encoder: StreamEncoder,
) -> None:
    """Relay ``items``. Errors before the first item raise (a plain HTTP error in the dialect's
    envelope goes out); after it they end the stream with the dialect's error event."""
    if ctx.stream_inspector is not None:  # guarded: events pass the hold-back window first
        items = inspect_items(ctx, items, ctx.stream_inspector)
    first = await anext(items, None)
    ctx.status = 200
    await send({"type": "http.response.start", "status": 200, "headers": _headers(ctx)})
    capture = ctx.stream_capture = [] if ctx.capture_stream else None
    wire_tail: bytes | None = None
    item = first
    try:
        while item is not None:
            if isinstance(item, WireChunk):
                data = item.data
                at = data.find(encoder.final_event)
                if at >= 0:
                    data, wire_tail = data[:at], data[at:]
            else:
                data = encoder.encode(item)
            if data:
                if ctx.first_byte_at is None:
                    ctx.first_byte_at = time.perf_counter()
                if capture is not None:
                    capture.append(data)
                await send({"type": "http.response.body", "body": data, "more_body": True})
            item = await anext(items, None)
        refused = await before_end() if before_end is not None else None
        if refused is not None:
            raise refused
        tail = wire_tail if wire_tail is not None else encoder.finish()
    except TollhouseError as error:
        error.message = redactor.scrub(error.message)
        ctx.error_code = error.code or error.type
        tail = encoder.error(error)
    except ClientGone:
        raise
    except Exception:
        tail = encoder.error(stream_broke(ctx))
    if capture is not None:
        capture.append(tail)
    if ctx.inflight is not None:
        ctx.inflight.finishing = True  # a disconnect seen from here on is the response's end
    await send({"type": "http.response.body", "body": tail, "more_body": False})
