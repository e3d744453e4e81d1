"""The Anthropic Messages surface to every provider family: the compatibility matrix's
``messages`` table. The official ``anthropic`` SDK calls one gateway fronting a fake of each
provider (``tests/support/fleet.py``): the Anthropic family takes the passthrough lane, the
others the canonical translation; every test checks what that family's fake produced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.answers import TOOL_SCHEMAS, WORD_SCHEMA, reply_to
from tests.fakes.scripted_reply import image_note
from tests.support.compat import covers
from tests.support.fleet import NAMES, Family, Fleet
from tests.support.gateway import CLIENT_KEY
from tests.support.images import PNG, PNG_BASE64

QUESTION = "What is a tollhouse?"
ASK: list[Any] = [{"role": "user", "content": QUESTION}]
TOOLS: list[Any] = [{"name": name, "input_schema": schema} for name, schema in TOOL_SCHEMAS]


@pytest.fixture
def sdk(fleet: Fleet) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fleet.running.url, api_key=CLIENT_KEY, max_retries=0) as c:
        yield c


def _usage(message: anthropic.types.Message) -> tuple[int, int]:
    return message.usage.input_tokens, message.usage.output_tokens


def _text(message: anthropic.types.Message) -> str:
    [block] = message.content
    assert block.type == "text"
    return block.text


@covers("messages", NAMES, "basic", "system", "usage")
def test_message(sdk: anthropic.Anthropic, fleet: Fleet, family: Family) -> None:
    message = sdk.messages.create(model=family.name, max_tokens=200, system="Be brief.", messages=ASK)
    assert _text(message) == reply_to(QUESTION)
    assert message.stop_reason == "end_turn"
    assert _usage(message) == fleet.usage(family)


@covers("messages", NAMES, "stream_text", "usage")
def test_stream(sdk: anthropic.Anthropic, fleet: Fleet, family: Family) -> None:
    with sdk.messages.stream(model=family.name, max_tokens=200, system="Be brief.", messages=ASK) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == _text(final) == reply_to(QUESTION)
    assert len(pieces) > 1  # really streamed
    assert final.stop_reason == "end_turn"
    assert _usage(final) == fleet.usage(family)


def _calls(message: anthropic.types.Message, family: Family) -> list[Any]:
    """The two parallel tool calls every fake makes, with the arguments it chose."""
    assert message.stop_reason == "tool_use"
    calls = [b for b in message.content if b.type == "tool_use"]
    assert [c.name for c in calls] == ["get_weather", "get_time"]
    assert [c.input for c in calls] == list(family.answers.tool_args)
    assert len({c.id for c in calls}) == 2
    return calls


@covers("messages", NAMES, "tools", "tool_results", "parallel_tools")
def test_tools(sdk: anthropic.Anthropic, family: Family) -> None:
    first = sdk.messages.create(model=family.name, max_tokens=300, tools=TOOLS, messages=ASK)
    calls = _calls(first, family)
    results = [
        {"type": "tool_result", "tool_use_id": call.id, "content": text}
        for call, text in zip(calls, ["sunny", "noon"], strict=True)
    ]
    answer = sdk.messages.create(
        model=family.name,
        max_tokens=300,
        tools=TOOLS,
        messages=[
            *ASK,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": results},
        ],
    )
    assert _text(answer) == family.answers.tool_answer(["sunny", "noon"])
    assert answer.stop_reason == "end_turn"


@covers("messages", NAMES, "stream_tools", "usage")
def test_stream_tools(sdk: anthropic.Anthropic, fleet: Fleet, family: Family) -> None:
    with sdk.messages.stream(model=family.name, max_tokens=300, tools=TOOLS, messages=ASK) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    _calls(final, family)
    assert "input_json" in kinds  # the arguments arrived as input_json_delta events
    assert _usage(final) == fleet.usage(family)


@covers("messages", NAMES, "vision")
def test_vision(sdk: anthropic.Anthropic, family: Family) -> None:
    """A base64 image block reaches the upstream intact (the fake names its bytes)."""
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_BASE64}},
    ]
    message = sdk.messages.create(
        model=family.name, max_tokens=200, messages=[{"role": "user", "content": content}]
    )
    assert _text(message) == reply_to(f"What is in this picture? {image_note(PNG)}")


@covers("messages", NAMES, "json_schema")
def test_json_output(sdk: anthropic.Anthropic, family: Family) -> None:
    """Structured output (``output_config.format``) reaches each provider as its own JSON mode."""
    message = sdk.messages.create(
        model=family.name,
        max_tokens=200,
        messages=ASK,
        output_config={"format": {"type": "json_schema", "schema": WORD_SCHEMA}},
    )
    assert json.loads(_text(message)) == family.answers.json_answer
    assert message.stop_reason == "end_turn"


@pytest.mark.parametrize(
    ("status", "exc", "seen", "kind"),
    [
        (400, anthropic.BadRequestError, 400, "invalid_request_error"),
        (429, anthropic.RateLimitError, 429, "rate_limit_error"),
        (500, anthropic.InternalServerError, 502, "api_error"),
    ],
)
@covers("messages", NAMES, "errors")
def test_errors(
    sdk: anthropic.Anthropic,
    family: Family,
    status: int,
    exc: type[anthropic.APIStatusError],
    seen: int,
    kind: str,
) -> None:
    """Upstream failures in Anthropic's envelope, with the upstream's message where it is about
    the request (the Anthropic family relays its upstream's own error)."""
    with pytest.raises(exc) as caught:
        sdk.messages.create(model=family.error_alias(status), max_tokens=10, messages=ASK)
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == kind
    assert caught.value.status_code == seen
    if status in family.answers.errors:
        assert family.answers.errors[status] in body["error"]["message"]
