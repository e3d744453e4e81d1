"""Per-call overhead of the MCP gateway: a small ``tools/call``, direct vs through Tollhouse.

An upstream MCP server (the official SDK's ``MCPServer``, Streamable HTTP, JSON responses)
and the gateway (uvloop + httptools, pinning on, master-key auth) run on loopback in their
own threads; one client sends the same call sequentially to each and reports p50/p90/p99.
The goal is a p50 overhead of at most 2 ms.

    python bench/mcp_bench.py [--calls 2000] [--warmup 200]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import threading
import time
from typing import Any

import aiohttp
import orjson
import uvicorn
from mcp.server.mcpserver import MCPServer

from tollhouse.config.load import parse_config
from tollhouse.http.factory import build_app

KEY = "sk-bench-master-key-0001"
ACCEPT = "application/json, text/event-stream"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(app: Any, port: int, **options: Any) -> uvicorn.Server:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **options
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    return server


def upstream() -> MCPServer:
    server = MCPServer("bench")

    @server.tool(description="Echo a short text.")
    def echo(text: str) -> str:
        return text

    return server


def gateway_config(upstream_url: str, db: str) -> str:
    return f"""
auth: {{master_keys: [{KEY}]}}
providers: {{demo: {{kind: demo}}}}
models: [{{alias: demo, target: demo/demo-1}}]
database: {{url: "sqlite:///{db}"}}
mcp:
  servers:
    bench: {{url: "{upstream_url}", catalog_ttl_s: 300}}
  routes: [{{name: bench, servers: [bench]}}]
"""


async def _session(http: aiohttp.ClientSession, url: str) -> dict[str, str]:
    headers = {"authorization": f"Bearer {KEY}", "accept": ACCEPT, "content-type": "application/json"}
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "b", "version": "1"}}}  # fmt: skip
    async with http.post(url, data=orjson.dumps(init), headers=headers) as response:
        await response.read()
        headers["mcp-session-id"] = response.headers["mcp-session-id"]
    headers["mcp-protocol-version"] = "2025-11-25"
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    async with http.post(url, data=orjson.dumps(note), headers=headers) as response:
        await response.read()
    return headers


async def measure(url: str, calls: int, warmup: int) -> list[float]:
    async with aiohttp.ClientSession() as http:
        headers = await _session(http, url)
        body = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                             "params": {"name": "echo", "arguments": {"text": "hello"}}})  # fmt: skip
        times: list[float] = []
        for i in range(warmup + calls):
            started = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                data = await response.read()
            if i >= warmup:
                times.append((time.perf_counter() - started) * 1000)
            if b'"isError":false' not in data and b'"result"' not in data:
                raise RuntimeError(f"unexpected answer: {data[:200]!r}")
        return times


def _summary(name: str, times: list[float]) -> float:
    q = statistics.quantiles(times, n=100)
    p50 = statistics.median(times)
    print(f"{name:>8}: p50 {p50:.3f} ms  p90 {q[89]:.3f} ms  p99 {q[98]:.3f} ms  ({len(times)} calls)")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    up_port, gw_port = _port(), _port()
    _serve(upstream().streamable_http_app(json_response=True), up_port)
    upstream_url = f"http://127.0.0.1:{up_port}/mcp"
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(
            parse_config(gateway_config(upstream_url, f"{folder}/bench.db")), configure_logging=False
        )
        _serve(app, gw_port, loop="uvloop", http="httptools", lifespan="on")
        direct = _summary("direct", asyncio.run(measure(upstream_url, args.calls, args.warmup)))
        via = _summary(
            "gateway", asyncio.run(measure(f"http://127.0.0.1:{gw_port}/mcp/bench", args.calls, args.warmup))
        )
    overhead = via - direct
    print(f"overhead: p50 {overhead:.3f} ms (goal ≤ 2 ms): {'ok' if overhead <= 2.0 else 'over'}")


if __name__ == "__main__":
    main()
