"""What the gateway needs from a provider: four methods, nothing more."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tollhouse.model.chat import ChatResponse
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.model.stream import StreamEvent
from tollhouse.pipeline.context import RequestContext


@dataclass(frozen=True, slots=True)
class WireBody:
    """A response already in the caller's dialect (the passthrough lane): sent unchanged."""

    body: bytes


@dataclass(slots=True)  # not frozen: one per upstream read; treat it as immutable all the same
class WireChunk:
    """Complete SSE events already in the caller's dialect, relayed unchanged."""

    data: bytes


ChatResult = ChatResponse | WireBody
StreamItem = StreamEvent | WireChunk
EmbedResult = EmbeddingResponse | WireBody


class Provider(Protocol):
    """A provider serves chat, streaming chat and embeddings for ``model`` on its upstream.

    Implementations set ``ctx.usage`` when the upstream reports usage, and raise only
    ``tollhouse.errors.TollhouseError`` subclasses.
    """

    name: str

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult: ...

    def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]: ...

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult: ...

    async def check(self) -> bool:
        """Whether the upstream is reachable (for /readyz)."""
        ...


@runtime_checkable
class TokenCounter(Protocol):
    """A provider that can count a request's input tokens (``/v1/messages/count_tokens``).

    It reads the request from ``ctx`` (``ctx.payload`` in ``ctx.dialect``, or the canonical
    ``ctx.chat_request()``) and returns the count the model would bill as input.
    """

    async def count_tokens(self, ctx: RequestContext, model: str) -> int: ...
