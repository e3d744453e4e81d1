"""Upstream headers held in the credential vault: opened at startup and reloaded every
``RELOAD_S`` (a rotated credential takes effect without a restart). The decrypted values
live only in the upstream links' memory; a credential that is missing or does not open is
logged by name, and that upstream's calls are refused until it can be loaded."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.background import stop_task
from tollhouse.identity.vault import Vault
from tollhouse.identity.vault_reader import open_credentials
from tollhouse.mcp.upstream.credentials import Credentials
from tollhouse.storage.engine import create_engine

log = logging.getLogger("tollhouse.mcp")
RELOAD_S = 30.0


class VaultHeaders:
    """Loads the vault-held upstream headers at startup and keeps them current."""

    def __init__(self, vault: Vault, db_url: str, credentials: list[Credentials]) -> None:
        self._vault = vault
        self._db_url = db_url
        self._credentials = credentials
        self._engine: AsyncEngine | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._engine = create_engine(self._db_url, pool_size=1)
        await self.load()
        self._task = asyncio.create_task(self._run(), name="mcp-vault-headers")

    async def stop(self) -> None:
        await stop_task(self._task)
        if self._engine is not None:
            await self._engine.dispose()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(RELOAD_S)
            await self.load()

    async def load(self) -> None:
        assert self._engine is not None
        names = {name for c in self._credentials for name, _ in c.vault_wanted.values()}
        values = await open_credentials(self._vault, self._engine, names, "MCP upstream", log)
        if values is None:
            return
        for credentials in self._credentials:
            credentials.load_vault(values)
