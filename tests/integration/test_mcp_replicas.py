"""MCP sessions and tool-call limits across two gateway processes sharing Redis and PostgreSQL.

A 2025-11-25 client whose requests a load balancer spreads over both replicas keeps its
session (opened on one, used on the other, ended on either), the session stays bound to its
principal everywhere, and the per-session tool-call cap counts calls made on both.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.fakes.mcp_gateway import MASTER, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, notes_server
from tests.integration.limits_support import (
    REDIS_URL,
    Replica,
    clear_prefix,
    drop_pg_database,
    pg_database,
    run,
)
from tests.support.identity import Seeded, seed

PER_SESSION = 4
ACCEPT = "application/json, text/event-stream"


class Fleet:
    def __init__(self, replicas: list[Replica], seeded: Seeded) -> None:
        self.urls = [f"{r.url}/mcp/work" for r in replicas]
        self.seeded = seeded


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    prefix = f"test-mcp-replicas:{uuid.uuid4().hex[:10]}:"
    database = run(pg_database())
    seeded = run(seed(database))
    directory = tmp_path_factory.mktemp("mcp-replicas")
    try:
        with McpHttpServer(notes_server()) as notes:
            config = mcp_config(
                {"notes": http_server(notes.url)},
                [{"name": "work", "servers": ["notes"]}],
                pinning={"mode": "off"},
                limits={"per_session": PER_SESSION},
            )
            config["database"] = {"url": database}
            config["identity"] = {"enabled": True}
            config["redis"] = {"url": REDIS_URL}
            config["limits"] = {"key_prefix": prefix}
            replicas = [Replica(config, directory, f"replica{i}") for i in range(2)]
            try:
                for replica in replicas:
                    replica.start()
                yield Fleet(replicas, seeded)
            finally:
                for replica in replicas:
                    replica.stop()
    finally:
        clear_prefix(REDIS_URL, prefix)
        run(drop_pg_database(database))


def _post(url: str, key: str, message: dict[str, Any], session: str | None = None) -> httpx2.Response:
    headers = {"authorization": f"Bearer {key}", "accept": ACCEPT, "content-type": "application/json"}
    if session is not None:
        headers["mcp-session-id"] = session
        headers["mcp-protocol-version"] = "2025-11-25"
    return httpx2.post(url, json=message, headers=headers, timeout=10)


def _initialize(url: str, key: str) -> str:
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "lb", "version": "1"},
    }
    response = _post(url, key, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params})
    assert response.status_code == 200, response.text
    session = response.headers["mcp-session-id"]
    done = _post(url, key, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    assert done.status_code == 202
    return session


def _call(url: str, key: str, session: str, rid: int, text: str) -> httpx2.Response:
    params = {"name": "add_note", "arguments": {"text": text}}
    return _post(url, key, {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}, session)


def test_a_session_opened_on_one_replica_is_served_by_the_other(fleet: Fleet) -> None:
    a, b = fleet.urls
    alice = fleet.seeded.keys["alice"]
    session = _initialize(a, alice)
    listed = _post(b, alice, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, session)
    assert listed.status_code == 200, listed.text
    assert "add_note" in {t["name"] for t in listed.json()["result"]["tools"]}
    called = _call(b, alice, session, 3, "on the other replica")
    assert called.status_code == 200 and called.json()["result"]["isError"] is False

    # still bound to alice on both replicas: another principal presenting the id gets nothing
    for url in (a, b):
        stolen = _post(url, MASTER, {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}, session)
        assert stolen.status_code == 404


def test_the_per_session_cap_counts_calls_on_every_replica(fleet: Fleet) -> None:
    a, b = fleet.urls
    alice = fleet.seeded.keys["alice"]
    session = _initialize(b, alice)
    answers = [
        _call((a, b)[i % 2], alice, session, 10 + i, f"call {i}").json() for i in range(PER_SESSION + 2)
    ]
    assert all("result" in answer for answer in answers[:PER_SESSION]), answers
    refused = answers[PER_SESSION:]
    assert all(answer["error"]["code"] == -32029 for answer in refused), refused
    assert "per_session" in refused[0]["error"]["message"]
    other = _initialize(a, alice)  # another session has its own count
    assert "result" in _call(b, alice, other, 99, "fresh").json()


def test_a_session_ended_on_one_replica_ends_on_the_other(fleet: Fleet) -> None:
    a, b = fleet.urls
    alice = fleet.seeded.keys["alice"]
    session = _initialize(a, alice)
    assert _call(b, alice, session, 1, "known to b").status_code == 200
    headers = {"authorization": f"Bearer {alice}", "mcp-session-id": session}
    assert httpx2.delete(a, headers=headers, timeout=10).status_code == 200
    time.sleep(2.3)  # b re-checks a session it holds at most every 2 s
    assert _call(b, alice, session, 2, "after the end").status_code == 404
    assert _call(a, alice, session, 3, "after the end").status_code == 404


class _RoundRobin(httpx2.AsyncBaseTransport):
    """A load balancer in the client: each request goes to the next replica's port."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = itertools.cycle(ports)
        self._inner = httpx2.AsyncHTTPTransport()
        self.sent: list[int] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = next(self._ports)
        self.sent.append(port)
        request.url = request.url.copy_with(port=port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_the_official_sdk_client_load_balanced_over_both_replicas(fleet: Fleet) -> None:
    ports = [int(url.split(":")[2].split("/")[0]) for url in fleet.urls]
    balancer = _RoundRobin(ports)
    headers = {"authorization": f"Bearer {fleet.seeded.keys['alice']}"}
    async with httpx2.AsyncClient(transport=balancer, headers=headers) as http:
        transport = streamable_http_client(fleet.urls[0], http_client=http)
        async with Client(transport, mode="legacy") as client:  # type: ignore[arg-type]
            tools = {t.name for t in (await client.list_tools()).tools}
            results = [await client.call_tool("add_note", {"text": f"lb {i}"}) for i in range(3)]
    assert "add_note" in tools
    assert all(r.is_error is False for r in results)
    assert set(balancer.sent) == set(ports)  # both replicas served the one session
