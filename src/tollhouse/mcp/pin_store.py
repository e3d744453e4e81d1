"""Pinned definitions in the database: what the gateway saw, what an operator approved.

Shared by the gateway's background task (record observations, load approvals) and by the
CLI and admin API (list, approve, reject). Approving makes the pending definition the
pinned one; a definition that changes after approval becomes pending again with a diff.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.mcp.tables import pins

PinKey = tuple[str, str, str]  # server, kind, key


@dataclass(frozen=True, slots=True)
class Observation:
    """A definition as the gateway saw it, with its hash and scan findings."""

    server: str
    kind: str
    key: str
    sha256: str
    body: dict[str, Any]
    findings: tuple[dict[str, Any], ...]
    trust: bool  # may be approved on first sight (clean, trust-on-first-use on)


@dataclass(frozen=True, slots=True)
class PinRow:
    """A stored pin as operators see it (bodies left out)."""

    server: str
    kind: str
    key: str
    status: str
    approved_sha256: str | None
    pending_sha256: str | None
    findings: list[dict[str, Any]]
    diff: dict[str, Any]
    updated_at: float
    decided_by: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "kind": self.kind,
            "name": self.key,
            "status": self.status,
            "approved_sha256": self.approved_sha256,
            "pending_sha256": self.pending_sha256,
            "findings": self.findings,
            "diff": self.diff,
            "updated_at": self.updated_at,
            "decided_by": self.decided_by,
        }


def diff_of(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, Any]:
    """Top-level fields that changed: ``{field: {"before": …, "after": …}}``."""
    before = before or {}
    return {
        field: {"before": before.get(field), "after": after.get(field)}
        for field in sorted(set(before) | set(after))
        if before.get(field) != after.get(field)
    }


def _row(r: Any) -> PinRow:
    return PinRow(
        r.server, r.kind, r.key, r.status, r.approved_sha256, r.pending_sha256,
        list(r.findings or []), dict(r.diff or {}), r.updated_at, r.decided_by,
    )  # fmt: skip


class PinStore:
    """The ``mcp_pins`` table."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, seen: list[Observation]) -> list[tuple[Observation, dict[str, Any]]]:
        """Store observations; return the changed definitions (rug pulls) with their diffs."""
        changed: list[tuple[Observation, dict[str, Any]]] = []
        now = time.time()
        async with self.engine.begin() as conn:
            for o in seen:
                key = (pins.c.server == o.server) & (pins.c.kind == o.kind) & (pins.c.key == o.key)
                row = (await conn.execute(select(pins).where(key))).first()
                if row is None:
                    approved = o.trust
                    await conn.execute(
                        pins.insert().values(
                            server=o.server, kind=o.kind, key=o.key,
                            status="approved" if approved else "pending",
                            approved_sha256=o.sha256 if approved else None,
                            approved_body=o.body if approved else None,
                            pending_sha256=None if approved else o.sha256,
                            pending_body=None if approved else o.body,
                            findings=list(o.findings), diff={}, first_seen=now, updated_at=now,
                            decided_by="trust-on-first-use" if approved else None,
                            decided_at=now if approved else None,
                        )
                    )  # fmt: skip
                elif row.approved_sha256 != o.sha256 and row.pending_sha256 != o.sha256:
                    diff = diff_of(row.approved_body, o.body) if row.approved_body is not None else {}
                    await conn.execute(
                        update(pins).where(key).values(
                            status="pending", pending_sha256=o.sha256, pending_body=o.body,
                            findings=list(o.findings), diff=diff, updated_at=now,
                        )
                    )  # fmt: skip
                    if row.approved_sha256 is not None:
                        changed.append((o, diff))
        return changed

    async def approved(self) -> dict[PinKey, str]:
        """Every approved hash, for the gateway's in-memory copy."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(pins.c.server, pins.c.kind, pins.c.key, pins.c.approved_sha256).where(
                    pins.c.approved_sha256.is_not(None)
                )
            )
            return {(r.server, r.kind, r.key): r.approved_sha256 for r in rows}

    async def list(self, status: str | None = None, server: str | None = None) -> list[PinRow]:
        query = select(pins).order_by(pins.c.server, pins.c.kind, pins.c.key)
        if status is not None:
            query = query.where(pins.c.status == status)
        if server is not None:
            query = query.where(pins.c.server == server)
        async with self.engine.connect() as conn:
            return [_row(r) for r in await conn.execute(query)]

    async def decide(self, server: str, kind: str, key: str, approve: bool, actor: str) -> PinRow | None:
        """Approve (pin the pending definition) or reject it; None when nothing is pending."""
        where = (pins.c.server == server) & (pins.c.kind == kind) & (pins.c.key == key)
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(pins).where(where))).first()
            if row is None or row.pending_sha256 is None:
                return None
            now = time.time()
            values: dict[str, Any] = {"decided_by": actor, "decided_at": now, "updated_at": now}
            if approve:
                values.update(
                    status="approved", approved_sha256=row.pending_sha256, approved_body=row.pending_body,
                    pending_sha256=None, pending_body=None, diff={},
                )  # fmt: skip
            else:
                values["status"] = "rejected"
            await conn.execute(update(pins).where(where).values(**values))
            found = (await conn.execute(select(pins).where(where))).first()
        return _row(found) if found is not None else None
