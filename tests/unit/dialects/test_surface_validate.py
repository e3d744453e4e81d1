"""check_messages / check_responses: a caller's malformed values are a 400 naming the parameter,
never a crash (found by fuzzing the demo gateway: a list or object where a string belongs made
set-membership tests raise, and the call ended in a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from tollhouse.dialects.anthropic.validate import check_messages
from tollhouse.dialects.openai_responses.validate import check_responses
from tollhouse.errors import InvalidRequest

TEXT = [{"type": "text", "text": "hi"}]
MESSAGES: dict[str, Any] = {
    "model": "claude",
    "max_tokens": 16,
    "messages": [{"role": "user", "content": TEXT}],
}
RESPONSES: dict[str, Any] = {"model": "gpt", "input": [{"role": "user", "content": "hi"}]}


def _param(check: Any, body: dict[str, Any]) -> str | None:
    with pytest.raises(InvalidRequest) as info:
        check(body)
    assert info.value.status == 400
    return info.value.param


def test_good_bodies_pass() -> None:
    assert check_messages(MESSAGES) == "claude"
    tool = {"name": "f", "input_schema": {"type": "object", "properties": {"a": {"type": "string"}}}}
    assert check_messages({**MESSAGES, "tools": [tool]}) == "claude"
    assert check_responses(RESPONSES) == "gpt"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**MESSAGES, "messages": [{"role": ["user"], "content": TEXT}]}, "messages.0.role"),
        ({**MESSAGES, "messages": [{"role": {"r": 1}, "content": TEXT}]}, "messages.0.role"),
        ({**MESSAGES, "tool_choice": {"type": ["auto"]}}, "tool_choice.type"),
        ({**MESSAGES, "tool_choice": {"type": {}}}, "tool_choice.type"),
        # Anthropic requires an object schema: the demo model's arguments would not be an object
        (
            {**MESSAGES, "tools": [{"name": "f", "input_schema": {"type": "string"}}]},
            "tools.0.input_schema.type",
        ),
        ({**MESSAGES, "tools": [{"name": "f", "input_schema": {}}]}, "tools.0.input_schema.type"),
    ],
)
def test_messages_values_of_the_wrong_shape_are_a_400(body: dict[str, Any], param: str) -> None:
    assert _param(check_messages, body) == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**RESPONSES, "input": [{"role": ["user"], "content": "hi"}]}, "input[0].role"),
        ({**RESPONSES, "input": [{"role": {}, "content": "hi"}]}, "input[0].role"),
        ({**RESPONSES, "input": [{"type": {"t": 1}, "role": "user", "content": "hi"}]}, "input[0].type"),
        (
            {**RESPONSES, "input": [{"role": "user", "content": [{"type": ["input_text"]}]}]},
            "input[0].content[0]",
        ),
        ({**RESPONSES, "text": {"format": {"type": ["json_object"]}}}, "text.format.type"),
    ],
)
def test_responses_values_of_the_wrong_shape_are_a_400(body: dict[str, Any], param: str) -> None:
    assert _param(check_responses, body) == param
