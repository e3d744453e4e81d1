"""The official ``openai`` SDK's ``client.responses`` through ``/v1/responses``.

Each test runs against the demo provider and against a fake OpenAI upstream reached through
the canonical translation (Responses in → Chat Completions out).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from tests.support.compat import covers
from tests.support.surfaces import Backend, raw_sse

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
    {
        "type": "function",
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
    },
]
EXPECTED_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]

BOTH = ("demo", "openai_compatible")  # the `backend` fixture's providers (conftest.py)


@pytest.fixture
def sdk(backend: Backend) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=backend.gateway.base_url, api_key=backend.key, max_retries=0) as client:
        yield client


@covers("responses", BOTH, "basic", "system", "usage")
def test_text_response(backend: Backend, sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model=backend.model, input="What is a tollhouse?", instructions="Be brief.", max_output_tokens=300
    )
    assert response.object == "response" and response.status == "completed"
    assert "What is a tollhouse?" in response.output_text
    assert response.usage is not None and response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.instructions == "Be brief." and response.max_output_tokens == 300
    if backend.upstream is not None:
        sent = backend.upstream.last_request.json
        assert sent["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is a tollhouse?"},
        ]
        assert sent["max_tokens"] == 300


@covers("responses", BOTH, "stream_text", "usage")
def test_stream_events_and_final_response(backend: Backend, sdk: openai.OpenAI) -> None:
    events = list(sdk.responses.create(model=backend.model, input="stream me", stream=True))
    kinds = [e.type for e in events]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    assert collapsed == EXPECTED_EVENTS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1]
    assert final.type == "response.completed"
    text = "".join(d.delta for d in deltas)  # type: ignore[union-attr]
    assert final.response.output_text == text
    assert final.response.usage is not None and final.response.usage.total_tokens > 0
    whole = sdk.responses.create(model=backend.model, input="stream me")
    assert whole.output_text == text


@covers("responses", BOTH, "stream_tools", "parallel_tools")
def test_stream_helper_tools(backend: Backend, sdk: openai.OpenAI) -> None:
    with sdk.responses.stream(model=backend.model, input="Weather and time?", tools=TOOLS) as stream:  # type: ignore[arg-type]
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert all(isinstance(json.loads(c.arguments), dict) for c in calls)
    assert "response.function_call_arguments.delta" in kinds
    assert "response.function_call_arguments.done" in kinds


@covers("responses", BOTH, "tools", "tool_results")
def test_function_tools_round_trip(backend: Backend, sdk: openai.OpenAI) -> None:
    first = sdk.responses.create(
        model=backend.model,
        input="Weather in Paris?",
        tools=TOOLS[:1],
        tool_choice="required",  # type: ignore[arg-type]
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather"
    answer = sdk.responses.create(
        model=backend.model,
        tools=TOOLS[:1],  # type: ignore[arg-type]
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "18C, sunny"},
        ],
    )
    assert "18C, sunny" in answer.output_text
    if backend.upstream is not None:
        sent = backend.upstream.last_request.json["messages"]
        assert sent[1]["tool_calls"][0]["id"] == call.call_id
        assert sent[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "18C, sunny"}


@covers("responses", BOTH, "json_schema")
def test_json_schema_format(backend: Backend, sdk: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    response = sdk.responses.create(
        model=backend.model,
        input="Ada, 36",
        text={"format": {"type": "json_schema", "name": "person", "schema": schema, "strict": True}},
    )
    data = json.loads(response.output_text)
    assert isinstance(data["name"], str) and isinstance(data["age"], int)
    if backend.upstream is not None:
        sent = backend.upstream.last_request.json["response_format"]
        assert sent == {
            "type": "json_schema",
            "json_schema": {"name": "person", "schema": schema, "strict": True},
        }


@covers("responses", BOTH, "basic")
def test_incomplete_when_cut_short(backend: Backend, sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(
        model=backend.model, input="a rather long question here", max_output_tokens=2
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


@covers("responses", BOTH, "async", "stream_text")
async def test_async_create_and_stream(backend: Backend) -> None:
    async with openai.AsyncOpenAI(
        base_url=backend.gateway.base_url, api_key=backend.key, max_retries=0
    ) as client:
        response = await client.responses.create(model=backend.model, input="async please")
        assert "async please" in response.output_text
        stream = await client.responses.create(model=backend.model, input="async please", stream=True)
        events = [event async for event in stream]
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == response.output_text


@covers("responses", BOTH, "stream_text")
def test_raw_stream_has_event_lines(backend: Backend) -> None:
    body = {"model": backend.model, "input": "hi", "stream": True}
    status, events = raw_sse(
        backend.gateway.url, "/v1/responses", body, {"authorization": f"Bearer {backend.key}"}
    )
    assert status == 200
    assert all(name == data["type"] for name, data in events)
    assert events[0][1]["response"]["status"] == "in_progress"
