"""The counter contract: the in-process store and the Redis store (real Redis) behave alike."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tollhouse.limits.counters import (
    COUNT,
    FIRST_SEEN,
    HOLD,
    Admission,
    CounterStore,
    Expiry,
    Op,
    Release,
    Settlement,
)
from tollhouse.limits.memory import MemoryStore
from tollhouse.limits.redis_store import RedisStore

REDIS_URL = os.environ.get("TOLLHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MINUTE = Expiry("a", 60_000)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CounterStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis_store = RedisStore(REDIS_URL, timeout_s=2.0)
    yield redis_store
    await redis_store.close()


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"test-limits:{uuid.uuid4().hex[:10]}:"
    yield name
    client = aioredis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=name + "*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def rid() -> str:
    return uuid.uuid4().hex[:12]


def admission(*ops: Op, lease_ms: int = 60_000, request: str | None = None) -> Admission:
    return Admission(request or rid(), ops, lease_ms)


async def test_count_admits_up_to_the_limit_then_refuses(store: CounterStore, prefix: str) -> None:
    op = Op(prefix + "rpm", COUNT, 1, 3, MINUTE)
    verdicts = [await store.admit(admission(op)) for _ in range(5)]
    assert [v.admitted for v in verdicts] == [True, True, True, False, False]
    assert [v.results[0].used for v in verdicts] == [0, 1, 2, 3, 3]  # a refusal applies nothing
    assert 0 < verdicts[-1].results[0].reset_ms <= 60_000
    assert await store.peek([prefix + "rpm"]) == [(3, 0)]


async def test_an_admission_is_all_or_nothing(store: CounterStore, prefix: str) -> None:
    roomy = Op(prefix + "roomy", COUNT, 1, 100, MINUTE)
    tight = Op(prefix + "tight", HOLD, 5, 4, MINUTE)
    verdict = await store.admit(admission(roomy, tight))
    assert not verdict.admitted
    assert [r.ok for r in verdict.results] == [True, False]
    assert await store.peek([prefix + "roomy", prefix + "tight"]) == [(0, 0), (0, 0)]


async def test_shadow_ops_are_counted_but_never_refuse(store: CounterStore, prefix: str) -> None:
    shadow = Op(prefix + "shadow", COUNT, 1, 1, MINUTE, enforce=False)
    verdicts = [await store.admit(admission(shadow)) for _ in range(3)]
    assert [v.admitted for v in verdicts] == [True, True, True]
    assert [v.results[0].ok for v in verdicts] == [True, False, False]
    assert await store.peek([prefix + "shadow"]) == [(3, 0)]


async def test_reservations_hold_then_settle_to_the_actual(store: CounterStore, prefix: str) -> None:
    key = prefix + "budget"
    first, second = rid(), rid()
    assert (await store.admit(admission(Op(key, HOLD, 600, 1000, MINUTE), request=first))).admitted
    refused = await store.admit(admission(Op(key, HOLD, 500, 1000, MINUTE), request=second))
    assert not refused.admitted
    assert (refused.results[0].used, refused.results[0].held) == (0, 600)
    store.settle(Settlement(first, (Release(key, key, 150, MINUTE),)))
    await asyncio.sleep(0.05)  # Redis settles in the background
    assert await store.peek([key]) == [(150, 0)]
    assert (await store.admit(admission(Op(key, HOLD, 500, 1000, MINUTE), request=second))).admitted
    assert await store.peek([key]) == [(150, 500)]


async def test_settling_twice_releases_once(store: CounterStore, prefix: str) -> None:
    key = prefix + "twice"
    call = rid()
    await store.admit(admission(Op(key, HOLD, 10, 100, MINUTE), request=call))
    await store.admit(admission(Op(key, HOLD, 20, 100, MINUTE)))
    settlement = Settlement(call, (Release(key, key, 0, MINUTE),))
    store.settle(settlement)
    store.settle(settlement)
    await asyncio.sleep(0.05)
    assert await store.peek([key]) == [(0, 20)]


async def test_a_leaked_reservation_expires(store: CounterStore, prefix: str) -> None:
    key = prefix + "slots"
    slot = Op(key, HOLD, 1, 1, Expiry("i", 60_000))
    assert (await store.admit(admission(slot, lease_ms=150))).admitted  # its replica "crashes"
    assert not (await store.admit(admission(slot, lease_ms=150))).admitted
    await asyncio.sleep(0.3)
    assert (await store.admit(admission(slot, lease_ms=150))).admitted


async def test_anchored_windows_start_at_first_use_and_reset(store: CounterStore, prefix: str) -> None:
    op = Op(prefix + "short", COUNT, 1, 1, Expiry("a", 300))
    assert (await store.admit(admission(op))).admitted
    refused = await store.admit(admission(op))
    assert not refused.admitted
    assert 0 < refused.results[0].reset_ms <= 300
    await asyncio.sleep(0.4)
    assert (await store.admit(admission(op))).admitted


async def test_calendar_windows_end_at_their_boundary(store: CounterStore, prefix: str) -> None:
    end = int(time.time() * 1000) + 300
    op = Op(prefix + "cal", COUNT, 1, 1, Expiry("c", 1000, end))
    verdict = await store.admit(admission(op))
    assert 0 < verdict.results[0].reset_ms <= 300
    assert not (await store.admit(admission(op))).admitted
    await asyncio.sleep(0.4)
    assert await store.peek([prefix + "cal"]) == [(0, 0)]


async def test_first_seen_measures_a_sessions_age(store: CounterStore, prefix: str) -> None:
    op = Op(prefix + "start", FIRST_SEEN, 0, 200, Expiry("i", 60_000))
    assert (await store.admit(admission(op))).admitted
    await asyncio.sleep(0.1)
    verdict = await store.admit(admission(op))
    assert verdict.admitted
    assert 80 <= verdict.results[0].used <= 200
    await asyncio.sleep(0.2)
    assert not (await store.admit(admission(op))).admitted


async def test_alerts_fire_once_per_window(store: CounterStore, prefix: str) -> None:
    op = Op(prefix + "alerting", COUNT, 1, 10, Expiry("a", 300), alerts=(5, 8))
    fired = [(await store.admit(admission(op))).results[0].fired for _ in range(10)]
    assert fired == [(), (), (), (), (5,), (), (), (8,), (), ()]
    await asyncio.sleep(0.4)
    fired = [(await store.admit(admission(op))).results[0].fired for _ in range(5)]
    assert fired == [(), (), (), (), (5,)]


async def test_concurrent_admissions_never_exceed_the_limit(store: CounterStore, prefix: str) -> None:
    key = prefix + "burst"
    results = await asyncio.gather(
        *(store.admit(admission(Op(key, HOLD, 3, 100, MINUTE))) for _ in range(200))
    )
    assert sum(v.admitted for v in results) == 33
    assert await store.peek([key]) == [(0, 99)]


async def test_large_amounts_stay_exact(store: CounterStore, prefix: str) -> None:
    key = prefix + "nano"
    big = 123_456_789_012_345  # nano-USD: about $123k
    call = rid()
    assert (await store.admit(admission(Op(key, HOLD, big, 10**16, MINUTE), request=call))).admitted
    store.settle(Settlement(call, (Release(key, key, big - 1, MINUTE),)))
    await asyncio.sleep(0.05)
    verdict = await store.admit(admission(Op(key, HOLD, 1, 10**16, MINUTE)))
    assert verdict.results[0].used == big - 1
