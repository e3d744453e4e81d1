"""A provider's stream, as the stream inspector sees it and the sender then sends it.

Canonical events go through the inspector as they are. Passthrough chunks (``WireChunk``:
SSE bytes already in the caller's dialect) are decoded first — OpenAI chunks by the
OpenAI-compatible stream decoder, Anthropic events by the Anthropic one — because a
redaction or a cut can fall anywhere inside a chunk, and the sender re-encodes the released
events with the surface's encoder. Only a guarded stream pays for this; an unguarded
passthrough stream never reaches this module.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from typing import Protocol

from tollhouse.errors import TollhouseError
from tollhouse.model.stream import StreamEvent
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import StreamItem, WireChunk


class StreamInspector(Protocol):
    """What a sender feeds every outgoing event through (``ctx.stream_inspector``)."""

    @property
    def blocked(self) -> TollhouseError | None:
        """The error that ended the stream, once a guard blocked it."""

    def feed(self, event: StreamEvent) -> list[StreamEvent]: ...

    def finish(self) -> list[StreamEvent]: ...

    async def settle(self) -> None:
        """Finish what must be stored before a block is reported (held tool calls)."""

    def close(self) -> None: ...


class _WireDecoder(Protocol):
    def feed(self, data: bytes) -> Iterable[StreamEvent]: ...

    def finish(self) -> Iterable[StreamEvent]: ...


class _OpenAIWire:
    def __init__(self, ctx: RequestContext) -> None:
        from tollhouse.providers.openai_compatible.stream import StreamDecoder

        self._decoder = StreamDecoder(ctx.provider or "upstream", 0)

    def feed(self, data: bytes) -> Iterable[StreamEvent]:
        return self._decoder.feed(data)

    def finish(self) -> Iterable[StreamEvent]:
        return self._decoder.finish()


class _AnthropicWire:
    def __init__(self, ctx: RequestContext) -> None:
        from tollhouse.providers.anthropic.stream import StreamDecoder

        self._ctx = ctx
        self._decoder = StreamDecoder(ctx.provider or "upstream", int(time.time()))

    def feed(self, data: bytes) -> Iterable[StreamEvent]:
        return list(self._decoder.feed(data))

    def finish(self) -> Iterable[StreamEvent]:
        return list(self._decoder.finish(self._ctx.chat_request()))


def _wire_decoder(ctx: RequestContext) -> _WireDecoder:
    return _AnthropicWire(ctx) if ctx.dialect == "anthropic" else _OpenAIWire(ctx)


async def inspect_items(
    ctx: RequestContext, items: AsyncIterator[StreamItem], inspector: StreamInspector
) -> AsyncIterator[StreamItem]:
    """``items`` as canonical events, held back, redacted or cut by ``inspector``. A block
    raises its error after the events released before it (the last one a content-filter
    finish), so the sender ends the stream with the surface's error event."""
    decoder: _WireDecoder | None = None
    try:
        async for item in items:
            if isinstance(item, WireChunk):
                decoder = decoder or _wire_decoder(ctx)
                events: Iterable[StreamEvent] = decoder.feed(item.data)
            else:
                events = (item,)
            for event in events:
                for out in inspector.feed(event):
                    yield out
                if inspector.blocked is not None:
                    await inspector.settle()
                    raise inspector.blocked
        if decoder is not None:
            for event in decoder.finish():
                for out in inspector.feed(event):
                    yield out
        for out in inspector.finish():
            yield out
        if inspector.blocked is not None:
            await inspector.settle()
            raise inspector.blocked
    finally:
        inspector.close()  # a stream that broke off still reports what its guards saw
