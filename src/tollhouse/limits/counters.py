"""The counter interface: what a limit asks of a backend, and what it gets back.

A call's admission is one ``Admission``: a list of ``Op``s checked and applied atomically,
all or nothing. Every amount is an integer in its metric's unit (requests, tokens,
nano-USD, milliseconds), so sums are exact in Redis and in Python alike.

    kind        check                               apply when admitted
    COUNT       used + amount <= limit              used += amount
    HOLD        used + held + amount <= limit       held += amount, as reservation `rid`
    FIRST_SEEN  now - first <= limit (ms)           first = now, if unset

A ``Settlement`` later releases a call's reservations and adds what was really used. A
reservation that is never settled (its replica crashed) expires after its lease, and its
amount stops counting as held.

Windows (``Expiry``): ``a`` anchored (starts at the counter's first use, ``ttl_ms`` long),
``c`` calendar (ends at ``at_ms``), ``i`` idle (forgotten ``ttl_ms`` after the last use).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

COUNT = 1
HOLD = 2
FIRST_SEEN = 3


# Tuples, not dataclasses: several are built per call on the hot path, and tuples build fastest.


class StoreUnavailable(Exception):
    """The backend cannot answer (Redis down or too slow): the degraded path decides."""


class Expiry(NamedTuple):
    mode: str  # "a" anchored, "c" calendar, "i" idle
    ttl_ms: int
    at_ms: int = 0  # calendar: the window's end, epoch milliseconds


class Op(NamedTuple):
    """One counter touched by one call."""

    key: str
    kind: int
    amount: int
    limit: int
    expiry: Expiry
    enforce: bool = True
    alerts: tuple[int, ...] = ()  # amounts whose crossing fires an alert, once per window


class OpResult(NamedTuple):
    ok: bool
    used: int  # before this call (FIRST_SEEN: ms since the first call)
    held: int  # reserved by calls in flight, before this call
    reset_ms: int  # until the window ends (0: no window)
    fired: tuple[int, ...] = ()  # alert thresholds this call crossed first


class Verdict(NamedTuple):
    admitted: bool  # False when an enforced op failed; nothing was applied then
    results: tuple[OpResult, ...]


class Admission(NamedTuple):
    rid: str  # the reservation id, unique per call
    ops: tuple[Op, ...]
    lease_ms: int  # how long this call's reservations live unsettled


class Release(NamedTuple):
    """Settle one reservation: drop it from ``hold_key``, add ``actual`` to ``use_key``."""

    hold_key: str
    use_key: str
    actual: int
    expiry: Expiry  # of ``use_key``, should the settlement create it


class Settlement(NamedTuple):
    rid: str
    releases: tuple[Release, ...]


class CounterStore(Protocol):
    """A counter backend: in-process (``MemoryStore``) or shared (``RedisStore``)."""

    async def admit(self, admission: Admission) -> Verdict:
        """Check and apply ``admission`` atomically; raise ``StoreUnavailable`` when unreachable."""
        ...

    def settle(self, settlement: Settlement) -> None:
        """Release and settle, without waiting (a lost settlement's reservations expire)."""
        ...

    async def peek(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        """``(used, held)`` of each key, for reports; raises ``StoreUnavailable``."""
        ...

    async def close(self) -> None: ...
