"""The official OpenAI SDK (sync and async) through the gateway to a fake OpenAI upstream."""

from __future__ import annotations

import json

import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.sdk_checks import MESSAGES, TOOLS
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway, upstream_config


@pytest.fixture
def client(gateway: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@pytest.fixture
def aclient(gateway: RunningGateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@covers("chat", ("openai_compatible",), "basic", "system", "usage")
def test_chat_non_stream(client: openai.OpenAI, upstream: FakeOpenAI) -> None:
    result = client.chat.completions.create(model="gpt-test", messages=MESSAGES)  # type: ignore[arg-type]
    assert result.choices[0].message.content == "fake reply to: What is a tollhouse?"
    assert result.choices[0].finish_reason == "stop"
    assert result.usage is not None and result.usage.total_tokens > 0
    sent = upstream.last_request
    # The alias became the upstream model; the caller's key was swapped for the provider's.
    assert sent.json["model"] == "gpt-4o-mini"
    assert sent.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert CLIENT_KEY not in repr(sent.headers)
    assert sent.json["messages"] == MESSAGES


def test_upstream_cookies_are_not_replayed(upstream: FakeOpenAI) -> None:
    """The upstream session is shared by every caller: a cookie one answer sets (OpenAI's CDN
    sets one on each) must not ride along on the next caller's request. Reached by host name,
    as real providers are: a client cookie jar ignores cookies from bare IP addresses."""
    by_name = upstream.base_url.replace("127.0.0.1", "localhost")
    with RunningGateway(upstream_config(by_name)) as gw:
        client = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
        for _ in range(3):
            client.chat.completions.create(model="gpt-test", messages=MESSAGES)  # type: ignore[arg-type]
    assert len(upstream.requests) == 3
    assert all("cookie" not in r.headers for r in upstream.requests)


@covers("chat", ("openai_compatible",), "basic", "passthrough")
def test_chat_options_and_unknown_fields_reach_upstream(client: openai.OpenAI, upstream: FakeOpenAI) -> None:
    result = client.chat.completions.create(
        model="gpt-test",
        messages=MESSAGES,
        n=2,
        stop=["tollhouse"],
        seed=7,
        logprobs=True,
        top_logprobs=2,
        user="u-1",
        temperature=0.2,
        extra_body={"top_k": 5, "vendor_flag": {"x": 1}},
    )  # type: ignore[call-overload]
    assert len(result.choices) == 2
    assert result.choices[0].logprobs is not None
    sent = upstream.last_request.json
    assert sent["top_k"] == 5 and sent["vendor_flag"] == {"x": 1}
    assert (sent["n"], sent["stop"], sent["seed"], sent["user"]) == (2, ["tollhouse"], 7, "u-1")


@covers("chat", ("openai_compatible",), "stream_text", "usage")
def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-test", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )  # type: ignore[call-overload]
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
    assert text == "fake reply to: What is a tollhouse?"
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0


@covers("chat", ("openai_compatible",), "stream_text", "passthrough")
def test_stream_without_usage_request_hides_usage_chunk(client: openai.OpenAI, upstream: FakeOpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True))  # type: ignore[call-overload]
    assert chunks and all(c.usage is None for c in chunks)
    assert all(c.choices for c in chunks)  # the gateway's own usage chunk was not passed on
    # …but the gateway asked for usage upstream, to meter the stream.
    assert upstream.last_request.json["stream_options"] == {"include_usage": True}


@covers("chat", ("openai_compatible",), "tools", "parallel_tools")
def test_tools_parallel_non_stream(client: openai.OpenAI, upstream: FakeOpenAI) -> None:
    result = client.chat.completions.create(model="gpt-test", messages=MESSAGES, tools=TOOLS)  # type: ignore[arg-type]
    calls = result.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert "city" in json.loads(calls[0].function.arguments)  # type: ignore[union-attr]
    assert result.choices[0].finish_reason == "tool_calls"
    assert upstream.last_request.json["tools"] == TOOLS


@covers("chat", ("openai_compatible",), "stream_tools")
def test_tools_stream_arguments_reassemble(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="gpt-test", messages=MESSAGES, tools=TOOLS, stream=True)  # type: ignore[call-overload]
    calls: dict[int, dict[str, str]] = {}
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"name": "", "arguments": ""})
                if delta.function and delta.function.name:
                    call["name"] = delta.function.name
                call["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert [c["name"] for c in calls.values()] == ["get_weather", "get_time"]
    assert all(isinstance(json.loads(c["arguments"]), dict) for c in calls.values())


@covers("chat", ("openai_compatible",), "tool_results")
def test_tool_result_round_trip(client: openai.OpenAI) -> None:
    messages = [
        *MESSAGES,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"},
    ]
    result = client.chat.completions.create(model="gpt-test", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    assert "sunny, 21C" in (result.choices[0].message.content or "")


@covers("chat", ("openai_compatible",), "json_schema", "vision")
def test_response_format_json_schema_and_multimodal(client: openai.OpenAI, upstream: FakeOpenAI) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    content = [
        {"type": "text", "text": "Describe"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
    ]
    result = client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": content}],  # type: ignore[list-item]
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "a", "schema": schema, "strict": True},
        },
    )
    assert "answer" in json.loads(result.choices[0].message.content or "{}")
    assert upstream.last_request.json["messages"][0]["content"] == content


def test_embeddings_float_and_base64(client: openai.OpenAI, upstream: FakeOpenAI) -> None:
    floats = client.embeddings.create(model="embed-test", input=["a", "b"], encoding_format="float")
    assert len(floats.data) == 2 and len(floats.data[0].embedding) == 8
    assert upstream.last_request.json["model"] == "text-embedding-3-small"
    b64 = client.embeddings.create(model="embed-test", input="a", dimensions=4)
    assert len(b64.data[0].embedding) == 4


def test_models_lists_aliases(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gpt-test" in ids and "embed-test" in ids


@covers("chat", ("openai_compatible",), "async", "stream_text")
async def test_async_client_chat_stream_and_embeddings(aclient: openai.AsyncOpenAI) -> None:
    result = await aclient.chat.completions.create(model="gpt-test", messages=MESSAGES)  # type: ignore[arg-type]
    assert result.choices[0].message.content
    stream = await aclient.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)  # type: ignore[call-overload]
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == result.choices[0].message.content
    emb = await aclient.embeddings.create(model="embed-test", input="x")
    assert emb.data[0].embedding
    await aclient.close()
