"""Open circuits shared between replicas through Redis.

Each replica detects outliers from its own traffic. When one opens a target's circuit it
writes ``open-until`` (wall clock) under the target's key, expiring with the cooldown; every
replica reads all keys each ``interval_s`` and keeps a circuit open while its key says so.
Nothing here is on a request's path: openings are queued and written by the background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

from tollhouse.background import stop_task
from tollhouse.pipeline.context import RequestContext
from tollhouse.routing.breaker import CircuitBreaker
from tollhouse.routing.target import Target

log = logging.getLogger("tollhouse.routing")

PREFIX = "tollhouse:circuit:"
_TIMEOUT_S = 2.0  # a Redis that does not answer in this long is treated as down


class CircuitSync:
    """An observer (for its start/stop lifecycle) that syncs circuit openings through Redis."""

    def __init__(self, redis_url: str, targets: Sequence[Target], interval_s: float) -> None:
        self._url = redis_url
        self._interval = interval_s
        self._breakers: dict[str, CircuitBreaker] = {
            t.id: t.breaker for t in targets if t.breaker is not None
        }
        self._keys = [PREFIX + name for name in self._breakers]
        self._pending: dict[str, float] = {}  # target → wall-clock time its circuit stays open until
        self._wake = asyncio.Event()
        self._redis: Any = None
        self._task: asyncio.Task[None] | None = None
        for breaker in self._breakers.values():
            breaker.set_listener(self._opened)

    def observe(self, ctx: RequestContext) -> None:
        return None

    def _opened(self, target: str, cooldown_s: float) -> None:
        self._pending[target] = time.time() + cooldown_s
        self._wake.set()

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self._wake = asyncio.Event()  # bound to the serving loop
        if self._pending:
            self._wake.set()
        self._redis = aioredis.from_url(
            self._url, socket_connect_timeout=_TIMEOUT_S, socket_timeout=_TIMEOUT_S
        )
        self._task = asyncio.create_task(self._run(), name="routing-circuit-sync")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._redis is not None:
            if self._pending:  # openings not yet shared still warn the other replicas
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(_TIMEOUT_S):
                        await self.sync_once()
            await self._redis.aclose()
            self._redis = None

    async def _run(self) -> None:
        backoff = self._interval
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that
            # arrives as the event is set, and stop() would wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(backoff):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.sync_once()
                backoff = self._interval
            except Exception as exc:
                log.warning("circuit state sync with Redis failed (%s); retrying", type(exc).__name__)
                backoff = min(backoff * 2, 30.0)

    async def sync_once(self) -> None:
        """Write this replica's new openings; open what other replicas opened."""
        pending, self._pending = self._pending, {}
        now = time.time()
        pipe = self._redis.pipeline(transaction=False)
        for target, until in pending.items():
            ttl_ms = int((until - now) * 1000)
            if ttl_ms > 0:
                pipe.set(PREFIX + target, repr(until), px=ttl_ms)
        pipe.mget(self._keys)
        try:
            results = await pipe.execute()
        except Exception:
            # Not shared yet: keep them for the next round (newer openings win).
            self._pending = pending | self._pending
            raise
        now = time.time()
        for name, value in zip(self._breakers, results[-1], strict=True):
            if value is None:
                continue
            try:
                left = float(value) - now
            except ValueError:
                continue
            if left > 0:
                self._breakers[name].open_until(left)
