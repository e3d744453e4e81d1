"""Requests in flight: body deadlines and client-disconnect watching, one sweeper per process.

Per request the hot path only inserts into and removes from a dict. A single background
sweeper, every ``tick`` seconds, cancels requests whose body is overdue (408) and starts a
disconnect watcher for requests still running after ``watch_after`` seconds — a watcher per
request costs a task, most requests finish before they would need one, and an LLM call that
outlives ``watch_after`` is cancelled within a tick of its client leaving, upstream included.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tollhouse.background import stop_task


class Tracked:
    """One request's entry: its task, its ASGI ``receive`` and what the sweeper should do."""

    __slots__ = (
        "body_deadline", "client_gone", "finishing", "receive", "started", "task", "timed_out",
        "watch", "watcher",
    )  # fmt: skip

    def __init__(self, task: asyncio.Task[Any], receive: Any, started: float) -> None:
        self.task = task
        self.receive = receive
        self.started = started
        # Set by http.body.read_body: the loop time by which the body must be in, and whether a
        # disconnect watcher may read ``receive`` (only once the body has been read).
        self.body_deadline: float | None = None
        self.watch = False
        self.watcher: asyncio.Task[None] | None = None
        self.client_gone = False
        self.timed_out = False
        self.finishing = False  # the last part of the response is being sent

    def consume_client_gone(self) -> bool:
        """Whether a cancellation was the client leaving; if so, undo it (nothing is left to send)."""
        if not self.client_gone:
            return False
        self.task.uncancel()
        return True

    def consume_timeout(self) -> bool:
        """Whether a cancellation was the body deadline; if so, undo it so the 408 can be sent."""
        if not self.timed_out:
            return False
        self.timed_out = False
        self.task.uncancel()
        return True


class InFlight:
    """The process's in-flight requests and the sweeper acting on their deadlines."""

    def __init__(self, tick: float = 0.1, watch_after: float = 0.3) -> None:
        self._tick = tick
        self._watch_after = watch_after
        self._live: dict[int, Tracked] = {}
        self._sweeper: asyncio.Task[None] | None = None

    def track(self, receive: Any) -> Tracked:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        entry = Tracked(task, receive, loop.time())
        self._live[id(entry)] = entry
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep())
        return entry

    def untrack(self, entry: Tracked) -> None:
        self._live.pop(id(entry), None)
        if entry.watcher is not None:
            entry.watcher.cancel()
            entry.watcher = None

    async def close(self) -> None:
        await stop_task(self._sweeper)
        self._sweeper = None

    async def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._tick)
            now = loop.time()
            for entry in list(self._live.values()):
                if entry.body_deadline is not None and now >= entry.body_deadline:
                    entry.body_deadline = None
                    entry.timed_out = True
                    entry.task.cancel()
                elif entry.watch and entry.watcher is None and now - entry.started >= self._watch_after:
                    entry.watcher = loop.create_task(_watch(entry))


async def _watch(entry: Tracked) -> None:
    while True:
        message = await entry.receive()
        if message["type"] == "http.disconnect":
            if not entry.finishing:  # after the last byte, "disconnect" only means "done"
                entry.client_gone = True
                entry.task.cancel()
            return
