"""OpenAI dialect: wire bodies → canonical requests, canonical responses → SDK-valid bodies."""

from __future__ import annotations

import base64
import struct
from typing import Any

import orjson
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tollhouse.dialects.openai.decode import decode_chat, decode_embeddings
from tollhouse.dialects.openai.encode import ChunkEncoder, encode_chat, encode_embeddings
from tollhouse.dialects.openai.errors import error_body, error_event
from tollhouse.errors import InvalidRequest, UpstreamRateLimited
from tollhouse.model.chat import (
    AudioPart,
    ChatResponse,
    Choice,
    FilePart,
    ImagePart,
    Message,
    TextPart,
    TokenLogprob,
    ToolCall,
    Usage,
)
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.model.stream import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)

# ---------------------------------------------------------------- decode


def test_decode_chat_maps_typed_fields_and_keeps_unknown_ones_in_extra() -> None:
    body = {
        "model": "gpt",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 50,
        "temperature": 0.3,
        "top_p": 0.9,
        "n": 2,
        "stop": "END",
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 3,
        "user": "u-1",
        "metadata": {"trace": "abc"},
        "logit_bias": {"50256": -100},
        "service_tier": "flex",
    }
    request = decode_chat(body)

    assert request.model == "gpt"
    assert [(m.role, m.content) for m in request.messages] == [("system", "be brief"), ("user", "hi")]
    assert request.stream is True
    assert request.include_usage is True
    assert request.max_tokens == 50
    assert (request.temperature, request.top_p, request.n, request.seed) == (0.3, 0.9, 2, 7)
    assert request.stop == ("END",)
    assert request.logprobs is True
    assert request.top_logprobs == 3
    assert request.user == "u-1"
    assert request.extra == {
        "metadata": {"trace": "abc"},
        "logit_bias": {"50256": -100},
        "service_tier": "flex",
    }


def test_decode_chat_defaults() -> None:
    request = decode_chat({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert request.stream is False
    assert request.include_usage is False
    assert request.n == 1
    assert request.stop == ()
    assert request.tools == ()
    assert request.tool_choice is None
    assert request.response_format is None
    assert request.extra == {}


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    request = decode_chat(
        {"model": "m", "messages": [{"role": "user"}], "max_tokens": 10, "max_completion_tokens": 20}
    )
    assert request.max_tokens == 20


def test_stop_list_becomes_a_tuple() -> None:
    assert decode_chat({"model": "m", "messages": [{"role": "user"}], "stop": ["a", "b"]}).stop == ("a", "b")


def test_decode_chat_maps_multimodal_parts() -> None:
    content = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA", "detail": "high"}},
        {"type": "input_audio", "input_audio": {"data": "UklGR", "format": "mp3"}},
        {"type": "file", "file": {"file_data": "JVBER", "filename": "a.pdf"}},
        {"type": "file", "file": {"file_id": "file-9"}},
        {"type": "refusal", "refusal": "no"},
    ]
    (message,) = decode_chat({"model": "m", "messages": [{"role": "user", "content": content}]}).messages

    assert message.content == (
        TextPart("look"),
        ImagePart(url="data:image/png;base64,AAA", detail="high"),
        AudioPart(data="UklGR", format="mp3"),
        FilePart(data="JVBER", filename="a.pdf"),
        FilePart(file_id="file-9"),
        TextPart("no"),
    )
    assert message.text() == "look\nno"


def test_decode_chat_maps_tool_calls_and_tool_results() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                },
                {"id": "c2", "type": "function", "function": {"name": "now"}},
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "rain"},
        {"role": "function", "name": "now", "content": "noon"},
    ]
    request = decode_chat({"model": "m", "messages": messages})

    assistant, tool, legacy = request.messages[1:]
    assert assistant.tool_calls == (
        ToolCall(id="c1", name="get_weather", arguments='{"city":"Oslo"}'),
        ToolCall(id="c2", name="now", arguments=""),
    )
    assert assistant.content is None
    assert (tool.role, tool.tool_call_id, tool.content) == ("tool", "c1", "rain")
    assert (legacy.role, legacy.name) == ("tool", "now")


