"""Azure OpenAI end to end: OpenAI SDK (and the anthropic SDK) → gateway → fake Azure resource."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.fakes.azure_upstream import FakeAzure
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway

API_KEY = "azure-key-0001"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOi.entra-token"


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeAzure, FakeAzure]]:
    with FakeAzure(API_KEY) as keyed, FakeAzure(TOKEN, bearer=True) as entra:
        yield keyed, entra


@pytest.fixture(scope="module")
def gateway(fakes: tuple[FakeAzure, FakeAzure]) -> Iterator[RunningGateway]:
    keyed, entra = fakes
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "az": {
                "kind": "azure",
                "base_url": keyed.base_url,
                "api_key": API_KEY,
                "api_version": "2024-10-21",
                "deployments": {"gpt-4o": "prod-gpt4o"},
            },
            "az-entra": {
                "kind": "azure_ad",
                "base_url": entra.base_url,
                "api_key": TOKEN,
                "api_version": "v1",
            },
        },
        "models": [
            {"alias": "gpt", "target": "az/gpt-4o"},
            {"alias": "gpt-entra", "target": "az-entra/gpt-4o-mini"},
            {"alias": "embed", "target": "az/text-embedding-3-small"},
            {"alias": "filtered", "target": "az/filtered"},
            *({"alias": f"e{s}", "target": f"az/error-{s}"} for s in (400, 401, 429, 500)),
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway, fakes: tuple[FakeAzure, FakeAzure]) -> openai.OpenAI:
    for fake in fakes:
        fake.reset()
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@covers("chat", ("azure",), "basic", "system", "usage")
def test_chat_deployment_url(client: openai.OpenAI, fakes: tuple[FakeAzure, FakeAzure]) -> None:
    sdk_checks.check_chat(client, "gpt")
    sent = fakes[0].last_request
    assert sent.path == "/openai/deployments/prod-gpt4o/chat/completions"
    assert sent.query == {"api-version": "2024-10-21"}
    assert sent.headers["api-key"] == API_KEY and "authorization" not in sent.headers


@covers("chat", ("azure",), "basic")
def test_chat_v1_with_entra_token(client: openai.OpenAI, fakes: tuple[FakeAzure, FakeAzure]) -> None:
    sdk_checks.check_chat(client, "gpt-entra")
    sent = fakes[1].last_request
    assert sent.path == "/openai/v1/chat/completions" and sent.json["model"] == "gpt-4o-mini"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"


@covers("chat", ("azure",), "stream_text", "usage")
def test_stream_usage_is_requested(client: openai.OpenAI, fakes: tuple[FakeAzure, FakeAzure]) -> None:
    sdk_checks.check_stream(client, "gpt")
    assert fakes[0].last_request.json["stream_options"] == {"include_usage": True}


@covers("chat", ("azure",), "tools", "tool_results", "parallel_tools", "stream_tools")
def test_tools(client: openai.OpenAI) -> None:
    sdk_checks.check_tools(client, "gpt")
    sdk_checks.check_tools_stream(client, "gpt")


@covers("chat", ("azure",), "errors")
def test_content_filter(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="filtered", messages=sdk_checks.MESSAGES)
    assert info.value.code == "content_filter"


def test_embeddings(client: openai.OpenAI, fakes: tuple[FakeAzure, FakeAzure]) -> None:
    result = client.embeddings.create(model="embed", input=["hello", "tollhouse"], encoding_format="float")
    assert [d.embedding for d in result.data] == [[0.5, 5.0], [0.5, 9.0]]
    assert fakes[0].last_request.path == "/openai/deployments/text-embedding-3-small/embeddings"


@covers("chat", ("azure",), "errors")
def test_errors(client: openai.OpenAI) -> None:
    sdk_checks.check_errors(client, {400: "e400", 401: "e401", 429: "e429", 500: "e500"})


@covers("messages", ("azure",), "basic", "stream_text", "usage")
def test_anthropic_sdk_to_azure(gateway: RunningGateway) -> None:
    """Anthropic-dialect callers reach Azure through the canonical translation."""
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    message = claude.messages.create(model="gpt", max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
    assert message.content[0].type == "text" and message.content[0].text == "fake reply to: Hi"
    with claude.messages.stream(
        model="gpt", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    ) as s:
        assert s.get_final_text() == "fake reply to: Hi"
        assert s.get_final_message().usage.output_tokens > 0
