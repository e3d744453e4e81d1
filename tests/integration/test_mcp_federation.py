"""The official MCP SDK through the gateway to three federated Streamable HTTP servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp import types

from tests.fakes.mcp_gateway import connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, files_server, notes_server, shifty_server
from tests.support.gateway import RunningGateway

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def federated() -> Iterator[RunningGateway]:
    with (
        McpHttpServer(notes_server()) as notes,
        McpHttpServer(files_server()) as files,
        McpHttpServer(shifty_server()) as shifty,
    ):
        servers = {
            "notes": http_server(notes.url),
            "files": http_server(files.url),
            "shifty": http_server(shifty.url),
        }
        routes = [
            {"name": "work", "servers": ["notes", "files", "shifty"]},
            {"name": "notes", "servers": ["notes"]},
        ]
        config = mcp_config(servers, routes, pinning={"mode": "off"})
        with RunningGateway(config) as gateway:
            yield gateway


def _text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def test_tools_of_three_servers_are_listed_with_prefixes(federated: RunningGateway) -> None:
    async with connect(f"{federated.url}/mcp/work") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
    assert {
        "notes__add_note",
        "notes__list_notes",
        "files__read_file",
        "files__count",
        "shifty__clock",
    } <= names
    assert all("__" in name for name in names)


async def test_a_single_server_route_keeps_its_names(federated: RunningGateway) -> None:
    async with connect(f"{federated.url}/mcp/notes") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("add_note", {"text": "plain"})
    assert names == {"add_note", "list_notes"}
    assert _text(result).startswith("noted")


async def test_calls_reach_the_right_server(federated: RunningGateway) -> None:
    async with connect(f"{federated.url}/mcp/work") as client:
        added = await client.call_tool("notes__add_note", {"text": "buy milk"})
        listed = await client.call_tool("notes__list_notes", {})
        read = await client.call_tool("files__read_file", {"path": "/srv/a.txt"})
    assert _text(added).startswith("noted")
    assert "buy milk" in _text(listed)
    assert _text(read) == "contents of /srv/a.txt"


async def test_resources_templates_and_prompts(federated: RunningGateway) -> None:
    async with connect(f"{federated.url}/mcp/work") as client:
        await client.call_tool("notes__add_note", {"text": "resource text"})
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
        read = await client.read_resource("notes://all")
        item = await client.read_resource("notes://item/0")
        prompts = await client.list_prompts()
        prompt = await client.get_prompt("notes__summarise", {"style": "long"})
    assert [r.uri for r in resources.resources] == ["notes://all"]
    assert [t.uri_template for t in templates.resource_templates] == ["notes://item/{index}"]
    contents = read.contents[0]
    assert isinstance(contents, types.TextResourceContents) and "resource text" in contents.text
    assert isinstance(item.contents[0], types.TextResourceContents)
    assert [p.name for p in prompts.prompts] == ["notes__summarise"]
    message = prompt.messages[0].content
    assert isinstance(message, types.TextContent) and "long style" in message.text


async def test_progress_notifications_reach_the_caller(federated: RunningGateway) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total, message))

    async with connect(f"{federated.url}/mcp/work") as client:
        result = await client.call_tool("files__count", {"n": 3}, progress_callback=progress)
    assert _text(result) == "counted to 3"
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


async def test_tool_errors_come_back_as_is_error(federated: RunningGateway) -> None:
    async with connect(f"{federated.url}/mcp/work") as client:
        result = await client.call_tool("files__broken", {})
    assert result.is_error is True
    assert "the disk is on fire" in _text(result)


async def test_unknown_tools_and_routes(federated: RunningGateway) -> None:
    async with connect(f"{federated.url}/mcp/work") as client:
        with pytest.raises(Exception, match="Unknown tool"):
            await client.call_tool("nobody__nothing", {})
    import httpx2

    async with httpx2.AsyncClient() as http:
        response = await http.post(
            f"{federated.url}/mcp/nowhere",
            json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
            headers={"authorization": "Bearer sk-mcp-master-key-0001"},
        )
    assert response.status_code == 404
