"""Ollama's native API end to end: OpenAI SDK → gateway (kind ollama_native) → fake Ollama."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.fakes.ollama_upstream import FakeOllama
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOllama]:
    with FakeOllama() as server:
        yield server


@pytest.fixture(scope="module")
def gateway(fake: FakeOllama) -> Iterator[RunningGateway]:
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {"local": {"kind": "ollama_native", "base_url": fake.base_url}},
        "models": [
            {"alias": "llama", "target": "local/llama3.2"},
            {"alias": "nomic", "target": "local/nomic-embed-text"},
            {"alias": "missing", "target": "local/missing"},
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway, fake: FakeOllama) -> openai.OpenAI:
    fake.reset()
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@covers("chat", ("ollama",), "basic", "system", "usage")
def test_chat(client: openai.OpenAI, fake: FakeOllama) -> None:
    sdk_checks.check_chat(client, "llama")
    assert fake.last_request.path == "/api/chat" and fake.last_request.json["stream"] is False


@covers("chat", ("ollama",), "stream_text", "usage")
def test_ndjson_stream(client: openai.OpenAI) -> None:
    sdk_checks.check_stream(client, "llama")


@covers("chat", ("ollama",), "tools", "tool_results", "parallel_tools", "stream_tools")
def test_tools(client: openai.OpenAI, fake: FakeOllama) -> None:
    sdk_checks.check_tools(client, "llama")
    tool_names = [m.get("tool_name") for m in fake.last_request.json["messages"] if m["role"] == "tool"]
    assert tool_names == ["get_weather", "get_time"]  # call ids mapped back to the names Ollama wants
    sdk_checks.check_tools_stream(client, "llama", split=False)  # Ollama streams each call whole


def test_embeddings(client: openai.OpenAI) -> None:
    result = client.embeddings.create(model="nomic", input=["hello", "tollhouse"], encoding_format="float")
    assert [d.embedding for d in result.data] == [[0.5, 5.0], [0.5, 9.0]]
    assert result.usage.prompt_tokens == 3


@covers("chat", ("ollama",), "errors")
def test_missing_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError, match="try pulling it first"):
        client.chat.completions.create(model="missing", messages=sdk_checks.MESSAGES)
