"""Writing chains: register a chain, append a batch (records, content, checkpoint) in one commit.

Only the writer task calls these; nothing here runs on a request's path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables
from tollhouse.audit.chain import ROW_COLUMNS, SQLITE_ROW_COLUMNS, ChainHead, insert_records_sql, sqlite_row
from tollhouse.audit.pg_append import PG_CATCH_UP_ROWS, PgAppender
from tollhouse.audit.sqlite_append import INLINE_MAX_ROWS, SqliteAppender


@dataclass(frozen=True, slots=True)
class ChainInfo:
    """One chain's row: who writes it and how it links to the one before."""

    chain_id: str
    replica_id: str
    host: str
    pid: int
    started_us: int
    heartbeat_us: int
    closed_us: int | None = None
    predecessor: str | None = None
    successor: str | None = None


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """A signed statement of a chain's head: ``seq`` and its ``hash`` at ``time_us``."""

    chain_id: str
    seq: int
    hash: str
    time_us: int
    key_id: str
    signature: str  # base64


@dataclass(frozen=True, slots=True)
class ContentRow:
    """One encrypted piece of content, referenced from a record by event id and digest."""

    event_id: str
    part: str
    org_id: str
    sha256: str
    key_version: int
    created_us: int
    nonce: bytes
    ciphertext: bytes


class ChainStore:
    """The write side of the audit tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # SQLite derives some search columns from the body (``tables.DERIVED_ON_SQLITE``).
        self._sqlite = engine.dialect.name == "sqlite"
        columns = SQLITE_ROW_COLUMNS if self._sqlite else ROW_COLUMNS
        self._insert_records = insert_records_sql(_marks(len(columns), engine.dialect.paramstyle), columns)
        # Batches go straight to the driver on a connection of their own (``sqlite_append``,
        # ``pg_append``); an in-memory SQLite database has no second connection: the engine.
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        self._appender: SqliteAppender | PgAppender | None = None
        # Most records a writer that is behind commits at once (``ChainWriter``).
        self.catch_up_rows = INLINE_MAX_ROWS
        if path and path != ":memory:":
            self._appender = SqliteAppender(path)
        elif engine.dialect.name == "postgresql":
            self._appender = PgAppender(engine)
            self.catch_up_rows = PG_CATCH_UP_ROWS

    async def register(self, info: ChainInfo) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(tables.chains.insert().values(**_info_row(info)))

    async def orphans(self, replica_id: str, exclude: str) -> list[ChainInfo]:
        """Chains of ``replica_id`` that were never closed nor adopted, oldest first."""
        query = (
            select(tables.chains)
            .where(
                and_(
                    tables.chains.c.replica_id == replica_id,
                    tables.chains.c.closed_us.is_(None),
                    tables.chains.c.successor.is_(None),
                    tables.chains.c.chain_id != exclude,
                )
            )
            .order_by(tables.chains.c.started_us)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ChainInfo(**dict(row)) for row in rows]

    async def claim(self, chain_id: str, successor: str) -> bool:
        """Mark ``chain_id`` as continued by ``successor``; false if another writer got there first."""
        statement = (
            update(tables.chains)
            .where(and_(tables.chains.c.chain_id == chain_id, tables.chains.c.successor.is_(None)))
            .values(successor=successor)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(statement)
        return bool(result.rowcount == 1)

    async def release(self, chain_id: str, successor: str) -> None:
        """Undo a ``claim`` whose linking record could not be written."""
        statement = (
            update(tables.chains)
            .where(and_(tables.chains.c.chain_id == chain_id, tables.chains.c.successor == successor))
            .values(successor=None)
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def head(self, chain_id: str) -> ChainHead:
        """The last durable record of a chain (an empty head if it has none)."""
        last = (
            select(tables.records.c.seq, tables.records.c.hash)
            .where(tables.records.c.chain_id == chain_id)
            .order_by(tables.records.c.seq.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(last)).first()
        return ChainHead() if row is None else ChainHead(int(row.seq), bytes.fromhex(row.hash))

    async def append(
        self,
        chain_id: str,
        rows: Sequence[tuple[Any, ...]],
        content: Sequence[ContentRow] = (),
        checkpoint: CheckpointRow | None = None,
        now_us: int | None = None,
    ) -> None:
        """Write one batch atomically: all of it is durable when this returns, or none of it.

        ``rows``: the records as ``chain.seal_rows`` makes them. ``now_us``: also record it as
        the chain's heartbeat."""
        if self._appender is not None:
            await self._appender.append(
                chain_id,
                rows,
                [_content_tuple(c) for c in content],
                None if checkpoint is None else _checkpoint_tuple(checkpoint),
                now_us,
            )
            return
        async with self.engine.begin() as conn:
            if rows:
                # Straight to the driver: the rows are plain tuples, so SQLAlchemy's per-row
                # parameter processing (most of the cost of a big batch) has nothing to add.
                await conn.exec_driver_sql(
                    self._insert_records, list(map(sqlite_row, rows)) if self._sqlite else list(rows)
                )
            if content:
                await conn.execute(tables.content.insert(), [_content_row(c) for c in content])
            if checkpoint is not None:
                await conn.execute(tables.checkpoints.insert().values(**_checkpoint_row(checkpoint)))
            if now_us is not None:
                await conn.execute(
                    update(tables.chains)
                    .where(tables.chains.c.chain_id == chain_id)
                    .values(heartbeat_us=now_us)
                )

    async def close(self, chain_id: str, now_us: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(tables.chains).where(tables.chains.c.chain_id == chain_id).values(closed_us=now_us)
            )

    async def shutdown(self) -> None:
        """Release the writer's own connection, if it has one (the engine is the caller's)."""
        if self._appender is not None:
            await self._appender.close()
            self._appender = None

    async def count(self, chain_id: str) -> int:
        async with self.engine.connect() as conn:
            query = (
                select(func.count()).select_from(tables.records).where(tables.records.c.chain_id == chain_id)
            )
            return int((await conn.execute(query)).scalar_one())


