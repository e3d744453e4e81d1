"""Upstream credentials are the gateway's own, from the vault; the caller's never pass through."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from mcp import types

from tests.fakes.mcp_gateway import MASTER, connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, notes_server
from tests.support.gateway import RunningGateway
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.identity.vault import Vault
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
VAULT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
UPSTREAM_TOKEN = "upstream-token-held-by-the-gateway-7c1e"


async def _store_credential(db: str) -> None:
    engine = create_engine(db)
    try:
        await upgrade(engine)
        services = AdminServices(engine, RecentEvents(), vault=Vault({1: VAULT_KEY}))
        await services.put_credential("test", "notes-token", UPSTREAM_TOKEN)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, McpHttpServer]]:
    db = f"sqlite:///{tmp_path_factory.mktemp('mcp-creds') / 'gw.db'}"
    asyncio.run(_store_credential(db))
    with McpHttpServer(notes_server(), require=f"Bearer {UPSTREAM_TOKEN}") as notes:
        vault_headers = {"authorization": {"credential": "notes-token", "prefix": "Bearer "}}
        servers = {"notes": http_server(notes.url, vault_headers=vault_headers)}
        config = mcp_config(servers, [{"name": "notes", "servers": ["notes"]}], pinning={"mode": "off"})
        config["database"] = {"url": db}
        config["vault"] = {"master_keys": {1: VAULT_KEY}}
        with RunningGateway(config) as gateway:
            yield f"{gateway.url}/mcp/notes", notes


async def test_the_upstream_gets_the_vault_credential_never_the_callers(
    env: tuple[str, McpHttpServer],
) -> None:
    url, notes = env
    async with connect(url, MASTER) as client:
        result = await client.call_tool("add_note", {"text": "with the gateway's own token"})
    block = result.content[0]
    assert isinstance(block, types.TextContent) and block.text.startswith("noted")
    assert notes.seen_authorization and set(notes.seen_authorization) == {f"Bearer {UPSTREAM_TOKEN}"}
    assert all(MASTER not in value for value in notes.seen_authorization)
