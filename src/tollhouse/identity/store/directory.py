"""Organisations, teams and principals (users, agents, service accounts)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tollhouse.identity.errors import Conflict, InvalidInput, UnknownRecord, check_id
from tollhouse.identity.records import RECORD_KINDS, Org, PrincipalRecord, RecordKind, Team
from tollhouse.identity.store.changes import bump
from tollhouse.identity.store.tables import keys, orgs, principals, teams


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


def principal_record(row: RowMapping) -> PrincipalRecord:
    return PrincipalRecord(
        id=row["id"],
        kind=row["kind"],
        org_id=row["org_id"],
        team_id=row["team_id"],
        name=row["name"],
        created_at=row["created_at"],
        owner_id=row["owner_id"],
        roles=tuple(row["roles"]),
        tags=tuple(row["tags"]),
        can_delegate=bool(row["can_delegate"]),
        disabled=bool(row["disabled"]),
        metadata=dict(row["metadata"]),
    )


def team_record(row: RowMapping) -> Team:
    return Team(id=row["id"], org_id=row["org_id"], name=row["name"], created_at=row["created_at"])


class Directory:
    """Reads and writes the organisation → team → principal tree."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_org(self, name: str, org_id: str | None = None) -> Org:
        org = Org(check_id(org_id, "org") if org_id else new_id("org"), name, time.time())
        async with self._engine.begin() as conn:
            await _insert(
                conn, orgs, {"id": org.id, "name": name, "created_at": org.created_at}, "org", org.id
            )
            await bump(conn)
        return org

    async def list_orgs(self) -> list[Org]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(orgs).order_by(orgs.c.id))).mappings()
            return [Org(r["id"], r["name"], r["created_at"]) for r in rows]

    async def get_org(self, org_id: str) -> Org:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(orgs).where(orgs.c.id == org_id))).mappings().first()
        if row is None:
            raise UnknownRecord(f"no organisation {org_id!r}")
        return Org(row["id"], row["name"], row["created_at"])

    async def create_team(self, org_id: str, name: str, team_id: str | None = None) -> Team:
        team = Team(check_id(team_id, "team") if team_id else new_id("team"), org_id, name, time.time())
        async with self._engine.begin() as conn:
            await _require(conn, orgs.c.id, org_id, "organisation")
            values = {"id": team.id, "org_id": org_id, "name": name, "created_at": team.created_at}
            await _insert(conn, teams, values, "team", team.id)
            await bump(conn)
        return team

    async def list_teams(self, org_id: str | None = None) -> list[Team]:
        query = select(teams).order_by(teams.c.id)
        if org_id is not None:
            query = query.where(teams.c.org_id == org_id)
        async with self._engine.connect() as conn:
            return [team_record(r) for r in (await conn.execute(query)).mappings()]

    async def get_team(self, team_id: str) -> Team:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(teams).where(teams.c.id == team_id))).mappings().first()
        if row is None:
            raise UnknownRecord(f"no team {team_id!r}")
        return team_record(row)

    async def delete_team(self, team_id: str) -> Team:
        """Delete an empty team; a team that still has principals is a conflict."""
        team = await self.get_team(team_id)
        async with self._engine.begin() as conn:
            members = (
                await conn.execute(select(func.count()).where(principals.c.team_id == team_id))
            ).scalar_one()
            if members:
                raise Conflict(f"team {team_id!r} still has {members} principals")
            await conn.execute(delete(teams).where(teams.c.id == team_id))
            await bump(conn)
        return team

    async def create_principal(self, record: PrincipalRecord) -> PrincipalRecord:
        """Store ``record``; its org (and team, and owner for an agent) must exist."""
        if record.kind not in RECORD_KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(RECORD_KINDS)}")
        check_id(record.id, record.kind)
        async with self._engine.begin() as conn:
            await _require(conn, orgs.c.id, record.org_id, "organisation")
            if record.team_id is not None:
                await _require(conn, teams.c.id, record.team_id, "team")
            if record.owner_id is not None:
                await _require(conn, principals.c.id, record.owner_id, "owner")
            await _insert(conn, principals, _principal_values(record), record.kind, record.id)
            await bump(conn)
        return record

    async def get_principal(self, principal_id: str) -> PrincipalRecord:
        async with self._engine.connect() as conn:
            query = select(principals).where(principals.c.id == principal_id)
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise UnknownRecord(f"no principal {principal_id!r}")
        return principal_record(row)

    async def list_principals(
        self, kind: RecordKind | None = None, team_id: str | None = None
    ) -> list[PrincipalRecord]:
        query = select(principals).order_by(principals.c.id)
        if kind is not None:
            query = query.where(principals.c.kind == kind)
        if team_id is not None:
            query = query.where(principals.c.team_id == team_id)
        async with self._engine.connect() as conn:
            return [principal_record(r) for r in (await conn.execute(query)).mappings()]

    async def update_principal(self, principal_id: str, changes: Mapping[str, Any]) -> PrincipalRecord:
        """Change name, roles, tags, can_delegate, disabled or metadata; other fields are fixed."""
        allowed = {"name", "roles", "tags", "can_delegate", "disabled", "metadata"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
        values = {k: list(v) if k in ("roles", "tags") else v for k, v in changes.items()}
        async with self._engine.begin() as conn:
            await _require(conn, principals.c.id, principal_id, "principal")
            if values:
                await conn.execute(update(principals).where(principals.c.id == principal_id).values(**values))
            await bump(conn)
        return await self.get_principal(principal_id)

    async def delete_principal(self, principal_id: str) -> PrincipalRecord:
        """Remove a principal and its keys (agents it owns must be removed first)."""
        record = await self.get_principal(principal_id)
        async with self._engine.begin() as conn:
            owned = (
                await conn.execute(select(func.count()).where(principals.c.owner_id == principal_id))
            ).scalar_one()
            if owned:
                raise Conflict(f"{principal_id!r} still owns {owned} agents")
            await conn.execute(delete(keys).where(keys.c.principal_id == principal_id))
            await conn.execute(delete(principals).where(principals.c.id == principal_id))
            await bump(conn)
        return record


def _principal_values(record: PrincipalRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "kind": record.kind,
        "org_id": record.org_id,
        "team_id": record.team_id,
        "name": record.name,
        "owner_id": record.owner_id,
        "roles": list(record.roles),
        "tags": list(record.tags),
        "can_delegate": record.can_delegate,
        "disabled": record.disabled,
        "metadata": dict(record.metadata),
        "created_at": record.created_at,
    }


async def _require(conn: AsyncConnection, column: Any, value: str, what: str) -> None:
    found = (await conn.execute(select(column).where(column == value))).first()
    if found is None:
        raise UnknownRecord(f"no {what} {value!r}")


async def _insert(
    conn: AsyncConnection, table: Any, values: Mapping[str, Any], what: str, ident: str
) -> None:
    try:
        async with conn.begin_nested():
            await conn.execute(insert(table).values(**values))
    except IntegrityError:
        raise Conflict(f"{what} {ident!r} already exists") from None
