"""Held tool calls in the database: listing and deciding them (CLI and admin API), and the
reads and writes of the services that hold calls."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.approvals.table import approvals

_FIELDS = (
    "id", "status", "source", "route", "server", "tool", "principal", "session_id", "request_id", "digest",
    "args_sha256", "args_preview", "reason", "created_at", "expires_at", "decided_by", "decided_at", "note",
)  # fmt: skip
MCP = "mcp"


def view(row: Any, now: float | None = None) -> dict[str, Any]:
    """A row as JSON; a pending row past its deadline is expired, whether or not its
    gateway noticed yet."""
    out = {name: getattr(row, name) for name in _FIELDS}
    if out["status"] == "pending" and out["expires_at"] < (time.time() if now is None else now):
        out["status"] = "expired"
    return out


async def list_approvals(
    engine: AsyncEngine, status: str | None = "pending", limit: int = 200, source: str | None = None
) -> list[dict[str, Any]]:
    """Held calls, newest first (``status`` None: all of them; ``pending`` lists the rows
    still pending in the database, those past their deadline shown as expired; ``source``
    ``mcp`` or ``llm``: only the MCP gateway's, or only the LLM surfaces')."""
    query = select(approvals).order_by(approvals.c.created_at.desc()).limit(limit)
    now = time.time()
    if status == "expired":
        query = query.where(
            (approvals.c.status == "expired")
            | ((approvals.c.status == "pending") & (approvals.c.expires_at < now))
        )
    elif status is not None:
        query = query.where(approvals.c.status == status)
    if source == MCP:
        query = query.where(approvals.c.source == MCP)
    elif source is not None:
        query = query.where(approvals.c.source != MCP)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [view(r, now) for r in rows]


async def get(engine: AsyncEngine, approval_id: str) -> dict[str, Any] | None:
    """One row, or None."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(approvals).where(approvals.c.id == approval_id))).first()
    return view(row) if row is not None else None


async def decide(
    engine: AsyncEngine, approval_id: str, approve: bool, actor: str, note: str = ""
) -> dict[str, Any] | None:
    """Approve or deny a pending call; None when there is no such pending call (or it expired)."""
    now = time.time()
    where = (
        (approvals.c.id == approval_id) & (approvals.c.status == "pending") & (approvals.c.expires_at >= now)
    )
    async with engine.begin() as conn:
        done = await conn.execute(
            update(approvals)
            .where(where)
            .values(
                status="approved" if approve else "denied",
                decided_by=actor,
                decided_at=now,
                note=note or None,
            )
        )
        if done.rowcount == 0:
            return None
        row = (await conn.execute(select(approvals).where(approvals.c.id == approval_id))).first()
    return view(row) if row is not None else None


async def insert(engine: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    """New pending rows (every column but the decision's)."""
    if rows:
        async with engine.begin() as conn:
            await conn.execute(approvals.insert(), rows)


async def expire(engine: AsyncEngine, approval_id: str) -> None:
    """A pending call whose time ran out."""
    async with engine.begin() as conn:
        await conn.execute(
            update(approvals)
            .where((approvals.c.id == approval_id) & (approvals.c.status == "pending"))
            .values(status="expired", decided_at=time.time())
        )


async def by_digest(engine: AsyncEngine, digests: list[str]) -> list[dict[str, Any]]:
    """The LLM rows of these tool calls (their digests)."""
    query = select(approvals).where(approvals.c.digest.in_(digests) & (approvals.c.source != MCP))
    async with engine.connect() as conn:
        return [view(r) for r in (await conn.execute(query)).all()]


async def changed_since(engine: AsyncEngine, since: float) -> list[dict[str, Any]]:
    """LLM rows created or decided at or after ``since``."""
    query = select(approvals).where(
        (approvals.c.source != MCP) & ((approvals.c.created_at >= since) | (approvals.c.decided_at >= since))
    )
    async with engine.connect() as conn:
        return [view(r) for r in (await conn.execute(query)).all()]


async def decisions(engine: AsyncEngine, ids: list[str]) -> list[tuple[str, str, str | None]]:
    """(id, status, decided_by) of those of ``ids`` that are no longer pending."""
    query = select(approvals.c.id, approvals.c.status, approvals.c.decided_by).where(
        approvals.c.id.in_(ids) & (approvals.c.status != "pending")
    )
    async with engine.connect() as conn:
        return [(r.id, r.status, r.decided_by) for r in (await conn.execute(query)).all()]
