"""Brute-force protection: a client whose credentials keep failing is refused for a while.

The policy runs just before authentication. Its ``enter`` refuses a blocked client (429
with ``Retry-After``) before any key is checked; its ``exit`` sees whether authentication
failed (a 401 other than "no key at all") and counts that failure against the client's
address in a fixed window. Blocks are per process, bounded (oldest clients forgotten first);
with Redis the count is shared by the replicas (``SharedFailures``), and any replica that
sees the client over the limit blocks it.
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
from tollhouse.policies.auth_failures import SharedFailures

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
        self,
        max_failures: int,
        window_s: float,
        block_s: float,
        max_clients: int = 100_000,
        shared: SharedFailures | None = None,
    ) -> None:
        self._max = max_failures
        self._window = window_s
        self._block = block_s
        self._limit = max_clients
        self._clients: OrderedDict[str, _Window] = OrderedDict()
        self._shared = shared

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
        if self._shared is not None:
            count = await self._shared.record(ctx.client)
            if count is not None:  # None: Redis is unavailable, count here instead
                if count >= self._max:
                    self._block_now(ctx.client, time.monotonic())
                return
        self.record_failure(ctx.client, time.monotonic())

    def _window_of(self, client: str, now: float) -> _Window:
        window = self._clients.get(client)
        if window is None or now - window.started > self._window:
            window = _Window(now)
            self._clients[client] = window
        self._clients.move_to_end(client)
        while len(self._clients) > self._limit:
            self._clients.popitem(last=False)
        return window

    def _block_now(self, client: str, now: float) -> None:
        window = self._window_of(client, now)
        window.blocked_until = now + self._block
        window.started, window.count = now, 0

    def record_failure(self, client: str, now: float) -> None:
        window = self._window_of(client, now)
        window.count += 1
        if window.count >= self._max:
            self._block_now(client, now)
