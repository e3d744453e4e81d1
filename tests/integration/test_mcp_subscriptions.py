"""Resource subscriptions through the gateway: a session follows a resource, the upstream is
subscribed once, and its ``notifications/resources/updated`` reach the followers' standalone
streams (GET) and nobody else."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import types
from mcp.server.mcpserver import Context, MCPServer

from tests.fakes.mcp_gateway import MASTER, connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer
from tests.support.gateway import RunningGateway

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    # the SDK warns that 2026-07-28 replaces resources/subscribe (these are 2025-11-25 sessions)
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]
STATUS = "board://status"


def board_server(upstream_calls: list[tuple[str, str]]) -> MCPServer:
    server = MCPServer("board")

    @server.resource(STATUS, description="The board's status.")
    def status() -> str:
        return "green"

    @server.tool(description="Change the status; followers are told.")
    async def bump(ctx: Context) -> str:
        await ctx.session.send_resource_updated(STATUS)  # not tied to this call: the standalone stream
        return "bumped"

    def recorder(method: str) -> Any:
        async def handle(ctx: Any, params: Any) -> types.EmptyResult:
            upstream_calls.append((method, params.uri))
            return types.EmptyResult()

        return handle

    low = server._lowlevel_server
    low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, recorder("subscribe"))
    low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, recorder("unsubscribe"))
    return server


class Env:
    def __init__(self, gateway: RunningGateway, upstream_calls: list[tuple[str, str]]) -> None:
        self.url = f"{gateway.url}/mcp/board"
        self.upstream_calls = upstream_calls


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    calls: list[tuple[str, str]] = []
    with McpHttpServer(board_server(calls)) as board:
        config = mcp_config({"board": http_server(board.url)}, [{"name": "board", "servers": ["board"]}])
        with RunningGateway(config) as gateway:
            yield Env(gateway, calls)


def _updates(seen: list[str]) -> Any:
    async def handler(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            seen.append(message.params.uri)

    return handler


async def _wait_for(condition: Any, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting")


async def test_updates_reach_followers_only(env: Env) -> None:
    env.upstream_calls.clear()
    follower: list[str] = []
    bystander: list[str] = []
    async with (
        connect(env.url, message_handler=_updates(follower)) as a,
        connect(env.url, message_handler=_updates(bystander)) as b,
    ):
        resources = a.server_capabilities.resources
        assert resources is not None and resources.subscribe is True
        await a.subscribe_resource(STATUS)
        assert env.upstream_calls.count(("subscribe", STATUS)) == 1
        await asyncio.sleep(0.3)  # the gateway's own stream to the upstream is opening

        await b.call_tool("bump", {})
        await _wait_for(lambda: follower == [STATUS])
        await asyncio.sleep(0.2)
        assert bystander == []

        await a.unsubscribe_resource(STATUS)
        assert env.upstream_calls.count(("unsubscribe", STATUS)) == 1  # nobody follows it any more
        await b.call_tool("bump", {})
        await asyncio.sleep(0.3)
        assert follower == [STATUS]


async def test_the_upstream_is_subscribed_once_and_released_when_the_last_session_ends(env: Env) -> None:
    env.upstream_calls.clear()
    async with connect(env.url) as a:
        async with connect(env.url) as b:
            await a.subscribe_resource(STATUS)
            await b.subscribe_resource(STATUS)
            assert env.upstream_calls == [("subscribe", STATUS)]
        # b's session ended (DELETE): a still follows
        await asyncio.sleep(0.2)
        assert ("unsubscribe", STATUS) not in env.upstream_calls
    await _wait_for(lambda: ("unsubscribe", STATUS) in env.upstream_calls)


async def test_unknown_resources_cannot_be_followed(env: Env) -> None:
    async with connect(env.url) as client:
        with pytest.raises(Exception, match="Unknown resource"):
            await client.subscribe_resource("board://nope")


def test_a_standalone_stream_needs_a_session_and_is_one_per_session(env: Env) -> None:
    auth = {"authorization": f"Bearer {MASTER}", "accept": "text/event-stream"}
    assert httpx2.get(env.url, headers=auth).status_code == 400  # no session
    missing = httpx2.get(env.url, headers={**auth, "mcp-session-id": "0" * 32})
    assert missing.status_code == 404
