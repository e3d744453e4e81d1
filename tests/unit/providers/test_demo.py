"""The demo provider: deterministic, honours the request's knobs, streams what it would answer."""

from __future__ import annotations

import base64
import math
import struct
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.unit.support import make_ctx
from tollhouse.config.schema import ProviderConfig
from tollhouse.dialects.openai.encode import ChunkEncoder, encode_chat, encode_embeddings
from tollhouse.model.chat import ChatResponse, Usage
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.model.stream import Finish, StreamStart, TextDelta, ToolCallDelta, UsageReport
from tollhouse.providers.demo.answers import sample_value
from tollhouse.providers.demo.provider import DemoProvider
from tollhouse.upstream.pool import UpstreamPool

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 3},
                "detail": {"type": "boolean"},
            },
            "required": ["city", "unit", "days"],
        },
    },
}
CLOCK = {
    "type": "function",
    "function": {
        "name": "now",
        "parameters": {"type": "object", "properties": {"tz": {"type": ["null", "string"]}}},
    },
}
SEARCH = {"type": "function", "function": {"name": "search"}}


@pytest.fixture
def demo() -> DemoProvider:
    return DemoProvider("demo", ProviderConfig(kind="demo"), None, UpstreamPool())


def _chat_body(text: str = "What is the capital of France?", **extra: Any) -> dict[str, Any]:
    return {"model": "demo", "messages": [{"role": "user", "content": text}], **extra}


async def _chat(demo: DemoProvider, body: dict[str, Any]) -> ChatResponse:
    result = await demo.chat(make_ctx(payload=body), "demo-1")
    assert isinstance(result, ChatResponse)
    return result


async def _collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def _satisfies(value: Any, schema: dict[str, Any]) -> bool:
    """A tiny JSON Schema check covering what the tests' schemas use."""
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
        None: lambda v: True,
    }
    if not any(checks[k](value) for k in kinds):
        return False
    if "minimum" in schema and value < schema["minimum"]:
        return False
    if isinstance(value, dict):
        props = schema.get("properties", {})
        if any(name not in value for name in schema.get("required", [])):
            return False
        return all(_satisfies(v, props.get(k, {})) for k, v in value.items())
    if isinstance(value, list) and "items" in schema:
        return all(_satisfies(v, schema["items"]) for v in value)
    return True


# ---------------------------------------------------------------- chat


async def test_answer_is_deterministic_and_mentions_the_question(demo: DemoProvider) -> None:
    first = await _chat(demo, _chat_body())
    second = await _chat(demo, _chat_body())

    assert first.id == second.id
    assert first.id.startswith("chatcmpl-demo-")
    assert first.choices == second.choices
    text = first.choices[0].message.content
    assert isinstance(text, str)
    assert "What is the capital of France?" in text
    assert first.choices[0].finish_reason == "stop"
    assert first.model == "demo-1"


async def test_different_questions_get_different_answers_and_ids(demo: DemoProvider) -> None:
    a = await _chat(demo, _chat_body("one"))
    b = await _chat(demo, _chat_body("two"))
    assert a.id != b.id
    assert a.choices[0].message.content != b.choices[0].message.content


async def test_answer_is_a_valid_openai_completion_with_usage(demo: DemoProvider) -> None:
    ctx = make_ctx(payload=_chat_body())
    result = await demo.chat(ctx, "demo-1")
    assert isinstance(result, ChatResponse)
    completion = ChatCompletion.model_validate(orjson.loads(orjson.dumps(encode_chat(result))))

    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens == len(completion.choices[0].message.content.split(" "))  # type: ignore[union-attr]
    assert ctx.usage == result.usage
    assert ctx.first_byte_at is not None


async def test_n_choices(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(n=3))
    assert [c.index for c in result.choices] == [0, 1, 2]
    texts = [c.message.content for c in result.choices]
    assert len(set(texts)) == 3
    assert result.usage is not None
    assert result.usage.completion_tokens == sum(len(str(t).split(" ")) for t in texts)


