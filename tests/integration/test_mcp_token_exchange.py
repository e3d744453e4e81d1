"""RFC 8693 token exchange for upstream credentials: the upstream gets a token exchanged from
the caller's validated JWT by the gateway's own client (its secret in the vault), cached per
caller; never the caller's token, never a key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from mcp import types

from tests.fakes.mcp_gateway import MASTER, connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, notes_server
from tests.fakes.oidc_issuer import AUDIENCE, FakeIssuer
from tests.fakes.token_exchange import GRANT, FakeTokenExchange
from tests.support.gateway import RunningGateway
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.identity.vault import Vault
from tollhouse.mcp.config import TokenExchangeConfig
from tollhouse.mcp.upstream.exchange import ClientSecret, TokenExchanger, subject_of
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade
from tollhouse.upstream.pool import UpstreamPool

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
VAULT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
CLIENT_ID = "tollhouse-gw"
CLIENT_SECRET = "gw-client-secret-held-in-the-vault-91ab"


class Env:
    def __init__(
        self, url: str, issuer: FakeIssuer, endpoint: FakeTokenExchange, upstream: McpHttpServer
    ) -> None:
        self.url = url
        self.issuer = issuer
        self.endpoint = endpoint
        self.upstream = upstream


async def _store_client_secret(db: str) -> None:
    engine = create_engine(db)
    try:
        await upgrade(engine)
        services = AdminServices(engine, RecentEvents(), vault=Vault({1: VAULT_KEY}))
        await services.put_credential("test", "notes-exchange-client", CLIENT_SECRET)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db = f"sqlite:///{tmp_path_factory.mktemp('mcp-xchg') / 'gw.db'}"
    asyncio.run(_store_client_secret(db))
    with FakeIssuer() as issuer, FakeTokenExchange(issuer, CLIENT_ID, CLIENT_SECRET) as endpoint:

        def accepts(value: str) -> bool:  # only tokens the endpoint issued
            return value.removeprefix("Bearer ") in endpoint.issued

        with McpHttpServer(notes_server(), require=accepts) as notes:
            exchange = {
                "token_url": endpoint.url,
                "client_id": CLIENT_ID,
                "client_credential": "notes-exchange-client",
                "audience": "notes-api",
                "scope": "notes:write",
            }
            servers = {"notes": http_server(notes.url, token_exchange=exchange)}
            config = mcp_config(servers, [{"name": "notes", "servers": ["notes"]}], pinning={"mode": "off"})
            config["database"] = {"url": db}
            config["vault"] = {"master_keys": {1: VAULT_KEY}}
            config["jwt"] = {"issuers": [{"issuer": issuer.issuer, "audience": [AUDIENCE]}]}
            with RunningGateway(config) as gateway:
                yield Env(f"{gateway.url}/mcp/notes", issuer, endpoint, notes)


async def _add_note(env: Env, key: str, text: str) -> types.CallToolResult:
    async with connect(env.url, key) as client:
        return await client.call_tool("add_note", {"text": text})


async def test_the_upstream_sees_the_exchanged_token_not_the_callers(env: Env) -> None:
    # A caller of this test's own: no other test's exchange is cached for it or seen upstream.
    erin = env.issuer.token(sub="erin")
    before = len(env.upstream.seen_authorization)
    result = await _add_note(env, erin, "exchanged")
    assert result.is_error is False
    exchange = next(r for r in env.endpoint.requests if r.get("subject_token") == erin)
    assert exchange["grant_type"] == GRANT
    assert exchange["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert exchange["requested_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert exchange["audience"] == "notes-api" and exchange["scope"] == "notes:write"
    assert exchange["_client"] == CLIENT_ID and "client_secret" not in exchange  # HTTP Basic
    seen = set(env.upstream.seen_authorization[before:])
    assert seen and all(v.startswith("Bearer xchg-erin-") for v in seen)
    assert all(erin not in v for v in env.upstream.seen_authorization)


async def test_exchanged_tokens_are_cached_per_caller(env: Env) -> None:
    alice = env.issuer.token(sub="alice")
    await _add_note(env, alice, "warm")
    before = len(env.endpoint.requests)
    await _add_note(env, alice, "cached")
    await _add_note(env, env.issuer.token(sub="alice"), "a new token, the same caller")
    assert len(env.endpoint.requests) == before  # alice's exchanged token is reused
    env.upstream.seen_authorization.clear()
    await _add_note(env, env.issuer.token(sub="bob"), "bob's own")
    assert len(env.endpoint.requests) == before + 1
    assert env.upstream.seen_authorization and all(
        v.startswith("Bearer xchg-bob-") for v in env.upstream.seen_authorization
    )


async def test_a_key_cannot_be_exchanged(env: Env) -> None:
    before = len(env.endpoint.requests)
    env.upstream.seen_authorization.clear()
    async with connect(env.url, MASTER) as client:
        with pytest.raises(Exception, match="bearer token from a configured identity provider") as raised:
            await client.call_tool("add_note", {"text": "with a master key"})
    assert MASTER not in str(raised.value)
    assert len(env.endpoint.requests) == before
    assert all(MASTER not in v for v in env.upstream.seen_authorization)


async def test_a_refused_exchange_is_a_clear_error_without_secrets(env: Env) -> None:
    carol = env.issuer.token(sub="carol")
    env.endpoint.fail_with = "invalid_grant"
    refused = r"refused to exchange the caller's token \(invalid_grant\)"
    try:
        async with connect(env.url, carol) as client:
            with pytest.raises(Exception, match=refused) as raised:
                await client.call_tool("add_note", {"text": "refused"})
    finally:
        env.endpoint.fail_with = None
    text = str(raised.value)
    assert carol not in text and CLIENT_SECRET not in text and "cannot exchange" not in text
    assert all(carol not in v for v in env.upstream.seen_authorization)
    # the next try exchanges again (a refusal is not cached)
    assert (await _add_note(env, carol, "now it works")).is_error is False


async def test_a_cached_token_expires_with_its_own_or_the_callers_lifetime(env: Env) -> None:
    config = TokenExchangeConfig(token_url=env.endpoint.url, client_id=CLIENT_ID, client_secret="env:UNUSED")
    pool = UpstreamPool()
    exchanger = TokenExchanger("notes", config, ClientSecret("notes", fixed=CLIENT_SECRET), pool)
    try:
        env.endpoint.expires_in = 2
        dave = subject_of("user:dave", env.issuer.token(sub="dave"))
        assert dave is not None
        first = await exchanger.token(dave)
        assert await exchanger.token(dave) == first and exchanger.exchanges == 1
        await asyncio.sleep(1.1)  # renewed at half its lifetime (1 s), before it expires
        assert await exchanger.token(dave) != first and exchanger.exchanges == 2

        env.endpoint.expires_in = 300
        short = subject_of("user:erin", env.issuer.token(sub="erin", exp=int(time.time()) + 4))
        assert short is not None
        erins = await exchanger.token(short)
        await asyncio.sleep(2.1)  # past half of the caller's remaining 3-4 s
        assert await exchanger.token(short) != erins and exchanger.exchanges == 4
    finally:
        env.endpoint.expires_in = 300
        await pool.close()
