"""Every error status the gateway returns, in OpenAI's envelope, as the SDK sees it."""

from __future__ import annotations

import http.client
import json
from typing import Any

import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway, free_port, upstream_config

HELLO = [{"role": "user", "content": "hello"}]


def raw(
    gw: RunningGateway,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One request with http.client, returning status, headers and the decoded JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=15)
    hdrs = {"authorization": f"Bearer {CLIENT_KEY}", "content-type": "application/json", **(headers or {})}
    conn.request(method, path, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(data) if data else None


def chat(gw: RunningGateway, model: str, **extra: Any) -> tuple[int, dict[str, str], Any]:
    return raw(
        gw, "POST", "/v1/chat/completions", json.dumps({"model": model, "messages": HELLO, **extra}).encode()
    )


def assert_envelope(body: Any, type_: str, code: str | None = None) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == type_ and error["message"]
    if code is not None:
        assert error["code"] == code


@pytest.mark.parametrize(
    ("model", "status", "exc", "type_"),
    [
        ("error-400", 400, openai.BadRequestError, "invalid_request_error"),
        ("error-404", 404, openai.NotFoundError, "invalid_request_error"),
        ("error-429", 429, openai.RateLimitError, "rate_limit_error"),
        ("error-500", 502, openai.InternalServerError, "upstream_error"),
        ("error-503", 502, openai.InternalServerError, "upstream_error"),
        ("error-401", 502, openai.InternalServerError, "upstream_error"),
        ("garbage", 502, openai.InternalServerError, "upstream_error"),
        ("drop", 502, openai.InternalServerError, "upstream_error"),
        ("slow-4", 504, openai.InternalServerError, "timeout"),
    ],
)
@covers("chat", ("openai_compatible",), "errors")
def test_upstream_errors_map_to_statuses(
    gateway: RunningGateway,
    upstream: FakeOpenAI,
    model: str,
    status: int,
    exc: type[openai.APIStatusError],
    type_: str,
) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0, timeout=20)
    with pytest.raises(exc) as info:
        client.chat.completions.create(model=model, messages=HELLO)  # type: ignore[arg-type]
    assert info.value.status_code == status
    assert info.value.response.headers["x-request-id"].startswith("req_")
    assert_envelope(info.value.body and {"error": info.value.body}, type_)
    assert UPSTREAM_KEY not in info.value.response.text and CLIENT_KEY not in info.value.response.text


@covers("chat", ("openai_compatible",), "errors")
def test_upstream_429_passes_retry_after(gateway: RunningGateway, upstream: FakeOpenAI) -> None:
    status, headers, body = chat(gateway, "error-429")
    assert status == 429 and headers["retry-after"] == "2"
    assert_envelope(body, "rate_limit_error", "upstream_rate_limited")


def test_upstream_auth_failure_does_not_leak_the_upstream_message(
    gateway: RunningGateway, upstream: FakeOpenAI
) -> None:
    status, _, body = chat(gateway, "error-401")
    assert status == 502
    assert body["error"]["code"] == "upstream_auth_failed"
    assert "Incorrect API key" not in body["error"]["message"]


def test_unknown_model_is_404(gateway: RunningGateway) -> None:
    client = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="no-such-model", messages=HELLO)  # type: ignore[arg-type]
    assert info.value.code == "model_not_found" and info.value.param == "model"


@pytest.mark.parametrize("key", [None, "sk-wrong-key-123456", ""])
def test_bad_or_missing_key_is_401(gateway: RunningGateway, key: str | None) -> None:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {"authorization": ""}
    status, hdrs, body = raw(gateway, "POST", "/v1/chat/completions", b"{}", headers)
    assert status == 401 and "x-request-id" in hdrs
    assert_envelope(body, "authentication_error", "invalid_api_key")
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway.base_url, api_key="sk-wrong", max_retries=0).models.list()


def test_x_api_key_header_is_accepted(gateway: RunningGateway) -> None:
    status, _, _body = raw(
        gateway, "GET", "/v1/models", headers={"authorization": "", "x-api-key": CLIENT_KEY}
    )
    # An empty Authorization header is not a key; x-api-key is only read when it is absent.
    assert status == 401
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=5)
    conn.request("GET", "/v1/models", headers={"x-api-key": CLIENT_KEY})
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["object"] == "list"
    conn.close()


def test_oversized_body_is_413(fake_openai: FakeOpenAI) -> None:
    with RunningGateway(upstream_config(fake_openai.base_url, max_body_bytes=4096)) as gw:
        big = json.dumps(
            {"model": "gpt-test", "messages": [{"role": "user", "content": "x" * 10_000}]}
        ).encode()
        status, _, body = raw(gw, "POST", "/v1/chat/completions", big)
        assert status == 413
        assert_envelope(body, "invalid_request_error", "request_too_large")
        client = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": "x" * 10_000}]
            )
        assert info.value.status_code == 413
        # …and it keeps serving.
        assert client.chat.completions.create(model="gpt-test", messages=HELLO).choices  # type: ignore[arg-type]


def test_slow_body_is_408(gateway: RunningGateway) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"authorization: Bearer " + CLIENT_KEY.encode() + b'\r\ncontent-length: 100\r\n\r\n{"model":'
        )
        reply = sock.recv(65536).decode()
    assert reply.startswith("HTTP/1.1 408")
    assert '"code":"request_timeout"' in reply


def test_connection_refused_is_502() -> None:
    config = upstream_config(f"http://127.0.0.1:{free_port()}/v1")
    with RunningGateway(config) as gw:
        status, _, body = chat(gw, "gpt-test")
        assert status == 502
        assert_envelope(body, "upstream_error", "upstream_error")


def test_stream_error_before_first_byte_is_plain_http_error(
    gateway: RunningGateway, upstream: FakeOpenAI
) -> None:
    status, headers, body = chat(gateway, "error-429", stream=True)
    assert status == 429 and headers["content-type"].startswith("application/json")
    assert_envelope(body, "rate_limit_error")
