"""The in-process counter backend: dicts, no I/O, atomic because nothing in it awaits.

The default for a single node, and the local fallback when Redis is unreachable. Each
worker process has its own, so with several workers or replicas limits are per process:
use Redis to share them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from tollhouse.limits.counters import (
    COUNT,
    FIRST_SEEN,
    HOLD,
    Admission,
    Expiry,
    Op,
    OpResult,
    Settlement,
    Verdict,
)

_SWEEP_EVERY = 1024  # admissions between sweeps of expired counters
_NEVER = 1 << 62


class _Counter:
    __slots__ = ("expires_ms", "fired", "held", "idle", "leases", "next_lease_end", "used")

    def __init__(self) -> None:
        self.used = 0
        self.held = 0
        self.expires_ms = 0  # 0: not set yet
        self.idle = False  # no window: nothing resets (the expiry only forgets an unused counter)
        self.leases: dict[str, tuple[int, int]] = {}  # rid → (amount, expires_ms)
        self.next_lease_end = _NEVER  # when the earliest lease ends: purge only from then on
        self.fired: set[int] = set()

    def purge(self, now: int) -> None:
        if now < self.next_lease_end:
            return
        ended = [rid for rid, (_, until) in self.leases.items() if until <= now]
        for rid in ended:
            self.held -= self.leases.pop(rid)[0]
        self.next_lease_end = min((until for _, until in self.leases.values()), default=_NEVER)

    def lease(self, rid: str, amount: int, until: int) -> None:
        self.held += amount
        self.leases[rid] = (amount, until)
        if until < self.next_lease_end:
            self.next_lease_end = until

    def release(self, rid: str) -> None:
        lease = self.leases.pop(rid, None)
        if lease is not None:
            self.held -= lease[0]

    def touch(self, expiry: Expiry, now: int) -> None:
        mode = expiry.mode
        if mode == "i":
            self.idle = True
            self.expires_ms = now + expiry.ttl_ms
        elif mode == "c":
            self.expires_ms = expiry.at_ms
        elif self.expires_ms == 0:
            self.expires_ms = now + expiry.ttl_ms

    def reset_ms(self, now: int) -> int:
        return 0 if self.idle or not self.expires_ms else max(self.expires_ms - now, 0)


def _fresh_reset(expiry: Expiry, now: int) -> int:
    """When a window that starts now ends, in ms from now."""
    if expiry.mode == "a":
        return expiry.ttl_ms
    return max(expiry.at_ms - now, 0) if expiry.mode == "c" else 0


class MemoryStore:
    """``CounterStore`` over dicts in this process."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._counters: dict[str, _Counter] = {}
        self._admissions = 0
        self._clock = clock  # seconds since the epoch: calendar windows end at wall-clock times

    def _get(self, key: str, now: int) -> _Counter | None:
        counter = self._counters.get(key)
        if counter is not None and counter.expires_ms and counter.expires_ms <= now:
            del self._counters[key]
            return None
        return counter

    def _check(self, op: Op, now: int) -> tuple[_Counter | None, OpResult]:
        counter = self._get(op.key, now)
        if counter is None:
            ok = op.kind == FIRST_SEEN or op.amount <= op.limit
            return None, OpResult(ok, 0, 0, _fresh_reset(op.expiry, now))
        if op.kind == FIRST_SEEN:
            elapsed = now - counter.used
            return counter, OpResult(elapsed <= op.limit, elapsed, 0, 0)
        counter.purge(now)
        counted = counter.used + op.amount + (counter.held if op.kind == HOLD else 0)
        return counter, OpResult(counted <= op.limit, counter.used, counter.held, counter.reset_ms(now))

    def _apply(self, op: Op, counter: _Counter | None, rid: str, until: int, now: int) -> tuple[int, ...]:
        if counter is None:
            counter = self._counters[op.key] = _Counter()
            if op.kind == FIRST_SEEN:
                counter.used = now
        counter.touch(op.expiry, now)
        if op.kind == COUNT:
            counter.used += op.amount
        elif op.kind == HOLD:
            counter.lease(rid, op.amount, until)
        if not op.alerts:
            return ()
        level = counter.used + counter.held
        fired = tuple(t for t in op.alerts if level >= t and t not in counter.fired)
        counter.fired.update(fired)
        return fired

    async def admit(self, admission: Admission) -> Verdict:
        return self.admit_now(admission)

    def admit_now(self, admission: Admission) -> Verdict:
        """``admit`` without a coroutine: the policy's fast path for the in-process backend."""
        now = int(self._clock() * 1000)
        checked = [self._check(op, now) for op in admission.ops]
        admitted = True
        for op, (_, result) in zip(admission.ops, checked, strict=True):
            if not result.ok and op.enforce:
                admitted = False
                break
        if not admitted:
            return Verdict(False, tuple(result for _, result in checked))
        until = now + admission.lease_ms
        results = []
        for op, (counter, result) in zip(admission.ops, checked, strict=True):
            fired = self._apply(op, counter, admission.rid, until, now)
            results.append(result._replace(fired=fired) if fired else result)
        self._admissions += 1
        if self._admissions % _SWEEP_EVERY == 0:
            self._sweep(now)
        return Verdict(True, tuple(results))

    def settle(self, settlement: Settlement) -> None:
        now = int(self._clock() * 1000)
        for release in settlement.releases:
            held = self._get(release.hold_key, now)
            if held is not None:
                held.release(settlement.rid)
            if release.actual:
                used = self._get(release.use_key, now)
                if used is None:
                    used = self._counters[release.use_key] = _Counter()
                used.touch(release.expiry, now)
                used.used += release.actual

    async def peek(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        now = int(self._clock() * 1000)
        out = []
        for key in keys:
            counter = self._get(key, now)
            if counter is not None:
                counter.purge(now)
            out.append((counter.used, counter.held) if counter is not None else (0, 0))
        return out

    async def close(self) -> None:
        self._counters.clear()

    def _sweep(self, now: int) -> None:
        for key in [k for k, c in self._counters.items() if c.expires_ms and c.expires_ms <= now]:
            del self._counters[key]
