"""The fallback layer's state for one call: targets still to try, the deadline, what failed.

After a failure ``failed`` says whether the next target may have the call: only for errors
marked ``fallback_allowed``. A prompt too long for the model goes on only to targets with a
larger context window (or the route's `fallbacks.context_window`), a content-filter refusal
only to the route's `fallbacks.content_filter` targets.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Sequence

from tollhouse.errors import (
    DeadlineExceeded,
    TollhouseError,
    UpstreamContentFiltered,
    UpstreamContextExceeded,
    UpstreamError,
    UpstreamUnavailable,
)
from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.routing.target import RouteEntry, Target
from tollhouse.routing.trace import RoutingTrace

DECISION = "router"  # the policy name routing decisions carry in ctx.decisions


class FallbackPlan:
    """The ordered targets for one call and how the call has gone so far."""

    __slots__ = (
        "_content_filter",
        "_context_window",
        "_ctx",
        "_loop",
        "_queue",
        "_skipped",
        "_tried",
        "deadline",
        "last_error",
        "trace",
    )

    def __init__(
        self,
        ctx: RequestContext,
        trace: RoutingTrace,
        entries: Sequence[RouteEntry],
        deadline_s: float | None,
        context_window: Sequence[RouteEntry] = (),
        content_filter: Sequence[RouteEntry] = (),
    ) -> None:
        self._ctx = ctx
        self.trace = trace
        self._queue: deque[RouteEntry] = deque(entries)
        self._context_window = context_window
        self._content_filter = content_filter
        self._tried: set[str] = set()
        self._skipped: list[Target] = []
        self._loop = asyncio.get_running_loop()
        self.deadline = None if deadline_s is None else self._loop.time() + deadline_s
        self.last_error: UpstreamError | None = None

    def next(self) -> Target | None:
        """The next target whose circuit admits a call, or ``None`` when none is left."""
        while self._queue:
            target = self._queue.popleft().target
            if target.id in self._tried:
                continue
            self._tried.add(target.id)
            if target.available():
                return target
            why = "circuit_open" if target.stats.healthy else "unhealthy"
            self._skipped.append(target)
            self.trace.add(target.id, f"skipped:{why}", 0.0)
            self._ctx.decisions.append(Decision(DECISION, "skipped", f"{target.id}: {why}"))
        return None

    def failed(self, target: Target, error: UpstreamError) -> bool:
        """Record ``target``'s failure; whether another target may have the call."""
        self.last_error = error
        if not error.fallback_allowed:
            return False
        if isinstance(error, UpstreamContentFiltered):
            self._queue = deque(self._content_filter)
        elif isinstance(error, UpstreamContextExceeded):
            if self._context_window:
                self._queue = deque(self._context_window)
            else:
                self._queue = deque(e for e in self._queue if _larger(e.target, target))
        return any(e.target.id not in self._tried for e in self._queue)

    def answered(self, target: Target) -> None:
        trace, ctx = self.trace, self._ctx
        trace.target, trace.price = target.id, target.price
        ctx.decisions.append(Decision(DECISION, "routed", target.id))

    def time_left(self) -> float | None:
        """Seconds until the deadline (``None``: no deadline); raises once it has passed."""
        if self.deadline is None:
            return None
        left = self.deadline - self._loop.time()
        if left <= 0:
            raise self.deadline_error()
        return left

    def deadline_error(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"model `{self.trace.alias}` did not answer within its deadline "
            f"({self.trace.calls} upstream attempt{'s' if self.trace.calls != 1 else ''})"
        )

    def exhausted(self) -> TollhouseError:
        """The error for a call no target answered: the last failure, else why none was tried."""
        if self.last_error is not None:
            return self.last_error
        waits = [t.breaker.retry_in() for t in self._skipped if t.breaker is not None]
        headers = {"retry-after": str(max(1, math.ceil(min(waits))))} if waits else {}
        return UpstreamUnavailable(
            f"model `{self.trace.alias}` has no healthy target right now (circuits open)",
            status=503,
            code="no_healthy_target",
            headers=headers,
        )


def _larger(candidate: Target, failed: Target) -> bool:
    window = candidate.context_window
    return window is not None and (failed.context_window is None or window > failed.context_window)
