"""Malformed input gets a clear OpenAI-style error; disconnects cancel cleanly; serving goes on."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.test_errors import assert_envelope, raw
from tests.support.gateway import CLIENT_KEY, RunningGateway

HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (b'{"model": "gpt-test", "messages": [', None, "invalid_json"),
        (b"", None, "invalid_json"),
        (b"[1, 2]", None, "invalid_json"),
        (
            b'{"model": "gpt-test", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
            None,
            "invalid_json",
        ),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model", "missing_required_parameter"),
        (b'{"model": 42, "messages": [{"role": "user", "content": "hi"}]}', "model", "invalid_value"),
        (b'{"model": "gpt-test", "messages": "hi"}', "messages", "invalid_value"),
        (b'{"model": "gpt-test", "messages": []}', "messages", "invalid_value"),
        (
            b'{"model": "gpt-test", "messages": [{"role": "robot", "content": "hi"}]}',
            "messages[0].role",
            None,
        ),
        (b'{"model": "gpt-test", "messages": [{"role": "user", "content": 5}]}', "messages[0].content", None),
        (b'{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "n": "two"}', "n", None),
        (b'{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "n": true}', "n", None),
        (
            b'{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}',
            "stream",
            None,
        ),
        (
            b'{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}',
            "temperature",
            None,
        ),
        (
            b'{"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "x"}]}',
            "tools[0]",
            None,
        ),
        (
            b'{"model": "gpt-test", "messages": [{"role": "tool", "content": "r"}]}',
            "messages[0].tool_call_id",
            None,
        ),
    ],
)
def test_bad_chat_bodies_are_400(
    gateway: RunningGateway, upstream: FakeOpenAI, body: bytes, param: str | None, code: str | None
) -> None:
    status, headers, reply = raw(gateway, "POST", "/v1/chat/completions", body)
    assert status == 400, reply
    assert_envelope(reply, "invalid_request_error", code)
    assert reply["error"]["param"] == param
    assert headers["x-request-id"]
    assert not upstream.requests  # nothing reached the provider


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "embed-test"}',
        b'{"model": "embed-test", "input": []}',
        b'{"model": "embed-test", "input": [1, "a"]}',
        b'{"model": "embed-test", "input": "x", "encoding_format": "hex"}',
    ],
)
def test_bad_embedding_bodies_are_400(gateway: RunningGateway, body: bytes) -> None:
    status, _, reply = raw(gateway, "POST", "/v1/embeddings", body)
    assert status == 400
    assert_envelope(reply, "invalid_request_error")


def test_sdk_sees_bad_request(gateway: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-test", messages=HELLO, n=0)  # type: ignore[arg-type]
    assert info.value.param == "n"


def test_unknown_path_and_wrong_method(gateway: RunningGateway) -> None:
    status, _, body = raw(gateway, "POST", "/v1/nothing-here", b"{}")
    assert status == 404 and body["error"]["code"] == "unknown_url"
    status, _, body = raw(gateway, "GET", "/v1/chat/completions")
    assert status == 405 and body["error"]["code"] == "method_not_allowed"


def test_garbage_http_does_not_take_the_server_down(gateway: RunningGateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        sock.recv(1024)
    status, _, _ = raw(gateway, "GET", "/v1/models")
    assert status == 200


async def test_client_disconnect_mid_stream_cancels_upstream(
    gateway: RunningGateway, upstream: FakeOpenAI
) -> None:
    body = {"model": "hang-stream", "messages": HELLO, "stream": True}
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            f"{gateway.base_url}/chat/completions",
            json=body,
            headers={"authorization": f"Bearer {CLIENT_KEY}"},
        )
        assert resp.status == 200
        first = await resp.content.readuntil(b"\n\n")
        assert first.startswith(b"data: ")
        resp.close()  # the client goes away with the upstream still streaming
    assert await upstream.wait_until_async(lambda: upstream.cancelled >= 1, timeout_s=5)
    # …and the gateway keeps serving.
    client = openai.AsyncOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    result = await client.chat.completions.create(model="gpt-test", messages=HELLO)  # type: ignore[arg-type]
    assert result.choices[0].message.content
    await client.close()


async def test_client_disconnect_while_waiting_cancels_upstream(
    gateway: RunningGateway, upstream: FakeOpenAI
) -> None:
    async with aiohttp.ClientSession() as session:
        task = asyncio.create_task(
            session.post(
                f"{gateway.base_url}/chat/completions",
                json={"model": "slow-1", "messages": HELLO},
                headers={"authorization": f"Bearer {CLIENT_KEY}"},
            )
        )
        assert await upstream.wait_until_async(lambda: upstream.in_flight >= 1, timeout_s=5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await upstream.wait_until_async(lambda: upstream.cancelled >= 1, timeout_s=5)


async def test_many_concurrent_requests(gateway: RunningGateway, upstream: FakeOpenAI) -> None:
    client = openai.AsyncOpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    results = await asyncio.gather(
        *(
            client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": f"n{i}"}])  # type: ignore[arg-type]
            for i in range(50)
        )
    )
    assert [r.choices[0].message.content for r in results] == [f"fake reply to: n{i}" for i in range(50)]
    await client.close()


def test_request_id_is_echoed_when_sane(gateway: RunningGateway) -> None:
    _, headers, _ = raw(gateway, "GET", "/v1/models", headers={"x-request-id": "trace-abc_123"})
    assert headers["x-request-id"] == "trace-abc_123"
    _, headers, _ = raw(gateway, "GET", "/v1/models", headers={"x-request-id": "bad id\twith spaces"})
    assert headers["x-request-id"].startswith("req_")


def test_json_of_errors_is_valid(gateway: RunningGateway) -> None:
    status, _, body = raw(gateway, "POST", "/v1/chat/completions", b'{"model": "gpt-test", "messages": [')
    assert status == 400 and json.dumps(body)
