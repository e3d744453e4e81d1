"""The in-process cache: a dict in least-recently-used order, entries expiring by TTL."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator


class MemoryStore:
    """At most ``max_entries`` values; the least recently used go first, expired ones on sight."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._max = max_entries
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get_now(self, key: str) -> bytes | None:
        found = self._items.get(key)
        if found is None:
            return None
        expires, value = found
        if expires <= self._clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def set_now(self, key: str, value: bytes, ttl_s: float) -> None:
        self._items[key] = (self._clock() + ttl_s, value)
        self._items.move_to_end(key)
        while len(self._items) > self._max:
            self._items.popitem(last=False)

    def items(self) -> Iterator[tuple[str, float, bytes]]:
        """Live entries as (key, seconds left, value), least recently used first."""
        now = self._clock()
        for key, (expires, value) in self._items.items():
            if expires > now:
                yield key, expires - now, value

    async def get(self, key: str) -> bytes | None:
        return self.get_now(key)

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        self.set_now(key, value, ttl_s)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
