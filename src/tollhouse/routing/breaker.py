"""A circuit breaker per target: passive outlier detection, cooldown, half-open probe.

    closed ──(N failures in a row, or failure rate ≥ r over the window)──► open
    open ──(cooldown passed)──► half-open: one probe call at a time
    half-open ──probe succeeds──► closed        half-open ──probe fails──► open, cooldown doubled

The breaker only counts what the router tells it: ``success`` (the upstream answered, even
with a refusal of the request itself), ``failure`` (5xx, 429, timeout, connection lost) and
``release`` (the call ended without a verdict, e.g. the client left). Every ``allow`` that
returned true must be followed by exactly one of them, so a probe slot is never lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

from tollhouse.routing.config import CircuitConfig

_BUCKETS = 10


class State(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


OpenListener = Callable[[str, float], None]  # (target id, seconds it stays open)


class CircuitBreaker:
    """One target's breaker; ``clock`` is monotonic seconds (injectable for tests)."""

    __slots__ = (
        "_calls",
        "_clock",
        "_config",
        "_consecutive",
        "_cooldown",
        "_epochs",
        "_failures",
        "_listener",
        "_open_until",
        "_probing",
        "_width",
        "state",
        "target",
    )

    def __init__(
        self,
        target: str,
        config: CircuitConfig,
        clock: Callable[[], float] = time.monotonic,
        listener: OpenListener | None = None,
    ) -> None:
        self.target = target
        self._config = config
        self._clock = clock
        self._listener = listener
        self._width = config.window_s / _BUCKETS
        self._epochs = [-1] * _BUCKETS  # which time slice each bucket currently counts
        self._calls = [0] * _BUCKETS
        self._failures = [0] * _BUCKETS
        self._consecutive = 0
        self._cooldown = config.cooldown_s
        self._open_until = 0.0
        self._probing = False
        self.state = State.CLOSED

    def set_listener(self, listener: OpenListener | None) -> None:
        """Who hears about openings (shared state publishes them to the other replicas)."""
        self._listener = listener

    def allow(self) -> bool:
        """Whether a call may go to the target now (half-open: the one probe)."""
        if self.state is State.CLOSED:
            return True
        if self.state is State.OPEN:
            if self._clock() < self._open_until:
                return False
            self.state, self._probing = State.HALF_OPEN, False
        if self._probing:
            return False
        self._probing = True
        return True

    def retry_in(self) -> float:
        """Seconds until the breaker lets a probe through (0 when not open)."""
        return max(self._open_until - self._clock(), 0.0) if self.state is State.OPEN else 0.0

    def success(self) -> None:
        if self.state is not State.CLOSED:
            self._close()
            return
        self._consecutive = 0
        self._count(failed=False)  # the window's sums matter only when a failure is counted

    def failure(self) -> None:
        if self.state is State.HALF_OPEN:
            self._open(min(self._cooldown * 2, self._config.max_cooldown_s))
            return
        if self.state is State.OPEN:
            return  # a call admitted before the breaker opened, ending late
        self._consecutive += 1
        self._count(failed=True)
        calls, failures = self._window()
        config = self._config
        if self._consecutive >= config.consecutive_failures or (
            calls >= config.min_calls and failures >= config.failure_rate * calls
        ):
            self._open(config.cooldown_s)

    def release(self) -> None:
        """The admitted call ended without telling anything about the target."""
        if self.state is State.HALF_OPEN:
            self._probing = False

    def open_until(self, seconds: float) -> None:
        """Open for ``seconds`` from now because another replica saw the target fail."""
        until = self._clock() + seconds
        if self.state is State.OPEN and until <= self._open_until:
            return
        self.state, self._open_until, self._probing = State.OPEN, until, False

    def _open(self, cooldown: float) -> None:
        self._cooldown = cooldown
        self.state, self._open_until, self._probing = State.OPEN, self._clock() + cooldown, False
        self._reset_counts()
        if self._listener is not None:
            self._listener(self.target, cooldown)

    def _close(self) -> None:
        self.state, self._probing = State.CLOSED, False
        self._cooldown = self._config.cooldown_s
        self._reset_counts()

    def _reset_counts(self) -> None:
        self._consecutive = 0
        for i in range(_BUCKETS):
            self._epochs[i], self._calls[i], self._failures[i] = -1, 0, 0

    def _count(self, failed: bool) -> None:
        """Add one call to the current time slice."""
        epoch = int(self._clock() / self._width)
        slot = epoch % _BUCKETS
        if self._epochs[slot] != epoch:
            self._epochs[slot], self._calls[slot], self._failures[slot] = epoch, 0, 0
        self._calls[slot] += 1
        self._failures[slot] += failed

    def _window(self) -> tuple[int, int]:
        """Calls and failures over the last ``window_s``."""
        oldest = int(self._clock() / self._width) - _BUCKETS
        calls = failures = 0
        for i in range(_BUCKETS):
            if self._epochs[i] > oldest:
                calls += self._calls[i]
                failures += self._failures[i]
        return calls, failures
