"""Admission against the configured store, with the degraded path when it is unreachable.

With Redis down, each op follows its limit's choice: ``fail_closed`` refuses the call (503),
``fail_open`` counts it in this process's own counters instead. Which one happened is
returned, so the policy records it in the call's decisions. The store a call was admitted
by is the store its settlement goes to.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

from tollhouse.errors import TollhouseError
from tollhouse.limits.counters import CounterStore, OpResult, StoreUnavailable, Verdict
from tollhouse.limits.errors import (
    BudgetExceeded,
    LimitExceeded,
    SessionLimitExceeded,
    SessionLoopDetected,
)
from tollhouse.limits.headers import retry_after
from tollhouse.limits.memory import MemoryStore
from tollhouse.limits.plan import Plan
from tollhouse.limits.rules import BUDGET, LOOP, RATE, Check, describe

log = logging.getLogger("tollhouse.limits")


class Admitted(NamedTuple):
    """The store's answer for one call, and how it was reached."""

    verdict: Verdict | None  # None: refused because a fail-closed limit could not be checked
    store: CounterStore
    degraded: str = ""  # "", "fail_open" or "fail_closed"
    labels: tuple[str, ...] = ()  # the limits the degraded path applied to


class Limiter:
    """Admits plans against ``primary``; ``fallback`` (in-process) takes over when it fails."""

    def __init__(self, primary: CounterStore, fallback: MemoryStore | None = None) -> None:
        self.primary = primary
        self.fallback = fallback
        self.local = primary if isinstance(primary, MemoryStore) else None  # callers may skip ``admit``
        self._last_warning = 0.0

    async def admit(self, plan: Plan) -> Admitted:
        if self.local is not None:  # in-process: nothing can fail
            return Admitted(self.local.admit_now(plan.admission), self.local)
        if not plan.admission.ops:
            return Admitted(Verdict(True, ()), self.primary)
        try:
            return Admitted(await self.primary.admit(plan.admission), self.primary)
        except StoreUnavailable:
            self._warn()
        ops, checks = plan.admission.ops, plan.checks
        closed = tuple(c.label for c, op in zip(checks, ops, strict=True) if c.fail_closed and op.enforce)
        if closed or self.fallback is None:
            return Admitted(None, self.primary, "fail_closed", closed or tuple(c.label for c in checks))
        verdict = self.fallback.admit_now(plan.admission)
        return Admitted(verdict, self.fallback, "fail_open", tuple(c.label for c in checks))

    def _warn(self) -> None:
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.warning("limit counters unreachable: degraded mode (per limit: fail_open or fail_closed)")


def refusal(plan: Plan, verdict: Verdict) -> tuple[Check, TollhouseError] | None:
    """The first enforced op that failed, and the error the caller gets for it."""
    for op, check, raw in zip(plan.admission.ops, plan.checks, verdict.results, strict=True):
        result = OpResult(*raw)  # the in-process store answers with plain tuples
        if result.ok or not op.enforce:
            continue
        resets = op.expiry.mode != "i"
        wait = retry_after(result.reset_ms) if resets else "1"
        limit = describe(op.limit, check.unit)
        if check.refusal == RATE:
            message = f"rate limit `{check.label}` reached: {limit}; retry in {wait}s"
            return check, LimitExceeded(message, headers={"retry-after": wait})
        if check.refusal == BUDGET:
            spent, held = describe(result.used, "USD"), describe(result.held, "USD")
            when = f"it resets in {wait}s" if resets else "it does not reset"
            message = (
                f"budget `{check.label}` exhausted: {limit} (spent {spent}, {held} reserved by calls "
                f"in flight); {when}"
            )
            return check, BudgetExceeded(message, headers={"retry-after": wait} if resets else {})
        if check.refusal == LOOP:
            message = (
                f"this session sent the same request {op.limit} times: refused as a loop ({check.label})"
            )
            return check, SessionLoopDetected(message)
        return check, SessionLimitExceeded(f"session cap `{check.label}` reached: {limit}")
    return None
