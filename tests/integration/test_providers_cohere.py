"""Cohere v2 end to end: OpenAI SDK → gateway → fake Cohere (chat, stream, tools, embed)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.fakes.cohere_upstream import FakeCohere
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway

API_KEY = "co-upstream-key-0001"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeCohere]:
    with FakeCohere(API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(fake: FakeCohere) -> Iterator[RunningGateway]:
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {"co": {"kind": "cohere", "base_url": fake.base_url, "api_key": API_KEY}},
        "models": [
            {"alias": "command", "target": "co/command-a-03-2025"},
            {"alias": "embed", "target": "co/embed-v4.0"},
            *({"alias": f"e{s}", "target": f"co/error-{s}"} for s in (400, 401, 429, 500)),
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway, fake: FakeCohere) -> openai.OpenAI:
    fake.reset()
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@covers("chat", ("cohere",), "basic", "system", "usage")
def test_chat(client: openai.OpenAI, fake: FakeCohere) -> None:
    sdk_checks.check_chat(client, "command")
    sent = fake.last_request
    assert sent.path == "/v2/chat" and sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}


@covers("chat", ("cohere",), "stream_text", "usage")
def test_stream(client: openai.OpenAI) -> None:
    sdk_checks.check_stream(client, "command")


@covers("chat", ("cohere",), "tools", "tool_results", "parallel_tools")
def test_tools(client: openai.OpenAI, fake: FakeCohere) -> None:
    sdk_checks.check_tools(client, "command")
    assistant = fake.last_request.json["messages"][2]
    assert assistant["role"] == "assistant" and len(assistant["tool_calls"]) == 2
    assert [m["role"] for m in fake.last_request.json["messages"][3:]] == ["tool", "tool"]


@covers("chat", ("cohere",), "stream_tools")
def test_tools_stream(client: openai.OpenAI) -> None:
    sdk_checks.check_tools_stream(client, "command")


def test_embeddings(client: openai.OpenAI, fake: FakeCohere) -> None:
    result = client.embeddings.create(
        model="embed", input=["hello", "tollhouse"], extra_body={"input_type": "search_query"}
    )
    assert [d.embedding for d in result.data] == [[0.5, 5.0], [0.5, 9.0]]
    assert result.usage.prompt_tokens == 7
    assert fake.last_request.json["input_type"] == "search_query"


@covers("chat", ("cohere",), "errors")
def test_errors(client: openai.OpenAI) -> None:
    sdk_checks.check_errors(client, {400: "e400", 401: "e401", 429: "e429", 500: "e500"})
