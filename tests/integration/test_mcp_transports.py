"""Upstreams over stdio (a process the gateway runs and restarts) and legacy HTTP+SSE."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from mcp import types

from tests.fakes.mcp_gateway import MASTER, ROOT, connect, mcp_config, stdio_server
from tests.fakes.mcp_servers import McpHttpServer, notes_server
from tests.support.gateway import RunningGateway

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def gateway() -> Iterator[RunningGateway]:
    with McpHttpServer(notes_server(), transport="sse") as legacy:
        servers = {
            "local": stdio_server("files", env={"FAKE_MCP_GREETING": "hello-from-config"}),
            "legacy": {"transport": "sse", "url": legacy.url, "catalog_ttl_s": 0, "timeout_s": 10},
        }
        routes = [{"name": "local", "servers": ["local"]}, {"name": "legacy", "servers": ["legacy"]}]
        with RunningGateway(mcp_config(servers, routes, pinning={"mode": "off"})) as running:
            yield running


def _text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def test_a_stdio_server_gets_its_command_environment_and_directory(gateway: RunningGateway) -> None:
    async with connect(f"{gateway.url}/mcp/local", MASTER) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        read = await client.call_tool("read_file", {"path": "/x"})
        who = _text(await client.call_tool("whoami", {}))
    assert {"read_file", "count", "crash", "whoami"} <= names
    assert _text(read) == "contents of /x"
    _, greeting, cwd = who.split(" ", 2)
    assert greeting == "hello-from-config" and cwd == ROOT


async def test_progress_over_stdio(gateway: RunningGateway) -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async with connect(f"{gateway.url}/mcp/local", MASTER) as client:
        result = await client.call_tool("count", {"n": 2}, progress_callback=progress)
    assert _text(result) == "counted to 2" and seen == [1, 2]


async def test_a_crashed_stdio_server_is_restarted(gateway: RunningGateway) -> None:
    async with connect(f"{gateway.url}/mcp/local", MASTER) as client:
        before = _text(await client.call_tool("whoami", {})).split(" ")[0]
        with pytest.raises(Exception, match="MCP server local"):
            await client.call_tool("crash", {})
        after = ""
        for _ in range(100):
            try:
                after = _text(await client.call_tool("whoami", {})).split(" ")[0]
                break
            except Exception:
                await asyncio.sleep(0.05)
    assert after and after != before


async def test_a_legacy_sse_server(gateway: RunningGateway) -> None:
    async with connect(f"{gateway.url}/mcp/legacy", MASTER) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        added = await client.call_tool("add_note", {"text": "over sse"})
        read = await client.read_resource("notes://all")
    assert names == {"add_note", "list_notes"}
    assert _text(added).startswith("noted")
    contents = read.contents[0]
    assert isinstance(contents, types.TextResourceContents) and "over sse" in contents.text
