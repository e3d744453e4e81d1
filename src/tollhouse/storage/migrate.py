"""Bringing a database schema to the newest revision with Alembic, from code or the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Any) -> None:
    command.upgrade(_config(connection), "heads")


def _current(connection: Any) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every pending migration (all branches) in one transaction where the database allows."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def pending(engine: AsyncEngine) -> bool:
    """Whether the database is behind the migrations this code ships."""
    heads = set(ScriptDirectory.from_config(_config(None)).get_heads())
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    return current != heads
