"""Ed25519 checkpoint signatures: loading keys, the signed message, signing and checking.

A checkpoint states "chain C had record S with hash H at time T". The signed message is the
canonical JSON ``{"chain": C, "hash": H, "key_id": K, "seq": S, "time": T, "type":
"audit.checkpoint", "v": 1}``; ``key_id`` is the first 16 hex digits of SHA-256 over the raw
32-byte public key, so a verifier can pick the right key after a rotation.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from tollhouse.audit.canonical import canonical
from tollhouse.audit.events import format_time
from tollhouse.audit.store import CheckpointRow


class KeyFormatError(ValueError):
    """A key that cannot be read."""


def load_private_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8) or the raw 32-byte seed in base64."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("the audit signing key is not an Ed25519 key")
        return key
    try:
        seed = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise KeyFormatError("the audit signing key is neither PEM nor base64") from None
    if len(seed) != 32:
        raise KeyFormatError("a raw Ed25519 signing key is 32 bytes (base64)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM or the raw 32 bytes in base64."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFormatError("not an Ed25519 public key")
        return key
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error):
        raise KeyFormatError("an Ed25519 public key is 32 bytes, base64 or PEM") from None


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(public_raw(key)).hexdigest()[:16]


def new_private_key_pem() -> str:
    """A fresh Ed25519 private key as PKCS#8 PEM (what `tollhouse audit keygen` prints)."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )


def checkpoint_message(chain_id: str, seq: int, hash_hex: str, time_us: int, kid: str) -> bytes:
    return canonical(
        {
            "v": 1,
            "type": "audit.checkpoint",
            "chain": chain_id,
            "seq": seq,
            "hash": hash_hex,
            "time": format_time(time_us),
            "key_id": kid,
        }
    )


class Signer:
    """Signs checkpoints with the configured private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    def sign(self, chain_id: str, seq: int, hash_hex: str, time_us: int) -> CheckpointRow:
        message = checkpoint_message(chain_id, seq, hash_hex, time_us, self.key_id)
        signature = base64.b64encode(self._key.sign(message)).decode()
        return CheckpointRow(chain_id, seq, hash_hex, time_us, self.key_id, signature)


class SignatureChecker:
    """Checks checkpoints against a set of trusted public keys, by key id."""

    def __init__(self, keys: list[Ed25519PublicKey]) -> None:
        self.keys = {key_id(k): k for k in keys}

    def problem(self, row: CheckpointRow) -> str | None:
        """Why ``row`` is not a valid checkpoint, or ``None`` if it is."""
        key = self.keys.get(row.key_id)
        if key is None:
            return f"signed by unknown key {row.key_id}"
        message = checkpoint_message(row.chain_id, row.seq, row.hash, row.time_us, row.key_id)
        try:
            key.verify(base64.b64decode(row.signature), message)
        except (InvalidSignature, ValueError, binascii.Error):
            return "signature does not verify"
        return None
