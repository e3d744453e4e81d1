"""OpenAI-style rate-limit headers: ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``.

When several rules count requests (or tokens) for a call, the headers describe the one
with the least room left, as a client deciding how fast to go needs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple


def duration(ms: int) -> str:
    """OpenAI's reset format: ``20ms``, ``1s``, ``6m0s``, ``1h2m3s``."""
    if ms < 1000:
        return f"{max(ms, 0)}ms"
    seconds = math.ceil(ms / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def retry_after(ms: int) -> str:
    """Whole seconds, at least one."""
    return str(max(1, math.ceil(ms / 1000)))


class Room(NamedTuple):
    """How much one counter has left after this call."""

    family: str  # "requests" or "tokens"
    limit: int
    remaining: int
    reset_ms: int


RoomTuple = tuple[str, int, int, int]  # a ``Room``'s fields: the hot path builds plain tuples

_NAMES = {
    family: (f"x-ratelimit-limit-{family}".encode(), f"x-ratelimit-remaining-{family}".encode(),
             f"x-ratelimit-reset-{family}".encode())
    for family in ("requests", "tokens")
}  # fmt: skip


_LIMITS: dict[int, bytes] = {}  # encoded once: limits are few, resets in whole seconds too
_RESETS: dict[int, bytes] = {}
_CACHE_MAX = 4096


def _limit_bytes(limit: int) -> bytes:
    out = _LIMITS.get(limit)
    if out is None:
        if len(_LIMITS) >= _CACHE_MAX:
            _LIMITS.clear()
        out = _LIMITS[limit] = str(limit).encode()
    return out


def _reset_bytes(ms: int) -> bytes:
    if ms < 1000:
        return f"{max(ms, 0)}ms".encode()
    seconds = -(-ms // 1000)  # the format only depends on the whole seconds, rounded up
    out = _RESETS.get(seconds)
    if out is None:
        if len(_RESETS) >= _CACHE_MAX:
            _RESETS.clear()
        out = _RESETS[seconds] = duration(ms).encode()
    return out


def rate_headers(rooms: Iterable[RoomTuple]) -> list[tuple[bytes, bytes]]:
    """The headers for the tightest counter of each family (``rooms``: ``Room``s or plain tuples)."""
    tightest: dict[str, RoomTuple] = {}
    for room in rooms:
        best = tightest.get(room[0])
        if best is None or room[2] < best[2]:
            tightest[room[0]] = room
    out = []
    for family, limit, remaining, reset_ms in tightest.values():
        names = _NAMES[family]
        out.append((names[0], _limit_bytes(limit)))
        out.append((names[1], str(remaining if remaining > 0 else 0).encode()))
        out.append((names[2], _reset_bytes(reset_ms)))
    return out
