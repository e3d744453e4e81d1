"""A cache part (store, semantic index) as a runtime observer: started and stopped with the
app, it sees no calls."""

from __future__ import annotations

from typing import Protocol

from tollhouse.pipeline.context import RequestContext


class Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class StoreLifecycle:
    """Starts the part inside the serving loop and stops it (a store flushes) at shutdown."""

    def __init__(self, store: Startable) -> None:
        self.store = store

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        await self.store.start()

    async def stop(self) -> None:
        await self.store.stop()
