"""The built-in demo config, as `make run` serves it, through the official SDK."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator

import openai
import pytest

from tests.support.compat import covers
from tests.support.gateway import RunningGateway, demo_gateway_config
from tollhouse.http.app import YOUNG_GC_THRESHOLD


@pytest.fixture(scope="module")
def demo() -> Iterator[openai.OpenAI]:
    with RunningGateway(demo_gateway_config("sk-demo")) as gw:
        yield openai.OpenAI(base_url=gw.base_url, api_key="sk-demo", max_retries=0)


@covers("chat", ("demo",), "basic", "usage")
def test_demo_chat_is_deterministic(demo: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "Hello"}]
    first = demo.chat.completions.create(model="demo", messages=messages)  # type: ignore[arg-type]
    second = demo.chat.completions.create(model="demo", messages=messages)  # type: ignore[arg-type]
    assert first.choices[0].message.content == second.choices[0].message.content
    assert "You said: Hello" in (first.choices[0].message.content or "")
    assert first.usage is not None and first.usage.prompt_tokens > 0


@covers("chat", ("demo",), "stream_text", "usage")
def test_demo_stream_matches_non_stream(demo: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": "stream me"}]
    whole = demo.chat.completions.create(model="demo", messages=messages)  # type: ignore[arg-type]
    chunks = list(
        demo.chat.completions.create(
            model="demo",
            messages=messages,
            stream=True,  # type: ignore[call-overload]
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@covers("chat", ("demo",), "tools")
def test_demo_tool_call(demo: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {
                    "type": "object",
                    "properties": {"q": {"type": "string"}, "k": {"type": "integer"}},
                    "required": ["q", "k"],
                },
            },
        }
    ]
    result = demo.chat.completions.create(
        model="demo", messages=[{"role": "user", "content": "find"}], tools=tools
    )  # type: ignore[arg-type]
    call = (result.choices[0].message.tool_calls or [])[0]
    assert call.function.name == "lookup"  # type: ignore[union-attr]
    assert set(json.loads(call.function.arguments)) == {"q", "k"}  # type: ignore[union-attr]


def test_demo_embeddings(demo: openai.OpenAI) -> None:
    a = demo.embeddings.create(model="demo-embed", input="same text")
    b = demo.embeddings.create(model="demo-embed", input="same text", encoding_format="float")
    assert a.data[0].embedding == pytest.approx(b.data[0].embedding, rel=1e-6)
    assert abs(sum(v * v for v in a.data[0].embedding) - 1.0) < 1e-5


def test_startup_freezes_the_loaded_heap_and_raises_the_young_gc_threshold(demo: openai.OpenAI) -> None:
    # The gateway serves from this process's thread: its startup set the thresholds here.
    assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    assert gc.get_freeze_count() > 0
