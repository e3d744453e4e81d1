"""A sink that batches records in memory and POSTs them from its own task, with retries.

A sink is a copy: the chain in the database is the record of truth. When a sink's receiver
is down long enough for its buffer to fill, the oldest records are dropped from the copy —
counted, logged, and exposed as ``dropped`` — never from the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Sequence

import aiohttp

from tollhouse.audit.chain import SealedRecord
from tollhouse.background import stop_task

log = logging.getLogger("tollhouse.audit")
_ATTEMPTS = 3


class BatchingSink:
    """Queue sealed records; a task sends them in batches of ``batch_size`` every ``interval_s``."""

    name = "sink"

    def __init__(self, url: str, batch_size: int, interval_s: float, queue_size: int) -> None:
        self.url = url
        self._batch = batch_size
        self._interval = interval_s
        self._queue: deque[SealedRecord] = deque(maxlen=queue_size)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.dropped = 0

    def accept(self, records: Sequence[SealedRecord]) -> None:
        wanted = [r for r in records if self.wanted(r)]
        overflow = len(self._queue) + len(wanted) - (self._queue.maxlen or 0)
        if overflow > 0:
            self.dropped += overflow
            log.warning("audit %s sink is behind: %d records dropped from its copy", self.name, overflow)
        self._queue.extend(wanted)
        if len(self._queue) >= self._batch:
            self._wake.set()

    def wanted(self, record: SealedRecord) -> bool:
        return True

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._run(), name=f"audit-{self.name}-sink")

    async def stop(self) -> None:
        """Send what is queued (a bounded effort), then close."""
        await stop_task(self._task)
        with contextlib.suppress(Exception):
            while self._queue:
                await self._send_batch()
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            while self._queue:
                try:
                    await self._send_batch()
                except Exception as exc:
                    log.warning("audit %s sink: %s; will retry", self.name, exc)
                    break

    async def _send_batch(self) -> None:
        batch = [self._queue.popleft() for _ in range(min(self._batch, len(self._queue)))]
        body, content_type = self.encode(batch)
        for attempt in range(_ATTEMPTS):
            if self._session is None:
                raise RuntimeError(f"the {self.name} sink is not started")
            try:
                async with self._session.post(
                    self.url, data=body, headers={"content-type": content_type}
                ) as resp:
                    if resp.status < 300:
                        self.sent += len(batch)
                        return
                    problem = f"{self.url} answered {resp.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = f"{self.url}: {type(exc).__name__}"
            await asyncio.sleep(0.2 * 2**attempt)
        self._queue.extendleft(reversed(batch))
        raise RuntimeError(problem)

    def encode(self, batch: list[SealedRecord]) -> tuple[bytes, str]:
        raise NotImplementedError
