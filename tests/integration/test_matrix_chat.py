"""The OpenAI Chat Completions surface to every provider family: the compatibility matrix's
``chat`` table. One gateway fronts a fake of each provider (``tests/support/fleet.py``); every
test runs once per family and checks what that family's fake produced."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from tests.fakes.answers import WORD_SCHEMA, reply_to
from tests.fakes.scripted_reply import image_note
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.fleet import ERROR_STATUSES, FAMILIES, NAMES, Family, Fleet
from tests.support.images import PNG, PNG_DATA_URL


def _usage(usage: object) -> tuple[int, int]:
    assert isinstance(usage, openai.types.CompletionUsage)
    return usage.prompt_tokens, usage.completion_tokens


@covers("chat", NAMES, "basic", "system", "usage")
def test_chat(openai_sdk: openai.OpenAI, fleet: Fleet, family: Family) -> None:
    result = sdk_checks.check_chat(openai_sdk, family.name)
    assert _usage(result.usage) == fleet.usage(family)


@covers("chat", NAMES, "stream_text", "usage")
def test_stream(openai_sdk: openai.OpenAI, fleet: Fleet, family: Family) -> None:
    usage = sdk_checks.check_stream(openai_sdk, family.name)
    assert _usage(usage) == fleet.usage(family)


@covers("chat", NAMES, "tools", "tool_results", "parallel_tools")
def test_tools(openai_sdk: openai.OpenAI, family: Family) -> None:
    sdk_checks.check_tools(openai_sdk, family.name, family.answers)


@covers("chat", NAMES, "stream_tools", "usage")
def test_stream_tools(openai_sdk: openai.OpenAI, fleet: Fleet, family: Family) -> None:
    usage = sdk_checks.check_tools_stream(
        openai_sdk, family.name, not family.whole_tool_calls, family.answers
    )
    assert _usage(usage) == fleet.usage(family)


@covers("chat", NAMES, "vision")
def test_vision(openai_sdk: openai.OpenAI, family: Family) -> None:
    """An image sent as a data URL reaches the upstream intact (the fake names its bytes)."""
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": PNG_DATA_URL}},
    ]
    result = openai_sdk.chat.completions.create(
        model=family.name, messages=[{"role": "user", "content": content}]
    )  # type: ignore[misc, list-item]
    assert result.choices[0].message.content == reply_to(f"What is in this picture? {image_note(PNG)}")


@covers("chat", NAMES, "json_schema")
def test_json_schema(openai_sdk: openai.OpenAI, family: Family) -> None:
    result = openai_sdk.chat.completions.create(
        model=family.name,
        messages=sdk_checks.MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": WORD_SCHEMA}},
    )
    assert json.loads(result.choices[0].message.content or "") == family.answers.json_answer
    assert result.choices[0].finish_reason == "stop"


@covers("chat", NAMES, "errors")
def test_errors(openai_sdk: openai.OpenAI, family: Family) -> None:
    sdk_checks.check_errors(openai_sdk, {s: family.error_alias(s) for s in ERROR_STATUSES}, family.answers)


# The passthrough lane (OpenAI callers to OpenAI-format upstreams): the caller's body goes out
# with only the model and the catalog row's quirks changed, and the upstream's answer comes back
# unchanged. Per family: fields the caller adds, what the upstream must receive, and the id of
# the fake's own answer.
_PASSTHROUGH: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "openai": ({"vendor_flag": {"x": 1}}, {"vendor_flag": {"x": 1}, "max_completion_tokens": 5, "seed": 7}, "chatcmpl-fake-"),
    "azure": ({"vendor_flag": {"x": 1}}, {"vendor_flag": {"x": 1}, "max_completion_tokens": 5, "seed": 7}, "chatcmpl-azure-"),
    # Mistral refuses fields it does not know (422): the row renames seed and the output limit.
    "mistral": ({"safe_prompt": True}, {"safe_prompt": True, "max_tokens": 5, "random_seed": 7}, "cmpl-fake-mistral"),
    "openai_compatible": ({"vendor_flag": {"x": 1}}, {"vendor_flag": {"x": 1}, "max_completion_tokens": 5, "seed": 7}, "chatcmpl-fake-"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(_PASSTHROUGH))
@covers("chat", tuple(_PASSTHROUGH), "passthrough")
def test_passthrough_lane(openai_sdk: openai.OpenAI, fleet: Fleet, name: str) -> None:
    [family] = [f for f in FAMILIES if f.name == name]
    fake = fleet.reset(family)
    added, received, answer_id = _PASSTHROUGH[name]
    result = openai_sdk.chat.completions.create(
        model=name, messages=sdk_checks.MESSAGES, max_completion_tokens=5, seed=7, extra_body=added
    )
    assert result.id.startswith(answer_id)  # the upstream's own answer, relayed
    sent = fake.last_request.json
    assert {k: sent.get(k) for k in received} == received
    assert sent["model"] == family.model and sent["messages"] == sdk_checks.MESSAGES


def test_foreign_tool_call_ids_reach_mistral_in_its_shape(openai_sdk: openai.OpenAI, fleet: Fleet) -> None:
    # Mistral refuses any tool call id but nine letters or digits: a history whose calls came
    # from OpenAI (a fallback) or the caller goes out with ids reshaped, call and result alike.
    family = next(f for f in FAMILIES if f.name == "mistral")
    fake = fleet.reset(family)
    messages: Any = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_Xy12_openai",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{}"},
                },
                {"id": "abc123XYZ", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_Xy12_openai", "content": "sunny"},
        {"role": "tool", "tool_call_id": "abc123XYZ", "content": "noon"},
    ]
    result = openai_sdk.chat.completions.create(model="mistral", messages=messages, tools=sdk_checks.TOOLS)
    assert result.choices[0].finish_reason is not None
    sent = fake.last_request.json["messages"]  # type: ignore[attr-defined]
    first, second = (call["id"] for call in sent[1]["tool_calls"])
    assert first != "call_Xy12_openai" and len(first) == 9 and first.isalnum()
    assert second == "abc123XYZ"  # already in Mistral's shape: unchanged
    assert [m["tool_call_id"] for m in sent[2:]] == [first, second]
