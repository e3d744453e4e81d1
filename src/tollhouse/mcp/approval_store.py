"""Held tool calls in the database, for approvers (CLI and admin API)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.mcp.tables import approvals

_FIELDS = (
    "id", "status", "route", "server", "tool", "principal", "session_id", "request_id",
    "args_sha256", "args_preview", "reason", "created_at", "expires_at", "decided_by", "decided_at", "note",
)  # fmt: skip


def _view(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _FIELDS}


async def list_approvals(
    engine: AsyncEngine, status: str | None = "pending", limit: int = 200
) -> list[dict[str, Any]]:
    """Held calls, newest first (``status`` None: all of them)."""
    query = select(approvals).order_by(approvals.c.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(approvals.c.status == status)
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    now = time.time()
    # A pending row past its deadline is expired, whether or not its gateway noticed yet.
    return [{**_view(r), "status": "expired"} if r.status == "pending" and r.expires_at < now else _view(r)
            for r in rows]  # fmt: skip


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
    return _view(row) if row is not None else None
