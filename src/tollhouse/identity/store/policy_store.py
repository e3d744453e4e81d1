"""Cedar policies added at run time (the config file's policies are not stored here)."""

from __future__ import annotations

import time

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.errors import UnknownRecord
from tollhouse.identity.records import PolicyRecord
from tollhouse.identity.store.changes import bump
from tollhouse.identity.store.tables import policies


def policy_record(row: RowMapping) -> PolicyRecord:
    return PolicyRecord(row["id"], row["text"], row["description"], row["created_at"], row["updated_at"])


class PolicyStore:
    """Reads and writes ``identity_policies``; ids are the caller's own, stable names."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_all(self) -> list[PolicyRecord]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(policies).order_by(policies.c.id))).mappings()
            return [policy_record(r) for r in rows]

    async def get(self, policy_id: str) -> PolicyRecord:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(policies).where(policies.c.id == policy_id))).mappings().first()
        if row is None:
            raise UnknownRecord(f"no policy {policy_id!r}")
        return policy_record(row)

    async def put(
        self, policy_id: str, text: str, description: str = ""
    ) -> tuple[PolicyRecord | None, PolicyRecord]:
        """Create or replace a policy; returns (before, after)."""
        now = time.time()
        async with self._engine.begin() as conn:
            row = (await conn.execute(select(policies).where(policies.c.id == policy_id))).mappings().first()
            before = policy_record(row) if row is not None else None
            if before is None:
                after = PolicyRecord(policy_id, text, description, now, now)
                await conn.execute(
                    insert(policies).values(
                        id=policy_id, text=text, description=description, created_at=now, updated_at=now
                    )
                )
            else:
                after = PolicyRecord(policy_id, text, description, before.created_at, now)
                await conn.execute(
                    update(policies)
                    .where(policies.c.id == policy_id)
                    .values(text=text, description=description, updated_at=now)
                )
            await bump(conn)
        return before, after

    async def delete(self, policy_id: str) -> PolicyRecord:
        before = await self.get(policy_id)
        async with self._engine.begin() as conn:
            await conn.execute(delete(policies).where(policies.c.id == policy_id))
            await bump(conn)
        return before
