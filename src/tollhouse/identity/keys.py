"""Virtual API keys: ``th-`` plus 256 random bits, shown once, kept only as a SHA-256 digest.

Why a plain SHA-256 and a dict lookup rather than a slow hash and ``compare_digest``: the
secret part is 32 random bytes, so the digest cannot be reversed or guessed (a slow hash
protects low-entropy passwords, not keys like these), and the lookup compares digests, not
the key: timing can at most reveal something about a digest of a string the attacker chose,
which says nothing about any real key. That keeps key authentication one hash and one dict
lookup on the hot path.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from tollhouse.identity.records import KeyRecord, Scopes

KEY_PREFIX = "th-"
_SECRET_BYTES = 32


def key_digest(key: str) -> bytes:
    """The SHA-256 digest the snapshot is keyed by (bytes; stored as hex)."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()


def looks_like_virtual_key(key: str) -> bool:
    return key.startswith(KEY_PREFIX) and len(key) > 20


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """What a caller asks for when creating a key."""

    principal_id: str
    name: str = ""
    scopes: Scopes = field(default_factory=Scopes)
    expires_at: float | None = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: ``secret`` is returned to the caller once and never stored."""

    secret: str
    record: KeyRecord


def issue_key(request: KeyRequest, rotated_from: str | None = None, now: float | None = None) -> IssuedKey:
    """Generate a key and its record (the record holds the digest, prefix and last four only)."""
    secret = KEY_PREFIX + secrets.token_urlsafe(_SECRET_BYTES)
    record = KeyRecord(
        id="key_" + secrets.token_hex(8),
        principal_id=request.principal_id,
        digest=key_digest(secret).hex(),
        prefix=secret[:7],
        last4=secret[-4:],
        name=request.name,
        created_at=time.time() if now is None else now,
        expires_at=request.expires_at,
        rotated_from=rotated_from,
        scopes=request.scopes,
        tags=request.tags,
        metadata=dict(request.metadata),
    )
    return IssuedKey(secret, record)
