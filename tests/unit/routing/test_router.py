"""The router's fallback(retry(attempt)) decisions, over scripted providers."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.unit.routing.doubles import ScriptedProvider, entries, target
from tests.unit.support import make_ctx
from tollhouse.catalog.pricing import Price
from tollhouse.config.runtime import Route
from tollhouse.errors import (
    DeadlineExceeded,
    InvalidRequest,
    UnknownModel,
    UpstreamAuthFailed,
    UpstreamContentFiltered,
    UpstreamContextExceeded,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from tollhouse.providers.protocol import WireBody, WireChunk
from tollhouse.routing.breaker import State
from tollhouse.routing.conditions import Condition
from tollhouse.routing.config import AttemptTimeouts, CircuitConfig, RetryConfig, TargetCondition
from tollhouse.routing.retry import Backoff
from tollhouse.routing.router import Router
from tollhouse.routing.target import RouteEntry

FAST_RETRY = RetryConfig(max_attempts=3, initial_backoff_s=0.001, max_backoff_s=0.002)


def ctx(stream: bool = False, **headers: str):  # type: ignore[no-untyped-def]
    return make_ctx(payload={"model": "alias", "messages": [], "stream": stream}, headers=headers)


def router(*targets, retry: RetryConfig | None = None, **options) -> Router:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    backoff = Backoff(retry, rng) if retry is not None else None
    return Router(
        "alias", options.pop("route_entries", None) or entries(*targets), backoff=backoff, rng=rng, **options
    )


async def collect(r: Router, c) -> list[object]:  # type: ignore[no-untyped-def]
    items = r.chat_stream(c, "alias")
    try:
        return [item async for item in items]
    finally:
        await items.aclose()


async def test_first_target_answers_and_the_trace_says_so() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    c = ctx()
    result = await router(target(a), target(b)).chat(c, "alias")
    assert result == WireBody(b"a/m")
    assert a.calls == ["m"] and b.calls == []
    assert c.routing is not None and c.routing.target == "a/m" and c.routing.calls == 1
    assert (c.provider, c.upstream_model) == ("a", "m")
    headers = dict(c.response_headers or [])
    assert headers[b"x-tollhouse-target"] == b"a/m" and headers[b"x-tollhouse-attempts"] == b"1"
    assert float(headers[b"x-tollhouse-overhead-ms"]) >= 0
    assert [(d.policy, d.outcome, d.reason) for d in c.decisions] == [("router", "routed", "a/m")]


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable("boom"),
        UpstreamTimeout("slow"),
        UpstreamRateLimited("busy"),
        UpstreamAuthFailed("key refused"),
    ],
)
async def test_fallback_allowed_errors_move_to_the_next_target(error: Exception) -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(error)
    c = ctx()
    assert await router(target(a), target(b)).chat(c, "alias") == WireBody(b"b/m")
    assert c.routing is not None
    assert [x.target for x in c.routing.attempts] == ["a/m", "b/m"]
    assert c.routing.attempts[0].outcome == error.code  # type: ignore[attr-defined]
    assert ("router", "failed") in [(d.policy, d.outcome) for d in c.decisions]


async def test_retryable_errors_retry_the_same_target_first() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamUnavailable("1"), UpstreamUnavailable("2"))
    c = ctx()
    assert await router(target(a), target(b), retry=FAST_RETRY).chat(c, "alias") == WireBody(b"a/m")
    assert a.calls == ["m", "m", "m"] and b.calls == []
    assert c.routing is not None and c.routing.calls == 3


async def test_retries_stop_at_max_attempts_then_fall_back() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(*(UpstreamUnavailable(str(i)) for i in range(3)))
    assert await router(target(a), target(b), retry=FAST_RETRY).chat(ctx(), "alias") == WireBody(b"b/m")
    assert len(a.calls) == 3 and b.calls == ["m"]


async def test_a_refused_request_is_neither_retried_nor_sent_elsewhere() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamRejected("bad field"))
    with pytest.raises(UpstreamRejected):
        await router(target(a), target(b), retry=FAST_RETRY).chat(ctx(), "alias")
    assert a.calls == ["m"] and b.calls == []


async def test_retry_after_is_honoured_and_a_long_one_skips_to_the_fallback() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    retry = RetryConfig(max_attempts=2, initial_backoff_s=0.0, max_retry_after_s=1.0, jitter=False)
    a.script(UpstreamRateLimited("wait", headers={"retry-after": "0.2"}))
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await router(target(a), target(b), retry=retry).chat(ctx(), "alias") == WireBody(b"a/m")
    assert loop.time() - started >= 0.19
    a.script(UpstreamRateLimited("wait", headers={"retry-after": "30"}))
    started = loop.time()
    assert await router(target(a), target(b), retry=retry).chat(ctx(), "alias") == WireBody(b"b/m")
    assert loop.time() - started < 0.5


async def test_when_every_target_fails_the_last_error_reaches_the_caller() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamUnavailable("a down"))
    b.script(UpstreamRateLimited("b busy", headers={"retry-after": "3"}))
    with pytest.raises(UpstreamRateLimited) as info:
        await router(target(a), target(b)).chat(ctx(), "alias")
    assert info.value.headers == {"retry-after": "3"}


async def test_context_window_overflow_goes_only_to_larger_models() -> None:
    small, same, large = ScriptedProvider("small"), ScriptedProvider("same"), ScriptedProvider("large")
    small.script(UpstreamContextExceeded("too long"))
    r = router(target(small, window=8000), target(same, window=8000), target(large, window=128000))
    assert await r.chat(ctx(), "alias") == WireBody(b"large/m")
    assert same.calls == []


async def test_context_window_overflow_uses_the_configured_fallbacks() -> None:
    a, b, big = ScriptedProvider("a"), ScriptedProvider("b"), ScriptedProvider("big")
    a.script(UpstreamContextExceeded("too long"))
    r = router(target(a), target(b), context_window=[RouteEntry(target(big))])
    assert await r.chat(ctx(), "alias") == WireBody(b"big/m")
    assert b.calls == []


async def test_content_filter_falls_back_only_where_configured() -> None:
    a, b, alt = ScriptedProvider("a"), ScriptedProvider("b"), ScriptedProvider("alt")
    a.script(UpstreamContentFiltered("blocked"))
    with pytest.raises(UpstreamContentFiltered):
        await router(target(a), target(b)).chat(ctx(), "alias")
    assert b.calls == []
    a.script(UpstreamContentFiltered("blocked"))
    r = router(target(a), target(b), content_filter=[RouteEntry(target(alt))])
    assert await r.chat(ctx(), "alias") == WireBody(b"alt/m")
    assert b.calls == []


async def test_first_byte_limit_times_out_an_attempt_and_falls_back() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(5.0)
    r = router(target(a), target(b), timeouts=AttemptTimeouts(first_byte_s=0.05))
    c = ctx()
    assert await r.chat(c, "alias") == WireBody(b"b/m")
    assert c.routing is not None and c.routing.attempts[0].outcome == "upstream_timeout"


async def test_the_deadline_bounds_retries_and_fallbacks() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(0.3)
    r = router(target(a), target(b), deadline_s=0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(DeadlineExceeded) as info:
        await r.chat(ctx(), "alias")
    assert loop.time() - started < 0.25
    assert info.value.status == 504 and info.value.code == "deadline_exceeded"
    assert b.calls == []


async def test_backoff_that_would_outlast_the_deadline_is_not_slept() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamUnavailable("x"))
    retry = RetryConfig(max_attempts=3, initial_backoff_s=5.0, jitter=False)
    assert await router(target(a), target(b), retry=retry, deadline_s=1.0).chat(ctx(), "alias") == WireBody(
        b"b/m"
    )
    assert a.calls == ["m"]


async def test_open_circuits_are_skipped_and_all_open_is_a_503_with_retry_after() -> None:
    config = CircuitConfig(consecutive_failures=2, cooldown_s=10)
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    ta, tb = target(a, breaker=config), target(b, breaker=config)
    r = router(ta, tb)
    a.script(UpstreamUnavailable("1"), UpstreamUnavailable("2"))
    await r.chat(ctx(), "alias")
    await r.chat(ctx(), "alias")
    assert ta.breaker is not None and ta.breaker.state is State.OPEN
    c = ctx()
    assert await r.chat(c, "alias") == WireBody(b"b/m")
    assert len(a.calls) == 2
    assert c.routing is not None and c.routing.attempts[0].outcome == "skipped:circuit_open"
    assert c.routing.calls == 1
    assert tb.breaker is not None
    tb.breaker.open_until(5)
    with pytest.raises(UpstreamUnavailable) as info:
        await r.chat(ctx(), "alias")
    assert info.value.status == 503 and info.value.code == "no_healthy_target"
    assert 1 <= int(info.value.headers["retry-after"]) <= 5


async def test_refusals_of_the_request_do_not_count_against_the_target() -> None:
    a = ScriptedProvider("a")
    ta = target(a, breaker=CircuitConfig(consecutive_failures=1))
    a.script(UpstreamRejected("bad"))
    with pytest.raises(UpstreamRejected):
        await router(ta).chat(ctx(), "alias")
    assert ta.breaker is not None and ta.breaker.state is State.CLOSED


async def test_a_cancelled_call_frees_the_half_open_probe() -> None:
    now = [0.0]
    a = ScriptedProvider("a")
    ta = target(a, breaker=CircuitConfig(consecutive_failures=1, cooldown_s=1), clock=lambda: now[0])
    r = router(ta)
    a.script(UpstreamUnavailable("x"))
    with pytest.raises(UpstreamUnavailable):
        await r.chat(ctx(), "alias")
    now[0] = 2.0
    a.script(5.0)
    task = asyncio.ensure_future(r.chat(ctx(), "alias"))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ta.stats.in_flight == 0
    assert ta.breaker is not None and ta.breaker.allow()  # the probe slot is free again


async def test_a_deadline_passed_before_an_attempt_frees_its_probe() -> None:
    now = [0.0]
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    tb = target(b, breaker=CircuitConfig(consecutive_failures=1, cooldown_s=1), clock=lambda: now[0])
    assert tb.breaker is not None
    tb.breaker.failure()
    now[0] = 2.0  # b is half-open: the next call to it is the probe

    def slow_failure() -> None:
        time.sleep(0.15)  # blocks past the deadline, then fails: the fallback finds no time left
        raise UpstreamUnavailable("late")

    a.script(slow_failure)
    with pytest.raises(DeadlineExceeded):
        await router(target(a), tb, deadline_s=0.1).chat(ctx(), "alias")
    assert b.calls == [] and tb.breaker.allow()


async def test_conditions_pick_who_may_use_a_target() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    premium = Condition(TargetCondition(headers={"x-tier": "premium"}))
    r = router(route_entries=[RouteEntry(target(a), condition=premium), RouteEntry(target(b))])
    assert await r.chat(ctx(**{"x-tier": "premium"}), "alias") == WireBody(b"a/m")
    assert await r.chat(ctx(), "alias") == WireBody(b"b/m")
    only = router(route_entries=[RouteEntry(target(a), condition=premium)])
    with pytest.raises(UnknownModel):
        await only.chat(ctx(), "alias")


async def test_the_answering_targets_price_is_charged() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamUnavailable("x"))
    r = router(target(a, price=Price(100, 100)), target(b, price=Price(1, 2)))
    c = ctx()
    await r.chat(c, "alias")
    Route("alias", r, "m", Price(100, 100)).charge(c)
    assert c.cost == pytest.approx((1000 * 1 + 1000 * 2) / 1_000_000)


async def test_streams_fail_over_before_their_first_event() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamUnavailable("x"))
    c = ctx(stream=True)
    items = await collect(router(target(a), target(b)), c)
    assert getattr(items[0], "text", None) == "b/m"
    assert a.closed == 1 and b.closed == 1  # the failed stream was closed too
    assert dict(c.response_headers or [])[b"x-tollhouse-target"] == b"b/m"


async def test_after_the_first_event_a_failure_ends_the_stream() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    ta = target(a, breaker=CircuitConfig(consecutive_failures=1))
    a.script("midstream", UpstreamUnavailable("broke off"))
    c = ctx(stream=True)
    items = router(ta, target(b)).chat_stream(c, "alias")
    try:
        assert await anext(items) == WireChunk(b"data: first\n\n")
        with pytest.raises(UpstreamUnavailable):
            await anext(items)
    finally:
        await items.aclose()
    assert b.calls == []
    assert ta.breaker is not None and ta.breaker.state is State.OPEN
    assert ta.stats.in_flight == 0 and a.closed == 1


async def test_a_stalled_stream_ends_after_the_idle_limit() -> None:
    a = ScriptedProvider("a")
    a.script("midstream", 5.0)
    r = router(target(a), timeouts=AttemptTimeouts(idle_s=0.05))
    items = r.chat_stream(ctx(stream=True), "alias")
    try:
        await anext(items)
        with pytest.raises(UpstreamTimeout, match="mid-stream"):
            await anext(items)
    finally:
        await items.aclose()
    assert a.closed == 1


async def test_a_stream_closed_by_the_client_is_no_verdict() -> None:
    a = ScriptedProvider("a")
    ta = target(a, breaker=CircuitConfig(consecutive_failures=1))
    a.script("midstream", 5.0)
    items = router(ta).chat_stream(ctx(stream=True), "alias")
    await anext(items)
    await items.aclose()
    assert ta.stats.in_flight == 0 and a.closed == 1
    assert ta.breaker is not None and ta.breaker.state is State.CLOSED


async def test_least_busy_counts_streams_in_flight_until_they_end() -> None:
    a = ScriptedProvider("a")
    ta = target(a)
    items = router(ta).chat_stream(ctx(stream=True), "alias")
    await anext(items)
    assert ta.stats.in_flight == 1
    await items.aclose()
    assert ta.stats.in_flight == 0


async def test_embeddings_and_token_counting_go_through_the_targets() -> None:
    a, b = ScriptedProvider("a"), ScriptedProvider("b")
    a.script(UpstreamUnavailable("x"))
    assert await router(target(a), target(b)).embed(ctx(), "alias") == WireBody(b"embedded")
    with pytest.raises(InvalidRequest, match="count tokens"):
        await router(target(a)).count_tokens(ctx(), "alias")


async def test_check_is_ready_when_any_upstream_is() -> None:
    assert await router(target(ScriptedProvider("a", healthy=False)), target(ScriptedProvider("b"))).check()
    assert not await router(target(ScriptedProvider("a", healthy=False))).check()
