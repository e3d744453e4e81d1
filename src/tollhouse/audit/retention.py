"""Retention: content older than the configured number of days is deleted; records are kept.

The chained records hold only digests of content, so deleting content never breaks a chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables

log = logging.getLogger("tollhouse.audit")
_DAY_US = 86_400 * 1_000_000


async def shred_expired(engine: AsyncEngine, days: int, now_us: int | None = None) -> int:
    """Delete content created more than ``days`` days ago; returns how many pieces went."""
    now = now_us if now_us is not None else time.time_ns() // 1000
    statement = delete(tables.content).where(tables.content.c.created_us < now - days * _DAY_US)
    async with engine.begin() as conn:
        result = await conn.execute(statement)
    return int(result.rowcount or 0)


async def retention_loop(engine: AsyncEngine, days: int, every_s: float = 3600.0) -> None:
    """Apply retention now and then every ``every_s`` seconds, until cancelled."""
    while True:
        with contextlib.suppress(Exception):
            removed = await shred_expired(engine, days)
            if removed:
                log.info("audit retention removed %d pieces of content older than %d days", removed, days)
        await asyncio.sleep(every_s)
