"""The change counter: every identity write bumps it in the same transaction.

Replicas compare it with the version their snapshot was built from (polling), so a change
made anywhere reaches every replica even without Redis.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollhouse.identity.store.tables import version


async def bump(conn: AsyncConnection) -> None:
    await conn.execute(update(version).where(version.c.id == 1).values(version=version.c.version + 1))


async def read_version(conn: AsyncConnection) -> int:
    return int((await conn.execute(select(version.c.version).where(version.c.id == 1))).scalar_one())


async def current_version(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await read_version(conn)
