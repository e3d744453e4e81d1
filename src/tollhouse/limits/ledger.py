"""The spend ledger: one row per settled call, written to the database in batches.

``record`` is the hot path's part: it appends a dict to a queue. A background task writes
the queue in batches every ``flush_interval_s`` (sooner when a batch is full). While the
database is down rows wait in memory, up to ``queue_max``; rows past that are counted as
lost and logged, never dropped silently. ``stop`` writes what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollhouse.background import stop_task
from tollhouse.limits.tables import ledger
from tollhouse.pipeline.context import RequestContext

log = logging.getLogger("tollhouse.limits")


COLUMNS = (
    "time_us",
    "day",
    "request_id",
    "key_id",
    "principal",
    "agent_id",
    "team_id",
    "org_id",
    "session_id",
    "model",
    "provider",
    "upstream_model",
    "surface",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_nusd",
    "estimated",
)
Row = tuple[Any, ...]  # the values of ``COLUMNS``, in order


_today: list[Any] = [-1, ""]  # the UTC day number last formatted, and its YYYY-MM-DD


def _day(now: float) -> str:
    """``YYYY-MM-DD`` (UTC) of ``now``, formatted once a day rather than once a call."""
    number = int(now // 86_400)
    if number != _today[0]:
        _today[:] = [number, time.strftime("%Y-%m-%d", time.gmtime(now))]
    return str(_today[1])


def ledger_row(ctx: RequestContext, cost_nusd: int, estimated: bool, now: float | None = None) -> Row:
    """What the ledger keeps of a call: who, which model, usage and cost (never content)."""
    now = time.time() if now is None else now
    p = ctx.principal
    usage = ctx.usage
    session = ctx.session_id or None
    if p is None:
        key = principal = agent = team = org = None
    else:
        key = p.key_id or (p.id if p.kind == "master" else None)
        principal, agent = f"{p.kind}:{p.id}", p.id if p.kind == "agent" else None
        team, org = p.team_id, p.org_id
    return (
        int(now * 1_000_000),
        _day(now),
        ctx.request_id,
        key,
        principal,
        agent,
        team,
        org,
        session,
        ctx.model,
        ctx.provider,
        ctx.upstream_model,
        ctx.surface,
        ctx.status,
        usage.prompt_tokens if usage else 0,
        usage.completion_tokens if usage else 0,
        cost_nusd,
        estimated,
    )


def _insert(dialect: Dialect) -> tuple[str, tuple[int, ...] | None]:
    """The driver-level INSERT, and for positional parameter styles the order of the values.

    Rows go to the driver as plain tuples: SQLAlchemy's per-row parameter processing would cost
    more than the insert itself."""
    statement = ledger.insert().values({name: bindparam(name) for name in COLUMNS})
    compiled = statement.compile(dialect=dialect)
    if not dialect.positional:
        return str(compiled), None
    order = tuple(COLUMNS.index(name) for name in compiled.positiontup or ())
    return str(compiled), None if order == tuple(range(len(COLUMNS))) else order


class LedgerWriter:
    """Batches ledger rows into the database off the hot path."""

    def __init__(self, flush_interval_s: float = 1.0, batch_max: int = 500, queue_max: int = 100_000) -> None:
        self._interval = flush_interval_s
        self._batch_max = batch_max
        self._queue_max = queue_max
        self._rows: deque[Row] = deque()
        self._engine: AsyncEngine | None = None
        self._statement: tuple[str, tuple[int, ...] | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: AsyncConnection | None = None
        self._wake = asyncio.Event()
        self.lost = 0
        self.written = 0
        self._last_warning = 0.0

    def record(self, row: Row) -> None:
        if len(self._rows) >= self._queue_max:
            self.lost += 1
            self._warn_lost()
            return
        self._rows.append(row)
        if len(self._rows) >= self._batch_max:
            self._wake.set()

    def _warn_lost(self) -> None:
        now = time.monotonic()
        if now - self._last_warning > 10:
            self._last_warning = now
            log.error("spend ledger queue full: %d rows lost so far (database too slow or down)", self.lost)

    def start(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._wake = asyncio.Event()  # bound to the serving loop
        self._task = asyncio.create_task(self._run(), name="limits-ledger")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        await self.flush()
        await self._drop_connection()
        if self._rows:
            log.error("spend ledger: %d rows could not be written before shutdown", len(self._rows))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError, OSError):
                await conn.close()

    async def flush(self) -> None:
        """Write every queued row; on a database error keep them for the next try."""
        while self._rows and self._engine is not None:
            batch = [self._rows.popleft() for _ in range(min(self._batch_max, len(self._rows)))]
            sql, order = self._statement or _insert(self._engine.dialect)
            self._statement = (sql, order)
            params: list[Any]
            if order is not None:
                params = [tuple(row[i] for i in order) for row in batch]
            elif self._engine.dialect.positional:
                params = batch  # the rows are in the statement's order already
            else:
                params = [dict(zip(COLUMNS, row, strict=True)) for row in batch]
            try:
                # One connection kept across flushes: a pool checkout, reset and check-in per
                # batch cost more CPU than the insert itself at small batches.
                if self._conn is None:
                    self._conn = await self._engine.connect()
                await self._conn.exec_driver_sql(sql, params)
                await self._conn.commit()
            except (SQLAlchemyError, OSError) as exc:
                await self._drop_connection()
                self._rows.extendleft(reversed(batch))
                log.warning(
                    "spend ledger: could not write %d rows (%s); will retry", len(batch), type(exc).__name__
                )
                return
            self.written += len(batch)
