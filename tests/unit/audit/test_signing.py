"""Checkpoint signatures: keys in both formats, rotation by key id, forgeries refused."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tollhouse.audit.signing import (
    KeyFormatError,
    SignatureChecker,
    Signer,
    load_private_key,
    load_public_key,
    new_private_key_pem,
    public_raw,
)


def test_pem_and_raw_base64_keys_sign_alike() -> None:
    pem = new_private_key_pem()
    key = load_private_key(pem)
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw = load_private_key(base64.b64encode(seed).decode())
    a = Signer(key).sign("c", 3, "ab" * 32, 1_000_000)
    b = Signer(raw).sign("c", 3, "ab" * 32, 1_000_000)
    assert a == b  # Ed25519 is deterministic


def test_checker_accepts_own_and_rotated_keys_and_refuses_forgeries() -> None:
    old, new = Signer(Ed25519PrivateKey.generate()), Signer(Ed25519PrivateKey.generate())
    public = base64.b64encode(public_raw(old.public_key)).decode()
    checker = SignatureChecker([load_public_key(public), new.public_key])
    signed_old, signed_new = old.sign("c", 9, "cd" * 32, 5), new.sign("c", 19, "ef" * 32, 6)
    assert checker.problem(signed_old) is None and checker.problem(signed_new) is None
    assert checker.problem(replace(signed_new, hash="00" * 32)) == "signature does not verify"
    assert checker.problem(replace(signed_new, seq=20)) == "signature does not verify"
    assert checker.problem(replace(signed_new, signature="not base64!")) == "signature does not verify"
    stranger = Signer(Ed25519PrivateKey.generate()).sign("c", 1, "ab" * 32, 1)
    assert "unknown key" in (checker.problem(stranger) or "")


@pytest.mark.parametrize("text", ["not a key", base64.b64encode(b"short").decode()])
def test_bad_keys_are_named(text: str) -> None:
    with pytest.raises(KeyFormatError):
        load_private_key(text)
