"""The memory cache, kept across restarts in a SQLite file.

Requests never touch the file: lookups are answered from memory, stores are queued and written
by a background task in batches, and the file is read once, at start, to fill the memory
again. Each worker process loads the file at start and writes what it stores; they do not see
each other's new entries until a restart (use `backend: redis` to share a cache).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from tollhouse.background import stop_task
from tollhouse.cache.memory import MemoryStore

log = logging.getLogger("tollhouse.cache")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, expires_at REAL NOT NULL, value BLOB NOT NULL)"
)
_UPSERT = (
    "INSERT INTO cache (key, expires_at, value) VALUES (?, ?, ?) "
    "ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at, value = excluded.value"
)


class SqliteStore:
    """A ``MemoryStore`` of ``max_entries`` whose contents survive a restart in ``path``."""

    def __init__(self, path: str, max_entries: int, flush_interval_s: float = 0.5) -> None:
        self._path = path
        self._max = max_entries
        self._interval = flush_interval_s
        self._memory = MemoryStore(max_entries)
        self._pending: dict[str, tuple[float, bytes] | None] = {}  # None: delete
        self._db: Any = None
        self._task: asyncio.Task[None] | None = None

    async def get(self, key: str) -> bytes | None:
        return self._memory.get_now(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self._memory.set_now(key, value, ttl_s)
        self._pending[key] = (time.time() + ttl_s, value)

    async def delete(self, key: str) -> None:
        await self._memory.delete(key)
        self._pending[key] = None

    async def start(self) -> None:
        import aiosqlite

        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute(_SCHEMA)
        now = time.time()
        await self._db.execute("DELETE FROM cache WHERE expires_at <= ?", (now,))
        rows = await self._db.execute_fetchall(
            "SELECT key, expires_at, value FROM cache ORDER BY expires_at DESC LIMIT ?", (self._max,)
        )
        for key, expires_at, value in reversed(list(rows)):  # soonest to expire first, as if least used
            self._memory.set_now(key, bytes(value), expires_at - now)
        await self._db.commit()
        self._task = asyncio.create_task(self._run(), name="cache-sqlite-writer")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._db is not None:
            await self.flush()
            await self._db.close()
            self._db = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:
                log.exception("cache: writing to %s failed; entries stay in memory", self._path)

    async def flush(self) -> None:
        """Write queued stores and deletions, and drop expired rows."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        upserts = [(k, v[0], v[1]) for k, v in pending.items() if v is not None]
        deletes = [(k,) for k, v in pending.items() if v is None]
        try:
            if upserts:
                await self._db.executemany(_UPSERT, upserts)
            if deletes:
                await self._db.executemany("DELETE FROM cache WHERE key = ?", deletes)
            await self._db.execute("DELETE FROM cache WHERE expires_at <= ?", (time.time(),))
            await self._db.commit()
        except Exception:
            self._pending = pending | self._pending  # newer writes win; retried next round
            raise
