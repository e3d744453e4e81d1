"""The Anthropic provider end to end: OpenAI SDK → gateway → fake Anthropic Messages API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway

UPSTREAM_KEY = "sk-ant-upstream-7c1d"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(UPSTREAM_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(fake: FakeAnthropic) -> Iterator[RunningGateway]:
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {"claude": {"kind": "anthropic", "base_url": fake.base_url, "api_key": UPSTREAM_KEY}},
        "models": [
            {"alias": "claude", "target": "claude/claude-sonnet-4-5-20250929"},
            *({"alias": f"e{s}", "target": f"claude/error-{s}"} for s in (400, 401, 429, 500, 529)),
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway, fake: FakeAnthropic) -> openai.OpenAI:
    fake.reset()
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@covers("chat", ("anthropic",), "basic", "system", "usage")
def test_chat(client: openai.OpenAI, fake: FakeAnthropic) -> None:
    sdk_checks.check_chat(client, "claude")
    sent = fake.last_request
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == UPSTREAM_KEY and sent.headers["anthropic-version"] == "2023-06-01"
    assert CLIENT_KEY not in repr(sent.headers)
    assert sent.json["model"] == "claude-sonnet-4-5-20250929"
    assert sent.json["system"] == "Be brief."  # the system message moved to the top level


@covers("chat", ("anthropic",), "stream_text", "usage")
def test_stream(client: openai.OpenAI, fake: FakeAnthropic) -> None:
    sdk_checks.check_stream(client, "claude")
    assert fake.last_request.json["stream"] is True


@covers("chat", ("anthropic",), "tools", "tool_results", "parallel_tools")
def test_tools_and_results(client: openai.OpenAI, fake: FakeAnthropic) -> None:
    sdk_checks.check_tools(client, "claude")
    # The follow-up carried both results in one user turn, answering the assistant's tool_use blocks.
    last = fake.last_request.json["messages"][-1]
    assert last["role"] == "user" and [b["type"] for b in last["content"]] == ["tool_result", "tool_result"]


@covers("chat", ("anthropic",), "stream_tools")
def test_tools_stream(client: openai.OpenAI) -> None:
    sdk_checks.check_tools_stream(client, "claude")


@covers("chat", ("anthropic",), "json_schema")
def test_json_schema(client: openai.OpenAI) -> None:
    result = client.chat.completions.create(
        model="claude",
        messages=sdk_checks.MESSAGES,
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "schema": {"type": "object", "properties": {"word": {"type": "string"}}},
            },
        },
    )
    assert result.choices[0].message.content == '{"word":"word-sample"}'
    assert result.choices[0].finish_reason == "stop"


@covers("chat", ("anthropic",), "errors")
def test_errors(client: openai.OpenAI) -> None:
    sdk_checks.check_errors(client, {400: "e400", 401: "e401", 429: "e429", 500: "e500"})
    with pytest.raises(openai.InternalServerError) as info:  # 529 overloaded: retryable, 502 to the caller
        client.chat.completions.create(model="e529", messages=sdk_checks.MESSAGES)
    assert info.value.status_code == 502


# The anthropic SDK on /v1/messages takes the passthrough lane: its body reaches the upstream
# as sent (model replaced), and the upstream's bytes come back unchanged.


@pytest.fixture
def claude(gateway: RunningGateway, fake: FakeAnthropic) -> anthropic.Anthropic:
    fake.reset()
    return anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0)


ANTHROPIC_TOOLS: list[Any] = [
    {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
]


@covers("messages", ("anthropic",), "basic", "system", "usage", "passthrough")
def test_anthropic_sdk_passthrough(claude: anthropic.Anthropic, fake: FakeAnthropic) -> None:
    message = claude.messages.create(
        model="claude", max_tokens=64, system="Be brief.", messages=[{"role": "user", "content": "Hi"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == "fake reply to: Hi"
    assert message.usage.input_tokens > 0 and message.id == "msg_fake01"
    sent = fake.last_request.json
    assert sent == {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 64,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }


@covers("messages", ("anthropic",), "stream_tools", "passthrough")
def test_anthropic_sdk_stream_tools(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude",
        max_tokens=64,
        tools=ANTHROPIC_TOOLS,
        messages=[{"role": "user", "content": "Weather?"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    block = final.content[0]
    assert block.type == "tool_use" and block.input == {"city": "city-sample"}
    assert final.usage.output_tokens > 0


@covers("count_tokens", ("anthropic",), "basic")
def test_anthropic_sdk_count_tokens(claude: anthropic.Anthropic, fake: FakeAnthropic) -> None:
    counted = claude.messages.count_tokens(model="claude", messages=[{"role": "user", "content": "Hi"}])
    assert counted.input_tokens > 0
    assert fake.last_request.path == "/v1/messages/count_tokens"