def test_decode_chat_maps_tools_and_named_tool_choice() -> None:
    params = {"type": "object", "properties": {"city": {"type": "string"}}}
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [
            {
                "type": "function",
                "function": {"name": "a", "description": "A", "parameters": params, "strict": True},
            },
            {"type": "function", "function": {"name": "b"}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "b"}},
        "parallel_tool_calls": False,
    }
    request = decode_chat(body)

    assert [(t.name, t.description, t.parameters, t.strict) for t in request.tools] == [
        ("a", "A", params, True),
        ("b", None, None, None),
    ]
    assert request.tool_choice == "b"
    assert request.parallel_tool_calls is False


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_decode_chat_keeps_string_tool_choice(choice: str) -> None:
    body = {"model": "m", "messages": [{"role": "user"}], "tool_choice": choice}
    assert decode_chat(body).tool_choice == choice


def test_decode_chat_maps_json_schema_response_format() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    body = {
        "model": "m",
        "messages": [{"role": "user"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "num", "schema": schema, "strict": True},
        },
    }
    fmt = decode_chat(body).response_format
    assert fmt is not None
    assert (fmt.type, fmt.name, fmt.schema, fmt.strict) == ("json_schema", "num", schema, True)

    plain = decode_chat({**body, "response_format": {"type": "json_object"}}).response_format
    assert plain is not None
    assert (plain.type, plain.name, plain.schema) == ("json_object", None, None)


@pytest.mark.parametrize(
    ("value", "inputs"),
    [
        ("one", ("one",)),
        (["a", "b"], ("a", "b")),
        ([1, 2, 3], ((1, 2, 3),)),
        ([[1, 2], [3]], ((1, 2), (3,))),
    ],
)
def test_decode_embeddings_input_shapes(value: Any, inputs: tuple[Any, ...]) -> None:
    request = decode_embeddings({"model": "e", "input": value})
    assert request.inputs == inputs
    assert request.encoding_format == "float"


def test_decode_embeddings_options_and_extra() -> None:
    request = decode_embeddings(
        {
            "model": "e",
            "input": "x",
            "dimensions": 8,
            "encoding_format": "base64",
            "user": "u",
            "input_type": "q",
        }
    )
    assert (request.dimensions, request.encoding_format, request.user) == (8, "base64", "u")
    assert request.extra == {"input_type": "q"}


# ---------------------------------------------------------------- encode


def _response(*choices: Choice, usage: Usage | None = None) -> ChatResponse:
    return ChatResponse(
        id="chatcmpl-1",
        model="gpt",
        created=1_700_000_000,
        choices=choices,
        usage=usage,
        system_fingerprint="fp",
    )


def test_encode_chat_text_answer_is_a_valid_chat_completion() -> None:
    body = encode_chat(
        _response(
            Choice(0, Message("assistant", "Hello"), "stop"),
            Choice(1, Message("assistant", "Hi"), "length"),
            usage=Usage(prompt_tokens=5, completion_tokens=3, cached_tokens=2, reasoning_tokens=1),
        )
    )
    completion = ChatCompletion.model_validate(orjson.loads(orjson.dumps(body)))

    assert completion.id == "chatcmpl-1"
    assert completion.object == "chat.completion"
    assert completion.created == 1_700_000_000
    assert [c.message.content for c in completion.choices] == ["Hello", "Hi"]
    assert [c.finish_reason for c in completion.choices] == ["stop", "length"]
    assert completion.choices[0].message.role == "assistant"
    assert completion.usage is not None
    assert (
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
        completion.usage.total_tokens,
    ) == (
        5,
        3,
        8,
    )
    assert completion.usage.prompt_tokens_details is not None
    assert completion.usage.prompt_tokens_details.cached_tokens == 2
    assert completion.usage.completion_tokens_details is not None
    assert completion.usage.completion_tokens_details.reasoning_tokens == 1
    assert completion.system_fingerprint == "fp"


def test_encode_chat_without_usage_omits_it() -> None:
    body = encode_chat(_response(Choice(0, Message("assistant", "x"), "stop")))
    assert "usage" not in body
    assert ChatCompletion.model_validate(body).usage is None


