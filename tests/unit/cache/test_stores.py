"""One contract for every cache backend: memory, SQLite and the real Redis on 127.0.0.1:6379."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tollhouse.cache.memory import MemoryStore
from tollhouse.cache.redis_store import RedisStore
from tollhouse.cache.sqlite_store import SqliteStore
from tollhouse.cache.store import CacheStore

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CacheStore]:
    made: CacheStore
    if request.param == "memory":
        made = MemoryStore(100)
    elif request.param == "sqlite":
        made = SqliteStore(str(tmp_path / "cache.db"), 100)
    else:
        made = RedisStore(REDIS, f"tollhouse:test:{uuid.uuid4().hex}:")
    await made.start()
    yield made
    await made.stop()


async def test_a_stored_value_comes_back(store: CacheStore) -> None:
    await store.set("k", b"\x00value\xff", 60)
    assert await store.get("k") == b"\x00value\xff"
    assert await store.get("other") is None


async def test_a_new_value_replaces_the_old(store: CacheStore) -> None:
    await store.set("k", b"one", 60)
    await store.set("k", b"two", 60)
    assert await store.get("k") == b"two"


async def test_values_expire(store: CacheStore) -> None:
    await store.set("k", b"v", 0.05)
    await asyncio.sleep(0.1)
    assert await store.get("k") is None


async def test_delete(store: CacheStore) -> None:
    await store.set("k", b"v", 60)
    await store.delete("k")
    await store.delete("never-stored")
    assert await store.get("k") is None


def test_memory_evicts_the_least_recently_used() -> None:
    memory = MemoryStore(2)
    memory.set_now("a", b"1", 60)
    memory.set_now("b", b"2", 60)
    assert memory.get_now("a") == b"1"  # a is now the most recently used
    memory.set_now("c", b"3", 60)
    assert memory.get_now("b") is None and memory.get_now("a") == b"1" and len(memory) == 2


async def test_sqlite_keeps_the_cache_across_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "cache.db")
    first = SqliteStore(path, 100)
    await first.start()
    await first.set("kept", b"answer", 60)
    await first.set("gone", b"old", 0.01)
    await first.set("deleted", b"x", 60)
    await first.delete("deleted")
    await asyncio.sleep(0.02)
    await first.stop()
    second = SqliteStore(path, 100)
    await second.start()
    try:
        assert await second.get("kept") == b"answer"
        assert await second.get("gone") is None and await second.get("deleted") is None
    finally:
        await second.stop()


async def test_sqlite_writes_behind_without_being_stopped(tmp_path: Path) -> None:
    import aiosqlite

    path = str(tmp_path / "cache.db")
    store = SqliteStore(path, 100, flush_interval_s=0.02)
    await store.start()
    try:
        await store.set("k", b"v", 60)
        await asyncio.sleep(0.1)
        async with aiosqlite.connect(path) as db:
            rows = await db.execute_fetchall("SELECT key FROM cache")
        assert [r[0] for r in rows] == ["k"]
    finally:
        await store.stop()
    assert len(asyncio.all_tasks()) == 1  # the writer task is gone


async def test_redis_shares_values_between_instances() -> None:
    prefix = f"tollhouse:test:{uuid.uuid4().hex}:"
    one, two = RedisStore(REDIS, prefix), RedisStore(REDIS, prefix)
    await one.start()
    await two.start()
    try:
        await one.set("k", b"shared", 60)
        assert await two.get("k") == b"shared"
        await one.delete("k")
    finally:
        await one.stop()
        await two.stop()
