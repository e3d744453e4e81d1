"""The kill switch: sessions an operator (or loop detection) stopped for good.

Kills live in the database (``usage_session_kills``), written by the admin API and the
CLI. Each replica holds the set of killed sessions in memory — the hot path checks one
``frozenset`` — and reloads it every ``kill_poll_s``, so a kill reaches every replica within
that interval, whichever replica or CLI made it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.limits.tables import kills

DEFAULT_TTL_S = 30 * 86400.0  # a kill outlives any session's counters
MAX_TTL_S = 10 * 365 * 86400.0  # longer is a mistake, and would overflow the expiry column


@dataclass(frozen=True, slots=True)
class KillRecord:
    session_id: str
    killed_at: float
    expires_at: float
    actor: str
    reason: str


class KillSet:
    """The killed sessions this replica knows about."""

    __slots__ = ("_pending", "killed")

    def __init__(self) -> None:
        self.killed: frozenset[str] = frozenset()
        self._pending: set[str] = set()  # killed here, not yet read back from the database

    def __contains__(self, session_id: str) -> bool:
        return session_id in self.killed

    def add_local(self, session_id: str) -> None:
        """Kill at once in this replica (the database write follows in the background)."""
        self._pending.add(session_id)
        self.killed = self.killed | {session_id}

    def replace(self, ids: frozenset[str]) -> None:
        self._pending -= ids
        self.killed = ids | self._pending


def _record(row: Row[Any]) -> KillRecord:
    r = row._mapping
    return KillRecord(
        str(r["session_id"]), r["killed_us"] / 1e6, r["expires_us"] / 1e6, str(r["actor"]), str(r["reason"])
    )


async def kill_session(
    engine: AsyncEngine, session_id: str, actor: str, reason: str = "", ttl_s: float = DEFAULT_TTL_S
) -> KillRecord:
    """Kill ``session_id`` (again: the newer kill replaces the older)."""
    now = time.time()
    record = KillRecord(session_id[:255], now, now + ttl_s, actor[:255], reason[:500])
    row = {
        "session_id": record.session_id,
        "killed_us": int(now * 1e6),
        "expires_us": int((now + ttl_s) * 1e6),
        "actor": record.actor,
        "reason": record.reason,
    }
    async with engine.begin() as conn:
        await conn.execute(delete(kills).where(kills.c.session_id == record.session_id))
        await conn.execute(insert(kills).values(**row))
    return record


async def revive_session(engine: AsyncEngine, session_id: str) -> bool:
    """Lift a kill; whether there was one."""
    async with engine.begin() as conn:
        result = await conn.execute(delete(kills).where(kills.c.session_id == session_id))
    return bool(result.rowcount)


async def active_kills(engine: AsyncEngine, now: float | None = None) -> list[KillRecord]:
    cutoff = int((time.time() if now is None else now) * 1e6)
    query = select(kills).where(kills.c.expires_us > cutoff).order_by(kills.c.killed_us.desc())
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [_record(r) for r in rows]


async def get_kill(engine: AsyncEngine, session_id: str) -> KillRecord | None:
    query = select(kills).where(kills.c.session_id == session_id, kills.c.expires_us > int(time.time() * 1e6))
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return _record(row) if row is not None else None