def _marks(n: int, paramstyle: str) -> list[str]:
    """``n`` placeholders in the driver's own style (sqlite: ``?``, asyncpg: ``$n``)."""
    marks = {
        "qmark": ["?"] * n,
        "numeric_dollar": [f"${i}" for i in range(1, n + 1)],
        "numeric": [f":{i}" for i in range(1, n + 1)],
        "format": ["%s"] * n,
    }.get(paramstyle)
    if marks is None:
        raise ValueError(f"unsupported driver parameter style {paramstyle!r}")
    return marks


def _info_row(info: ChainInfo) -> dict[str, Any]:
    return {
        "chain_id": info.chain_id,
        "replica_id": info.replica_id,
        "host": info.host,
        "pid": info.pid,
        "started_us": info.started_us,
        "heartbeat_us": info.heartbeat_us,
        "closed_us": info.closed_us,
        "predecessor": info.predecessor,
        "successor": info.successor,
    }


def _content_row(row: ContentRow) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "part": row.part,
        "org_id": row.org_id,
        "sha256": row.sha256,
        "key_version": row.key_version,
        "created_us": row.created_us,
        "nonce": row.nonce,
        "ciphertext": row.ciphertext,
    }


def _content_tuple(row: ContentRow) -> tuple[Any, ...]:
    return (
        row.event_id,
        row.part,
        row.org_id,
        row.sha256,
        row.key_version,
        row.created_us,
        row.nonce,
        row.ciphertext,
    )


def _checkpoint_tuple(row: CheckpointRow) -> tuple[Any, ...]:
    return (row.chain_id, row.seq, row.hash, row.time_us, row.key_id, row.signature)


def _checkpoint_row(row: CheckpointRow) -> dict[str, Any]:
    return {
        "chain_id": row.chain_id,
        "seq": row.seq,
        "hash": row.hash,
        "time_us": row.time_us,
        "key_id": row.key_id,
        "signature": row.signature,
    }
