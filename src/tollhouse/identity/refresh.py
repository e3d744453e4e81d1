"""Keeping the snapshot fresh and writing keys' last use, in background tasks.

The refresher is one of the runtime's observers: the app starts it with the server and
stops it on shutdown. Its ``observe`` does nothing; everything happens in its tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.change_feed import ChangeFeed
from tollhouse.identity.provider_keys import ProviderKeys
from tollhouse.identity.snapshot import IdentityState, build_snapshot
from tollhouse.identity.store.changes import current_version
from tollhouse.identity.store.key_store import KeyStore
from tollhouse.identity.store.loader import load_all
from tollhouse.pipeline.context import RequestContext
from tollhouse.storage.migrate import pending, upgrade

log = logging.getLogger("tollhouse.identity")


class IdentityRefresher:
    """Loads the snapshot at start, reloads it on change, flushes last-used times in batches."""

    def __init__(
        self,
        state: IdentityState,
        engine: AsyncEngine,
        feed: ChangeFeed,
        *,
        refresh_interval_s: float,
        flush_interval_s: float,
        migrate: bool,
        config_policies: Sequence[tuple[str, str]] = (),
        users_default: str = "allow",
        cache_ttl_s: float = 5.0,
        provider_keys: ProviderKeys | None = None,
    ) -> None:
        self.state = state
        self.engine = engine
        self.feed = feed
        self._interval = refresh_interval_s
        self._flush_interval = flush_interval_s
        self._migrate = migrate
        self._policies = tuple(config_policies)
        self._users_default = users_default
        self._ttl = cache_ttl_s
        self._provider_keys = provider_keys
        self._tasks: list[asyncio.Task[None]] = []

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        try:
            if self._migrate:
                await _migrate(self.engine)
            await self.refresh(force=True)
            if self._provider_keys is not None:
                await self._provider_keys.load(self.engine, strict=True)  # a missing one stops the start
        except BaseException:
            await self.engine.dispose()  # a failed start leaves no connection behind
            raise
        await self.feed.start()
        self._tasks = [
            asyncio.create_task(self._watch(), name="identity-refresh"),
            asyncio.create_task(self._flush_loop(), name="identity-last-used"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        try:
            await self.flush()
        finally:
            await self.feed.stop()
            await self.engine.dispose()

    async def refresh(self, force: bool = False) -> bool:
        """Reload when the stored version moved (or ``force``); True when the snapshot changed."""
        if not force and await current_version(self.engine) == self.state.current.version:
            return False
        loaded = await load_all(self.engine, time.time())
        # Parsing policies and entities is CPU work measured in milliseconds: not on the loop.
        snapshot = await asyncio.to_thread(
            build_snapshot, loaded, self._policies, self._users_default, self._ttl
        )
        self.state.current = snapshot
        log.debug("identity snapshot %d: %d keys", snapshot.version, len(snapshot.keys))
        if self._provider_keys is not None and not force:
            # A credential change bumps the same version: re-open the providers' keys.
            await self._provider_keys.load(self.engine)
        return True

    async def flush(self) -> None:
        used = self.state.take_used()
        if not used:
            return
        try:
            await KeyStore(self.engine).record_use(used)
        except Exception:
            self.state.restore_used(used)  # keep them for the next batch
            raise

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.feed.changed.wait(), self._interval)
            self.feed.changed.clear()
            try:
                await self.refresh()
            except Exception:
                log.exception("identity refresh failed; serving the previous snapshot")

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                await self.flush()
            except Exception:
                log.exception("writing keys' last use failed; will retry")


async def _migrate(engine: AsyncEngine) -> None:
    """Apply pending migrations; a concurrent worker doing the same is not an error."""
    try:
        await upgrade(engine)
    except Exception:
        await asyncio.sleep(0.5)
        if await pending(engine):
            raise
