"""Gateways for the surface tests: the demo provider and a fake OpenAI-compatible upstream.

``Backend`` names what a test needs to call a gateway (URL, key, model alias) and, for the
fake upstream, the fake to inspect; ``raw_sse`` reads a stream's named events over plain HTTP,
to check the exact event sequence SDKs would otherwise hide (``ping``).
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, demo_gateway_config

DEMO_KEY = "sk-demo-surface-0001"


@dataclass(frozen=True)
class Backend:
    name: str
    gateway: RunningGateway
    key: str
    model: str
    upstream: FakeOpenAI | None = None


def demo_gateway() -> RunningGateway:
    return RunningGateway(demo_gateway_config(DEMO_KEY))


def fake_backend(gateway: RunningGateway, upstream: FakeOpenAI) -> Backend:
    return Backend("fake", gateway, CLIENT_KEY, "gpt-test", upstream)


def demo_backend(gateway: RunningGateway) -> Backend:
    return Backend("demo", gateway, DEMO_KEY, "demo")


def raw_sse(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, list[tuple[str, Any]]]:
    """POST ``body`` and read the whole answer as ``(event name, parsed data)`` pairs
    (a JSON answer is one pair with an empty name)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("POST", path, orjson.dumps(body), {"content-type": "application/json", **headers})
        response = conn.getresponse()
        text = response.read().decode()
    finally:
        conn.close()
    if response.getheader("content-type", "").startswith("application/json"):
        return response.status, [("", orjson.loads(text))]  # not a stream: the one JSON body
    events = []
    for block in text.split("\n\n"):
        name, data = "", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if name or data:
            events.append((name, orjson.loads(data) if data.startswith("{") else data))
    return response.status, events
