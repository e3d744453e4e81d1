"""A routed alias as a ``Provider``: ``fallback(retry(attempt))`` over its targets.

The endpoints call ``route.provider.chat(…)`` whether the route is one provider or a router,
so routing needs nothing from them. Per call the router picks the targets the caller may
use (``when``), orders them (priority tier, then strategy), and tries them in that order:

- **attempt** — one call to one target, bounded by the per-attempt limit and the deadline;
- **retry** — the same target again, after backoff, for errors marked ``retryable``;
- **fallback** — the next target, for errors marked ``fallback_allowed``.

A stream fails over only until its first event is in hand; from then on the caller has
bytes, and an upstream failure ends the stream with an error event.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from tollhouse.errors import InvalidRequest, UnknownModel, UpstreamError, UpstreamTimeout
from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.providers.protocol import ChatResult, EmbedResult, Provider, StreamItem, TokenCounter
from tollhouse.routing import attempt
from tollhouse.routing.config import AttemptTimeouts
from tollhouse.routing.fallback import DECISION, FallbackPlan
from tollhouse.routing.retry import Backoff
from tollhouse.routing.strategy import order
from tollhouse.routing.target import RouteEntry, Target
from tollhouse.routing.trace import RoutingTrace

T = TypeVar("T")


async def _chat(provider: Provider, ctx: RequestContext, model: str) -> ChatResult:
    return await provider.chat(ctx, model)


async def _embed(provider: Provider, ctx: RequestContext, model: str) -> EmbedResult:
    return await provider.embed(ctx, model)


class Router:
    """Serves one alias from its targets; state (latency, in-flight, circuits) lives in them."""

    def __init__(
        self,
        alias: str,
        entries: Sequence[RouteEntry],
        *,
        strategy: str = "priority",
        backoff: Backoff | None = None,
        deadline_s: float | None = None,
        timeouts: AttemptTimeouts | None = None,
        context_window: Sequence[RouteEntry] = (),
        content_filter: Sequence[RouteEntry] = (),
        alpha: float = 0.3,
        headers: bool = True,
        rng: random.Random | None = None,
    ) -> None:
        self.name = f"router:{alias}"
        self.alias = alias
        self.entries = tuple(entries)
        self._conditional = any(e.condition is not None for e in self.entries)
        self.strategy = strategy
        self._backoff = backoff
        self._deadline_s = deadline_s
        self._first_byte_s = timeouts.first_byte_s if timeouts is not None else None
        self._idle_s = timeouts.idle_s if timeouts is not None else None
        self._context_window = tuple(context_window)
        self._content_filter = tuple(content_filter)
        self._alpha = alpha
        self._headers = headers
        self._rng = rng or random.Random()  # noqa: S311 - load spreading, not security

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every target this router may call, fallbacks included."""
        seen: dict[str, Target] = {}
        for e in (*self.entries, *self._context_window, *self._content_filter):
            seen.setdefault(e.target.id, e.target)
        return tuple(seen.values())

    # ------------------------------------------------------------------ Provider

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        return await self._unary(ctx, _chat)

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        return await self._unary(ctx, _embed)

    def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        return self._stream(ctx)

    async def check(self) -> bool:
        """Ready when any target's upstream is reachable."""
        providers = {id(t.provider): t.provider for t in self.targets}
        return any(await asyncio.gather(*(p.check() for p in providers.values())))

    async def count_tokens(self, ctx: RequestContext, model: str) -> int:
        """Counted by the first target the caller may use whose provider can count."""
        for entry in self._eligible(ctx):
            provider = entry.target.provider
            if isinstance(provider, TokenCounter):
                ctx.provider, ctx.upstream_model = provider.name, entry.target.model
                return await provider.count_tokens(ctx, entry.target.model)
        raise InvalidRequest(
            f"token counting is not available for model `{self.alias}`: no target's provider can count tokens",
            param="model",
            code="count_tokens_unsupported",
        )

    # ------------------------------------------------------------------ fallback(retry(attempt))

    def _eligible(self, ctx: RequestContext) -> list[RouteEntry]:
        if not self._conditional:
            return list(self.entries)
        chosen = [e for e in self.entries if e.condition is None or e.condition.matches(ctx)]
        if not chosen:
            raise UnknownModel(
                f"The model `{self.alias}` does not exist or you do not have access to it.", param="model"
            )
        return chosen

    def _plan(self, ctx: RequestContext) -> FallbackPlan:
        trace = ctx.routing = RoutingTrace(self.alias, self.strategy)
        entries = order(self._eligible(ctx), self.strategy, self._rng)
        return FallbackPlan(ctx, trace, entries, self._deadline_s, self._context_window, self._content_filter)

    def _explain(self, ctx: RequestContext, plan: FallbackPlan) -> None:
        if self._headers:
            headers = plan.trace.headers(ctx.started)
            if ctx.response_headers is None:
                ctx.response_headers = headers
            else:
                ctx.response_headers.extend(headers)

    async def _unary(self, ctx: RequestContext, call: attempt.Call[T]) -> T:
        plan = self._plan(ctx)
        limits = attempt.Limits(plan, self._first_byte_s)
        try:
            while (target := plan.next()) is not None:
                try:
                    once = partial(attempt.unary, ctx, target, call, limits, plan, self._alpha)
                    result = await self._retrying(plan, target, once)
                except UpstreamError as error:
                    if plan.failed(target, error):
                        continue
                    raise
                plan.answered(target)
                return result
            raise plan.exhausted()
        finally:
            self._explain(ctx, plan)

    async def _retrying(self, plan: FallbackPlan, target: Target, once: Callable[[], Awaitable[T]]) -> T:
        """``once`` on ``target``, again after backoff while its errors are retryable."""
        tries = 1
        while True:
            try:
                return await once()
            except UpstreamError as error:
                delay = self._retry_delay(plan, tries, error)
                if delay is None:
                    raise
                failed = error
            await asyncio.sleep(delay)
            plan.trace.waited_s += delay
            tries += 1
            if not target.available():  # its circuit opened meanwhile: let the fallback decide
                raise failed

    def _retry_delay(self, plan: FallbackPlan, tries: int, error: UpstreamError) -> float | None:
        backoff = self._backoff
        if backoff is None or not error.retryable or tries >= backoff.max_attempts:
            return None
        delay = backoff.delay(tries, error)
        if delay is None:
            return None
        left = plan.time_left()
        return None if left is not None and delay >= left else delay

    # ------------------------------------------------------------------ streams

    async def _stream(self, ctx: RequestContext) -> AsyncGenerator[StreamItem, None]:
        plan = self._plan(ctx)
        limits = attempt.Limits(plan, self._first_byte_s)
        try:
            target, first, items = await self._open(ctx, plan, limits)
        finally:
            self._explain(ctx, plan)
        failure: UpstreamError | None = None
        finished = False
        try:
            if first is not None:
                yield first
                idle = self._idle_s
                while (item := await self._next(items, idle, target)) is not None:
                    yield item
            finished = True
        except UpstreamError as error:
            failure = error
            ctx.decisions.append(Decision(DECISION, "failed", f"{target.id}: {error.code} mid-stream"))
            raise
        finally:
            target.stats.in_flight -= 1
            if finished or failure is not None:
                attempt.verdict(target, failure)
            elif target.breaker is not None:
                target.breaker.release()  # the client left: nothing learned about the target
            await items.aclose()

    async def _open(
        self, ctx: RequestContext, plan: FallbackPlan, limits: attempt.Limits
    ) -> tuple[Target, StreamItem | None, AsyncGenerator[StreamItem, None]]:
        while (target := plan.next()) is not None:
            try:
                once = partial(attempt.open_stream, ctx, target, limits, plan, self._alpha)
                first, items = await self._retrying(plan, target, once)
            except UpstreamError as error:
                if plan.failed(target, error):
                    continue
                raise
            plan.answered(target)
            return target, first, items
        raise plan.exhausted()

    @staticmethod
    async def _next(
        items: AsyncGenerator[StreamItem, None], idle_s: float | None, target: Target
    ) -> StreamItem | None:
        if idle_s is None:
            return await anext(items, None)
        try:
            async with asyncio.timeout(idle_s):
                return await anext(items, None)
        except TimeoutError:
            raise UpstreamTimeout(
                f"provider {target.provider.name} sent nothing for {idle_s:g}s mid-stream"
            ) from None
