"""A scripted in-memory provider and target builders for the router's unit tests.

The integration tests drive real providers against a fault-injecting upstream; here the
router's decisions are tested alone, so each step of a script is what the provider does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Callable
from typing import Any

from tollhouse.catalog.pricing import Price
from tollhouse.errors import TollhouseError
from tollhouse.model.chat import Usage
from tollhouse.model.stream import TextDelta
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem, WireBody, WireChunk
from tollhouse.routing.breaker import CircuitBreaker
from tollhouse.routing.config import CircuitConfig
from tollhouse.routing.target import RouteEntry, Target, TargetStats

Step = TollhouseError | float | str | Callable[[], Any]  # raise it / sleep that long / answer / call


class ScriptedProvider:
    """Answers ``WireBody(b"<name>")`` unless the script for the next call says otherwise.

    Steps: an exception is raised; a float sleeps that long first; a callable is called.
    A stream whose script starts with ``"midstream"`` sends one chunk, then runs the rest
    of the script (sleeps, an error). ``calls`` lists the models asked for.
    """

    def __init__(self, name: str, healthy: bool = True) -> None:
        self.name = name
        self.healthy = healthy
        self.calls: list[str] = []
        self.closed = 0  # streams closed (every opened stream must be)
        self._script: deque[Step] = deque()

    def script(self, *steps: Step) -> None:
        self._script = deque(steps)

    async def _step(self, model: str) -> None:
        self.calls.append(model)
        while self._script:
            step = self._script.popleft()
            if isinstance(step, TollhouseError):
                raise step
            if isinstance(step, float):
                await asyncio.sleep(step)
                continue
            if callable(step):
                step()
            return

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        await self._step(model)
        ctx.usage = Usage(prompt_tokens=1000, completion_tokens=1000)
        return WireBody(f"{self.name}/{model}".encode())

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        await self._step(model)
        return WireBody(b"embedded")

    def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        return self._stream(ctx, model)

    async def _stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        try:
            if self._script and self._script[0] == "midstream":
                self._script.popleft()
                self.calls.append(model)
                yield WireChunk(b"data: first\n\n")
                await self._rest()
            else:
                await self._step(model)
            yield TextDelta(f"{self.name}/{model}")
            yield WireChunk(b"data: [DONE]\n\n")
        finally:
            self.closed += 1

    async def _rest(self) -> None:
        """What happens after a stream's first chunk: sleeps, then maybe an error."""
        while self._script:
            step = self._script.popleft()
            if isinstance(step, TollhouseError):
                raise step
            if isinstance(step, float):
                await asyncio.sleep(step)

    async def check(self) -> bool:
        return self.healthy


def target(
    provider: ScriptedProvider,
    model: str = "m",
    *,
    price: Price | None = None,
    window: int | None = None,
    breaker: CircuitConfig | None = None,
    clock: Callable[[], float] | None = None,
) -> Target:
    ident = f"{provider.name}/{model}"
    made = None
    if breaker is not None:
        made = CircuitBreaker(ident, breaker, clock) if clock is not None else CircuitBreaker(ident, breaker)
    return Target(ident, provider, model, price, window, TargetStats(), made)


def entries(*targets: Target) -> list[RouteEntry]:
    return [RouteEntry(t) for t in targets]
