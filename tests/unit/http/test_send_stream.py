"""send_stream and send_dialect_stream: what goes out on the ASGI channel for a stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tollhouse.dialects.anthropic.stream import MessageStreamEncoder
from tollhouse.errors import TollhouseError
from tollhouse.http.endpoints.dialect_stream import send_dialect_stream
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


async def _breaks_after(chunk: bytes) -> AsyncIterator[StreamItem]:
    yield WireChunk(chunk)
    raise RuntimeError("a bug, with a detail the caller must not see: sk-live-0123456789")


def _run_broken(send_it: Any) -> tuple[RequestContext, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    ctx = RequestContext("req_1", "chat", CallKind.LLM, {}, None, 0.0)
    asyncio.run(send_it(send, ctx))
    return ctx, sent


def test_a_bug_after_the_first_event_ends_an_openai_stream_with_an_error_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def send_it(send: Any, ctx: RequestContext) -> Any:
        return send_stream(send, ctx, _breaks_after(CONTENT), Redactor(()), None)

    ctx, sent = _run_broken(send_it)
    assert sent[0]["status"] == 200 and (sent[1]["body"], sent[1]["more_body"]) == (CONTENT, True)
    last = sent[-1]
    assert last["more_body"] is False and b'"error"' in last["body"]  # a clean end, not a cut
    assert b"internal error; see the gateway log" in last["body"] and b"sk-live" not in last["body"]
    assert ctx.error_code == "internal_error"
    assert "a bug, with a detail" in caplog.text  # the operator gets the traceback


def test_a_bug_after_the_first_event_ends_an_anthropic_stream_with_an_error_event() -> None:
    def send_it(send: Any, ctx: RequestContext) -> Any:
        encoder = MessageStreamEncoder("claude-test")
        return send_dialect_stream(send, ctx, _breaks_after(b"event: ping\n\n"), Redactor(()), None, encoder)

    ctx, sent = _run_broken(send_it)
    last = sent[-1]
    assert last["more_body"] is False and b"event: error" in last["body"]
    assert b"internal error; see the gateway log" in last["body"] and b"sk-live" not in last["body"]
    assert ctx.error_code == "internal_error"
