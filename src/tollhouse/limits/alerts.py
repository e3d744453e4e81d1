"""Soft-threshold alerts: a counter passed e.g. 80% of its limit, once per window.

The counters decide "once" (a marker per threshold and window, atomic with the admission,
so across replicas too); this module only delivers. ``fire`` queues; a background task
POSTs each alert as JSON to the webhook (retried a few times), or logs it when none is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

log = logging.getLogger("tollhouse.limits")

_QUEUE_MAX = 10_000
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Alert:
    limit_name: str
    counter: str  # which counter: the rule's scope values, e.g. "team-ml"
    threshold: float  # the fraction of the limit, e.g. 0.8
    level: float  # used + reserved when it fired, in the limit's unit (USD for spend)
    limit: float
    metric: str
    at: float  # epoch seconds

    def payload(self) -> dict[str, Any]:
        return {"type": "tollhouse.limit.threshold", **asdict(self)}


class AlertSender:
    """Delivers alerts off the hot path."""

    def __init__(self, webhook_url: str | None, timeout_s: float = 5.0) -> None:
        self._url = webhook_url
        self._timeout = timeout_s
        self._queue: deque[Alert] = deque(maxlen=_QUEUE_MAX)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    def fire(self, alert: Alert) -> None:
        log.warning(
            "limit %s for %s passed %.0f%% (%s of %s %s)",
            alert.limit_name,
            alert.counter,
            alert.threshold * 100,
            f"{alert.level:g}",
            f"{alert.limit:g}",
            alert.metric,
        )
        if self._url is not None:
            self._queue.append(alert)
            self._idle.clear()
            self._wake.set()

    def start(self) -> None:
        if self._url is None:
            return
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        if self._queue:
            self._wake.set()
        self._task = asyncio.create_task(self._run(), name="limits-alerts")

    async def stop(self) -> None:
        if self._task is None:
            return
        if self._queue:  # give queued alerts a last chance to go out
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self._timeout)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _run(self) -> None:
        assert self._url is not None
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    await self._deliver(session, self._queue[0])
                    self._queue.popleft()
                self._idle.set()

    async def _deliver(self, session: aiohttp.ClientSession, alert: Alert) -> None:
        assert self._url is not None
        for attempt in range(_ATTEMPTS):
            try:
                async with session.post(self._url, json=alert.payload()) as response:
                    if response.status < 300:
                        self.sent += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2 * 2**attempt)
        self.failed += 1
        log.error("limit alert for %s could not be delivered to the webhook", alert.limit_name)
