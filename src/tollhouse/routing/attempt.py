"""One attempt at one target: its time limit, in-flight count, latency and the breaker's verdict.

A failure is the target's fault when the upstream failed (5xx, 429, timeout, connection lost,
credentials refused); a refusal of the request itself (400, content filter, context window)
means the upstream works, so for the breaker it is a success.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from tollhouse.errors import UpstreamError, UpstreamRejected, UpstreamTimeout
from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.providers.protocol import Provider, StreamItem
from tollhouse.routing.fallback import DECISION, FallbackPlan
from tollhouse.routing.target import Target
from tollhouse.routing.trace import OK

T = TypeVar("T")
Call = Callable[[Provider, RequestContext, str], Awaitable[T]]
Opened = tuple[StreamItem | None, AsyncGenerator[StreamItem, None]]


def is_target_failure(error: UpstreamError) -> bool:
    """Whether ``error`` says the target is failing (not that the request was refused)."""
    return not isinstance(error, UpstreamRejected)


def verdict(target: Target, error: UpstreamError | None) -> None:
    """Tell the target's breaker how a call ended (``None``: it succeeded)."""
    breaker = target.breaker
    if breaker is None:
        return
    if error is None or not is_target_failure(error):
        breaker.success()
    else:
        breaker.failure()


class Limits:
    """The time limit of one attempt: the route's per-attempt limit and the call's deadline."""

    __slots__ = ("_first_byte_s", "_plan")

    def __init__(self, plan: FallbackPlan, first_byte_s: float | None) -> None:
        self._plan = plan
        self._first_byte_s = first_byte_s

    def until(self, target: Target) -> tuple[float | None, bool]:
        """Loop time the attempt must answer by, and whether that is the call's deadline.
        Once the deadline has passed it raises, handing back ``target``'s admission first."""
        try:
            left = self._plan.time_left()
        except UpstreamError:
            if target.breaker is not None:
                target.breaker.release()  # a half-open probe slot must not be lost
            raise
        limit = self._first_byte_s
        if left is None:
            return (None, False) if limit is None else (asyncio.get_running_loop().time() + limit, False)
        if limit is None or left <= limit:
            return asyncio.get_running_loop().time() + left, True
        return asyncio.get_running_loop().time() + limit, False


def _record(ctx: RequestContext, plan: FallbackPlan, target: Target, outcome: str, took: float) -> None:
    plan.trace.add(target.id, outcome, took)
    if outcome != OK:
        ctx.decisions.append(Decision(DECISION, "failed", f"{target.id}: {outcome}"))


def _timed_out(target: Target, plan: FallbackPlan, by_deadline: bool) -> UpstreamError:
    if by_deadline:
        return plan.deadline_error()
    return UpstreamTimeout(f"provider {target.provider.name} did not answer within the route's time limit")


async def unary(
    ctx: RequestContext, target: Target, call: Call[T], limits: Limits, plan: FallbackPlan, alpha: float
) -> T:
    """``call`` on ``target`` within ``limits``; records the outcome everywhere it counts."""
    until, by_deadline = limits.until(target)
    stats = target.stats
    ctx.provider, ctx.upstream_model = target.provider.name, target.model
    ctx.usage = None  # a failed attempt's partial usage is not this answer's
    started = time.perf_counter()
    stats.in_flight += 1
    decided = False
    try:
        async with asyncio.timeout_at(until):
            result = await call(target.provider, ctx, target.model)
    except TimeoutError:
        error = _timed_out(target, plan, by_deadline)
        decided = _settle(ctx, plan, target, error, started, by_deadline)
        raise error from None
    except UpstreamError as error:
        decided = _settle(ctx, plan, target, error, started, False)
        raise
    finally:
        stats.in_flight -= 1
        if not decided and target.breaker is not None:
            target.breaker.release()  # cancelled, or an error that says nothing about the target
    took = time.perf_counter() - started
    stats.observe(took, alpha)
    verdict(target, None)
    _record(ctx, plan, target, OK, took)
    return result


def _settle(
    ctx: RequestContext,
    plan: FallbackPlan,
    target: Target,
    error: UpstreamError,
    started: float,
    neutral: bool,
) -> bool:
    """Record a failed attempt; whether the breaker got a verdict (a deadline gives none)."""
    _record(ctx, plan, target, error.code or error.type, time.perf_counter() - started)
    if neutral:
        return False
    verdict(target, error)
    return True


async def open_stream(
    ctx: RequestContext, target: Target, limits: Limits, plan: FallbackPlan, alpha: float
) -> Opened:
    """Start ``target``'s stream and wait for its first event. On success the caller owns the
    stream, its in-flight slot and the breaker's verdict (given when the stream ends)."""
    until, by_deadline = limits.until(target)
    stats = target.stats
    ctx.provider, ctx.upstream_model = target.provider.name, target.model
    ctx.usage = None
    started = time.perf_counter()
    stats.in_flight += 1
    items = target.provider.chat_stream(ctx, target.model)
    opened = False
    decided = False
    try:
        async with asyncio.timeout_at(until):
            first = await anext(items, None)
        opened = True
    except TimeoutError:
        error = _timed_out(target, plan, by_deadline)
        decided = _settle(ctx, plan, target, error, started, by_deadline)
        raise error from None
    except UpstreamError as error:
        decided = _settle(ctx, plan, target, error, started, False)
        raise
    finally:
        if not opened:
            stats.in_flight -= 1
            await items.aclose()
            if not decided and target.breaker is not None:
                target.breaker.release()
    took = time.perf_counter() - started
    stats.observe(took, alpha)
    _record(ctx, plan, target, OK, took)
    return first, items
