"""Open circuits shared between replicas through the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import uuid

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from tests.unit.routing.doubles import ScriptedProvider, target
from tollhouse.routing.breaker import State
from tollhouse.routing.config import CircuitConfig
from tollhouse.routing.shared_state import PREFIX, CircuitSync

REDIS = "redis://127.0.0.1:6379/0"


async def test_an_opening_in_one_replica_opens_the_circuit_in_the_others() -> None:
    model = f"m-{uuid.uuid4().hex}"  # a key no other test touches
    config = CircuitConfig(consecutive_failures=1, cooldown_s=30)
    mine, theirs = (
        target(ScriptedProvider("a"), model, breaker=config),
        target(ScriptedProvider("a"), model, breaker=config),
    )
    here, there = CircuitSync(REDIS, [mine], 60), CircuitSync(REDIS, [theirs], 60)
    await here.start()
    await there.start()
    try:
        assert mine.breaker is not None and theirs.breaker is not None
        mine.breaker.failure()
        await here.sync_once()
        await there.sync_once()
        assert theirs.breaker.state is State.OPEN and 28 < theirs.breaker.retry_in() <= 30
        client = aioredis.from_url(REDIS)
        try:
            ttl = await client.pttl(PREFIX + mine.id)
            assert 28_000 < ttl <= 30_000  # the key expires with the cooldown
            await client.delete(PREFIX + mine.id)
        finally:
            await client.aclose()
    finally:
        await here.stop()
        await there.stop()


async def test_without_openings_nothing_changes() -> None:
    t = target(ScriptedProvider("a"), f"m-{uuid.uuid4().hex}", breaker=CircuitConfig())
    sync = CircuitSync(REDIS, [t], 60)
    await sync.start()
    try:
        await sync.sync_once()
        assert t.breaker is not None and t.breaker.state is State.CLOSED
    finally:
        await sync.stop()


async def test_an_unreachable_redis_keeps_openings_for_later() -> None:
    t = target(ScriptedProvider("a"), "m", breaker=CircuitConfig(consecutive_failures=1))
    sync = CircuitSync("redis://127.0.0.1:1/0", [t], 60)
    await sync.start()
    try:
        assert t.breaker is not None
        t.breaker.failure()
        with pytest.raises(redis.exceptions.ConnectionError):  # the loop logs it and retries later
            await sync.sync_once()
        assert "a/m" in sync._pending  # not lost: written on the next successful round
    finally:
        await sync.stop()
