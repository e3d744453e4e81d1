"""Thinking blocks and detailed usage on ``/v1/messages``, from an OpenAI-compatible reasoning upstream.

The fake answers with DeepSeek-style ``reasoning_content``; the Anthropic surface turns it
into ``thinking`` blocks (``thinking_delta`` when streaming) and maps cached / reasoning
tokens into Anthropic's usage fields.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from tests.fakes.openai_reasoning import CACHED_TOKENS, FakeReasoningOpenAI
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway, upstream_config
from tests.support.surfaces import raw_sse

QUESTION = [{"role": "user", "content": "Why is the sky blue?"}]


@pytest.fixture(scope="module")
def reasoner() -> Iterator[FakeReasoningOpenAI]:
    with FakeReasoningOpenAI(require_key=UPSTREAM_KEY) as fake:
        yield fake


@pytest.fixture(scope="module")
def sdk(reasoner: FakeReasoningOpenAI) -> Iterator[anthropic.Anthropic]:
    with (
        RunningGateway(upstream_config(reasoner.base_url)) as gw,
        anthropic.Anthropic(base_url=gw.url, api_key=CLIENT_KEY, max_retries=0) as client,
    ):
        yield client


@covers("messages", ("openai_compatible",), "reasoning", "usage")
def test_thinking_block_and_usage(sdk: anthropic.Anthropic) -> None:
    message = sdk.messages.create(model="gpt-test", max_tokens=500, messages=QUESTION)  # type: ignore[arg-type]
    thinking, text = message.content
    assert thinking.type == "thinking" and thinking.thinking.startswith(
        "The user asked: Why is the sky blue?"
    )
    assert thinking.signature == ""  # an OpenAI-compatible upstream signs nothing
    assert text.type == "text" and "Why is the sky blue?" in text.text
    usage = message.usage
    assert usage.cache_read_input_tokens == CACHED_TOKENS
    assert usage.cache_creation_input_tokens == 0
    assert usage.input_tokens > 0
    assert usage.output_tokens_details is not None and usage.output_tokens_details.thinking_tokens > 0
    assert usage.output_tokens > usage.output_tokens_details.thinking_tokens


@covers("messages", ("openai_compatible",), "reasoning", "stream_text", "usage")
def test_streamed_thinking(sdk: anthropic.Anthropic) -> None:
    with sdk.messages.stream(model="gpt-test", max_tokens=500, messages=QUESTION) as stream:  # type: ignore[arg-type]
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    whole = sdk.messages.create(model="gpt-test", max_tokens=500, messages=QUESTION)  # type: ignore[arg-type]
    assert "thinking" in kinds and "text" in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == whole.content[0].thinking  # type: ignore[union-attr]
    assert final.content[1].text == whole.content[1].text  # type: ignore[union-attr]
    assert final.usage.cache_read_input_tokens == CACHED_TOKENS
    assert final.usage.output_tokens == whole.usage.output_tokens


@covers("messages", ("openai_compatible",), "reasoning", "stream_text")
def test_raw_thinking_sequence(sdk: anthropic.Anthropic) -> None:
    body = {"model": "gpt-test", "max_tokens": 100, "stream": True, "messages": QUESTION}
    status, events = raw_sse(str(sdk.base_url).rstrip("/"), "/v1/messages", body, {"x-api-key": CLIENT_KEY})
    assert status == 200
    starts = [d["content_block"]["type"] for n, d in events if n == "content_block_start"]
    deltas = [d["delta"]["type"] for n, d in events if n == "content_block_delta"]
    assert starts == ["thinking", "text"]
    first_text = deltas.index("text_delta")
    assert set(deltas[:first_text]) == {"thinking_delta"} and set(deltas[first_text:]) == {"text_delta"}
    assert [d["index"] for n, d in events if n == "content_block_stop"] == [0, 1]


@covers("messages", ("openai_compatible",), "reasoning")
def test_thinking_history_is_not_sent_to_an_openai_upstream(
    sdk: anthropic.Anthropic, reasoner: FakeReasoningOpenAI
) -> None:
    sdk.messages.create(
        model="gpt-test",
        max_tokens=100,
        messages=[
            *QUESTION,  # type: ignore[list-item]
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "Rayleigh scattering.", "signature": "c2lnbmF0dXJl"},
                    {"type": "text", "text": "Scattering."},
                ],
            },
            {"role": "user", "content": "More detail?"},
        ],
    )
    sent = reasoner.last_request.json["messages"]
    assert sent[1] == {"role": "assistant", "content": "Scattering."}
