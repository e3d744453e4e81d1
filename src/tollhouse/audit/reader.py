"""Reading chains back: chain rows, records in sequence order (paged), checkpoints, content rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables
from tollhouse.audit.chain import INDEX_COLUMNS
from tollhouse.audit.store import ChainInfo, CheckpointRow, ContentRow

PAGE = 2000
UNREADABLE = "unreadable"  # the type of a record whose stored body is not a JSON object


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A record row as the database holds it (which a verifier does not trust)."""

    chain_id: str
    seq: int
    hash: str
    body: str
    columns: dict[str, object]


def stored(row: object) -> StoredRecord:
    mapping = row._mapping  # type: ignore[attr-defined]
    return StoredRecord(
        mapping["chain_id"],
        int(mapping["seq"]),
        mapping["hash"],
        mapping["body"],
        {name: mapping[name] for name in INDEX_COLUMNS},
    )


def parse_body(body: str) -> dict[str, Any] | None:
    """A stored body as its record, or None when it is not a JSON object (tampered with)."""
    try:
        record = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def record_of(chain_id: str, seq: int, body: str) -> dict[str, Any]:
    """A stored body as its record. A body that is not a JSON object reads as a stub naming its
    place, so searching or exporting a damaged log shows the damage rather than failing;
    ``audit verify`` says what is wrong with it."""
    record = parse_body(body)
    return record if record is not None else {"type": UNREADABLE, "chain": chain_id, "seq": seq}


class AuditReader:
    """The read side of the audit tables."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def chains(self, chain_id: str | None = None) -> list[ChainInfo]:
        query = select(tables.chains).order_by(tables.chains.c.started_us)
        if chain_id is not None:
            query = query.where(tables.chains.c.chain_id == chain_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ChainInfo(**dict(row)) for row in rows]

    async def record_chains(self, chain_id: str | None = None) -> dict[str, int]:
        """The chains that hold records, each with its lowest sequence number, whether or not
        a chain row registers them (a verifier checks that every one is registered)."""
        query = select(tables.records.c.chain_id, func.min(tables.records.c.seq)).group_by(
            tables.records.c.chain_id
        )
        if chain_id is not None:
            query = query.where(tables.records.c.chain_id == chain_id)
        async with self.engine.connect() as conn:
            return {str(chain): int(seq) for chain, seq in (await conn.execute(query)).all()}

    async def records(self, chain_id: str, after_seq: int = -1) -> AsyncIterator[StoredRecord]:
        """Every record of a chain after ``after_seq``, in sequence order, a page at a time."""
        last = after_seq
        while True:
            query = (
                select(*tables.record_columns(self.engine.dialect.name))
                .where(and_(tables.records.c.chain_id == chain_id, tables.records.c.seq > last))
                .order_by(tables.records.c.seq)
                .limit(PAGE)
            )
            async with self.engine.connect() as conn:
                page = [stored(row) for row in (await conn.execute(query)).all()]
            for record in page:
                yield record
            if len(page) < PAGE:
                return
            last = page[-1].seq

    async def checkpoints(self, chain_id: str | None = None) -> list[CheckpointRow]:
        query = select(tables.checkpoints).order_by(tables.checkpoints.c.chain_id, tables.checkpoints.c.seq)
        if chain_id is not None:
            query = query.where(tables.checkpoints.c.chain_id == chain_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [CheckpointRow(**dict(row)) for row in rows]

    async def content(self, event_ids: list[str]) -> list[ContentRow]:
        if not event_ids:
            return []
        c = tables.content.c
        query = select(
            c.event_id, c.part, c.org_id, c.sha256, c.key_version, c.created_us, c.nonce, c.ciphertext
        ).where(c.event_id.in_(event_ids))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [ContentRow(**dict(row)) for row in rows]
