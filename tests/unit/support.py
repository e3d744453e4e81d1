"""Small builders shared by the unit tests: real request contexts and ASGI ``receive`` callables."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import orjson

from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.phases import CallKind

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]


class ScriptedReceive:
    """An ASGI ``receive`` that returns the given messages in order, then waits forever.

    ``calls`` counts how many times it was awaited, so a test can tell how much was read.
    """

    def __init__(self, messages: Iterable[Message]) -> None:
        self._messages = list(messages)
        self.calls = 0

    async def __call__(self) -> Message:
        self.calls += 1
        if self._messages:
            return self._messages.pop(0)
        await asyncio.Event().wait()  # like a client that never sends the rest
        raise AssertionError("unreachable")


def body_messages(body: bytes, chunk: int | None = None) -> list[Message]:
    """``body`` as ``http.request`` messages of at most ``chunk`` bytes (one message if None)."""
    if chunk is None or len(body) <= chunk:
        return [{"type": "http.request", "body": body, "more_body": False}]
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    return [
        {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
        for i, part in enumerate(parts)
    ]


def make_ctx(
    surface: str = "chat",
    *,
    headers: dict[str, str] | None = None,
    receive: Receive | None = None,
    payload: dict[str, Any] | None = None,
    kind: CallKind = CallKind.LLM,
) -> RequestContext:
    """A real ``RequestContext``; with ``payload`` the body is already read and decoded."""
    ctx = RequestContext(
        request_id="req-test",
        surface=surface,
        kind=kind,
        headers=headers or {},
        receive=receive or ScriptedReceive([]),
        started=time.perf_counter(),
    )
    if payload is not None:
        ctx.payload = payload
        ctx.body = orjson.dumps(payload)
        ctx.model = str(payload.get("model", ""))
        ctx.stream = payload.get("stream") is True
    return ctx
