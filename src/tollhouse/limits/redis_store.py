"""The Redis counter backend: one ``EVALSHA`` per round trip, shared by every replica.

Calls that arrive while a round trip is in flight wait for the next one, which carries all
of them (and every settlement queued meanwhile) in a single script call. At low load that is
one round trip per admission; under load it is far fewer, so Redis costs the hot path about
one future and one JSON encode per call.

When Redis fails (refused, reset, timeout), waiting admissions get ``StoreUnavailable``
and for ``retry_s`` no new round trip is tried: callers take the degraded path at once
instead of each waiting out a timeout. Settlements that cannot be sent are dropped and
counted; their reservations expire in Redis after their lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

import orjson

from tollhouse.limits.counters import (
    HOLD,
    Admission,
    OpResult,
    Release,
    Settlement,
    StoreUnavailable,
    Verdict,
)
from tollhouse.limits.lua import SCRIPT
from tollhouse.limits.resp import RespClient, RespError, Script

log = logging.getLogger("tollhouse.limits")

_BATCH_MAX = 256  # admissions per script call: bounds how long Redis is busy with one
_SETTLE_DELAY_S = 0.005  # settlements wait this long for an admission to ride along with
_FAILURES = (RespError, ConnectionError, OSError, TimeoutError)


def parse_line(line: str) -> Verdict:
    """One admission's line of the script's reply."""
    head, _, rest = line.partition(";")
    results = []
    for part in rest.split(";") if rest else ():
        ok, used, held, reset, fired = part.split(",", 4)
        alerts = tuple(int(f) for f in fired.split()) if fired else ()
        results.append(_new(OpResult, (ok == "1", int(used), int(held), int(reset), alerts)))
    return _new(Verdict, (head == "1", tuple(results)))


_new = tuple.__new__  # a NamedTuple without a Python-level __new__ call: this runs per call


class RedisStore:
    """``CounterStore`` over one Redis server (not Redis Cluster: a batch spans many keys)."""

    def __init__(self, url: str, timeout_s: float = 0.5, retry_s: float = 1.0) -> None:
        self._client = RespClient(url, timeout_s)
        self._script = Script(self._client, SCRIPT)
        self._retry_s = retry_s
        self._down_until = 0.0
        self._admits: list[tuple[Admission, asyncio.Future[Verdict]]] = []
        self._settles: list[Settlement] = []
        self._flusher: asyncio.Task[None] | None = None
        self._settle_timer: asyncio.TimerHandle | None = None
        self._settle_now = False
        self.lost_settlements = 0  # settlements dropped while Redis was unreachable

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    async def admit(self, admission: Admission) -> Verdict:
        if not admission.ops:
            return Verdict(True, ())
        if not self.available:
            raise StoreUnavailable("redis marked down")
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        self._admits.append((admission, future))
        self._kick()
        return await future

    def settle(self, settlement: Settlement) -> None:
        if not settlement.releases:
            return
        if not self.available:
            self.lost_settlements += 1
            return
        self._settles.append(settlement)
        if self._settle_timer is None:
            # Not at once: the next admission (usually within the delay) carries it for free.
            self._settle_timer = asyncio.get_running_loop().call_later(_SETTLE_DELAY_S, self._settle_due)

    def _settle_due(self) -> None:
        self._settle_timer = None
        self._settle_now = True
        self._kick()

    def _kick(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush(), name="limits-redis")

    async def _flush(self) -> None:
        admits: list[tuple[Admission, asyncio.Future[Verdict]]] = []
        try:
            # Admissions go at once; settlements ride along, or go alone once they are due.
            while self._admits or (self._settles and self._settle_now):
                self._settle_now = False
                admits, self._admits = self._admits[:_BATCH_MAX], self._admits[_BATCH_MAX:]
                settles, self._settles = self._settles, []
                await self._round_trip(admits, settles)
            admits = []
        finally:
            self._flusher = None
            for _, future in [*admits, *self._admits]:  # cancelled midway: nobody may wait forever
                if not future.done():
                    future.set_exception(StoreUnavailable("flush cancelled"))
            self._admits = []
            if self._settles and self._settle_timer is None:
                self._settle_timer = asyncio.get_running_loop().call_later(_SETTLE_DELAY_S, self._settle_due)

    async def _round_trip(
        self, admits: list[tuple[Admission, asyncio.Future[Verdict]]], settles: list[Settlement]
    ) -> None:
        # The tuples go as they are: orjson writes each NamedTuple as a JSON array (``default``),
        # in the field order the script reads (counters.py).
        payload = orjson.dumps({"s": settles, "a": [a for a, _ in admits]}, default=tuple)
        try:
            reply = await self._script(payload)
        except _FAILURES as exc:
            self._down_until = time.monotonic() + self._retry_s
            self.lost_settlements += len(settles)
            log.debug("redis round trip failed: %s", type(exc).__name__)
            for _, future in admits:
                if not future.done():
                    future.set_exception(StoreUnavailable(type(exc).__name__))
            return
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        lines = text.split("\n") if admits else []
        for (admission, future), line in zip(admits, lines, strict=True):
            verdict = parse_line(line)
            if not future.done():
                future.set_result(verdict)
            elif verdict.admitted:  # the caller left while waiting: give back what it got
                self._settles.append(Settlement(admission.rid, _releases(admission)))

    async def peek(self, keys: Sequence[str]) -> list[tuple[int, int]]:
        try:
            rows = await asyncio.gather(*(self._client.call("HMGET", key, "u", "h") for key in keys))
        except _FAILURES as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        if any(isinstance(row, RespError) for row in rows):
            raise StoreUnavailable("redis refused a read")
        return [(int(u or 0), max(int(h or 0), 0)) for u, h in rows]

    async def close(self) -> None:
        if self._settle_timer is not None:
            self._settle_timer.cancel()
            self._settle_due()  # send what is waiting before closing
        if self._flusher is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._flusher), 2.0)
        await self._client.close()


def _releases(admission: Admission) -> tuple[Release, ...]:
    return tuple(Release(o.key, o.key, 0, o.expiry) for o in admission.ops if o.kind == HOLD)
