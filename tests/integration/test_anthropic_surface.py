"""The official ``anthropic`` SDK (sync and async) through ``/v1/messages``.

Each test runs against the demo provider and against a fake OpenAI upstream reached through
the canonical translation (Anthropic in → OpenAI Chat Completions out).
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.compat import covers
from tests.support.gateway import RunningGateway
from tests.support.surfaces import Backend, fake_backend, raw_sse

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
    {
        "name": "get_time",
        "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
    },
]

BOTH = ("demo", "openai_compatible")  # the `backend` fixture's providers (conftest.py)


@pytest.fixture
def sdk(backend: Backend) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=backend.gateway.url, api_key=backend.key, max_retries=0) as c:
        yield c


@covers("messages", BOTH, "basic", "system", "usage")
def test_text_message(backend: Backend, sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(
        model=backend.model,
        max_tokens=200,
        system="Be brief.",
        messages=[{"role": "user", "content": "What is a tollhouse?"}],
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.stop_reason == "end_turn"
    [block] = message.content
    assert block.type == "text" and "What is a tollhouse?" in block.text
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    if backend.upstream is not None:
        sent = backend.upstream.last_request.json
        assert sent["model"] == "gpt-4o-mini"
        assert sent["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is a tollhouse?"},
        ]
        assert sent["max_tokens"] == 200


@covers("messages", BOTH, "stream_text", "usage")
def test_stream_text_matches_non_stream(backend: Backend, sdk: anthropic.Anthropic) -> None:
    c = sdk
    messages = [{"role": "user", "content": "stream me"}]
    whole = c.messages.create(model=backend.model, max_tokens=200, messages=messages)  # type: ignore[arg-type]
    with c.messages.stream(model=backend.model, max_tokens=200, messages=messages) as stream:  # type: ignore[arg-type]
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == whole.content[0].text == final.content[0].text  # type: ignore[union-attr]
    assert len(texts) > 1  # really streamed, not one lump
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


@covers("messages", BOTH, "stream_text", "usage")
def test_raw_event_sequence(backend: Backend) -> None:
    body = {
        "model": backend.model,
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    status, events = raw_sse(backend.gateway.url, "/v1/messages", body, {"x-api-key": backend.key})
    assert status == 200
    names = [name for name, _ in events]
    assert names[:4] == ["message_start", "ping", "content_block_start", "content_block_delta"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(names[3:-3]) == {"content_block_delta"}
    assert all(data["type"] == name for name, data in events)  # the data's type repeats the event name
    start = events[0][1]["message"]
    assert start["content"] == [] and start["stop_reason"] is None
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == "end_turn"
    assert delta["usage"]["input_tokens"] > 0 and delta["usage"]["output_tokens"] > 0


@covers("messages", BOTH, "tools")
def test_tools_non_stream(backend: Backend, sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(
        model=backend.model,
        max_tokens=300,
        tools=TOOLS,  # type: ignore[arg-type]
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert message.stop_reason == "tool_use"
    [call] = message.content
    assert call.type == "tool_use" and call.name == "get_weather"
    assert isinstance(call.input, dict) and isinstance(call.input["city"], str)
    if backend.upstream is not None:
        sent = backend.upstream.last_request.json
        assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
        assert sent["tools"][0]["function"]["parameters"] == TOOLS[0]["input_schema"]


@covers("messages", BOTH, "stream_tools", "parallel_tools")
def test_streamed_parallel_tools(backend: Backend, sdk: anthropic.Anthropic) -> None:
    with sdk.messages.stream(
        model=backend.model,
        max_tokens=300,
        tools=TOOLS,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "Weather and time?"}],
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    calls = [b for b in final.content if b.type == "tool_use"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert all(isinstance(c.input, dict) and c.input for c in calls)
    assert "input_json" in kinds  # the SDK saw input_json_delta events and parsed them


@covers("messages", BOTH, "tool_results")
def test_tool_result_round_trip(backend: Backend, sdk: anthropic.Anthropic) -> None:
    c = sdk
    question = {"role": "user", "content": "Weather in Paris?"}
    first = c.messages.create(model=backend.model, max_tokens=300, tools=TOOLS[:1], messages=[question])  # type: ignore[arg-type, list-item]
    call = first.content[0]
    assert call.type == "tool_use"
    answer = c.messages.create(
        model=backend.model,
        max_tokens=300,
        tools=TOOLS[:1],  # type: ignore[arg-type]
        messages=[
            question,  # type: ignore[list-item]
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18C, sunny"}],
            },
        ],
    )
    assert answer.stop_reason == "end_turn"
    assert "18C, sunny" in answer.content[0].text  # type: ignore[union-attr]
    if backend.upstream is not None:
        sent = backend.upstream.last_request.json["messages"]
        assert sent[1]["role"] == "assistant" and sent[1]["tool_calls"][0]["id"] == call.id
        assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "18C, sunny"}


@covers("messages", BOTH, "async", "stream_text")
async def test_async_create_and_stream(backend: Backend) -> None:
    c = anthropic.AsyncAnthropic(base_url=backend.gateway.url, api_key=backend.key, max_retries=0)
    messages = [{"role": "user", "content": "async please"}]
    message = await c.messages.create(model=backend.model, max_tokens=100, messages=messages)  # type: ignore[arg-type]
    assert "async please" in message.content[0].text  # type: ignore[union-attr]
    async with c.messages.stream(model=backend.model, max_tokens=100, messages=messages) as stream:  # type: ignore[arg-type]
        texts = [t async for t in stream.text_stream]
        final = await stream.get_final_message()
    assert "".join(texts) == message.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0
    await c.close()


@covers("messages", BOTH, "basic")
def test_max_tokens_stop_reason(backend: Backend, sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(
        model=backend.model,
        max_tokens=2,
        messages=[{"role": "user", "content": "a rather long question here"}],
    )
    assert message.stop_reason == "max_tokens"


@covers("messages", BOTH, "basic")
def test_bearer_auth_works_too(backend: Backend) -> None:
    with anthropic.Anthropic(base_url=backend.gateway.url, auth_token=backend.key, max_retries=0) as c:
        message = c.messages.create(
            model=backend.model, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        )
    assert message.content


@covers("messages", ("openai_compatible",), "basic")
def test_upstream_sees_no_anthropic_only_fields(gateway: RunningGateway, upstream: FakeOpenAI) -> None:
    b = fake_backend(gateway, upstream)
    with anthropic.Anthropic(base_url=b.gateway.url, api_key=b.key, max_retries=0) as c:
        c.messages.create(
            model=b.model,
            max_tokens=100,
            metadata={"user_id": "u-7"},
            stop_sequences=["END"],
            extra_body={"top_k": 5, "temperature": 0.3},  # this SDK version no longer types them
            messages=[{"role": "user", "content": "hi"}],
        )
    sent = upstream.last_request.json
    assert set(sent) == {"model", "messages", "max_tokens", "stop", "temperature", "user"}
    assert (sent["stop"], sent["temperature"], sent["user"]) == (["END"], 0.3, "u-7")
