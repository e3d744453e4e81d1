"""Checks the fake upstream against the official ``openai`` SDK, so the fake stays honest."""

from __future__ import annotations

import base64
import json
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionMessageFunctionToolCall
from pydantic import BaseModel

from .openai_upstream import FakeOpenAI

USER: Any = [{"role": "user", "content": "hello there friend"}]


def tool(name: str, properties: dict[str, Any], required: list[str] | None = None) -> Any:
    params: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        params["required"] = required
    return {"type": "function", "function": {"name": name, "parameters": params}}


STR, INT = {"type": "string"}, {"type": "integer"}
UNIT = {"type": "string", "enum": ["c", "f"]}
WEATHER = tool("get_weather", {"city": STR, "days": INT, "unit": UNIT, "note": STR}, ["city", "days", "unit"])
TIME = tool("get_time", {"tz": STR})  # no "required": every property is filled


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def client(fake: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


def raw_post(fake: FakeOpenAI, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Plain-HTTP POST, to look at the wire format without the SDK's parsing."""
    req = urllib.request.Request(fake.origin + path, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def call_names(r: ChatCompletion) -> list[str]:
    calls = r.choices[0].message.tool_calls or []
    return [tc.function.name for tc in calls if isinstance(tc, ChatCompletionMessageFunctionToolCall)]


# --------------------------------------------------------------------------- chat


def test_non_stream_completion(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert (r.id, r.object, r.model) == ("chatcmpl-fake-1", "chat.completion", "gpt-4o-mini")
    assert r.system_fingerprint
    [choice] = r.choices
    assert choice.message.role == "assistant"
    assert choice.message.content == "fake reply to: hello there friend"
    assert choice.finish_reason == "stop"
    assert r.usage is not None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (3, 6, 9)
    assert r.usage.prompt_tokens_details is not None
    assert r.usage.prompt_tokens_details.cached_tokens == 0
    assert r.usage.completion_tokens_details is not None
    assert r.usage.completion_tokens_details.reasoning_tokens == 0
    rec = fake.last_request
    assert (rec.method, rec.path) == ("POST", "/v1/chat/completions")
    assert rec.headers["authorization"] == "Bearer sk-test"
    assert rec.json == {"model": "gpt-4o-mini", "messages": USER}
    assert json.loads(rec.body) == rec.json


def test_content_parts_n_stop_and_max_tokens(client: openai.OpenAI) -> None:
    parts: Any = [{"role": "user", "content": [{"type": "text", "text": "one two three four"}]}]
    r = client.chat.completions.create(model="m", messages=parts, n=3)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert {c.message.content for c in r.choices} == {"fake reply to: one two three four"}

    r = client.chat.completions.create(model="m", messages=parts, stop=[" three"])
    assert r.choices[0].message.content == "fake reply to: one two"
    assert r.choices[0].finish_reason == "stop"

    r = client.chat.completions.create(model="m", messages=parts, max_tokens=2)
    assert (r.choices[0].message.content, r.choices[0].finish_reason) == ("fake reply", "length")
    assert r.usage is not None
    assert r.usage.completion_tokens == 2

    r = client.chat.completions.create(model="m", messages=parts, max_completion_tokens=3)
    assert r.choices[0].message.content == "fake reply to:"


def test_logprobs(client: openai.OpenAI) -> None:
    r = client.chat.completions.create(model="m", messages=USER, logprobs=True, top_logprobs=2)
    logprobs = r.choices[0].logprobs
    assert logprobs is not None
    assert logprobs.content is not None
    assert "".join(t.token for t in logprobs.content) == r.choices[0].message.content
    assert all(len(t.top_logprobs) == 2 and t.logprob < 0 for t in logprobs.content)


class Address(BaseModel):
    street: str
    zip_code: int


class Person(BaseModel):
    name: str
    age: int
    tags: list[str]
    address: Address


def test_response_format(client: openai.OpenAI) -> None:
    # pydantic schemas use $ref/$defs, which the fake follows.
    parsed = client.chat.completions.parse(model="m", messages=USER, response_format=Person)
    person = parsed.choices[0].message.parsed
    assert person is not None
    assert person.address.zip_code == 1
    assert person.name == "fake-name"

    r = client.chat.completions.create(model="m", messages=USER, response_format={"type": "json_object"})
    assert json.loads(r.choices[0].message.content or "") == {"reply": "fake reply to: hello there friend"}


def test_stream_with_usage_reassembles(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "fake reply to: hello there friend"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) == 6
    finals = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finals == [None] * (len(finals) - 1) + ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 9
    assert all(c.usage is None for c in chunks[:-1])
    assert {c.id for c in chunks} == {"chatcmpl-fake-1"}
    assert fake.cancelled == 0


def test_stream_wire_format(fake: FakeOpenAI) -> None:
    body = {"model": "m", "messages": USER, "stream": True}
    status, headers, raw = raw_post(fake, "/v1/chat/completions", json.dumps(body).encode())
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    events = raw.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunk = json.loads(events[0].removeprefix("data: "))
    assert chunk["object"] == "chat.completion.chunk"
    assert "usage" not in chunk  # only present when include_usage was asked for


def test_stream_parallel_tool_calls(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="m", messages=USER, tools=[WEATHER, TIME], stream=True)
    calls: dict[int, dict[str, Any]] = {}
    fragments = 0
    finish = None
    for chunk in stream:
        choice = chunk.choices[0]
        finish = choice.finish_reason or finish
        for tc in choice.delta.tool_calls or []:
            slot = calls.setdefault(tc.index, {"id": None, "name": None, "args": ""})
            if tc.id:
                slot["id"] = tc.id
                assert tc.type == "function"
            if tc.function and tc.function.name:
                slot["name"] = tc.function.name
            if tc.function and tc.function.arguments:
                slot["args"] += tc.function.arguments
                fragments += 1
    assert finish == "tool_calls"
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["args"]) == {"city": "fake-city", "days": 1, "unit": "c"}
    assert json.loads(calls[1]["args"]) == {"tz": "fake-tz"}
    assert all(c["id"] for c in calls.values())
    assert fragments > 2  # arguments really arrive in pieces


def test_tool_choice_semantics(client: openai.OpenAI) -> None:
    tools: Any = [WEATHER, TIME]
    r = client.chat.completions.create(model="m", messages=USER, tools=tools)
    msg = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls"
    assert msg.content is None
    assert call_names(r) == ["get_weather", "get_time"]

    r = client.chat.completions.create(model="m", messages=USER, tools=tools, parallel_tool_calls=False)
    assert len(r.choices[0].message.tool_calls or []) == 1

    forced: Any = {"type": "function", "function": {"name": "get_time"}}
    r = client.chat.completions.create(model="m", messages=USER, tools=tools, tool_choice=forced)
    assert call_names(r) == ["get_time"]

    r = client.chat.completions.create(model="m", messages=USER, tools=tools, tool_choice="none")
    assert r.choices[0].message.tool_calls is None
    assert r.choices[0].finish_reason == "stop"

    missing: Any = {"type": "function", "function": {"name": "nope"}}
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="m", messages=USER, tools=tools, tool_choice=missing)


def test_tool_result_turn(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="m", messages=USER, tools=[WEATHER])
    call = (first.choices[0].message.tool_calls or [])[0]
    history: Any = [
        *USER,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
    ]
    r = client.chat.completions.create(model="m", messages=history, tools=[WEATHER])
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == "fake reply to tool result: sunny, 21C"
    # "required" forces a call even after a tool turn.
    r = client.chat.completions.create(model="m", messages=history, tools=[WEATHER], tool_choice="required")
    assert r.choices[0].finish_reason == "tool_calls"


# --------------------------------------------------------------------------- embeddings


def test_embeddings_float_and_base64(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    floats = client.embeddings.create(
        model="text-embedding-3-small", input=["a", "bb cc"], encoding_format="float"
    )
    assert [d.index for d in floats.data] == [0, 1]
    assert all(len(d.embedding) == 8 for d in floats.data)
    assert floats.data[0].embedding != floats.data[1].embedding
    assert floats.usage.prompt_tokens == floats.usage.total_tokens == 3

    # Without encoding_format the SDK asks for base64 and decodes it itself (no numpy here).
    default = client.embeddings.create(model="text-embedding-3-small", input=["a", "bb cc"])
    assert fake.last_request.json["encoding_format"] == "base64"
    assert [d.embedding for d in default.data] == [d.embedding for d in floats.data]

    explicit = client.embeddings.create(model="m", input="a", encoding_format="base64")
    encoded: Any = explicit.data[0].embedding  # left as a str when asked for explicitly
    assert isinstance(encoded, str)
    assert list(struct.unpack("<8f", base64.b64decode(encoded))) == floats.data[0].embedding


def test_embeddings_dimensions_and_token_input(client: openai.OpenAI) -> None:
    r = client.embeddings.create(model="m", input="a", dimensions=40, encoding_format="float")
    vec = r.data[0].embedding
    assert len(vec) == 40
    assert abs(sum(v * v for v in vec) - 1.0) < 1e-5  # unit length, like OpenAI's
    r = client.embeddings.create(model="m", input=[1, 2, 3], encoding_format="float")
    assert (len(r.data), r.usage.prompt_tokens) == (1, 3)
    r = client.embeddings.create(model="m", input=[[1, 2], [3]], encoding_format="float")
    assert (len(r.data), r.usage.prompt_tokens) == (2, 3)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="m", input="")


# --------------------------------------------------------------------------- models


def test_models(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert {"gpt-4o-mini", "text-embedding-3-small"} <= set(ids)
    assert client.models.retrieve("gpt-4o").owned_by == "system"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("model", "exc", "status", "code"),
    [
        ("error-400", openai.BadRequestError, 400, "invalid_value"),
        ("error-401", openai.AuthenticationError, 401, "invalid_api_key"),
        ("error-404", openai.NotFoundError, 404, "model_not_found"),
        ("error-429", openai.RateLimitError, 429, "rate_limit_exceeded"),
        ("error-500", openai.InternalServerError, 500, None),
        ("error-503", openai.InternalServerError, 503, None),
    ],
)
def test_injected_errors(
    client: openai.OpenAI, model: str, exc: type[openai.APIStatusError], status: int, code: str
) -> None:
    with pytest.raises(exc) as info:
        client.chat.completions.create(model=model, messages=USER)
    err = info.value
    assert err.status_code == status
    assert err.code == code
    assert isinstance(err.body, dict)
    assert set(err.body) == {"message", "type", "param", "code"}
    if status == 429:
        assert err.response.headers["retry-after"] == "2"
    if status == 401:
        assert "Incorrect API key provided: sk-up...XYZ" in err.message
    with pytest.raises(exc):  # embeddings honour the same model names
        client.embeddings.create(model=model, input="x")


def test_require_key() -> None:
    with FakeOpenAI(require_key="sk-upstream") as fake:
        with openai.OpenAI(base_url=fake.base_url, api_key="sk-upstream", max_retries=0) as ok:
            assert ok.chat.completions.create(model="m", messages=USER).choices
        wrong = openai.OpenAI(base_url=fake.base_url, api_key="sk-wrong-key-123", max_retries=0)
        with wrong, pytest.raises(openai.AuthenticationError) as info:
            wrong.models.list()
        assert "sk-wr...123" in info.value.message
        assert "sk-wrong-key-123" not in info.value.message
        assert len(fake.requests) == 2  # rejected requests are recorded too


def test_bad_requests_use_error_envelope(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="m", messages=[])
    assert info.value.param == "messages"
    status, _, raw = raw_post(fake, "/v1/chat/completions", b"{nope")
    assert (status, json.loads(raw)["error"]["type"]) == (400, "invalid_request_error")
    status, _, raw = raw_post(fake, "/v1/nowhere", b"{}")
    assert (status, json.loads(raw)["error"]["message"]) == (404, "Invalid URL (POST /v1/nowhere)")


def test_garbage_and_drop(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    body = json.dumps({"model": "garbage", "messages": USER}).encode()
    status, headers, raw = raw_post(fake, "/v1/chat/completions", body)
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="drop", messages=USER)
    assert fake.cancelled == 0  # our own drop is not a peer cancellation


def test_slow_model_and_timeout(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    started = time.monotonic()
    assert client.chat.completions.create(model="slow-0.2", messages=USER).model == "slow-0.2"
    assert time.monotonic() - started >= 0.2
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="slow-2", messages=USER, timeout=0.2)
    assert fake.wait_until(lambda: fake.cancelled == 1)


def test_hang_stream_client_close_is_seen_as_cancel(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="hang-stream", messages=USER, stream=True)
    first = [next(stream), next(stream)]
    assert first[1].choices[0].delta.content == "fake"
    stream.close()
    assert fake.wait_until(lambda: fake.cancelled == 1)
    assert fake.last_request.cancelled
    assert fake.wait_until(lambda: fake.in_flight == 0)


def test_chunk_delay_and_reset(fake: FakeOpenAI, client: openai.OpenAI) -> None:
    fake.set_delay(0.03)
    started = time.monotonic()
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))
    assert time.monotonic() - started >= 0.03 * (len(chunks) - 1)
    fake.set_delay(0)

    fake.reset()
    assert fake.requests == []
    body = json.dumps({"model": "m", "messages": USER}).encode()
    first = raw_post(fake, "/v1/chat/completions", body)
    fake.reset()
    assert raw_post(fake, "/v1/chat/completions", body)[2] == first[2]  # byte-for-byte


