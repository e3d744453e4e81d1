"""Virtual keys as stored: digests, scopes, expiry, revocation, rotation and last use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, bindparam, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.errors import Conflict, InvalidInput, UnknownRecord
from tollhouse.identity.records import KeyRecord, Scopes
from tollhouse.identity.store.changes import bump
from tollhouse.identity.store.tables import keys, principals


def key_record(row: RowMapping) -> KeyRecord:
    return KeyRecord(
        id=row["id"],
        principal_id=row["principal_id"],
        digest=row["digest"],
        prefix=row["prefix"],
        last4=row["last4"],
        name=row["name"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        rotated_from=row["rotated_from"],
        last_used_at=row["last_used_at"],
        scopes=Scopes.from_json(row["scopes"]),
        tags=tuple(row["tags"]),
        metadata=dict(row["metadata"]),
    )


def _values(record: KeyRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "principal_id": record.principal_id,
        "digest": record.digest,
        "prefix": record.prefix,
        "last4": record.last4,
        "name": record.name,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
        "rotated_from": record.rotated_from,
        "last_used_at": record.last_used_at,
        "scopes": record.scopes.to_json(),
        "tags": list(record.tags),
        "metadata": dict(record.metadata),
    }


class KeyStore:
    """Reads and writes ``identity_keys``. Every change but last-use bumps the change counter."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def insert(self, record: KeyRecord) -> KeyRecord:
        async with self._engine.begin() as conn:
            owner = (
                await conn.execute(select(principals.c.id).where(principals.c.id == record.principal_id))
            ).first()
            if owner is None:
                raise UnknownRecord(f"no principal {record.principal_id!r}")
            try:
                async with conn.begin_nested():
                    await conn.execute(insert(keys).values(**_values(record)))
            except IntegrityError:
                raise Conflict("a key with this id or digest already exists") from None
            await bump(conn)
        return record

    async def get(self, key_id: str) -> KeyRecord:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(keys).where(keys.c.id == key_id))).mappings().first()
        if row is None:
            raise UnknownRecord(f"no key {key_id!r}")
        return key_record(row)

    async def list_all(
        self,
        principal_id: str | None = None,
        team_id: str | None = None,
        include_revoked: bool = False,
    ) -> list[KeyRecord]:
        query: Select[Any] = select(keys).order_by(keys.c.created_at, keys.c.id)
        if principal_id is not None:
            query = query.where(keys.c.principal_id == principal_id)
        if team_id is not None:
            members = select(principals.c.id).where(principals.c.team_id == team_id)
            query = query.where(keys.c.principal_id.in_(members))
        if not include_revoked:
            query = query.where(keys.c.revoked_at.is_(None))
        async with self._engine.connect() as conn:
            return [key_record(r) for r in (await conn.execute(query)).mappings()]

    async def update(self, key_id: str, changes: Mapping[str, Any]) -> KeyRecord:
        """Change a key's name, tags, metadata, scopes or expiry (``revoke`` and ``rotate`` do the rest)."""
        allowed = {"name", "tags", "metadata", "scopes", "expires_at"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"cannot change {', '.join(sorted(unknown))}")
        values = dict(changes)
        if "scopes" in values:
            values["scopes"] = values["scopes"].to_json()
        if "tags" in values:
            values["tags"] = list(values["tags"])
        async with self._engine.begin() as conn:
            result = await conn.execute(update(keys).where(keys.c.id == key_id).values(**values))
            if result.rowcount == 0:
                raise UnknownRecord(f"no key {key_id!r}")
            await bump(conn)
        return await self.get(key_id)

    async def revoke(self, key_id: str, at: float) -> KeyRecord:
        """Mark the key revoked (idempotent: a second revoke keeps the first time)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(keys).where(keys.c.id == key_id, keys.c.revoked_at.is_(None)).values(revoked_at=at)
            )
            if result.rowcount:
                await bump(conn)
        return await self.get(key_id)

    async def rotate(self, old_id: str, new: KeyRecord, old_expires_at: float) -> KeyRecord:
        """Insert ``new`` and cut the old key's life to ``old_expires_at``, in one transaction."""
        async with self._engine.begin() as conn:
            row = (await conn.execute(select(keys).where(keys.c.id == old_id))).mappings().first()
            if row is None:
                raise UnknownRecord(f"no key {old_id!r}")
            old = key_record(row)
            if old.revoked_at is not None:
                raise Conflict(f"key {old_id!r} is revoked")
            expires = old_expires_at if old.expires_at is None else min(old.expires_at, old_expires_at)
            await conn.execute(update(keys).where(keys.c.id == old_id).values(expires_at=expires))
            await conn.execute(insert(keys).values(**_values(new)))
            await bump(conn)
        return new

    async def record_use(self, last_used: Mapping[str, float]) -> None:
        """Write a batch of last-used times in one statement; no reload is triggered by it."""
        if not last_used:
            return
        statement = (
            update(keys).where(keys.c.id == bindparam("key_id")).values(last_used_at=bindparam("used_at"))
        )
        params = [{"key_id": k, "used_at": t} for k, t in last_used.items()]
        async with self._engine.begin() as conn:
            await conn.execute(statement, params)
