"""Provider credentials encrypted at rest: AES-256-GCM under a versioned master key.

Each credential is sealed with a fresh 96-bit nonce and its name as associated data (a
ciphertext copied to another name does not decrypt). The row records the master-key
version that sealed it, so a new master key can be added (the highest version seals from
then on) while older rows still open; ``reseal`` moves a row to the newest key, after which
the old key can be removed from the config.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tollhouse.config.secrets import Secret
from tollhouse.identity.store.credential_store import SealedCredential


class VaultError(ValueError):
    """A master key that is unusable, or a credential that cannot be opened."""


def new_master_key() -> str:
    """A fresh master key, base64: what `vault.master_keys` expects."""
    return base64.b64encode(os.urandom(32)).decode()


def _decode(version: int, value: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise VaultError(f"master key version {version} must be 32 bytes, base64-encoded")
    return raw


def _aad(name: str) -> bytes:
    return f"tollhouse:credential:{name}".encode()


class Vault:
    """Seals and opens credentials; the master keys never leave this object."""

    __slots__ = ("_ciphers", "current")

    def __init__(self, keys: Mapping[int, str]) -> None:
        if not keys:
            raise VaultError("no master key configured")
        self._ciphers = {version: AESGCM(_decode(version, value)) for version, value in keys.items()}
        self.current = max(self._ciphers)

    def seal(self, name: str, value: str) -> SealedCredential:
        if not value:
            raise VaultError("a credential cannot be empty")
        nonce = os.urandom(12)
        ciphertext = self._ciphers[self.current].encrypt(nonce, value.encode(), _aad(name))
        return SealedCredential(name, nonce, ciphertext, self.current, value[-4:] if len(value) >= 8 else "")

    def open(self, sealed: SealedCredential) -> Secret:
        cipher = self._ciphers.get(sealed.key_version)
        if cipher is None:
            raise VaultError(f"credential {sealed.name!r} needs master key version {sealed.key_version}")
        try:
            value = cipher.decrypt(sealed.nonce, sealed.ciphertext, _aad(sealed.name))
        except InvalidTag:
            raise VaultError(f"credential {sealed.name!r} does not decrypt with its master key") from None
        return Secret(value.decode(), f"vault:{sealed.name}")

    def reseal(self, sealed: SealedCredential) -> SealedCredential | None:
        """The same credential under the newest key, or None when it already is."""
        if sealed.key_version == self.current:
            return None
        return self.seal(sealed.name, self.open(sealed).reveal())
