"""Sending whole responses and error envelopes over ASGI."""

from __future__ import annotations

import logging
from typing import Any

from tollhouse.dialects.anthropic.errors import error_body as anthropic_error_body
from tollhouse.dialects.openai.errors import error_body
from tollhouse.errors import INTERNAL_ERROR, TollhouseError
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.context import RequestContext

Send = Any  # the ASGI send callable

log = logging.getLogger("tollhouse.http")

JSON = b"application/json"


async def send_bytes(
    send: Send,
    ctx: RequestContext,
    status: int,
    body: bytes,
    content_type: bytes = JSON,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", ctx.request_id.encode()),
    ]
    if extra:
        headers.extend(extra)
    if ctx.response_headers:
        headers.extend(ctx.response_headers)
    ctx.status = status
    if ctx.inflight is not None:
        ctx.inflight.finishing = True  # a disconnect seen from here on is the response's end
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, ctx: RequestContext, error: TollhouseError, redactor: Redactor) -> None:
    """The error in the caller's dialect's envelope (OpenAI's unless the surface set another),
    its message scrubbed of anything secret-shaped."""
    error.message = redactor.scrub(error.message)
    # A policy's refusal (a ``Deny``) is answered here without passing the app's error handler:
    # its code must still reach the metrics' error count and the audit record.
    ctx.error_code = ctx.error_code or error.code or error.type
    extra = [(k.encode(), v.encode()) for k, v in error.headers.items()]
    body = anthropic_error_body(error, ctx.request_id) if ctx.dialect == "anthropic" else error_body(error)
    await send_bytes(send, ctx, error.status, body, extra=extra)


def stream_broke(ctx: RequestContext) -> TollhouseError:
    """For an unexpected exception (being handled) after a stream's first event went out: log
    it and return the error whose event ends the stream cleanly. The stream is not cut off
    mid-chunk, which a client would see as a broken connection rather than an error."""
    log.exception("unhandled error in the %s stream of request %s", ctx.surface, ctx.request_id)
    ctx.error_code = "internal_error"
    return TollhouseError(INTERNAL_ERROR)