def test_stop_does_not_wait_for_hanging_stream() -> None:
    fake = FakeOpenAI().start()
    with openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as c:
        stream = c.chat.completions.create(model="hang-stream", messages=USER, stream=True)
        next(stream)
        started = time.monotonic()
        fake.stop()
        assert time.monotonic() - started < 5
        with pytest.raises(openai.APIConnectionError):
            list(stream)
        stream.close()
    assert fake.cancelled == 0  # shutdown is not a peer cancellation


# --------------------------------------------------------------------------- async callers


async def test_async_sdk_stream_and_cancel(fake: FakeOpenAI) -> None:
    async with openai.AsyncOpenAI(base_url=fake.base_url, api_key="k", max_retries=0) as c:
        stream = await c.chat.completions.create(model="m", messages=USER, stream=True)
        text = "".join([ch.choices[0].delta.content or "" async for ch in stream])
        assert text == "fake reply to: hello there friend"

        stream = await c.chat.completions.create(model="hang-stream", messages=USER, stream=True)
        await stream.__anext__()
        await stream.close()
    assert await fake.wait_until_async(lambda: fake.cancelled == 1)


async def test_aiohttp_client_disconnect_is_seen_as_cancel(fake: FakeOpenAI) -> None:
    body = {"model": "hang-stream", "messages": USER, "stream": True}
    url = fake.base_url + "/chat/completions"
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        line = await resp.content.readline()
        assert line.startswith(b"data: {")
        resp.close()  # abort mid-stream, as a gateway does when its client leaves
    assert await fake.wait_until_async(lambda: fake.cancelled == 1)