def test_encode_chat_usage_details_only_when_known() -> None:
    body = encode_chat(_response(Choice(0, Message("assistant", "x"), "stop"), usage=Usage(1, 2)))
    assert body["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def test_encode_chat_tool_calls() -> None:
    calls = (ToolCall("call_1", "get_weather", '{"city":"Oslo"}'), ToolCall("call_2", "now", "{}"))
    body = encode_chat(_response(Choice(0, Message("assistant", None, tool_calls=calls), "tool_calls")))
    completion = ChatCompletion.model_validate(body)

    message = completion.choices[0].message
    assert message.content is None
    assert message.tool_calls is not None
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_1", "function", "get_weather", '{"city":"Oslo"}'),
        ("call_2", "function", "now", "{}"),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_encode_chat_flattens_part_content_to_text() -> None:
    parts = (TextPart("a"), ImagePart("https://x"), TextPart("b"))
    body = encode_chat(_response(Choice(0, Message("assistant", parts), "stop")))
    assert ChatCompletion.model_validate(body).choices[0].message.content == "a\nb"


def test_encode_chat_logprobs() -> None:
    logprobs = (TokenLogprob("Hé", -0.5, (("Hé", -0.5), ("Hi", -1.0))), TokenLogprob("!", -0.1))
    body = encode_chat(_response(Choice(0, Message("assistant", "Hé!"), "stop", logprobs=logprobs)))
    completion = ChatCompletion.model_validate(body)

    lp = completion.choices[0].logprobs
    assert lp is not None
    assert lp.content is not None
    assert [(t.token, t.logprob, t.bytes) for t in lp.content] == [
        ("Hé", -0.5, list("Hé".encode())),
        ("!", -0.1, [33]),
    ]
    assert [(t.token, t.logprob) for t in lp.content[0].top_logprobs] == [("Hé", -0.5), ("Hi", -1.0)]


def _encode_all(events: list[StreamEvent], include_usage: bool) -> list[dict[str, Any]]:
    encoder = ChunkEncoder(include_usage)
    chunks = [encoder.encode(e) for e in events]
    return [orjson.loads(orjson.dumps(c)) for c in chunks if c is not None]


TEXT_STREAM: list[StreamEvent] = [
    StreamStart(id="chatcmpl-s", model="gpt", created=1_700_000_001),
    TextDelta("Hello"),
    TextDelta(" world"),
    Finish("stop"),
    UsageReport(Usage(prompt_tokens=4, completion_tokens=2)),
]


def test_chunk_encoder_text_stream_is_valid_and_reassembles() -> None:
    chunks = _encode_all(TEXT_STREAM, include_usage=True)
    parsed = [ChatCompletionChunk.model_validate(c) for c in chunks]

    assert all((c.id, c.model, c.created) == ("chatcmpl-s", "gpt", 1_700_000_001) for c in parsed)
    assert all(c.object == "chat.completion.chunk" for c in parsed)
    assert parsed[0].choices[0].delta.role == "assistant"
    assert parsed[1].choices[0].delta.role is None  # the role is sent once per choice
    assert parsed[2].choices[0].finish_reason == "stop"
    usage_chunk = parsed[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage is not None
    assert usage_chunk.usage.total_tokens == 6

    state = ChatCompletionStreamState()
    for chunk in parsed:
        state.handle_chunk(chunk)
    final = state.get_final_completion()
    assert final.choices[0].message.content == "Hello world"
    assert final.choices[0].finish_reason == "stop"
    assert final.usage is not None
    assert final.usage.prompt_tokens == 4


def test_chunk_encoder_drops_usage_unless_asked() -> None:
    chunks = _encode_all(TEXT_STREAM, include_usage=False)
    assert len(chunks) == 3
    assert all("usage" not in c for c in chunks)
    assert all(c["choices"] for c in chunks)


def test_chunk_encoder_stream_start_produces_no_chunk() -> None:
    encoder = ChunkEncoder(True)
    assert encoder.encode(StreamStart("id", "m", 1)) is None


def test_chunk_encoder_tool_call_stream_reassembles_with_the_sdk() -> None:
    events: list[StreamEvent] = [
        StreamStart(id="chatcmpl-t", model="gpt", created=1),
        ToolCallDelta(index=0, id="call_a", name="get_weather"),
        ToolCallDelta(index=0, arguments='{"city":'),
        ToolCallDelta(index=0, arguments='"Oslo"}'),
        ToolCallDelta(index=1, id="call_b", name="now"),
        ToolCallDelta(index=1, arguments="{}"),
        Finish("tool_calls"),
    ]
    chunks = _encode_all(events, include_usage=False)
    first_piece = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert first_piece == {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"arguments": "", "name": "get_weather"},
    }
    later_piece = chunks[1]["choices"][0]["delta"]["tool_calls"][0]
    assert set(later_piece) == {"index", "function"}
    assert set(later_piece["function"]) == {"arguments"}

    state = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    message = state.get_final_completion().choices[0].message
    assert message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [
        ("call_a", "get_weather", '{"city":"Oslo"}'),
        ("call_b", "now", "{}"),
    ]


def test_chunk_encoder_interleaved_choices_each_get_a_role_once() -> None:
    events: list[StreamEvent] = [
        StreamStart("c", "m", 1),
        TextDelta("a", choice=0),
        TextDelta("b", choice=1),
        TextDelta("c", choice=0),
        TextDelta("d", choice=1),
        Finish("stop", choice=0),
        Finish("length", choice=1),
    ]
    chunks = [ChatCompletionChunk.model_validate(c) for c in _encode_all(events, include_usage=False)]
    roles = [(c.choices[0].index, c.choices[0].delta.role) for c in chunks]
    assert roles[:4] == [(0, "assistant"), (1, "assistant"), (0, None), (1, None)]

    state = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(chunk)
    snapshot = state.current_completion_snapshot  # get_final_completion() refuses "length"
    assert [(c.message.content, c.finish_reason) for c in snapshot.choices] == [
        ("ac", "stop"),
        ("bd", "length"),
    ]


def test_chunk_encoder_reasoning_and_logprobs() -> None:
    events: list[StreamEvent] = [
        StreamStart("c", "m", 1),
        ReasoningDelta("thinking"),
        TextDelta("ok", logprobs=(TokenLogprob("ok", -0.2),)),
    ]
    reasoning, text = _encode_all(events, include_usage=False)
    assert reasoning["choices"][0]["delta"] == {"role": "assistant", "reasoning_content": "thinking"}
    parsed = ChatCompletionChunk.model_validate(text)
    lp = parsed.choices[0].logprobs
    assert lp is not None
    assert lp.content is not None
    assert lp.content[0].token == "ok"


def test_encode_embeddings_float_is_a_valid_response() -> None:
    response = EmbeddingResponse(model="emb", vectors=((0.5, -0.25), (1.0, 0.0)), prompt_tokens=7)
    body = encode_embeddings(response, "float")
    parsed = CreateEmbeddingResponse.model_validate(body)

    assert [d.embedding for d in parsed.data] == [[0.5, -0.25], [1.0, 0.0]]
    assert [d.index for d in parsed.data] == [0, 1]
    assert parsed.model == "emb"
    assert (parsed.usage.prompt_tokens, parsed.usage.total_tokens) == (7, 7)


def test_encode_embeddings_base64_decodes_back_to_the_floats() -> None:
    vector = (0.5, -1.25, 3.0, 0.0, 1e-3)
    body = encode_embeddings(EmbeddingResponse(model="emb", vectors=(vector,)), "base64")
    raw = base64.b64decode(body["data"][0]["embedding"])

    assert len(raw) == 4 * len(vector)
    decoded = struct.unpack(f"<{len(vector)}f", raw)
    assert decoded[:4] == vector[:4]  # exactly representable in float32
    assert decoded[4] == pytest.approx(1e-3, rel=1e-6)


def test_error_envelope() -> None:
    error = InvalidRequest("bad n", param="n", code="invalid_value")
    assert orjson.loads(error_body(error)) == {
        "error": {"message": "bad n", "type": "invalid_request_error", "param": "n", "code": "invalid_value"}
    }
    event = error_event(UpstreamRateLimited("slow down"))
    assert event.startswith(b"data: ")
    assert event.endswith(b"\n\n")
    assert orjson.loads(event[6:])["error"]["code"] == "upstream_rate_limited"
