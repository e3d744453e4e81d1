"""The shared cache: one Redis for every replica; entries expire in Redis (``SET … PX``)."""

from __future__ import annotations

from typing import Any

_TIMEOUT_S = 1.0  # a lookup that takes longer than this is a miss, not a stalled call


class RedisStore:
    """Values under ``prefix + key``. One round trip per lookup and per store."""

    def __init__(self, url: str, prefix: str) -> None:
        self._url = url
        self._prefix = prefix
        self._redis: Any = None

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(
                self._url, socket_connect_timeout=_TIMEOUT_S, socket_timeout=_TIMEOUT_S
            )
        return self._redis

    async def get(self, key: str) -> bytes | None:
        value = await self._client().get(self._prefix + key)
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        await self._client().set(self._prefix + key, value, px=max(int(ttl_s * 1000), 1))

    async def delete(self, key: str) -> None:
        await self._client().delete(self._prefix + key)

    async def start(self) -> None:
        self._client()  # bound to the serving loop: created here, not when the config compiled

    async def stop(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
