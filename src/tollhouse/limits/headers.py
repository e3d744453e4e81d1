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


_NAMES = {
    family: (f"x-ratelimit-limit-{family}".encode(), f"x-ratelimit-remaining-{family}".encode(),
             f"x-ratelimit-reset-{family}".encode())
    for family in ("requests", "tokens")
}  # fmt: skip


def rate_headers(rooms: Iterable[Room]) -> list[tuple[bytes, bytes]]:
    """The headers for the tightest counter of each family."""
    tightest: dict[str, Room] = {}
    for room in rooms:
        best = tightest.get(room.family)
        if best is None or room.remaining < best.remaining:
            tightest[room.family] = room
    out = []
    for family, room in tightest.items():
        limit, remaining, reset = _NAMES[family]
        out.append((limit, str(room.limit).encode()))
        out.append((remaining, str(max(room.remaining, 0)).encode()))
        out.append((reset, duration(room.reset_ms).encode()))
    return out
