"""Cancelling a call when its client goes away, so the upstream request is cancelled too."""

from __future__ import annotations

import asyncio
from typing import Any


class DisconnectWatch:
    """Watches ASGI ``receive`` for ``http.disconnect`` and cancels the request's task.

    Started once the body has been read (nothing else reads ``receive`` after that), stopped
    before the last byte is sent, so a normal end of response is never taken for a disconnect.
    """

    __slots__ = ("_task", "client_gone")

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self.client_gone = False

    def start(self, receive: Any) -> None:
        target = asyncio.current_task()
        if target is not None:
            self._task = asyncio.get_running_loop().create_task(self._watch(receive, target))

    async def _watch(self, receive: Any, target: asyncio.Task[Any]) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.client_gone = True
                target.cancel()
                return

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
