"""Gateway configs with MCP routes over the fake upstream servers, and SDK client helpers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

MASTER = "sk-mcp-master-key-0001"
ROOT = __file__.rsplit("/tests/", 1)[0]


def mcp_config(
    servers: dict[str, dict[str, Any]], routes: list[dict[str, Any]], **mcp: Any
) -> dict[str, Any]:
    """A gateway config with only a demo model and the given MCP servers and routes."""
    return {
        "server": {"body_timeout_s": 5},
        "auth": {"master_keys": [MASTER]},
        "providers": {"demo": {"kind": "demo"}},
        "models": [{"alias": "demo", "target": "demo/demo-1"}],
        "mcp": {"servers": servers, "routes": routes, **mcp},
    }


def http_server(url: str, **extra: Any) -> dict[str, Any]:
    return {"transport": "streamable_http", "url": url, "catalog_ttl_s": 0, "timeout_s": 10, **extra}


def stdio_server(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "transport": "stdio",
        "command": [sys.executable, "-m", "tests.fakes.mcp_stdio", name],
        "cwd": ROOT,
        "catalog_ttl_s": 0,
        "timeout_s": 10,
        "restart": {"initial_backoff_s": 0.05, "max_backoff_s": 0.5},
        **extra,
    }


@asynccontextmanager
async def connect(url: str, key: str = MASTER, mode: str = "legacy", **options: Any) -> AsyncIterator[Client]:
    """The official SDK client, through the gateway, with ``key`` as its bearer token."""
    http = httpx2.AsyncClient(headers={"authorization": f"Bearer {key}", **options.pop("headers", {})})
    async with http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode, **options) as client:  # type: ignore[arg-type]
            yield client
