"""Retry timing: exponential backoff with jitter, and an upstream's ``Retry-After`` honoured."""

from __future__ import annotations

import random

from tollhouse.errors import TollhouseError
from tollhouse.routing.config import RetryConfig


def retry_after_s(error: TollhouseError) -> float | None:
    """The upstream's ``Retry-After`` in seconds, when it sent one as a number."""
    value = error.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: providers send seconds; the mappers keep only digits
    return seconds if seconds >= 0 else None


class Backoff:
    """How long to wait before retry number ``n`` (1 = the first retry) of a failed call."""

    __slots__ = ("_config", "_rng")

    def __init__(self, config: RetryConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng

    @property
    def max_attempts(self) -> int:
        return self._config.max_attempts

    def delay(self, n: int, error: TollhouseError) -> float | None:
        """Seconds to wait, or ``None`` when the upstream asks for longer than we will wait
        (the router then falls back instead of retrying)."""
        config = self._config
        base = min(config.initial_backoff_s * config.multiplier ** (n - 1), config.max_backoff_s)
        if config.jitter:
            base *= 0.5 + 0.5 * self._rng.random()
        asked = retry_after_s(error)
        if asked is None:
            return base
        if asked > config.max_retry_after_s:
            return None
        return max(base, asked)
