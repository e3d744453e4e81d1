"""check_chat / check_embeddings: good bodies pass, bad ones fail naming the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from tollhouse.dialects.openai.validate import check_chat, check_embeddings
from tollhouse.errors import InvalidRequest

USER = {"role": "user", "content": "hi"}
BASE: dict[str, Any] = {"model": "gpt", "messages": [USER]}
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def _chat(**overrides: Any) -> dict[str, Any]:
    return {**BASE, **overrides}


def _param(body: dict[str, Any], check: Any = check_chat) -> str | None:
    with pytest.raises(InvalidRequest) as info:
        check(body)
    error = info.value
    assert error.status == 400
    assert error.type == "invalid_request_error"
    return error.param


@pytest.mark.parametrize(
    "body",
    [
        BASE,
        _chat(
            messages=[
                {"role": "system", "content": "be brief"},
                {"role": "developer", "content": "really"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "what is this?"},
                        {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                        {"type": "input_audio", "input_audio": {"data": "AAA=", "format": "wav"}},
                        {"type": "file", "file": {"file_id": "file-1"}},
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "done"},
                {"role": "function", "name": "f", "content": "legacy"},
            ]
        ),
        _chat(stream=True, stream_options={"include_usage": True}),
        _chat(n=1, max_tokens=1, max_completion_tokens=10, seed=-(2**63), top_logprobs=20, logprobs=True),
        _chat(temperature=0, top_p=1, presence_penalty=-2, frequency_penalty=2),
        _chat(temperature=2.0, top_p=0.0),
        _chat(stop="END"),
        _chat(stop=["a", "b", "c", "d"]),
        _chat(response_format={"type": "json_object"}),
        _chat(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}),
        _chat(tools=[TOOL], tool_choice="auto", parallel_tool_calls=False),
        _chat(tools=[TOOL], tool_choice="required"),
        _chat(tools=[{"type": "function", "function": {"name": "no_params"}}], tool_choice="none"),
        _chat(user="u-1", metadata={"anything": "goes"}, unknown_field=[1, 2]),
    ],
)
def test_valid_chat_bodies_pass_and_return_the_model(body: dict[str, Any]) -> None:
    assert check_chat(body) == "gpt"


def test_missing_model_has_its_own_code() -> None:
    with pytest.raises(InvalidRequest) as info:
        check_chat({"messages": [USER]})
    assert info.value.param == "model"
    assert info.value.code == "missing_required_parameter"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (_chat(model=""), "model"),
        (_chat(model=5), "model"),
        ({"model": "gpt"}, "messages"),
        (_chat(messages=[]), "messages"),
        (_chat(messages={"role": "user"}), "messages"),
        (_chat(messages=["hi"]), "messages[0]"),
        (_chat(messages=[USER, {"content": "no role"}]), "messages[1].role"),
        (_chat(messages=[{"role": "bot", "content": "x"}]), "messages[0].role"),
        (_chat(messages=[{"role": "user", "content": 5}]), "messages[0].content"),
        (_chat(messages=[{"role": "user", "content": {"text": "x"}}]), "messages[0].content"),
        (_chat(messages=[{"role": "user", "content": [{"type": "video"}]}]), "messages[0].content[0]"),
        (_chat(messages=[{"role": "user", "content": [{"type": "text"}, "x"]}]), "messages[0].content[1]"),
        (_chat(messages=[USER, {"role": "tool", "content": "r"}]), "messages[1].tool_call_id"),
        (_chat(messages=[{"role": "assistant", "tool_calls": {"id": "c"}}]), "messages[0].tool_calls"),
        (
            _chat(messages=[{"role": "assistant", "tool_calls": [{"id": "c", "function": {}}]}]),
            "messages[0].tool_calls[0]",
        ),
        (_chat(stream="true"), "stream"),
        (_chat(stream_options="yes", stream=True), "stream_options"),
        (_chat(stream_options={"include_usage": True}), "stream_options"),
        (_chat(stream=False, stream_options={"include_usage": True}), "stream_options"),
        (_chat(n=0), "n"),
        (_chat(n=129), "n"),
        (_chat(n=True), "n"),
        (_chat(n=2.0), "n"),
        (_chat(n="2"), "n"),
        (_chat(max_tokens=0), "max_tokens"),
        (_chat(max_tokens=False), "max_tokens"),
        (_chat(max_completion_tokens=-1), "max_completion_tokens"),
        (_chat(seed=2**63), "seed"),
        (_chat(top_logprobs=21), "top_logprobs"),
        (_chat(temperature=2.01), "temperature"),
        (_chat(temperature=-0.1), "temperature"),
        (_chat(temperature=True), "temperature"),
        (_chat(temperature="1"), "temperature"),
        (_chat(top_p=1.5), "top_p"),
        (_chat(presence_penalty=-2.5), "presence_penalty"),
        (_chat(frequency_penalty=3), "frequency_penalty"),
        (_chat(logprobs="yes"), "logprobs"),
        (_chat(parallel_tool_calls=0), "parallel_tool_calls"),
        (_chat(user=5), "user"),
        (_chat(stop=["a", "b", "c", "d", "e"]), "stop"),
        (_chat(stop=[1]), "stop"),
        (_chat(stop=5), "stop"),
        (_chat(response_format="json"), "response_format"),
        (_chat(response_format={"type": "xml"}), "response_format"),
        (_chat(response_format={"type": "json_schema"}), "response_format.json_schema"),
        (_chat(tools=TOOL), "tools"),
        (_chat(tools=[{"type": "function"}]), "tools[0]"),
        (_chat(tools=[TOOL, {"type": "function", "function": {"name": ""}}]), "tools[1]"),
        (_chat(tools=["get_weather"]), "tools[0]"),
        (
            _chat(tools=[{"type": "function", "function": {"name": "f", "parameters": ["x"]}}]),
            "tools[0].function.parameters",
        ),
        (  # OpenAI's rule too: a function's parameters are an object schema
            _chat(tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "string"}}}]),
            "tools[0].function.parameters",
        ),
        (_chat(tools=[TOOL], tool_choice="sometimes"), "tool_choice"),
        (_chat(tool_choice=1.5), "tool_choice"),  # without tools too (it reached the decoder: a 500)
        (_chat(tool_choice={"function": 3}), "tool_choice"),
    ],
)
def test_invalid_chat_bodies_name_the_param(body: dict[str, Any], param: str) -> None:
    assert _param(body) == param


def test_error_message_quotes_the_param() -> None:
    with pytest.raises(InvalidRequest) as info:
        check_chat(_chat(messages=[USER, {"role": "bot"}]))
    assert "'messages[1].role'" in info.value.message
    assert info.value.code == "invalid_value"


def test_named_tool_choice_is_valid() -> None:
    body = _chat(tools=[TOOL], tool_choice={"type": "function", "function": {"name": "get_weather"}})
    assert check_chat(body) == "gpt"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (_chat(tools=[TOOL], tool_choice={"type": "function"}), "tool_choice"),
        (_chat(tools=[TOOL], tool_choice=["auto"]), "tool_choice"),
        (_chat(messages=[{"role": ["user"], "content": "x"}]), "messages[0].role"),
        (_chat(messages=[{"role": {"r": 1}, "content": "x"}]), "messages[0].role"),
        (_chat(messages=[{"role": "user", "content": [{"type": ["text"]}]}]), "messages[0].content[0]"),
    ],
)
def test_unhashable_values_are_a_400_not_a_crash(body: dict[str, Any], param: str) -> None:
    assert _param(body) == param


@pytest.mark.parametrize(
    "value",
    ["hello", ["a", "b"], [1, 2, 3], [[1, 2], [3]], [0]],
)
def test_valid_embedding_inputs(value: Any) -> None:
    assert check_embeddings({"model": "emb", "input": value}) == "emb"


def test_embeddings_options_accepted() -> None:
    body = {"model": "emb", "input": "x", "dimensions": 256, "encoding_format": "base64", "user": "u"}
    assert check_embeddings(body) == "emb"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x"}, "model"),
        ({"model": "emb"}, "input"),
        ({"model": "emb", "input": ""}, "input"),
        ({"model": "emb", "input": []}, "input"),
        ({"model": "emb", "input": 5}, "input"),
        ({"model": "emb", "input": {"text": "x"}}, "input"),
        ({"model": "emb", "input": ["a", 1]}, "input"),
        ({"model": "emb", "input": [1, "a"]}, "input"),
        ({"model": "emb", "input": [1, 2.5]}, "input"),
        ({"model": "emb", "input": [True, False]}, "input"),
        ({"model": "emb", "input": [1.5]}, "input"),
        ({"model": "emb", "input": [[1], []]}, "input"),
        ({"model": "emb", "input": [[1], ["a"]]}, "input"),
        ({"model": "emb", "input": [[1], 2]}, "input"),
        ({"model": "emb", "input": [None]}, "input"),
        ({"model": "emb", "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": "emb", "input": "x", "dimensions": 65537}, "dimensions"),
        ({"model": "emb", "input": "x", "dimensions": "8"}, "dimensions"),
        ({"model": "emb", "input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_invalid_embeddings_bodies_name_the_param(body: dict[str, Any], param: str) -> None:
    assert _param(body, check_embeddings) == param
