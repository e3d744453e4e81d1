"""Brute-force protection: a client whose credentials keep failing is refused for a while.

The policy runs just before authentication. Its ``enter`` refuses a blocked client (429
with ``Retry-After``) before any key is checked; its ``exit`` sees whether authentication
failed (a 401 other than "no key at all") and counts that failure against the client's
address in a fixed window. State is per process, bounded (oldest clients forgotten first).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from tollhouse.errors import RateLimited
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import Phase
from tollhouse.pipeline.policy import Policy

_NOT_COUNTED = frozenset({"no_key"})


class _Window:
    __slots__ = ("blocked_until", "count", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.count = 0
        self.blocked_until = 0.0


class AuthThrottle(Policy):
    """Refuse a client for ``block_s`` after ``max_failures`` failed authentications in ``window_s``."""

    name = "auth_throttle"
    phase = Phase.AUTHENTICATE

    def __init__(
        self, max_failures: int, window_s: float, block_s: float, max_clients: int = 100_000
    ) -> None:
        self._max = max_failures
        self._window = window_s
        self._block = block_s
        self._limit = max_clients
        self._clients: OrderedDict[str, _Window] = OrderedDict()

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        window = self._clients.get(ctx.client)
        if window is None:
            return None
        now = time.monotonic()
        if window.blocked_until > now:
            wait = math.ceil(window.blocked_until - now)
            error = RateLimited(
                f"too many failed authentication attempts; retry in {wait}s",
                code="auth_throttled",
                headers={"retry-after": str(wait)},
            )
            return Deny(error, "auth_throttled", self.name)
        return None

    async def exit(self, ctx: RequestContext) -> None:
        if ctx.status != 401 or not ctx.decisions or ctx.decisions[-1].reason in _NOT_COUNTED:
            return
        self.record_failure(ctx.client, time.monotonic())

    def record_failure(self, client: str, now: float) -> None:
        window = self._clients.get(client)
        if window is None or now - window.started > self._window:
            window = _Window(now)
            self._clients[client] = window
        self._clients.move_to_end(client)
        window.count += 1
        if window.count >= self._max:
            window.blocked_until = now + self._block
            window.started, window.count = now, 0
        while len(self._clients) > self._limit:
            self._clients.popitem(last=False)
