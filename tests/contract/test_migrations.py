"""Migrations apply cleanly on every backend and leave nothing pending."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.storage.migrate import pending, upgrade


async def test_upgrade_is_complete_and_idempotent(engine: AsyncEngine) -> None:
    assert not await pending(engine)
    await upgrade(engine)  # a second run changes nothing
    assert not await pending(engine)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert "alembic_version" in tables


async def test_sqlite_runs_in_wal_mode(engine: AsyncEngine) -> None:
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
    assert mode == "wal"
