"""Group commits to a PostgreSQL chain database straight through asyncpg.

Through SQLAlchemy, one commit is a pool checkout, a greenlet hop per statement, the
statement cache and result processing, and a rollback when the connection goes back to the
pool — more than the rows themselves cost. Here the writer keeps one connection of the
engine's pool for itself and writes a batch with asyncpg's own ``executemany`` (prepared
once, rows pipelined) in one transaction. A connection that fails is given back as invalid
and replaced on the next batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollhouse.audit.append_sql import AppendSql

_SQL = AppendSql.with_marks(lambda i: f"${i}")


class PgAppender:
    """Commits batches atomically on one asyncpg connection held for the writer."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._held: AsyncConnection | None = None
        self._conn: Any = None  # the asyncpg connection inside ``_held``

    async def append(
        self,
        chain_id: str,
        rows: Sequence[tuple[Any, ...]],
        content: Sequence[tuple[Any, ...]],
        checkpoint: tuple[Any, ...] | None,
        now_us: int | None,
    ) -> None:
        """Write one batch in one transaction: all of it is durable when this returns, or none."""
        conn = await self._connection()
        try:
            async with conn.transaction():
                if rows:
                    await conn.executemany(_SQL.records, rows)
                if content:
                    await conn.executemany(_SQL.content, content)
                if checkpoint is not None:
                    await conn.execute(_SQL.checkpoint, *checkpoint)
                if now_us is not None:
                    await conn.execute(_SQL.heartbeat, now_us, chain_id)
        except BaseException:
            await self._release(invalid=True)
            raise

    async def close(self) -> None:
        await self._release(invalid=False)

    async def _connection(self) -> Any:
        if self._conn is None:
            held = await self._engine.connect()
            try:
                raw = await held.get_raw_connection()
                self._conn = raw.driver_connection
            except BaseException:
                await held.close()
                raise
            self._held = held
        return self._conn

    async def _release(self, invalid: bool) -> None:
        held, self._held, self._conn = self._held, None, None
        if held is None:
            return
        with contextlib.suppress(Exception):
            if invalid:  # the pool must not hand out a connection in an unknown state
                await held.invalidate()
            await held.close()