async def test_stop_sequence_truncates(demo: DemoProvider) -> None:
    full = (await _chat(demo, _chat_body())).choices[0].message.content
    assert isinstance(full, str)
    cut = await _chat(demo, _chat_body(stop=["You said", "never-there"]))

    text = cut.choices[0].message.content
    assert text == full[: full.index("You said")]
    assert cut.choices[0].finish_reason == "stop"


async def test_earliest_stop_sequence_wins(demo: DemoProvider) -> None:
    full = str((await _chat(demo, _chat_body())).choices[0].message.content)
    cut = await _chat(demo, _chat_body(stop=["said", "demo"]))
    assert cut.choices[0].message.content == full[: full.index("demo")]


async def test_max_tokens_truncates_with_finish_length(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(max_tokens=3))
    choice = result.choices[0]
    assert choice.message.content == "Hello from the"
    assert choice.finish_reason == "length"
    assert result.usage is not None
    assert result.usage.completion_tokens == 3


async def test_max_completion_tokens_is_honoured_too(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(max_completion_tokens=2))
    assert result.choices[0].message.content == "Hello from"
    assert result.choices[0].finish_reason == "length"


async def test_large_max_tokens_finishes_with_stop(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(max_tokens=10_000))
    assert result.choices[0].finish_reason == "stop"


async def test_tool_result_turn_answers_with_the_result(demo: DemoProvider) -> None:
    body = {
        "model": "demo",
        "tools": [WEATHER],
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c", "content": "sunny, 21C"},
        ],
    }
    result = await _chat(demo, body)
    assert result.choices[0].message.tool_calls == ()
    assert result.choices[0].message.content == "The tool returned: sunny, 21C"


async def test_tools_offered_produce_calls_with_schema_valid_arguments(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(tools=[WEATHER, CLOCK, SEARCH]))
    choice = result.choices[0]

    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    calls = choice.message.tool_calls
    assert [c.name for c in calls] == ["get_weather", "now"]  # at most two, in order
    assert len({c.id for c in calls}) == 2
    for call, tool in zip(calls, (WEATHER, CLOCK), strict=True):
        args = orjson.loads(call.arguments)
        assert _satisfies(args, tool["function"]["parameters"]), (call.name, args)
    weather = orjson.loads(calls[0].arguments)
    assert set(weather) >= {"city", "unit", "days"}
    assert weather["unit"] == "celsius"
    assert weather["days"] >= 3


async def test_tool_arguments_are_an_object_even_when_the_schema_declares_no_type(demo: DemoProvider) -> None:
    # An Anthropic caller's schema reaches the demo as it is; non-object arguments were a 502.
    untyped = {"type": "function", "function": {"name": "f", "parameters": {"description": "anything"}}}
    result = await _chat(demo, _chat_body(tools=[untyped]))
    (call,) = result.choices[0].message.tool_calls
    assert orjson.loads(call.arguments) == {}


async def test_tool_calls_are_deterministic(demo: DemoProvider) -> None:
    a = await _chat(demo, _chat_body(tools=[WEATHER]))
    b = await _chat(demo, _chat_body(tools=[WEATHER]))
    assert a.choices[0].message.tool_calls == b.choices[0].message.tool_calls


async def test_parallel_tool_calls_false_makes_one_call(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(tools=[WEATHER, CLOCK], parallel_tool_calls=False))
    assert [c.name for c in result.choices[0].message.tool_calls] == ["get_weather"]


async def test_named_tool_choice_calls_that_tool(demo: DemoProvider) -> None:
    body = _chat_body(
        tools=[WEATHER, CLOCK, SEARCH], tool_choice={"type": "function", "function": {"name": "search"}}
    )
    result = await _chat(demo, body)
    calls = result.choices[0].message.tool_calls
    assert [c.name for c in calls] == ["search"]
    assert orjson.loads(calls[0].arguments) == {}


async def test_tool_choice_none_answers_with_text(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(tools=[WEATHER], tool_choice="none"))
    assert result.choices[0].message.tool_calls == ()
    assert result.choices[0].finish_reason == "stop"


async def test_tool_call_response_is_a_valid_openai_completion(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(tools=[WEATHER]))
    completion = ChatCompletion.model_validate(orjson.loads(orjson.dumps(encode_chat(result))))
    message = completion.choices[0].message
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.name == "get_weather"


