"""The official OpenAI SDK's view of a native provider behind the gateway, shared by the
``test_providers_*`` modules: each runs these against its own fake upstream.

The fakes answer through ``tests/fakes/scripted_reply.py``: a text reply names the last user
message, offered tools are called (two at once when two are offered), and tool results are
echoed in the follow-up answer. ``answers`` says what else to expect (FakeOpenAI plans its
answers differently: ``tests/fakes/answers.py``). The checks return what the caller received,
for tests that compare usage with what the fake reported.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion

from tests.fakes.answers import SCRIPTED, Answers

QUESTION = "What is a tollhouse?"
MESSAGES: list[Any] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": QUESTION}]
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
        },
    },
]
EXPECTED_ARGS = list(SCRIPTED.tool_args)


def check_chat(client: openai.OpenAI, alias: str) -> ChatCompletion:
    result = client.chat.completions.create(model=alias, messages=MESSAGES)
    assert result.choices[0].message.content == f"fake reply to: {QUESTION}"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    return result


def check_stream(client: openai.OpenAI, alias: str) -> CompletionUsage:
    stream = client.chat.completions.create(
        model=alias, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"fake reply to: {QUESTION}"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    usage = [c.usage for c in chunks if c.usage is not None]
    assert len(usage) == 1 and usage[0].completion_tokens > 0 and usage[0].prompt_tokens > 0
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # really streamed
    return usage[0]


def check_tools(client: openai.OpenAI, alias: str, answers: Answers = SCRIPTED) -> list[Any]:
    """Two parallel tool calls, then the results sent back: the answer uses them."""
    result = client.chat.completions.create(model=alias, messages=MESSAGES, tools=TOOLS)
    message = result.choices[0].message
    assert result.choices[0].finish_reason == "tool_calls"
    calls = message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert [json.loads(c.function.arguments) for c in calls] == list(answers.tool_args)  # type: ignore[union-attr]
    assert len({c.id for c in calls}) == 2
    follow_up = [
        *MESSAGES,
        message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": calls[0].id, "content": "sunny"},
        {"role": "tool", "tool_call_id": calls[1].id, "content": "noon"},
    ]
    answer = client.chat.completions.create(model=alias, messages=follow_up, tools=TOOLS)
    assert answer.choices[0].message.content == answers.tool_answer(["sunny", "noon"])
    return calls


def check_tools_stream(
    client: openai.OpenAI, alias: str, split: bool = True, answers: Answers = SCRIPTED
) -> CompletionUsage:
    """Streamed tool calls: arguments add up to valid JSON; with ``split`` (the upstream streams
    them in pieces, as all but Gemini do) they arrive in many chunks."""
    stream = client.chat.completions.create(
        model=alias, messages=MESSAGES, tools=TOOLS, stream=True, stream_options={"include_usage": True}
    )
    calls: dict[int, dict[str, str]] = {}
    pieces = 0
    usage = None
    finish = None
    for chunk in stream:
        usage = chunk.usage or usage
        if not chunk.choices:
            continue
        finish = chunk.choices[0].finish_reason or finish
        for delta in chunk.choices[0].delta.tool_calls or []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            if delta.id:
                call["id"] = delta.id
            if delta.function and delta.function.name:
                call["name"] = delta.function.name
            if delta.function and delta.function.arguments:
                call["arguments"] += delta.function.arguments
                pieces += 1
    assert finish == "tool_calls"
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert [json.loads(calls[i]["arguments"]) for i in sorted(calls)] == list(answers.tool_args)
    assert all(c["id"] for c in calls.values())
    assert pieces > 2 if split else pieces == 2  # relayed as the upstream split them
    assert usage is not None and usage.completion_tokens > 0
    return usage


def check_errors(
    client: openai.OpenAI,
    error_aliases: dict[int, str],
    answers: Answers | None = None,
    create: Callable[[str], object] | None = None,
) -> None:
    """Upstream statuses reach the caller as the typed OpenAI errors: a 4xx about the request
    with the upstream's message (checked when ``answers`` names it), a failure of the upstream
    or of the gateway's credential as 502. ``create`` calls another surface (default: chat)."""
    expected: dict[int, type[openai.APIStatusError]] = {
        400: openai.BadRequestError,
        401: openai.InternalServerError,  # the gateway's upstream credential: 502
        429: openai.RateLimitError,
        500: openai.InternalServerError,
    }
    call = create or (lambda alias: client.chat.completions.create(model=alias, messages=MESSAGES))
    for status, alias in error_aliases.items():
        with pytest.raises(expected[status]) as info:
            call(alias)
        assert info.value.status_code == (502 if status in (401, 500) else status)
        if answers is not None and status in answers.errors:
            assert answers.errors[status] in info.value.message
