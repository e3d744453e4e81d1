"""Provider credentials as stored: AES-GCM ciphertext, nonce and key version, never plaintext."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.errors import UnknownRecord
from tollhouse.identity.records import CredentialRecord
from tollhouse.identity.store.changes import bump
from tollhouse.identity.store.tables import credentials


@dataclass(frozen=True, slots=True)
class SealedCredential:
    """The encrypted form the vault reads and writes."""

    name: str
    nonce: bytes
    ciphertext: bytes
    key_version: int
    last4: str


def _record(row: RowMapping) -> CredentialRecord:
    return CredentialRecord(
        row["name"], row["last4"], row["key_version"], row["created_at"], row["updated_at"]
    )


def _sealed(row: RowMapping) -> SealedCredential:
    return SealedCredential(row["name"], row["nonce"], row["ciphertext"], row["key_version"], row["last4"])


class CredentialStore:
    """Reads and writes ``identity_credentials``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def list_all(self) -> list[CredentialRecord]:
        async with self._engine.connect() as conn:
            rows = (await conn.execute(select(credentials).order_by(credentials.c.name))).mappings()
            return [_record(r) for r in rows]

    async def get(self, name: str) -> CredentialRecord:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(credentials).where(credentials.c.name == name))).mappings().first()
            )
        if row is None:
            raise UnknownRecord(f"no credential {name!r}")
        return _record(row)

    async def sealed(self, name: str) -> SealedCredential:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(credentials).where(credentials.c.name == name))).mappings().first()
            )
        if row is None:
            raise UnknownRecord(f"no credential {name!r}")
        return _sealed(row)

    async def all_sealed(self) -> list[SealedCredential]:
        async with self._engine.connect() as conn:
            return [_sealed(r) for r in (await conn.execute(select(credentials))).mappings()]

    async def put(self, sealed: SealedCredential) -> tuple[CredentialRecord | None, CredentialRecord]:
        """Create or replace; returns (before, after) public records."""
        now = time.time()
        values = {
            "nonce": sealed.nonce,
            "ciphertext": sealed.ciphertext,
            "key_version": sealed.key_version,
            "last4": sealed.last4,
            "updated_at": now,
        }
        async with self._engine.begin() as conn:
            query = select(credentials).where(credentials.c.name == sealed.name)
            row = (await conn.execute(query)).mappings().first()
            before = _record(row) if row is not None else None
            if before is None:
                await conn.execute(insert(credentials).values(name=sealed.name, created_at=now, **values))
            else:
                await conn.execute(
                    update(credentials).where(credentials.c.name == sealed.name).values(**values)
                )
            await bump(conn)
        created = before.created_at if before else now
        return before, CredentialRecord(sealed.name, sealed.last4, sealed.key_version, created, now)

    async def delete(self, name: str) -> CredentialRecord:
        before = await self.get(name)
        async with self._engine.begin() as conn:
            await conn.execute(delete(credentials).where(credentials.c.name == name))
            await bump(conn)
        return before