async def test_json_schema_response_format_returns_matching_json(demo: DemoProvider) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "score": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "address": {
                "type": "object",
                "properties": {"street": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["street"],
            },
            "nickname": {"type": "string"},
        },
        "required": ["name", "age", "score", "tags", "address"],
        "additionalProperties": False,
    }
    body = _chat_body(
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}}
    )
    result = await _chat(demo, body)

    data = orjson.loads(str(result.choices[0].message.content))
    assert set(data) >= {"name", "age", "score", "tags", "address"}
    assert _satisfies(data, schema)
    assert "street" in data["address"]


async def test_json_object_response_format_returns_json(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(response_format={"type": "json_object"}))
    assert isinstance(orjson.loads(str(result.choices[0].message.content)), dict)


async def test_logprobs_cover_the_answer(demo: DemoProvider) -> None:
    result = await _chat(demo, _chat_body(logprobs=True))
    choice = result.choices[0]
    assert choice.logprobs is not None
    assert "".join(t.token for t in choice.logprobs) == choice.message.content
    assert all(t.logprob <= 0 for t in choice.logprobs)
    without = await _chat(demo, _chat_body())
    assert without.choices[0].logprobs is None


@pytest.mark.parametrize(
    ("schema", "check"),
    [
        ({"type": "string"}, lambda v: isinstance(v, str)),
        ({"type": "integer", "minimum": 5}, lambda v: v == 5),
        ({"type": "number"}, lambda v: isinstance(v, float)),
        ({"type": "boolean"}, lambda v: v is True),
        ({"type": "null"}, lambda v: v is None),
        ({"const": "fixed"}, lambda v: v == "fixed"),
        ({"enum": ["a", "b"]}, lambda v: v == "a"),
        ({"type": ["null", "integer"]}, lambda v: v == 1),
        ({"type": "array", "items": {"type": "integer"}}, lambda v: v == [1]),
        ({"properties": {"a": {"type": "string"}}}, lambda v: isinstance(v["a"], str)),
    ],
)
def test_sample_value_satisfies_simple_schemas(schema: dict[str, Any], check: Any) -> None:
    assert check(sample_value(schema))
    assert sample_value(schema) == sample_value(schema)


def test_sample_value_includes_required_keys_without_a_property_schema() -> None:
    assert "q" in sample_value({"type": "object", "required": ["q"]})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": 1.5},
        {"type": "object", "properties": [{"a": 1}]},
        {"properties": True},
        {"type": "object", "required": [{}], "properties": {"b": {}}},
        {"type": "object", "required": "a"},
        {"enum": "not-a-list"},
        {"type": "integer", "minimum": [1], "maximum": {"x": 1}},
        {"type": "number", "minimum": 1e308},
        {"type": {"nested": "type"}},
        {"type": [{"x": 1}, "null"]},
        {"type": "array", "items": ["string"]},
    ],
)
def test_sample_value_is_total_over_malformed_schemas(schema: dict[str, Any]) -> None:
    # Callers send any JSON as a schema; the demo model answers rather than failing the call.
    orjson.dumps(sample_value(schema))


def test_sample_value_stops_at_a_bounded_depth() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(5000):  # deeper than Python's recursion limit
        schema = {"type": "object", "properties": {"a": schema}}
    orjson.dumps(sample_value(schema))


# ---------------------------------------------------------------- streaming


async def test_stream_reassembles_to_the_non_stream_answer(demo: DemoProvider) -> None:
    body = _chat_body(n=2, stream=True, max_tokens=6, stop=["never"])
    reference = await _chat(demo, body)
    ctx = make_ctx(payload=body)
    events = await _collect(demo.chat_stream(ctx, "demo-1"))

    start = events[0]
    assert isinstance(start, StreamStart)
    assert start.id == reference.id
    assert start.model == "demo-1"
    for choice in reference.choices:
        text = "".join(e.text for e in events if isinstance(e, TextDelta) and e.choice == choice.index)
        assert text == choice.message.content
        finishes = [e.reason for e in events if isinstance(e, Finish) and e.choice == choice.index]
        assert finishes == [choice.finish_reason]
    usage = events[-1]
    assert isinstance(usage, UsageReport)
    assert usage.usage == reference.usage
    assert ctx.usage == reference.usage


