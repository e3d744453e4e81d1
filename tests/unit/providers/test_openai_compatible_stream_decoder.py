"""The OpenAI-compatible stream decoder on broken streams (the goldens cover well-formed ones)."""

from __future__ import annotations

import pytest

from tollhouse.errors import UpstreamUnavailable
from tollhouse.model.chat import ChatRequest, Message, ToolSpec
from tollhouse.model.stream import TextDelta, UsageReport
from tollhouse.providers.openai_compatible.stream import StreamDecoder, estimate_prompt_tokens

CHUNK = b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'


def test_error_event_mid_stream_raises_with_the_upstream_message() -> None:
    decoder = StreamDecoder("up", 5)
    assert any(isinstance(e, TextDelta) for e in decoder.feed(CHUNK))
    with pytest.raises(UpstreamUnavailable, match="failed mid-stream: overloaded"):
        decoder.feed(b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n')


def test_an_event_that_is_not_json_raises() -> None:
    with pytest.raises(UpstreamUnavailable, match="not JSON"):
        StreamDecoder("up", 5).feed(b"data: {oops\n\n")


def test_a_stream_cut_before_its_end_raises() -> None:
    decoder = StreamDecoder("up", 5)
    decoder.feed(CHUNK)
    with pytest.raises(UpstreamUnavailable, match="ended the stream early"):
        decoder.finish()


def test_usage_is_counted_when_the_upstream_sends_none() -> None:
    decoder = StreamDecoder("up", 7)
    decoder.feed(CHUNK + b"data: [DONE]\n\n")
    [report] = decoder.finish()
    assert isinstance(report, UsageReport)
    assert (report.usage.prompt_tokens, report.usage.completion_tokens) == (7, 1)


def test_prompt_estimate_counts_messages_and_tools() -> None:
    bare = ChatRequest(model="m", messages=(Message("user", "x" * 400),))
    tooled = ChatRequest(
        model="m", messages=bare.messages, tools=(ToolSpec("f", parameters={"type": "object"}),)
    )
    assert 100 < estimate_prompt_tokens(bare) < estimate_prompt_tokens(tooled)
