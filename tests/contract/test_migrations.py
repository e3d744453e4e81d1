"""Migrations apply cleanly on every backend and leave nothing pending."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import sample_event
from tollhouse.audit.chain import (
    ROW_COLUMNS,
    ChainHead,
    index_columns,
    insert_records_sql,
    seal,
)
from tollhouse.audit.tables import DERIVED_ON_SQLITE, record_column, records
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import _config, pending, upgrade


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


async def test_the_audit_view_has_every_column_on_every_backend(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        columns = await conn.run_sync(
            lambda c: [col["name"] for col in inspect(c).get_columns("audit_records_view")]
        )
    assert columns == list(ROW_COLUMNS)


async def test_sqlite_search_columns_come_from_the_body_after_audit_0003(tmp_path: Path) -> None:
    """A chain written before ``audit_0003`` reads the same search columns after it (now derived
    from the hashed body), and a downgrade stores them again."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(_config(c), "audit_0002"))
        head, rows = ChainHead(), []
        for n in range(6):
            sealed, head = seal(sample_event(n).to_record(), "old-chain", head)
            rows.append(sealed)
        insert = insert_records_sql(["?"] * len(ROW_COLUMNS))
        async with engine.begin() as conn:
            await conn.exec_driver_sql(insert, [sealed.row() for sealed in rows])
        expected = [index_columns(sealed.record) for sealed in rows]
        assert await _search_columns(engine) == expected

        await upgrade(engine)
        async with engine.connect() as conn:
            kept = await conn.run_sync(
                lambda c: {col["name"] for col in inspect(c).get_columns("audit_records")}
            )
        assert not kept & DERIVED_ON_SQLITE.keys() and kept | DERIVED_ON_SQLITE.keys() == set(ROW_COLUMNS)
        assert await _search_columns(engine, derived=True) == expected
        async with engine.connect() as conn:  # the view people query with SQL has them all
            names = ", ".join(expected[0])
            viewed = await conn.exec_driver_sql(f"SELECT {names} FROM audit_records_view ORDER BY seq")  # noqa: S608
            assert [dict(zip(expected[0], row, strict=True)) for row in viewed] == expected
            # The query docs/audit.md shows (its trace id is the sample events').
            found = await conn.exec_driver_sql(DOC_QUERY)
            assert [row[2] for row in found] == ["planner"] * len(expected)

        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(_config(c), "audit_0002"))
        assert await _search_columns(engine) == expected
    finally:
        await engine.dispose()


DOC_QUERY = (
    (Path(__file__).resolve().parents[2] / "docs" / "audit.md")
    .read_text()
    .split("```sql\n", 1)[1]
    .split("```")[0]
)


async def _search_columns(engine: AsyncEngine, derived: bool = False) -> list[dict[str, object]]:
    """The search columns of every record, as stored (or, ``derived``, as ``record_column`` reads them)."""
    names = list(index_columns(sample_event(0).to_record()))
    dialect = "sqlite" if derived else "stored"
    query = select(*(record_column(name, dialect) for name in names)).order_by(records.c.seq)
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]
