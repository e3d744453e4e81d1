"""The credential vault: sealed values open only with their key, under their name."""

from __future__ import annotations

import dataclasses

import pytest

from tollhouse.identity.vault import Vault, VaultError, new_master_key

V1, V2 = new_master_key(), new_master_key()


def test_seal_and_open_round_trip() -> None:
    vault = Vault({1: V1})
    sealed = vault.seal("openai", "sk-live-credential-1234")
    assert b"sk-live" not in sealed.ciphertext and sealed.last4 == "1234" and sealed.key_version == 1
    assert vault.open(sealed).reveal() == "sk-live-credential-1234"
    assert "sk-live" not in repr(vault.open(sealed))
    assert vault.seal("openai", "sk-live-credential-1234").nonce != sealed.nonce  # fresh nonce each time


def test_a_ciphertext_moved_to_another_name_does_not_open() -> None:
    vault = Vault({1: V1})
    sealed = vault.seal("openai", "sk-live-credential-1234")
    with pytest.raises(VaultError, match="does not decrypt"):
        vault.open(dataclasses.replace(sealed, name="anthropic"))


def test_rotation_keeps_old_rows_readable_and_reseals_them() -> None:
    old = Vault({1: V1}).seal("openai", "sk-live-credential-1234")
    vault = Vault({1: V1, 2: V2})
    assert vault.current == 2
    assert vault.open(old).reveal() == "sk-live-credential-1234"
    fresh = vault.reseal(old)
    assert fresh is not None and fresh.key_version == 2
    assert vault.reseal(fresh) is None
    with pytest.raises(VaultError, match="needs master key version 1"):
        Vault({2: V2}).open(old)
    assert Vault({2: V2}).open(fresh).reveal() == "sk-live-credential-1234"


@pytest.mark.parametrize("bad", ["short", "!!!not-base64!!!", new_master_key()[:20]])
def test_bad_master_keys_are_refused(bad: str) -> None:
    with pytest.raises(VaultError, match="32 bytes"):
        Vault({1: bad})


def test_wrong_master_key_cannot_open() -> None:
    sealed = Vault({1: V1}).seal("openai", "sk-live-credential-1234")
    with pytest.raises(VaultError):
        Vault({1: V2}).open(sealed)
