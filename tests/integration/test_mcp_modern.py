"""The 2026-07-28 era on the client side (stateless requests, ``server/discover``, routing
headers checked against the body), bridged to upstreams that speak 2025-11-25."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import types
from mcp.client.context import ClientRequestContext

from tests.fakes.mcp_gateway import MASTER, connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, files_server, notes_server
from tests.support.gateway import RunningGateway

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
VERSION = "2026-07-28"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with McpHttpServer(notes_server()) as notes, McpHttpServer(files_server()) as files:
        servers = {
            "notes": http_server(notes.url),
            "files": http_server(files.url),
            "files-modern": http_server(files.url, era="modern"),
        }
        routes = [
            {"name": "work", "servers": ["notes", "files"]},
            {"name": "modern-upstream", "servers": ["files-modern"]},
        ]
        with RunningGateway(mcp_config(servers, routes, pinning={"mode": "off"})) as gateway:
            yield f"{gateway.url}/mcp/work"


async def test_the_sdk_negotiates_the_modern_era_and_calls_tools(url: str) -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async with connect(url, MASTER, mode="auto") as client:
        assert client.session.protocol_version == VERSION
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("files__count", {"n": 2}, progress_callback=progress)
        prompt = await client.get_prompt("notes__summarise", {})
    assert {"notes__add_note", "files__count"} <= names
    block = result.content[0]
    assert isinstance(block, types.TextContent) and block.text == "counted to 2"
    assert seen == [1, 2]
    assert prompt.messages


def _post(url: str, body: dict[str, Any], **headers: str) -> httpx2.Response:
    base = {"authorization": f"Bearer {MASTER}", "accept": "application/json, text/event-stream"}
    return httpx2.post(url, json=body, headers={**base, **headers})


def _call(name: str) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": VERSION,
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    return {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": {}, "_meta": meta},
    }


def test_matching_headers_are_served(url: str) -> None:
    response = _post(url, _call("notes__list_notes"), **{
        "mcp-protocol-version": VERSION, "mcp-method": "tools/call", "mcp-name": "notes__list_notes"
    })  # fmt: skip
    assert response.status_code == 200
    assert response.json()["result"]["resultType"] == "complete"


@pytest.mark.parametrize(
    "headers",
    [
        {"mcp-protocol-version": VERSION, "mcp-method": "tools/list", "mcp-name": "notes__list_notes"},
        {"mcp-protocol-version": VERSION, "mcp-method": "tools/call", "mcp-name": "files__wipe"},
        {"mcp-protocol-version": "2025-11-25", "mcp-method": "tools/call", "mcp-name": "notes__list_notes"},
    ],
)
def test_a_header_body_mismatch_is_rejected(url: str, headers: dict[str, str]) -> None:
    response = _post(url, _call("notes__list_notes"), **headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32020


def test_discover_describes_the_route(url: str) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "server/discover",
        "params": {"_meta": _call("x")["params"]["_meta"]},
    }
    response = _post(url, body, **{"mcp-protocol-version": VERSION, "mcp-method": "server/discover"})
    result = response.json()["result"]
    assert VERSION in result["supportedVersions"] and "tools" in result["capabilities"]


async def test_sampling_and_elicitation_round_trip_for_modern_callers(url: str) -> None:
    async def sample(
        ctx: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="snow on pines"), model="demo"
        )

    async def elicit(ctx: ClientRequestContext, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"confirm": False})

    async with connect(
        url, MASTER, mode="auto", sampling_callback=sample, elicitation_callback=elicit
    ) as client:
        assert client.session.protocol_version == VERSION
        haiku = await client.call_tool("files__haiku", {"topic": "winter"})
        wiped = await client.call_tool("files__wipe", {})
    for result, text in ((haiku, "haiku: snow on pines"), (wiped, "kept")):
        block = result.content[0]
        assert isinstance(block, types.TextContent) and block.text == text


def test_an_unknown_request_state_is_refused(url: str) -> None:
    call = _call("files__haiku")
    call["params"]["requestState"] = "th1." + "0" * 32
    call["params"]["inputResponses"] = {"q1": {}}
    headers = {"mcp-protocol-version": VERSION, "mcp-method": "tools/call", "mcp-name": "files__haiku"}
    response = _post(url, call, **headers)
    assert response.status_code == 400 and "requestState" in response.json()["error"]["message"]


async def test_a_handshake_caller_reaches_a_modern_upstream(url: str) -> None:
    seen: list[float] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append(value)

    async def sample(
        ctx: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="rain"), model="demo"
        )

    modern = url.replace("/mcp/work", "/mcp/modern-upstream")
    async with connect(modern, MASTER, sampling_callback=sample) as client:
        assert client.session.protocol_version == "2025-11-25"
        names = {t.name for t in (await client.list_tools()).tools}
        counted = await client.call_tool("count", {"n": 2}, progress_callback=progress)
        poem = await client.call_tool("poem", {"topic": "spring"})
        regional = await client.call_tool("regional", {"region": "eu-west"})
    assert {"count", "read_file"} <= names
    assert seen == [1, 2]
    for result, text in ((counted, "counted to 2"), (poem, "poem: rain"), (regional, "served in eu-west")):
        block = result.content[0]
        assert isinstance(block, types.TextContent) and block.text == text
