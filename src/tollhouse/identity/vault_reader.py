"""Opening named vault credentials from the database: the one path every consumer uses.

MCP upstream headers and provider API keys both ask for credentials by name; a credential
that is missing or does not open is logged by name (never by value) and left out of the
answer, so each consumer decides what a missing one means for it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.config.secrets import Secret
from tollhouse.identity.errors import IdentityError
from tollhouse.identity.store.credential_store import CredentialStore
from tollhouse.identity.vault import Vault, VaultError


async def open_credentials(
    vault: Vault, engine: AsyncEngine, names: Iterable[str], what: str, log: logging.Logger
) -> dict[str, Secret] | None:
    """The decrypted credentials by name; None when the database cannot be read at all.

    ``what`` says whose credentials these are in log lines ("MCP upstream", "provider")."""
    store = CredentialStore(engine)
    values: dict[str, Secret] = {}
    for name in sorted(set(names)):
        try:
            values[name] = vault.open(await store.sealed(name))
        except (IdentityError, VaultError) as exc:
            log.error("%s credential %s cannot be loaded: %s", what, name, type(exc).__name__)
        except Exception:
            log.exception("%s credentials: the database cannot be read", what)
            return None
    return values
