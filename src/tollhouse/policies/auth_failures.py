"""Failed authentications counted in Redis, so every replica sees the same count per client.

One pipelined ``INCR`` + ``EXPIRE … NX`` per failed attempt (the key lives one window from
the first failure); nothing on a successful request. When a client reaches the limit the key
is kept for the block time, so the attacker's next failure on any other replica blocks it
there too: N replicas allow at most ``max_failures + N - 1`` attempts per window, not N times that.

Redis being down must not lock anyone out or slow every failure down: an error (or a reply
slower than ``TIMEOUT_S``) makes the caller count locally, and Redis is not tried again for
``RETRY_S``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from tollhouse.pipeline.context import RequestContext

log = logging.getLogger("tollhouse.identity")

PREFIX = "tollhouse:auth-failures:"
TIMEOUT_S = 1.0
RETRY_S = 5.0


class SharedFailures:
    """The cross-replica failure count; also a runtime observer, for its connection's life."""

    def __init__(self, redis_url: str, window_s: float, block_s: float, max_failures: int) -> None:
        self._url = redis_url
        self._window = max(1, math.ceil(window_s))
        self._block = max(1, math.ceil(block_s))
        self._max = max_failures
        self._redis: Any = None
        self._retry_at = 0.0

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        try:  # open the connection now, so the first failure does not pay for it
            await asyncio.wait_for(self._connect().ping(), TIMEOUT_S)
        except Exception as exc:
            log.warning("auth throttle: Redis unavailable at start (%s)", type(exc).__name__)

    async def stop(self) -> None:
        if self._redis is not None:
            redis, self._redis = self._redis, None
            await redis.aclose()

    def _connect(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(
                self._url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
            )
        return self._redis

    async def record(self, client: str) -> int | None:
        """The client's failures in the current window, this one included; None: count locally."""
        now = time.monotonic()
        if now < self._retry_at:
            return None
        key = PREFIX + client
        try:
            redis = self._connect()
            async with redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, self._window, nx=True)
                count, _ = await asyncio.wait_for(pipe.execute(), TIMEOUT_S)
            if int(count) == self._max:  # once per block: the shared count outlives the window
                await asyncio.wait_for(redis.expire(key, self._block), TIMEOUT_S)
        except Exception as exc:  # refused, reset, timeout, a Redis without EXPIRE NX
            self._retry_at = now + RETRY_S
            log.warning(
                "auth throttle: Redis unavailable (%s); counting failures per process for %.0fs",
                type(exc).__name__,
                RETRY_S,
            )
            return None
        return int(count)
