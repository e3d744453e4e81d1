"""Sending a chat stream as OpenAI server-sent events."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson

from tollhouse.dialects.openai.encode import ChunkEncoder
from tollhouse.dialects.openai.errors import error_event
from tollhouse.errors import TollhouseError
from tollhouse.guards.stream_items import inspect_items
from tollhouse.http.body import ClientGone
from tollhouse.http.responses import Send, stream_broke
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import StreamItem, WireChunk

_DONE = b"data: [DONE]\n\n"
_DONE_LINE = b"data: [DONE]"
_DONE_AFTER_LINE = b"\n" + _DONE_LINE

BeforeEnd = Callable[[], Awaitable[TollhouseError | None]]


def _headers(ctx: RequestContext) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),  # keep reverse proxies from buffering the stream
        (b"x-request-id", ctx.request_id.encode()),
        *(ctx.response_headers or ()),
    ]


def _split_done(data: bytes) -> tuple[bytes, bytes]:
    """Separate a trailing ``[DONE]`` event, so policies can speak before the stream ends."""
    if data.startswith(_DONE_LINE):
        return b"", data
    at = data.rfind(_DONE_AFTER_LINE)  # at a line start: content text cannot hold a raw newline
    return (data[: at + 1], data[at + 1 :]) if at >= 0 else (data, b"")


async def send_stream(
    send: Send,
    ctx: RequestContext,
    items: AsyncIterator[StreamItem],
    redactor: Redactor,
    before_end: BeforeEnd | None,
) -> None:
    """Relay ``items``. Errors before the first item raise (a normal HTTP error goes out);
    errors after it end the stream with an OpenAI error event. ``before_end`` runs after the
    last content and before the final event; an error it returns replaces that event.

    Without ``before_end`` (no policy speaks at the end), a relayed stream's last content
    goes out with its ``[DONE]`` as the final message: one write to the client, not two."""
    if ctx.stream_inspector is not None:  # guarded: events pass the hold-back window first
        items = inspect_items(ctx, items, ctx.stream_inspector)
    first = await anext(items, None)  # raises while nothing is sent: a plain HTTP error, fallback-able
    ctx.status = 200
    await send({"type": "http.response.start", "status": 200, "headers": _headers(ctx)})
    encoder: ChunkEncoder | None = None  # made at the first canonical event: relays need none
    capture = ctx.stream_capture = [] if ctx.capture_stream else None
    tail = _DONE
    ended = False  # the final message went out with the last content
    item = first
    try:
        while item is not None:
            if isinstance(item, WireChunk):
                data, done = _split_done(item.data)
                if done:
                    tail = done
                    if before_end is None and not ended:
                        _note_content(ctx, capture, data)
                        ended = True
                        await _send_final(send, ctx, data + done)
                        data = b""
            else:
                if encoder is None:
                    options = ctx.payload.get("stream_options")
                    usage = isinstance(options, dict) and options.get("include_usage") is True
                    encoder = ChunkEncoder(include_usage=usage)
                chunk = encoder.encode(item)
                data = b"data: " + orjson.dumps(chunk) + b"\n\n" if chunk is not None else b""
            if data and not ended:
                _note_content(ctx, capture, data)
                await send({"type": "http.response.body", "body": data, "more_body": True})
            item = await anext(items, None)  # also after the end: the relay settles its usage
        refused = await before_end() if before_end is not None else None
        if refused is not None:
            raise refused
    except TollhouseError as error:
        if ended:  # the caller has the whole answer: an upstream failing after it changes nothing
            return
        error.message = redactor.scrub(error.message)
        ctx.error_code = error.code or error.type
        tail = error_event(error)
    except ClientGone:
        raise
    except Exception:
        broke = stream_broke(ctx)
        if ended:
            return
        tail = error_event(broke)
    if not ended:
        await _send_final(send, ctx, tail)


def _note_content(ctx: RequestContext, capture: list[bytes] | None, data: bytes) -> None:
    if data:
        if ctx.first_byte_at is None:
            ctx.first_byte_at = time.perf_counter()
        if capture is not None:
            capture.append(data)


async def _send_final(send: Send, ctx: RequestContext, body: bytes) -> None:
    if ctx.inflight is not None:
        ctx.inflight.finishing = True  # a disconnect seen from here on is the response's end
    await send({"type": "http.response.body", "body": body, "more_body": False})
