"""Telling every replica that identity data changed: Redis pub/sub when configured.

Writers call ``publish`` after their transaction commits; each replica's refresher waits on
``changed`` (set by its own writes and by messages from other replicas) or on its polling
interval, whichever comes first. Polling alone is enough for correctness; Redis makes the
change visible within milliseconds instead of one interval.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tollhouse.background import stop_task

log = logging.getLogger("tollhouse.identity")

CHANNEL = "tollhouse:identity:changed"


class ChangeFeed:
    """Local wake-up plus, with ``redis_url``, a cross-replica channel."""

    def __init__(self, redis_url: str | None = None, listen: bool = True) -> None:
        self._url = redis_url
        self._listen_too = listen
        self._redis: Any = None
        self._listener: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()

    async def start(self) -> None:
        self.changed = asyncio.Event()  # bound to the serving loop, not the one that built us
        if self._url is None:
            return
        import redis.asyncio as aioredis

        self._redis = aioredis.from_url(self._url)
        if self._listen_too:
            self._listener = asyncio.create_task(self._listen(), name="identity-change-feed")

    async def stop(self) -> None:
        await stop_task(self._listener)
        self._listener = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def publish(self) -> None:
        """Wake this replica's refresher and, with Redis, every other replica's."""
        self.changed.set()
        if self._redis is None:
            return
        try:
            await self._redis.publish(CHANNEL, b"1")
        except Exception:
            # The change is committed; polling will carry it to the other replicas.
            log.warning("could not publish an identity change to Redis; replicas will poll")

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    backoff = 0.5
                    self.changed.set()  # anything missed while (re)connecting is picked up now
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.changed.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("identity change feed lost Redis; retrying in %.1fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