async def test_stream_is_word_by_word(demo: DemoProvider) -> None:
    events = await _collect(demo.chat_stream(make_ctx(payload=_chat_body(stream=True)), "demo-1"))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 5
    assert all(" " not in d.strip() for d in deltas)


async def test_streamed_tool_calls_reassemble_to_the_non_stream_calls(demo: DemoProvider) -> None:
    body = _chat_body(tools=[WEATHER, CLOCK], stream=True)
    reference = (await _chat(demo, body)).choices[0].message.tool_calls
    events = await _collect(demo.chat_stream(make_ctx(payload=body), "demo-1"))

    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    rebuilt = []
    for call in reference:
        index = len(rebuilt)
        pieces = [d for d in deltas if d.index == index]
        assert (pieces[0].id, pieces[0].name) == (call.id, call.name)
        assert all(p.id is None and p.name is None for p in pieces[1:])
        rebuilt.append("".join(p.arguments for p in pieces))
    assert rebuilt == [c.arguments for c in reference]
    assert [e.reason for e in events if isinstance(e, Finish)] == ["tool_calls"]


async def test_stream_encodes_to_valid_sdk_chunks(demo: DemoProvider) -> None:
    body = _chat_body(stream=True, stream_options={"include_usage": True}, logprobs=True)
    encoder = ChunkEncoder(include_usage=True)
    chunks = [
        ChatCompletionChunk.model_validate(orjson.loads(orjson.dumps(c)))
        for e in await _collect(demo.chat_stream(make_ctx(payload=body), "demo-1"))
        if (c := encoder.encode(e)) is not None
    ]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    reference = await _chat(demo, body)
    assert text == reference.choices[0].message.content
    assert chunks[-1].usage is not None
    assert chunks[-1].choices == []


# ---------------------------------------------------------------- embeddings


async def _embed(demo: DemoProvider, body: dict[str, Any]) -> EmbeddingResponse:
    ctx = make_ctx("embeddings", payload=body)
    result = await demo.embed(ctx, "demo-embed-1")
    assert isinstance(result, EmbeddingResponse)
    assert ctx.usage == Usage(prompt_tokens=result.prompt_tokens)
    return result


async def test_embeddings_are_deterministic_unit_vectors(demo: DemoProvider) -> None:
    a = await _embed(demo, {"model": "e", "input": ["hello", "world", "hello"]})
    b = await _embed(demo, {"model": "e", "input": "hello"})

    assert a.model == "demo-embed-1"
    assert len(a.vectors) == 3
    assert all(len(v) == 16 for v in a.vectors)
    assert a.vectors[0] == a.vectors[2] == b.vectors[0]
    assert a.vectors[0] != a.vectors[1]
    for vector in a.vectors:
        assert math.fsum(x * x for x in vector) == pytest.approx(1.0, abs=1e-9)
    assert a.prompt_tokens > 0


@pytest.mark.parametrize("dims", [1, 7, 8, 9, 64, 1536])
async def test_embeddings_honour_dimensions(demo: DemoProvider, dims: int) -> None:
    result = await _embed(demo, {"model": "e", "input": "x", "dimensions": dims})
    assert len(result.vectors[0]) == dims
    assert math.fsum(x * x for x in result.vectors[0]) == pytest.approx(1.0, abs=1e-9)


async def test_embeddings_of_token_arrays(demo: DemoProvider) -> None:
    result = await _embed(demo, {"model": "e", "input": [[1, 2, 3], [4]]})
    assert len(result.vectors) == 2
    assert result.prompt_tokens == 4


async def test_embeddings_encode_to_valid_sdk_response_and_base64(demo: DemoProvider) -> None:
    result = await _embed(demo, {"model": "e", "input": ["a", "b"], "dimensions": 8})
    parsed = CreateEmbeddingResponse.model_validate(encode_embeddings(result, "float"))
    assert [len(d.embedding) for d in parsed.data] == [8, 8]

    b64 = encode_embeddings(result, "base64")["data"][1]["embedding"]
    decoded = struct.unpack("<8f", base64.b64decode(b64))
    assert decoded == pytest.approx(result.vectors[1], rel=1e-6)
