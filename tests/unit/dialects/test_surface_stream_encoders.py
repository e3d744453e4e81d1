"""The Anthropic and Responses stream encoders on event orders the golden transcripts do not show."""

from __future__ import annotations

import orjson
import pytest

from tollhouse.dialects.anthropic.encode import encode_message, tool_input
from tollhouse.dialects.anthropic.stream import MessageStreamEncoder
from tollhouse.dialects.openai_responses.stream import ResponseStreamEncoder
from tollhouse.errors import RateLimited, UpstreamUnavailable
from tollhouse.model.chat import ChatResponse, Choice, Message, ToolCall
from tollhouse.model.stream import Finish, StreamStart, TextDelta, ToolCallDelta

START = StreamStart(id="chatcmpl-1", model="m", created=1)
INTERLEAVED = [
    START,
    ToolCallDelta(index=0, id="a", name="f", arguments="{"),
    ToolCallDelta(index=1, id="b", name="g", arguments="{}"),
    ToolCallDelta(index=0, arguments="}"),  # back to a call whose block is closed
]


def _names(data: bytes) -> list[str]:
    return [block.split("\n")[0][7:] for block in data.decode().strip().split("\n\n")]


@pytest.mark.parametrize("make", [lambda: MessageStreamEncoder("m"), lambda: ResponseStreamEncoder("m", {})])
def test_interleaved_tool_arguments_are_refused(make: object) -> None:
    encoder = make()  # type: ignore[operator]
    for event in INTERLEAVED[:-1]:
        encoder.encode(event)
    with pytest.raises(UpstreamUnavailable, match="interleaved"):
        encoder.encode(INTERLEAVED[-1])


def test_anthropic_choices_other_than_the_first_are_dropped() -> None:
    encoder = MessageStreamEncoder("m")
    data = (
        b"".join(encoder.encode(e) for e in [START, TextDelta("a"), TextDelta("b", choice=1)])
        + encoder.finish()
    )
    deltas = [b for b in data.decode().split("\n\n") if "text_delta" in b]
    assert len(deltas) == 1 and '"text":"a"' in deltas[0]


def test_anthropic_error_event_after_content() -> None:
    encoder = MessageStreamEncoder("m")
    data = encoder.encode(START) + encoder.encode(TextDelta("hi")) + encoder.error(RateLimited("slow down"))
    assert _names(data)[-1] == "error"
    body = orjson.loads(data.decode().strip().split("\n\n")[-1].split("\n")[1][6:])
    assert body == {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}


def test_responses_error_ends_with_failed_and_keeps_sequence() -> None:
    encoder = ResponseStreamEncoder("m", {})
    data = encoder.encode(START) + encoder.encode(TextDelta("hi")) + encoder.error(RateLimited("slow down"))
    events = [orjson.loads(b.split("\n")[1][6:]) for b in data.decode().strip().split("\n\n")]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    assert events[-1]["response"]["error"] == {"code": "rate_limit_exceeded", "message": "slow down"}


def test_finish_without_any_event_is_still_a_complete_stream() -> None:
    assert _names(MessageStreamEncoder("m").finish()) == [
        "message_start",
        "ping",
        "message_delta",
        "message_stop",
    ]
    names = _names(ResponseStreamEncoder("m", {}).finish())
    assert names == ["response.created", "response.in_progress", "response.completed"]
    assert _names(ResponseStreamEncoder("m", {}).encode(Finish("length")))[:2] == [
        "response.created",
        "response.in_progress",
    ]


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
def test_tool_arguments_that_are_not_an_object_fail_loudly(arguments: str) -> None:
    call = ToolCall(id="c", name="f", arguments=arguments)
    with pytest.raises(UpstreamUnavailable, match="tool f"):
        tool_input(call)
    response = ChatResponse(
        id="x",
        model="m",
        created=1,
        choices=(Choice(0, Message("assistant", tool_calls=(call,)), "tool_calls"),),
    )
    with pytest.raises(UpstreamUnavailable):
        encode_message(response)
