"""Finding records: filters over the indexed columns, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables

MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Every field narrows the search; ``since``/``until`` are microseconds since the epoch."""

    principal: str | None = None
    agent: str | None = None
    org: str | None = None
    session: str | None = None
    trace: str | None = None
    request: str | None = None
    type: str | None = None
    verdict: str | None = None
    status: int | None = None
    chain: str | None = None
    since_us: int | None = None
    until_us: int | None = None
    limit: int = 100


def _query(filters: SearchFilters) -> Select[Any]:
    c = tables.records.c
    conditions = []
    equal = {
        c.principal_id: filters.principal,
        c.org_id: filters.org,
        c.session_id: filters.session,
        c.trace_id: filters.trace,
        c.request_id: filters.request,
        c.type: filters.type,
        c.verdict: filters.verdict,
        c.status: filters.status,
        c.chain_id: filters.chain,
    }
    conditions = [column == value for column, value in equal.items() if value is not None]
    if filters.agent is not None:
        conditions += [c.principal_id == filters.agent, c.principal_kind == "agent"]
    if filters.since_us is not None:
        conditions.append(c.time_us >= filters.since_us)
    if filters.until_us is not None:
        conditions.append(c.time_us < filters.until_us)
    limit = max(1, min(filters.limit, MAX_LIMIT))
    query = select(c.chain_id, c.seq, c.hash, c.body).order_by(c.time_us.desc(), c.seq.desc()).limit(limit)
    return query.where(and_(*conditions)) if conditions else query


async def search(engine: AsyncEngine, filters: SearchFilters) -> list[dict[str, Any]]:
    """Matching records (their hashed bodies, plus ``hash``), newest first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(_query(filters))).all()
    found = []
    for row in rows:
        record = orjson.loads(row.body)
        record["hash"] = row.hash
        found.append(record)
    return found
