"""The limits' background side, started and stopped with the app (a runtime ``Observer``).

It opens the database, runs the ledger writer, reloads the killed sessions every
``kill_poll_s``, delivers alerts, writes kills decided on the hot path (loop detection),
and closes the counter stores at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.background import stop_task
from tollhouse.limits.alerts import AlertSender
from tollhouse.limits.counters import CounterStore
from tollhouse.limits.kills import KillSet, active_kills, kill_session
from tollhouse.limits.ledger import LedgerWriter
from tollhouse.pipeline.context import RequestContext
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import pending, upgrade

log = logging.getLogger("tollhouse.limits")


async def migrate(engine: AsyncEngine) -> None:
    """Apply pending migrations; another worker doing the same at the same time is not an error."""
    for attempt in range(5):
        try:
            await upgrade(engine)
            return
        except SQLAlchemyError:
            await asyncio.sleep(0.2 * (attempt + 1))
            if not await pending(engine):
                return
    await upgrade(engine)


class LimitsService:
    """Owns the limits' database engine and background tasks."""

    def __init__(
        self,
        database_url: str,
        migrate_on_start: bool,
        kills: KillSet,
        kill_poll_s: float,
        ledger: LedgerWriter | None,
        alerts: AlertSender,
        stores: tuple[CounterStore, ...],
    ) -> None:
        self._url = database_url
        self._migrate = migrate_on_start
        self.kills = kills
        self._poll_s = kill_poll_s
        self.ledger = ledger
        self.alerts = alerts
        self._stores = stores
        self.engine: AsyncEngine | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        self.engine = create_engine(self._url, pool_size=4)
        if self._migrate:
            await migrate(self.engine)
        await self._reload_kills()
        self._poller = asyncio.create_task(self._poll_kills(), name="limits-kills")
        if self.ledger is not None:
            self.ledger.start(self.engine)
        self.alerts.start()

    async def stop(self) -> None:
        await stop_task(self._poller)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        if self.ledger is not None:
            await self.ledger.stop()
        await self.alerts.stop()
        for store in self._stores:
            with contextlib.suppress(Exception):
                await store.close()
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    def kill_later(self, session_id: str, reason: str) -> None:
        """Kill a session now in this replica, and in the database (for every replica) soon."""
        self.kills.add_local(session_id)
        if self.engine is None:
            return
        task = asyncio.get_running_loop().create_task(self._kill(session_id, reason))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _kill(self, session_id: str, reason: str) -> None:
        assert self.engine is not None
        try:
            await kill_session(self.engine, session_id, "tollhouse:loop-detection", reason)
        except (SQLAlchemyError, OSError):
            log.exception("could not record the kill of a session; it is killed in this replica only")

    async def _reload_kills(self) -> None:
        assert self.engine is not None
        try:
            records = await active_kills(self.engine)
        except (SQLAlchemyError, OSError) as exc:
            log.warning(
                "could not reload killed sessions (%s); keeping the last known set", type(exc).__name__
            )
            return
        self.kills.replace(frozenset(r.session_id for r in records))

    async def _poll_kills(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            await self._reload_kills()
