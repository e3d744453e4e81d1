"""Opening a database by URL: SQLite (WAL, via aiosqlite) or PostgreSQL (via asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

DEFAULT_URL = "sqlite+aiosqlite:///tollhouse.db"


def normalize_url(url: str) -> str:
    """Plain `sqlite:///…` and `postgresql://…` URLs get the async drivers the gateway uses."""
    parsed = make_url(url)
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+asyncpg",
        "postgres": "postgresql+asyncpg",
    }
    name = driver.get(parsed.drivername, parsed.drivername)
    return parsed.set(drivername=name).render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; NORMAL sync is durable across process
    # crashes (the WAL is fsynced at checkpoints), busy_timeout waits out a concurrent writer.
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def create_engine(url: str = DEFAULT_URL, *, schema: str | None = None, pool_size: int = 10) -> AsyncEngine:
    """An async engine for ``url``. ``schema`` (PostgreSQL) sets the search path, e.g. for tests."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True, connect_args=connect_args
    )
