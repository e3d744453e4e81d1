"""Mutated requests against the demo gateway: every answer is a success or a 4xx in the
caller's format, and every stream ends cleanly — never a 5xx, a cut connection or a traceback.

Each request is a valid body for one surface with one to three of its values replaced by
something of the wrong shape (a list or object where a string belongs, a huge number, NUL).
Seeded, so a failure reproduces; bounded (1,200 requests, a few seconds). A run of 24,000
such requests found the bugs this guards against: set-membership tests on a caller's list
(TypeError, a 500), a demo model failing on a malformed schema (a 500, or a stream cut
mid-chunk), a tool_choice that skipped validation without tools.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import aiohttp
import orjson
import pytest

from tests.support.gateway import RunningGateway
from tollhouse.http.factory import demo_config

KEY = "sk-demo"
REQUESTS = 1200
_KEYS = ("role", "content", "type", "text", "name", "arguments", "function", "parameters", "schema")
_SCALARS = (None, True, False, 0, -1, 1.5, 1e308, 2**70, "", "x", "demo", "user", "auto", "none", "\u0000")
_EXTRAS = ("n", "stop", "response_format", "tool_choice", "stream_options", "max_tokens", "temperature")
BASES: dict[str, dict[str, Any]] = {
    "/v1/chat/completions": {
        "model": "demo",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    },
    "/v1/messages": {
        "model": "demo",
        "max_tokens": 32,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    },
    "/v1/embeddings": {"model": "demo-embed", "input": ["a", "b"]},
    "/v1/responses": {"model": "demo", "input": [{"role": "user", "content": "hi"}]},
}


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(_SCALARS)
    if roll < 0.55:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        yield from _paths(child, (*path, key))


def _mutated(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    paths = list(_paths(body))
    for _ in range(rng.randint(1, 3)):
        *parents, last = rng.choice(paths)
        node: Any = body
        try:
            for key in parents:
                node = node[key]
            node[last] = _value(rng)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation replaced a parent: this path is gone
    if rng.random() < 0.3:
        body["stream"] = True
    if rng.random() < 0.2:
        body[rng.choice(_EXTRAS)] = _value(rng)
    return body


async def _send_all(base_url: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    problems: list[str] = []
    headers = {"authorization": f"Bearer {KEY}", "x-api-key": KEY}
    async with aiohttp.ClientSession() as session:
        for _ in range(REQUESTS):
            path = rng.choice(list(BASES))
            body = _mutated(rng, BASES[path])
            sent = json.dumps(body)[:300]  # orjson refuses the integers beyond 64 bits sent here
            try:
                async with session.post(base_url + path, json=body, headers=headers) as response:
                    data = await response.read()  # raises if the stream was cut mid-chunk
                    status = response.status
            except aiohttp.ClientPayloadError as exc:
                problems.append(f"{path} cut off ({exc}): {sent}")
                continue
            if status >= 500:
                problems.append(f"{path} {status}: {sent} -> {data[:200]!r}")
            elif status >= 400:
                error = orjson.loads(data)
                if (
                    "error" not in error
                ):  # OpenAI's {"error": ...}, Anthropic's {"type": "error", "error": ...}
                    problems.append(f"{path} {status} without an error envelope: {data[:200]!r}")
    return problems


@pytest.fixture(scope="module")
def gateway() -> Iterator[RunningGateway]:
    with RunningGateway(demo_config().model_dump(mode="json") | {"auth": {"master_keys": [KEY]}}) as gw:
        yield gw


@pytest.mark.parametrize("seed", [1, 2])
def test_mutated_requests_get_a_4xx_in_the_callers_format_never_a_5xx(
    gateway: RunningGateway, seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    problems = asyncio.run(_send_all(gateway.url, seed))
    assert problems == [], "\n".join(problems[:10])
    assert "Traceback" not in caplog.text and "unhandled error" not in caplog.text
