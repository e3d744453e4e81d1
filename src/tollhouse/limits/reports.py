"""Spend reports from the ledger: totals grouped by key, team, agent, session, model or day; CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.limits.ledger import COLUMNS
from tollhouse.limits.rules import NANO_USD
from tollhouse.limits.tables import ledger

GROUPS: Mapping[str, Any] = {
    "key": ledger.c.key_id,
    "principal": ledger.c.principal,
    "team": ledger.c.team_id,
    "org": ledger.c.org_id,
    "agent": ledger.c.agent_id,
    "session": ledger.c.session_id,
    "model": ledger.c.model,
    "provider": ledger.c.provider,
    "day": ledger.c.day,
}
# The ledger's columns, with its cost in USD rather than nano-USD.
EXPORT_COLUMNS = tuple("cost_usd" if name == "cost_nusd" else name for name in COLUMNS)


@dataclass(frozen=True, slots=True)
class SpendRow:
    group: str | None
    calls: int
    input_tokens: int
    output_tokens: int
    cost_nusd: int
    estimated_calls: int  # calls whose usage was unknown and were charged their reservation
    first_us: int
    last_us: int

    @property
    def cost_usd(self) -> float:
        return self.cost_nusd / NANO_USD

    def as_dict(self, by: str) -> dict[str, Any]:
        return {
            by: self.group,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 9),
            "estimated_calls": self.estimated_calls,
            "first_at": self.first_us / 1e6,
            "last_at": self.last_us / 1e6,
        }


def _where(
    since_us: int | None, until_us: int | None, filters: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if since_us is not None:
        conditions.append(ledger.c.time_us >= since_us)
    if until_us is not None:
        conditions.append(ledger.c.time_us < until_us)
    for name, value in filters.items():
        conditions.append(GROUPS[name] == value)
    return conditions


async def spend_report(
    engine: AsyncEngine,
    by: str,
    since_us: int | None = None,
    until_us: int | None = None,
    filters: Mapping[str, str] | None = None,
) -> list[SpendRow]:
    """Totals per value of ``by`` (a key of ``GROUPS``), most expensive first."""
    group = GROUPS[by]
    query = (
        select(
            group,
            func.count(),
            func.sum(ledger.c.input_tokens),
            func.sum(ledger.c.output_tokens),
            func.sum(ledger.c.cost_nusd),
            func.sum(case((ledger.c.estimated, 1), else_=0)),
            func.min(ledger.c.time_us),
            func.max(ledger.c.time_us),
        )
        .where(*_where(since_us, until_us, filters or {}))
        .group_by(group)
        .order_by(func.sum(ledger.c.cost_nusd).desc(), group)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        SpendRow(
            r[0],
            int(r[1]),
            int(r[2] or 0),
            int(r[3] or 0),
            int(r[4] or 0),
            int(r[5] or 0),
            int(r[6]),
            int(r[7]),
        )
        for r in rows
    ]


async def ledger_rows(
    engine: AsyncEngine,
    since_us: int | None = None,
    until_us: int | None = None,
    filters: Mapping[str, str] | None = None,
    limit: int = 100_000,
) -> list[dict[str, Any]]:
    """Raw ledger rows, oldest first, cost in USD."""
    query = (
        select(ledger)
        .where(*_where(since_us, until_us, filters or {}))
        .order_by(ledger.c.time_us, ledger.c.id)
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    out = []
    for row in rows:
        data = {str(key): value for key, value in row._mapping.items()}  # plain str keys: JSON-ready
        data["cost_usd"] = data.pop("cost_nusd") / NANO_USD
        data.pop("id", None)
        out.append(data)
    return out


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()
