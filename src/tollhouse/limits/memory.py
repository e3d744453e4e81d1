"""The in-process counter backend: dicts, no I/O, atomic because nothing in it awaits.

The default for a single node, and the local fallback when Redis is unreachable. Each
worker process has its own, so with several workers or replicas limits are per process:
use Redis to share them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from tollhouse.limits.counters import (
    COUNT,
    FIRST_SEEN,
    HOLD,
    Admission,
    Expiry,
    OpResult,
    Settlement,
    Verdict,
)

_new = tuple.__new__  # builds a NamedTuple without a Python-level __new__ call
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

    async def admit(self, admission: Admission) -> Verdict:
        return self.admit_now(admission)

    def admit_now(self, admission: Admission) -> Verdict:
        """``admit`` without a coroutine."""
        admitted, results = self.admit_raw(admission)
        return Verdict(admitted, tuple(OpResult(*r) for r in results))

    def admit_raw(self, admission: Admission) -> Verdict:
        """``admit_now`` for the limits policy's hot path: the results are plain tuples.

        One pass checks every op, a second applies them. Written out inline, with tuples
        unpacked rather than read field by field, because it runs on every call; for the same
        reason each result is a plain tuple in ``OpResult``'s field order (callers unpack it)."""
        now = int(self._clock() * 1000)
        counters = self._counters
        rid, ops, lease_ms = admission
        found: list[_Counter | None] = []
        results: list[Any] = []  # plain tuples: a NamedTuple costs several times more to build
        admitted = True
        for key, kind, amount, limit, expiry, enforce, _ in ops:
            counter = counters.get(key)
            if counter is not None:
                ends = counter.expires_ms
                if ends and ends <= now:
                    del counters[key]
                    counter = None
            if counter is None:
                ok = kind == FIRST_SEEN or amount <= limit
                result = (ok, 0, 0, _fresh_reset(expiry, now), ())
            elif kind == FIRST_SEEN:
                elapsed = now - counter.used
                ok = elapsed <= limit
                result = (ok, elapsed, 0, 0, ())
            else:
                if now >= counter.next_lease_end:
                    counter.purge(now)
                used, held = counter.used, counter.held
                ok = (used + amount + held if kind == HOLD else used + amount) <= limit
                reset = 0 if counter.idle or not ends else ends - now
                result = (ok, used, held, reset, ())
            if not ok and enforce:
                admitted = False
            found.append(counter)
            results.append(result)
        if not admitted:
            return _new(Verdict, (False, tuple(results)))
        until = now + lease_ms
        for i, (key, kind, amount, _, (mode, ttl_ms, at_ms), _, alerts) in enumerate(ops):
            counter = found[i]
            if counter is None:
                counter = counters[key] = _Counter()
                if kind == FIRST_SEEN:
                    counter.used = now
            if mode == "i":
                counter.idle = True
                counter.expires_ms = now + ttl_ms
            elif mode == "c":
                counter.expires_ms = at_ms
            elif not counter.expires_ms:
                counter.expires_ms = now + ttl_ms
            if kind == COUNT:
                counter.used += amount
            elif kind == HOLD:
                counter.held += amount
                counter.leases[rid] = (amount, until)
                if until < counter.next_lease_end:
                    counter.next_lease_end = until
            if alerts:
                level = counter.used + counter.held
                fired = tuple(t for t in alerts if level >= t and t not in counter.fired)
                if fired:
                    counter.fired.update(fired)
                    ok, used, held, reset, _ = results[i]
                    results[i] = (ok, used, held, reset, fired)
        self._admissions += 1
        if self._admissions % _SWEEP_EVERY == 0:
            self._sweep(now)
        return _new(Verdict, (True, tuple(results)))

    def settle(self, settlement: Settlement) -> None:
        now = int(self._clock() * 1000)
        counters = self._counters
        rid, releases = settlement
        for hold_key, use_key, actual, (mode, ttl_ms, at_ms) in releases:
            counter = counters.get(hold_key)
            if counter is not None:
                ends = counter.expires_ms
                if ends and ends <= now:
                    del counters[hold_key]
                    counter = None
                else:
                    lease = counter.leases.pop(rid, None)
                    if lease is not None:
                        counter.held -= lease[0]
            if not actual:
                continue
            if use_key != hold_key:
                counter = self._get(use_key, now)
            if counter is None:
                counter = counters[use_key] = _Counter()
            if mode == "i":  # as in admit_raw
                counter.idle = True
                counter.expires_ms = now + ttl_ms
            elif mode == "c":
                counter.expires_ms = at_ms
            elif not counter.expires_ms:
                counter.expires_ms = now + ttl_ms
            counter.used += actual

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
