"""Reading a request body under a size limit and a deadline."""

from __future__ import annotations

import asyncio
from typing import Any

from tollhouse.errors import InvalidRequest, PayloadTooLarge, RequestTimeout
from tollhouse.http.inflight import Tracked


class ClientGone(Exception):
    """The client disconnected before its request was complete."""


async def _read(receive: Any, limit: int) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):  # the common case: one message, no copying
        if len(body) > limit:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes")
        return body
    chunks = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body(
    receive: Any, headers: dict[str, str], limit: int, timeout: float, tracked: Tracked | None = None
) -> bytes:
    """The whole body; 413 as soon as it is known to be too large, 408 if it comes too slowly.

    With ``tracked`` (the app's in-flight entry) the process-wide sweeper enforces the deadline,
    which costs a field assignment instead of a timer per request.
    """
    declared = headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise InvalidRequest("invalid Content-Length header", code="invalid_header")
        if int(declared) > limit:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes")
    if tracked is None:
        try:
            async with asyncio.timeout(timeout):
                return await _read(receive, limit)
        except TimeoutError:
            raise RequestTimeout(f"request body not received within {timeout:g} s") from None
    # The Tracked fields are set directly (not through its methods): this runs on every request.
    tracked.body_deadline = asyncio.get_running_loop().time() + timeout
    try:
        body = await _read(receive, limit)
    except asyncio.CancelledError:
        if tracked.consume_timeout():
            raise RequestTimeout(f"request body not received within {timeout:g} s") from None
        raise
    finally:
        tracked.body_deadline = None
    tracked.watch = True  # the body is read: from now on a disconnect watcher may read receive
    return body
