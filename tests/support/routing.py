"""Helpers for the routing, reliability and cache integration tests.

Configs put a ``FaultyUpstream`` behind provider ``up`` and a closed port behind ``down``;
``Client`` speaks raw HTTP (so tests see every header and SSE byte); ``leaks`` counts what
the gateway's event loop and the upstream still hold after a test.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any

from tests.fakes.faulty_upstream import FaultyUpstream
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port

HELLO = [{"role": "user", "content": "hello"}]


def provider(base_url: str, first_byte_s: float = 2.0) -> dict[str, Any]:
    return {
        "kind": "openai_compatible",
        "base_url": base_url,
        "api_key": "sk-upstream-routing-7c1d",
        "timeouts": {"connect_s": 1, "first_byte_s": first_byte_s, "total_s": 5},
    }


def routing_config(
    up: FaultyUpstream, models: list[dict[str, Any]], routing: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """A gateway config: ``up`` (the fake), ``down`` (nothing listens there), ``models``."""
    config: dict[str, Any] = {
        "server": {"body_timeout_s": 2},
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {"up": provider(up.base_url), "down": provider(f"http://127.0.0.1:{free_port()}/v1")},
        "models": models,
        **extra,
    }
    if routing is not None:
        config["routing"] = routing
    return config


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def events(self) -> list[str]:
        """The ``data:`` payloads of an SSE body, in order."""
        return [line[6:] for line in self.body.decode().split("\n") if line.startswith("data: ")]


class Client:
    """Raw HTTP calls to a running gateway."""

    def __init__(self, gw: RunningGateway, key: str = CLIENT_KEY) -> None:
        self.gw = gw
        self.key = key

    def post(
        self, path: str, payload: dict[str, Any], headers: dict[str, str] | None = None, timeout: float = 15
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=timeout)
        hdrs = {"authorization": f"Bearer {self.key}", "content-type": "application/json", **(headers or {})}
        try:
            conn.request("POST", path, body=json.dumps(payload).encode(), headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)

    def chat(self, model: str, stream: bool = False, **extra: Any) -> Answer:
        payload: dict[str, Any] = {"model": model, "messages": HELLO, **extra}
        if stream:
            payload["stream"] = True
        return self.post("/v1/chat/completions", payload)


def gateway_tasks(gw: RunningGateway) -> int:
    """Tasks alive on the gateway's event loop (the counting task excluded)."""
    loop = gw._server.servers[0].get_loop()  # uvicorn's loop, running in the gateway's thread

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1

    return asyncio.run_coroutine_threadsafe(count(), loop).result(5)


def settled(probe: Any, expected: Any, timeout_s: float = 5.0) -> bool:
    """Whether ``probe()`` reaches ``expected`` within ``timeout_s`` (work may finish late)."""
    deadline = time.monotonic() + timeout_s
    while probe() != expected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
