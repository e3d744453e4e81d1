"""Answering a caller's POST over Streamable HTTP: one JSON body, or an SSE stream.

The handler runs as a task; the response is committed to SSE only when the call has
something to send before its answer (progress, a log line, a sampling request) and the
caller accepts ``text/event-stream``. A call that just answers gets plain JSON, the
cheapest form for the common case.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from tollhouse.mcp.protocol import (
    INTERNAL_ERROR,
    REQUEST_CANCELLED,
    Message,
    RpcError,
    error_message,
    result_message,
)
from tollhouse.mcp.sessions import Channel
from tollhouse.mcp.sse import frame
from tollhouse.pipeline.context import RequestContext

log = logging.getLogger("tollhouse.mcp")
Send = Any
JSON = b"application/json"


def _headers(
    ctx: RequestContext, content_type: bytes, extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", content_type), (b"x-request-id", ctx.request_id.encode()), *extra]


async def send_json(
    send: Send, ctx: RequestContext, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A whole JSON response (``body`` None: an empty one)."""
    data = orjson.dumps(body) if body is not None else b""
    headers = _headers(ctx, JSON, extra or [])
    headers.append((b"content-length", str(len(data)).encode()))
    ctx.status = status
    if ctx.inflight is not None:
        ctx.inflight.finishing = True
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def send_accepted(send: Send, ctx: RequestContext) -> None:
    """202 Accepted, no body: the answer to a notification or a response."""
    ctx.status = 202
    headers = [(b"x-request-id", ctx.request_id.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 202, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def reply_of(request_id: Any, task: asyncio.Future[dict[str, Any]]) -> Message:
    """The response message a finished handler task makes."""
    try:
        return result_message(request_id, task.result())
    except asyncio.CancelledError:  # the caller cancelled it (notifications/cancelled)
        return error_message(request_id, RpcError(REQUEST_CANCELLED, "request cancelled"))
    except RpcError as exc:
        return error_message(request_id, exc)
    except Exception as exc:  # a bug must still answer the request
        log.error("MCP handler failed", exc_info=exc)
        return error_message(request_id, RpcError(INTERNAL_ERROR, "internal error; see the gateway log"))


async def answer(
    send: Send,
    ctx: RequestContext,
    request_id: Any,
    task: asyncio.Future[dict[str, Any]],
    channel: Channel,
    extra: list[tuple[bytes, bytes]],
    status_of: Callable[[Message], int] | None = None,
) -> None:
    """Send the answer of the handler ``task``: JSON, or SSE when it talks first."""
    getter = asyncio.ensure_future(channel.queue.get())
    try:
        done, _ = await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
        if task in done and getter not in done:
            getter.cancel()
            message = reply_of(request_id, task)
            await send_json(send, ctx, status_of(message) if status_of else 200, message, extra)
            return
        await _stream(send, ctx, request_id, task, getter, channel, extra)
    finally:
        getter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _stream(
    send: Send,
    ctx: RequestContext,
    request_id: Any,
    task: asyncio.Future[dict[str, Any]],
    getter: asyncio.Future[Message],
    channel: Channel,
    extra: list[tuple[bytes, bytes]],
) -> None:
    headers = _headers(ctx, b"text/event-stream", [(b"cache-control", b"no-cache"), *extra])
    ctx.status = 200
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if ctx.first_byte_at is None:
        ctx.first_byte_at = time.perf_counter()
    while True:
        if getter.done():
            await send({"type": "http.response.body", "body": frame(getter.result()), "more_body": True})
            getter = asyncio.ensure_future(channel.queue.get())
        if task.done():
            getter.cancel()
            break
        await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
    tail = b"".join(frame(channel.queue.get_nowait()) for _ in range(channel.queue.qsize()))
    if ctx.inflight is not None:
        ctx.inflight.finishing = True
    await send({"type": "http.response.body", "body": tail + frame(reply_of(request_id, task))})


async def stream_outbox(
    send: Send, ctx: RequestContext, outbox: asyncio.Queue[Message], keepalive_s: float = 25.0
) -> None:
    """A session's standalone SSE stream: each queued message, and a comment line when idle
    (so proxies keep it open and a vanished client is noticed). An empty message (the session
    ended) closes it; otherwise it ends when the client leaves (the task is cancelled)."""
    headers = _headers(ctx, b"text/event-stream", [(b"cache-control", b"no-cache")])
    ctx.status = 200
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    if ctx.first_byte_at is None:
        ctx.first_byte_at = time.perf_counter()
    await send({"type": "http.response.body", "body": b": stream open\n\n", "more_body": True})
    while True:
        try:
            async with asyncio.timeout(keepalive_s):
                message = await outbox.get()
        except TimeoutError:
            await send({"type": "http.response.body", "body": b": keepalive\n\n", "more_body": True})
            continue
        if not message:
            if ctx.inflight is not None:
                ctx.inflight.finishing = True
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.body", "body": frame(message), "more_body": True})
