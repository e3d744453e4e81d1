"""ProviderKeys: vault credentials opened for providers, handed over only when they change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.config.secrets import Secret
from tollhouse.identity.provider_keys import ProviderKeyMissing, ProviderKeys, Rekeyable, VaultKeyUse
from tollhouse.identity.vault import Vault
from tollhouse.observability.redact import Redactor
from tollhouse.providers.openai_compatible.provider import OpenAICompatibleProvider
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

VAULT = Vault({1: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="})


class Recorder:
    """Stands in for a provider: keeps every key it is handed."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def rekey(self, api_key: Secret) -> None:
        self.keys.append(api_key.reveal())


async def test_keys_are_handed_over_once_per_change_and_kept_when_deleted(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'v.db'}")
    try:
        await upgrade(engine)
        services = AdminServices(engine, RecentEvents(), vault=VAULT)
        await services.put_credential("t", "shared", "sk-first-value-0001")
        a, b = Recorder(), Recorder()
        keys = ProviderKeys(VAULT, [VaultKeyUse("a", "shared", a), VaultKeyUse("b", "shared", b)])
        keys.redactor = Redactor()
        await keys.load(engine, strict=True)
        await keys.load(engine)  # nothing changed: nothing handed over again
        assert a.keys == b.keys == ["sk-first-value-0001"]
        assert keys.redactor.scrub("sk-first-value-0001") == "[REDACTED]"

        await services.put_credential("t", "shared", "sk-second-value-0002")
        await keys.load(engine)
        assert a.keys == ["sk-first-value-0001", "sk-second-value-0002"]

        await services.delete_credential("t", "shared")
        await keys.load(engine)  # logged; the providers keep what they have
        assert a.keys[-1] == "sk-second-value-0002"
        with pytest.raises(ProviderKeyMissing, match=r"providers\.a\.api_key: vault:shared") as caught:
            await keys.load(engine, strict=True)
        assert "sk-second" not in str(caught.value)
    finally:
        await engine.dispose()


def test_the_header_providers_can_be_rekeyed() -> None:
    assert issubclass(OpenAICompatibleProvider, Rekeyable)
    assert isinstance(Recorder(), Rekeyable)
