"""Per-organisation content encryption (AES-256-GCM) and crypto-shredding.

Each organisation has a data key, stored only wrapped (AES-GCM) by the master key from the
config. Content is encrypted under the data key with the event id, part and digest as
associated data, so a ciphertext cannot be moved to another record. Shredding deletes the
wrapped key: the ciphertexts stay, unreadable, and the chains (which hold only digests) still
verify. The next content for that organisation gets a new key version.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables
from tollhouse.audit.queue import ContentPiece
from tollhouse.audit.store import ContentRow

_CACHE_S = 60.0  # how long a process trusts its cached data key before re-reading (shredding)
DEFAULT_ORG = "_default"


class ContentUnavailable(Exception):
    """Content that cannot be read: shredded, expired, or never stored."""


def load_master_key(text: str) -> bytes:
    """A 32-byte key from base64 (standard or URL-safe) or 64 hex digits."""
    raw = text.strip()
    try:
        key = (
            bytes.fromhex(raw)
            if len(raw) == 64
            else base64.urlsafe_b64decode(raw.replace("+", "-").replace("/", "_") + "==")
        )
    except (ValueError, binascii.Error):
        raise ValueError("audit content master key must be 32 bytes, base64 or hex") from None
    if len(key) != 32:
        raise ValueError("audit content master key must be 32 bytes, base64 or hex")
    return key


@dataclass(slots=True)
class _Cached:
    version: int
    cipher: AESGCM
    loaded: float


def _aad(event_id: str, part: str, sha256: str) -> bytes:
    return f"{event_id}|{part}|{sha256}".encode()


class ContentVault:
    """Encrypts content for the writer and decrypts it for readers allowed to see it."""

    def __init__(self, engine: AsyncEngine, master_key: bytes) -> None:
        self._engine = engine
        self._master = AESGCM(master_key)
        self._keys: dict[str, _Cached] = {}

    async def seal(self, pieces: list[ContentPiece], now_us: int) -> list[ContentRow]:
        """Encrypt ``pieces`` (creating data keys on first use); rows for the same commit."""
        rows = []
        for piece in pieces:
            key = await self._current_key(piece.org_id, now_us)
            nonce = os.urandom(12)
            ciphertext = key.cipher.encrypt(nonce, piece.data, _aad(piece.event_id, piece.part, piece.sha256))
            rows.append(
                ContentRow(
                    piece.event_id,
                    piece.part,
                    piece.org_id,
                    piece.sha256,
                    key.version,
                    now_us,
                    nonce,
                    ciphertext,
                )
            )
        return rows

    async def open(self, row: ContentRow) -> bytes:
        """The plaintext of ``row``; ``ContentUnavailable`` if its key was shredded."""
        cipher = await self._key_version(row.org_id, row.key_version)
        try:
            return cipher.decrypt(row.nonce, row.ciphertext, _aad(row.event_id, row.part, row.sha256))
        except InvalidTag:
            raise ContentUnavailable("content does not decrypt (tampered or wrong key)") from None

    async def shred(self, org_id: str, now_us: int | None = None) -> int:
        """Destroy every data key of ``org_id``; returns how many were destroyed."""
        now = now_us if now_us is not None else time.time_ns() // 1000
        statement = (
            update(tables.data_keys)
            .where(and_(tables.data_keys.c.org_id == org_id, tables.data_keys.c.wrapped.is_not(None)))
            .values(wrapped=None, shredded_us=now)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(statement)
        self._keys.pop(org_id, None)
        return int(result.rowcount or 0)

    async def _current_key(self, org_id: str, now_us: int) -> _Cached:
        cached = self._keys.get(org_id)
        if cached is not None and time.monotonic() - cached.loaded < _CACHE_S:
            return cached
        try:
            return await self._load_or_create(org_id, now_us)
        except IntegrityError:  # another writer created this version first: use theirs
            return await self._load_or_create(org_id, now_us)

    async def _load_or_create(self, org_id: str, now_us: int) -> _Cached:
        query = (
            select(tables.data_keys.c.version, tables.data_keys.c.wrapped)
            .where(tables.data_keys.c.org_id == org_id)
            .order_by(tables.data_keys.c.version.desc())
            .limit(1)
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(query)).first()
            if row is not None and row.wrapped is not None:
                cipher = AESGCM(self._unwrap(org_id, row.version, row.wrapped))
                version = int(row.version)
            else:  # no key yet, or the last one was shredded: a new version
                version = 1 if row is None else int(row.version) + 1
                data_key = AESGCM.generate_key(bit_length=256)
                await conn.execute(
                    tables.data_keys.insert().values(
                        org_id=org_id,
                        version=version,
                        wrapped=self._wrap(org_id, version, data_key),
                        created_us=now_us,
                    )
                )
                cipher = AESGCM(data_key)
        self._keys[org_id] = cached = _Cached(version, cipher, time.monotonic())
        return cached

    async def _key_version(self, org_id: str, version: int) -> AESGCM:
        query = select(tables.data_keys.c.wrapped).where(
            and_(tables.data_keys.c.org_id == org_id, tables.data_keys.c.version == version)
        )
        async with self._engine.connect() as conn:
            wrapped = (await conn.execute(query)).scalar_one_or_none()
        if wrapped is None:
            raise ContentUnavailable(f"the data key of organisation {org_id!r} was shredded")
        return AESGCM(self._unwrap(org_id, version, wrapped))

    def _wrap(self, org_id: str, version: int, data_key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, data_key, f"{org_id}|{version}".encode())

    def _unwrap(self, org_id: str, version: int, wrapped: bytes) -> bytes:
        try:
            return self._master.decrypt(wrapped[:12], wrapped[12:], f"{org_id}|{version}".encode())
        except InvalidTag:
            raise ContentUnavailable("a data key does not unwrap: wrong master key?") from None
