"""Gemini and Vertex AI end to end: OpenAI SDK (and the anthropic SDK) → gateway → fake Gemini."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.gemini_upstream import SIGNATURE, FakeGemini
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway

API_KEY = "AIza-upstream-gemini-0001"
VERTEX_TOKEN = "ya29.vertex-token-0001"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with FakeGemini(API_KEY, VERTEX_TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(fake: FakeGemini) -> Iterator[RunningGateway]:
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "google": {"kind": "gemini", "base_url": f"{fake.base_url}/v1beta", "api_key": API_KEY},
            "vertex": {
                "kind": "vertex",
                "base_url": fake.base_url,
                "project": "proj-1",
                "region": "europe-west4",
                "api_key": VERTEX_TOKEN,
            },
        },
        "models": [
            {"alias": "gemini", "target": "google/gemini-2.5-flash"},
            {"alias": "vertex", "target": "vertex/gemini-2.5-pro"},
            {"alias": "g-embed", "target": "google/gemini-embedding-001"},
            {"alias": "v-embed", "target": "vertex/text-embedding-005"},
            {"alias": "blocked", "target": "google/blocked"},
            *({"alias": f"e{s}", "target": f"google/error-{s}"} for s in (400, 401, 429, 500)),
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway, fake: FakeGemini) -> openai.OpenAI:
    fake.reset()
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@pytest.mark.parametrize("alias", ["gemini", "vertex"])
@covers("chat", ("gemini", "vertex"), "basic", "system", "usage")
def test_chat(client: openai.OpenAI, fake: FakeGemini, alias: str) -> None:
    sdk_checks.check_chat(client, alias)
    sent = fake.last_request
    if alias == "gemini":
        assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
        assert sent.headers["x-goog-api-key"] == API_KEY
    else:
        assert sent.path == (
            "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
        )
        assert sent.headers["authorization"] == f"Bearer {VERTEX_TOKEN}"
    assert sent.json["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


@pytest.mark.parametrize("alias", ["gemini", "vertex"])
@covers("chat", ("gemini", "vertex"), "stream_text", "usage")
def test_stream(client: openai.OpenAI, fake: FakeGemini, alias: str) -> None:
    sdk_checks.check_stream(client, alias)
    assert fake.last_request.path.endswith(":streamGenerateContent") and fake.last_request.query == {
        "alt": "sse"
    }


@covers("chat", ("gemini",), "tools", "tool_results", "parallel_tools")
def test_tools_signature_round_trip(client: openai.OpenAI, fake: FakeGemini) -> None:
    calls = sdk_checks.check_tools(client, "gemini")
    assert SIGNATURE in calls[0].id  # carried to the caller in the tool call id …
    model_turn = fake.last_request.json["contents"][-2]
    assert model_turn["parts"][0]["thoughtSignature"] == SIGNATURE  # … and back to Gemini


def test_a_tool_call_gemini_did_not_make_is_sent_with_the_documented_signature(
    client: openai.OpenAI, fake: FakeGemini
) -> None:
    # A conversation whose tool call came from another provider (a fallback) or the caller:
    # Gemini 3 refuses a call without a signature, so it goes with Google's documented value.
    messages: Any = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "sunny"},
    ]
    result = client.chat.completions.create(model="gemini", messages=messages, tools=sdk_checks.TOOLS[:1])
    assert result.choices[0].message is not None
    model_turn = fake.last_request.json["contents"][1]
    assert model_turn["parts"][0]["thoughtSignature"] == "skip_thought_signature_validator"


@covers("chat", ("vertex",), "stream_tools")
def test_tools_stream(client: openai.OpenAI) -> None:
    sdk_checks.check_tools_stream(client, "vertex", split=False)  # Gemini sends each call whole


@covers("chat", ("gemini",), "json_schema")
def test_json_schema(client: openai.OpenAI, fake: FakeGemini) -> None:
    result = client.chat.completions.create(
        model="gemini",
        messages=sdk_checks.MESSAGES,
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {
                    "type": "object",
                    "properties": {"word": {"type": "string"}},
                    "additionalProperties": False,
                },
            },
        },
    )
    assert result.choices[0].message.content == '{"word":"word-sample"}'
    generation = fake.last_request.json["generationConfig"]
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseSchema"] == {"type": "OBJECT", "properties": {"word": {"type": "STRING"}}}


@covers("chat", ("gemini",), "reasoning", "usage")
def test_reasoning_tokens(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(
        model="gemini", messages=sdk_checks.MESSAGES, extra_body={"reasoning_effort": "low"}
    )
    assert result.usage is not None and result.usage.completion_tokens_details is not None
    assert result.usage.completion_tokens_details.reasoning_tokens == 21


@covers("chat", ("gemini",), "errors")
def test_safety_block_is_content_filter_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="blocked", messages=sdk_checks.MESSAGES)
    assert info.value.code == "content_filter"


@pytest.mark.parametrize(("alias", "tokens"), [("g-embed", 5), ("v-embed", 6)])
def test_embeddings(client: openai.OpenAI, alias: str, tokens: int) -> None:
    result = client.embeddings.create(model=alias, input=["hello", "tollhouse"], encoding_format="float")
    assert [d.embedding[1] for d in result.data] == [5.0, 9.0]
    assert result.usage.prompt_tokens == tokens


@covers("chat", ("gemini",), "errors")
def test_errors(client: openai.OpenAI) -> None:
    sdk_checks.check_errors(client, {400: "e400", 401: "e401", 429: "e429", 500: "e500"})


@covers("messages", ("gemini",), "basic", "stream_text")
def test_anthropic_sdk_to_gemini(gateway: RunningGateway) -> None:
    """An Anthropic-dialect caller reaches Gemini through the canonical model."""
    claude = anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)
    message = claude.messages.create(
        model="gemini", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == "fake reply to: Hi"
    with claude.messages.stream(
        model="gemini", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    ) as s:
        assert s.get_final_text() == "fake reply to: Hi"
