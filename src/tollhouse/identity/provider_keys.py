"""Provider API keys held in the credentials vault (``api_key: vault:NAME``).

The identity refresher opens them when the gateway starts — a credential that is missing or
does not open stops the start, naming it — and again whenever the identity data changes (a
credential written through the admin API or CLI bumps the same version the key snapshot
follows, so Redis pub/sub or polling carries it to every replica). A changed value is handed
to the provider once (``rekey``: one reference swap); requests never read the database.

A credential deleted while the gateway runs is logged, and the provider keeps the value it
has until the next start (which then fails, naming it): deleting a copy in the vault should
not take a working provider down mid-traffic; revoking the key at the provider does that.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.config.secrets import Secret
from tollhouse.identity.vault import Vault
from tollhouse.identity.vault_reader import open_credentials
from tollhouse.observability.redact import Redactor

log = logging.getLogger("tollhouse.identity")


@runtime_checkable
class Rekeyable(Protocol):
    """A provider whose API key can be replaced while it serves."""

    def rekey(self, api_key: Secret) -> None: ...


@dataclass(frozen=True, slots=True)
class VaultKeyUse:
    """Provider ``provider`` takes its key from vault credential ``credential``."""

    provider: str
    credential: str
    target: Rekeyable


class ProviderKeyMissing(RuntimeError):
    """A provider's vault credential could not be opened when the gateway started."""


class ProviderKeys:
    """Opens the providers' vault credentials and hands changed values to the providers."""

    def __init__(self, vault: Vault, uses: Sequence[VaultKeyUse]) -> None:
        self._vault = vault
        self._uses = tuple(uses)
        self._current: dict[str, Secret] = {}  # provider → the key it has now
        self.redactor: Redactor | None = None  # set by compile_config: loaded keys are scrubbed too

    @property
    def credentials(self) -> tuple[str, ...]:
        return tuple(sorted({use.credential for use in self._uses}))

    async def load(self, engine: AsyncEngine, strict: bool = False) -> None:
        """Open every credential in use; ``strict`` (at start): raise naming any that failed."""
        names = self.credentials
        values = await open_credentials(self._vault, engine, names, "provider", log)
        if values is None:
            if strict:
                raise ProviderKeyMissing("provider keys: the credentials vault cannot be read")
            return  # keep the keys the providers have; the next change or poll retries
        missing = [use for use in self._uses if use.credential not in values]
        if strict and missing:
            named = ", ".join(f"providers.{u.provider}.api_key: vault:{u.credential}" for u in missing)
            raise ProviderKeyMissing(
                f"vault credential not available ({named}); store it with "
                "`tollhouse credentials put NAME` or PUT /v1/credentials/NAME on the admin API"
            )
        for use in missing:
            log.error(
                "provider %s: vault credential %s is gone; keeping the key it has until restart",
                use.provider,
                use.credential,
            )
        if self.redactor is not None:
            self.redactor.learn(secret.reveal() for secret in values.values())
        for use in self._uses:
            secret = values.get(use.credential)
            if secret is None or self._current.get(use.provider) == secret:
                continue
            use.target.rekey(secret)
            self._current[use.provider] = secret
            log.info(
                "provider %s: key from vault credential %s (…%s)",
                use.provider,
                use.credential,
                secret.last4(),
            )
