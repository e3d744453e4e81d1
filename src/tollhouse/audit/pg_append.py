"""Group commits to a PostgreSQL chain database straight through asyncpg.

Through SQLAlchemy, one commit is a pool checkout, a greenlet hop per statement, the
statement cache and result processing, and a rollback when the connection goes back to the
pool — more than the rows themselves cost. Here the writer keeps one connection of the
engine's pool for itself and writes a batch in one transaction. A connection that fails is
given back as invalid and replaced on the next batch.

The records go in as multi-row INSERTs of 64, 32, … 1 rows (``power_parts``: seven prepared
statements serve every batch size). A batch that is one such INSERT and nothing else — most
strict-mode commits: no content, no checkpoint, no heartbeat due — runs without BEGIN and
COMMIT (one statement is atomic by itself): one round trip instead of three. (``unnest`` of
one array per column would make every batch one statement, but asyncpg's array encoding
costs more per value than the round trips it saves.)
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
        inserts = _SQL.record_inserts(rows)
        try:
            if len(inserts) == 1 and not content and checkpoint is None and now_us is None:
                await conn.execute(inserts[0][0], *inserts[0][1])
                return
            async with conn.transaction():
                for sql, params in inserts:
                    await conn.execute(sql, *params)
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
