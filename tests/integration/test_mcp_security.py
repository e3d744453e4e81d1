"""Who sees and calls what through the MCP gateway: virtual keys, JWT audiences, Cedar with
arguments, Origin checks, and the audit trail of every call."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import yaml
from mcp import types

from tests.fakes.mcp_gateway import MASTER, connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, files_server, notes_server, shifty_server
from tests.fakes.oidc_issuer import FakeIssuer
from tests.support.gateway import RunningGateway
from tests.support.identity import Seeded, seed
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.audit.search import SearchFilters
from tollhouse.audit.wiring import open_service
from tollhouse.config.load import parse_config
from tollhouse.identity.keys import KeyRequest
from tollhouse.identity.records import Scopes
from tollhouse.storage.engine import create_engine

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RESOURCE = "https://gw.example.test/mcp/work"
POLICIES = [
    {
        "id": "planner-tools",
        "text": 'permit(principal == Agent::"planner", action == Action::"call_tool", resource) when { resource in '
        '[Tool::"notes/add_note", Tool::"notes/list_notes", Tool::"files/read_file"] };',
    },
    {
        "id": "public-files-only",
        "text": 'forbid(principal, action == Action::"call_tool", resource == Tool::"files/read_file") '
        'when { context has args && !(context.args has path && context.args.path like "/srv/public/*") };',
    },
]


class Env:
    def __init__(
        self, gateway: RunningGateway, config: dict[str, Any], seeded: Seeded, issuer: FakeIssuer
    ) -> None:
        self.gateway = gateway
        self.config = config
        self.seeded = seeded
        self.issuer = issuer
        self.url = f"{gateway.url}/mcp/work"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db = f"sqlite:///{tmp_path_factory.mktemp('mcp-sec') / 'gw.db'}"
    seeded = asyncio.run(seed(db))
    seeded.keys["notes-only"] = asyncio.run(_scoped_key(db))
    with (
        FakeIssuer() as issuer,
        McpHttpServer(notes_server()) as notes,
        McpHttpServer(files_server()) as files,
        McpHttpServer(shifty_server()) as shifty,
    ):
        servers = {
            "notes": http_server(notes.url),
            "files": http_server(files.url),
            "shifty": http_server(shifty.url),
        }
        config = mcp_config(
            servers,
            [{"name": "work", "servers": ["notes", "files", "shifty"]}],
            oauth={"resource_base_url": "https://gw.example.test", "authorization_servers": [issuer.issuer]},
            allowed_origins=["https://app.example.test"],
        )
        config["database"] = {"url": db}
        config["identity"] = {"enabled": True, "refresh_interval_s": 0.2, "last_used_flush_s": 3600}
        config["authorization"] = {"policies": POLICIES}
        config["jwt"] = {
            "issuers": [
                {"issuer": issuer.issuer, "audience": [RESOURCE, "https://gw.example.test/mcp/other"]}
            ]
        }
        config["audit"] = {"enabled": True, "mode": "strict", "flush_interval_s": 0.05}
        with RunningGateway(config) as gateway:
            yield Env(gateway, config, seeded, issuer)


async def _tools(url: str, key: str, **options: Any) -> set[str]:
    async with connect(url, key, **options) as client:
        return {t.name for t in (await client.list_tools()).tools}


async def test_an_agent_sees_only_the_tools_policy_lets_it_call(env: Env) -> None:
    agent = env.seeded.keys["agent"]
    assert await _tools(env.url, agent) == {"notes__add_note", "notes__list_notes", "files__read_file"}
    everything = await _tools(env.url, MASTER)
    assert {"files__count", "shifty__clock", "notes__add_note"} <= everything


async def test_a_tool_outside_policy_is_not_callable(env: Env) -> None:
    async with connect(env.url, env.seeded.keys["agent"]) as client:
        with pytest.raises(Exception, match="may not use tool files__count"):
            await client.call_tool("files__count", {"n": 1})
        ok = await client.call_tool("notes__add_note", {"text": "from the agent"})
    assert ok.is_error is False


async def test_cedar_conditions_on_arguments(env: Env) -> None:
    async with connect(env.url, env.seeded.keys["agent"]) as client:
        allowed = await client.call_tool("files__read_file", {"path": "/srv/public/readme"})
        with pytest.raises(Exception, match="public-files-only"):
            await client.call_tool("files__read_file", {"path": "/etc/passwd"})
    block = allowed.content[0]
    assert isinstance(block, types.TextContent) and block.text == "contents of /srv/public/readme"


async def _scoped_key(db: str) -> str:
    engine = create_engine(db)
    try:
        services = AdminServices(engine, RecentEvents())
        request = KeyRequest("alice", "notes-only", Scopes(tools=("notes/*",)))
        return (await services.create_key("test", request)).secret
    finally:
        await engine.dispose()


async def test_a_keys_tool_scope_narrows_what_a_user_sees(env: Env) -> None:
    # alice is a user (allowed unless a policy forbids): her plain key sees every tool, her
    # key scoped to notes/* only the notes server's, and cannot call another.
    assert "shifty__clock" in await _tools(env.url, env.seeded.keys["alice"])
    assert await _tools(env.url, env.seeded.keys["notes-only"]) == {"notes__add_note", "notes__list_notes"}
    async with connect(env.url, env.seeded.keys["notes-only"]) as client:
        with pytest.raises(Exception, match="key-scope"):
            await client.call_tool("files__read_file", {"path": "/srv/public/a"})


async def test_jwt_for_this_route_is_accepted(env: Env) -> None:
    token = env.issuer.token(aud=RESOURCE, agent_id="planner", groups=[])
    assert await _tools(env.url, token) == {"notes__add_note", "notes__list_notes", "files__read_file"}


def test_a_token_for_another_audience_is_rejected(env: Env) -> None:
    token = env.issuer.token(aud="https://gw.example.test/mcp/other", agent_id="planner", groups=[])
    response = httpx2.post(env.url, json=_init(), headers={"authorization": f"Bearer {token}", **_ACCEPT})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert (
        'resource_metadata="https://gw.example.test/.well-known/oauth-protected-resource/mcp/work"'
        in challenge
    )
    assert token not in response.text


def test_missing_credentials_point_at_the_resource_metadata(env: Env) -> None:
    response = httpx2.post(env.url, json=_init(), headers=_ACCEPT)
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert "resource_metadata=" in challenge and "error=" not in challenge  # no credentials: no error
    metadata = httpx2.get(f"{env.gateway.url}/.well-known/oauth-protected-resource/mcp/work").json()
    assert metadata["resource"] == RESOURCE
    assert metadata["authorization_servers"] == [env.issuer.issuer]


def test_a_bad_origin_is_403(env: Env) -> None:
    headers = {"authorization": f"Bearer {MASTER}", **_ACCEPT}
    bad = httpx2.post(env.url, json=_init(), headers={**headers, "origin": "https://evil.example"})
    good = httpx2.post(env.url, json=_init(), headers={**headers, "origin": "https://app.example.test"})
    assert bad.status_code == 403
    assert good.status_code == 200


def test_a_session_is_bound_to_its_principal(env: Env) -> None:
    mine = httpx2.post(env.url, json=_init(), headers={"authorization": f"Bearer {MASTER}", **_ACCEPT})
    session = mine.headers["mcp-session-id"]
    stolen = httpx2.post(
        env.url,
        json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        headers={"authorization": f"Bearer {env.seeded.keys['agent']}", "mcp-session-id": session, **_ACCEPT},
    )
    assert stolen.status_code == 404


async def test_every_call_is_audited_and_the_chain_verifies(env: Env) -> None:
    session = "audit-session-mcp-1"
    async with connect(env.url, env.seeded.keys["agent"], headers={"x-tollhouse-session": session}) as client:
        await client.list_tools()
        await client.call_tool("notes__add_note", {"text": "audited"})
        with pytest.raises(Exception, match="may not use"):
            await client.call_tool("shifty__clock", {})
    service = open_service(parse_config(_yaml(env.config)))
    try:
        # Strict mode: each record was durable before its answer was sent.
        records = await service.search(SearchFilters(session=session, type="mcp.call"))
        report = await service.verify()
        timeline = await service.session_timeline(session)
    finally:
        await service.engine.dispose()
    by_method = {(r["detail"]["method"], r["detail"].get("tool")): r for r in records}
    call = by_method[("tools/call", "add_note")]
    assert call["principal"]["id"] == "planner" and call["provider"] == "notes" and call["route"] == "work"
    assert len(call["detail"]["args_sha256"]) == 64 and "audited" not in str(call)
    denied = by_method[("tools/call", "clock")]
    assert denied["detail"]["outcome"] == "denied" and denied["verdicts"][0]["outcome"] == "deny"
    assert ("tools/list", None) in by_method
    assert not report.problems
    assert timeline.calls >= 3


_ACCEPT = {"accept": "application/json, text/event-stream"}


def _init() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }


def _yaml(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config)
