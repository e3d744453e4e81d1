"""Finding records: filters over the indexed columns, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables
from tollhouse.audit.reader import record_of

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


def _query(filters: SearchFilters, dialect: str) -> Select[Any]:
    c = tables.records.c

    def column(name: str) -> Any:  # SQLite reads some search columns from the body
        return tables.record_column(name, dialect)

    equal = {
        "principal_id": filters.principal,
        "org_id": filters.org,
        "session_id": filters.session,
        "trace_id": filters.trace,
        "request_id": filters.request,
        "type": filters.type,
        "verdict": filters.verdict,
        "status": filters.status,
        "chain_id": filters.chain,
    }
    conditions = [column(name) == value for name, value in equal.items() if value is not None]
    if filters.agent is not None:
        conditions += [column("principal_id") == filters.agent, column("principal_kind") == "agent"]
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
        rows = (await conn.execute(_query(filters, engine.dialect.name))).all()
    found = []
    for row in rows:
        record = record_of(row.chain_id, row.seq, row.body)
        record["hash"] = row.hash
        found.append(record)
    return found
