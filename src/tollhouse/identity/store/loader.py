"""Reading everything the hot path needs in one go, for the in-memory snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.records import KeyRecord, PolicyRecord, PrincipalRecord, Team
from tollhouse.identity.store.changes import read_version
from tollhouse.identity.store.directory import principal_record, team_record
from tollhouse.identity.store.key_store import key_record
from tollhouse.identity.store.policy_store import policy_record
from tollhouse.identity.store.tables import keys, policies, principals, teams


@dataclass(frozen=True, slots=True)
class Loaded:
    """The identity tables at (or after) ``version``."""

    version: int
    teams: list[Team]
    principals: list[PrincipalRecord]
    keys: list[KeyRecord]  # usable keys only: not revoked, not yet expired
    policies: list[PolicyRecord]


async def load_all(engine: AsyncEngine, now: float) -> Loaded:
    """Read the version first, then the rows: a change racing this read leaves the version
    behind the data, so the next poll reloads once more instead of missing the change."""
    async with engine.connect() as conn:
        version = await read_version(conn)
        team_rows = (await conn.execute(select(teams))).mappings().all()
        principal_rows = (await conn.execute(select(principals))).mappings().all()
        live = or_(keys.c.expires_at.is_(None), keys.c.expires_at > now)
        key_rows = (
            (await conn.execute(select(keys).where(keys.c.revoked_at.is_(None), live))).mappings().all()
        )
        policy_rows = (await conn.execute(select(policies).order_by(policies.c.id))).mappings().all()
    return Loaded(
        version=version,
        teams=[team_record(r) for r in team_rows],
        principals=[principal_record(r) for r in principal_rows],
        keys=[key_record(r) for r in key_rows],
        policies=[policy_record(r) for r in policy_rows],
    )
