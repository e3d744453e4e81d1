"""``/v1/messages`` to an Anthropic upstream: the passthrough lane (Anthropic in, Anthropic out),
and ``/v1/responses`` to the same upstream through the canonical translation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tests.support.surfaces import raw_sse

UPSTREAM_KEY = "sk-ant-upstream-surface-3e9a"
HELLO = [{"role": "user", "content": "Hello there"}]


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
            {"alias": "claude", "target": "claude/claude-sonnet-4-5"},
            *({"alias": f"e{s}", "target": f"claude/error-{s}"} for s in (400, 429, 529)),
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def sdk(gateway: RunningGateway, fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    fake.reset()
    with anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0) as client:
        yield client


@covers("messages", ("anthropic",), "passthrough", "stream_text")
def test_stream_is_relayed_unchanged(gateway: RunningGateway, fake: FakeAnthropic) -> None:
    body = {"model": "claude", "max_tokens": 64, "stream": True, "messages": HELLO}
    status, events = raw_sse(gateway.url, "/v1/messages", body, {"x-api-key": CLIENT_KEY})
    assert status == 200
    assert fake.last_request.json == {**body, "model": "claude-sonnet-4-5"}  # only the model changed
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert events[0][1]["message"]["id"] == "msg_fake01"  # the upstream's own message, not a re-encoding


@covers("messages", ("anthropic",), "passthrough", "basic", "async", "usage")
async def test_async_sdk_passthrough(gateway: RunningGateway, fake: FakeAnthropic) -> None:
    async with anthropic.AsyncAnthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0) as client:
        message = await client.messages.create(model="claude", max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
        async with client.messages.stream(model="claude", max_tokens=64, messages=HELLO) as stream:  # type: ignore[arg-type]
            text = "".join([t async for t in stream.text_stream])
            final = await stream.get_final_message()
    assert message.content[0].text == text == "fake reply to: Hello there"  # type: ignore[union-attr]
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("alias", "exc"), [("e400", anthropic.BadRequestError), ("e429", anthropic.RateLimitError)]
)
@covers("messages", ("anthropic",), "passthrough", "errors")
def test_upstream_errors_in_anthropic_envelope(
    sdk: anthropic.Anthropic, alias: str, exc: type[Exception], stream: bool
) -> None:
    with pytest.raises(exc) as caught:
        sdk.messages.create(model=alias, max_tokens=10, messages=HELLO, stream=stream)  # type: ignore[arg-type, call-overload]
    body = caught.value.body  # type: ignore[attr-defined]
    assert body["type"] == "error" and body["error"]["message"]
    assert UPSTREAM_KEY not in json.dumps(body)


@pytest.fixture
def responses_sdk(gateway: RunningGateway, fake: FakeAnthropic) -> Iterator[openai.OpenAI]:
    fake.reset()
    with openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0) as client:
        yield client


@covers("responses", ("anthropic",), "basic", "system", "usage")
def test_responses_surface_to_anthropic(responses_sdk: openai.OpenAI, fake: FakeAnthropic) -> None:
    response = responses_sdk.responses.create(model="claude", input="Hello there", instructions="Be brief.")
    assert response.output_text == "fake reply to: Hello there"
    assert response.usage is not None and response.usage.input_tokens > 0
    sent = fake.last_request.json
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hello there"}]}]


@covers("responses", ("anthropic",), "stream_tools")
def test_responses_stream_tools_to_anthropic(responses_sdk: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    with responses_sdk.responses.stream(model="claude", input="Weather?", tools=tools) as stream:  # type: ignore[arg-type]
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    [call] = [item for item in final.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "city-sample"}
    assert "response.function_call_arguments.delta" in kinds
