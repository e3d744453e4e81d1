"""The narrow interface every cache backend implements (memory, SQLite, Redis)."""

from __future__ import annotations

from typing import Protocol


class CacheStore(Protocol):
    """Bytes by key with a time to live. Backends never raise on a missing or expired key."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def start(self) -> None:
        """Open connections or files, inside the serving loop."""
        ...

    async def stop(self) -> None:
        """Flush what is pending and close."""
        ...
