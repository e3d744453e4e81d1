"""Errors on ``/v1/messages`` come in Anthropic's envelope, with Anthropic's status → type mapping;
``/v1/messages/count_tokens`` answers where the provider can count."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import orjson
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway
from tests.support.surfaces import DEMO_KEY, demo_gateway, raw_sse

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def sdk(gateway: RunningGateway, upstream: FakeOpenAI) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gateway.url, api_key=CLIENT_KEY, max_retries=0) as c:
        yield c


def _envelope(body: object, kind: str) -> None:
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == kind and body["error"]["message"]
    assert body["request_id"].startswith("req_")


@covers("messages", ("openai_compatible",), "errors")
def test_bad_key_is_authentication_error(gateway: RunningGateway) -> None:
    with (
        anthropic.Anthropic(base_url=gateway.url, api_key="sk-wrong", max_retries=0) as c,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        c.messages.create(model="gpt-test", max_tokens=10, messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.status_code == 401
    _envelope(caught.value.body, "authentication_error")


@covers("messages", ("openai_compatible",), "errors")
def test_unknown_model_is_not_found(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as caught:
        sdk.messages.create(model="no-such-model", max_tokens=10, messages=HELLO)  # type: ignore[arg-type]
    _envelope(caught.value.body, "not_found_error")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "gpt-test", "messages": HELLO}, "max_tokens"),
        ({"model": "gpt-test", "max_tokens": 5, "messages": []}, "messages"),
        (
            {"model": "gpt-test", "max_tokens": 5, "messages": [{"role": "robot", "content": "x"}]},
            "messages.0.role",
        ),
        (
            {"model": "gpt-test", "max_tokens": 5, "messages": HELLO, "tool_choice": {"type": "tool"}},
            "tool_choice.name",
        ),
    ],
)
@covers("messages", ("openai_compatible",), "errors")
def test_invalid_bodies_are_invalid_request_errors(
    gateway: RunningGateway, body: dict[str, object], field: str
) -> None:
    status, events = raw_sse(gateway.url, "/v1/messages", body, {"x-api-key": CLIENT_KEY})
    assert status == 400
    [(_, error)] = events
    _envelope(error, "invalid_request_error")
    assert error["error"]["message"].startswith(f"{field}:")


@pytest.mark.parametrize(
    ("model", "exc", "status", "kind"),
    [
        ("error-400", anthropic.BadRequestError, 400, "invalid_request_error"),
        ("error-429", anthropic.RateLimitError, 429, "rate_limit_error"),
        ("error-500", anthropic.InternalServerError, 502, "api_error"),
        ("error-401", anthropic.InternalServerError, 502, "api_error"),
        ("garbage", anthropic.InternalServerError, 502, "api_error"),
    ],
)
@covers("messages", ("openai_compatible",), "errors")
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors(
    sdk: anthropic.Anthropic, model: str, exc: type[Exception], status: int, kind: str, stream: bool
) -> None:
    with pytest.raises(exc) as caught:  # noqa: PT012 - a stream raises when it is read
        if stream:
            with sdk.messages.stream(model=model, max_tokens=10, messages=HELLO) as s:  # type: ignore[arg-type]
                s.get_final_message()
        else:
            sdk.messages.create(model=model, max_tokens=10, messages=HELLO)  # type: ignore[arg-type]
    error = caught.value
    assert isinstance(error, anthropic.APIStatusError) and error.status_code == status
    _envelope(error.body, kind)
    assert UPSTREAM_KEY not in orjson.dumps(error.body).decode()
    if status == 429:
        assert error.response.headers["retry-after"] == "2"


@covers("messages", ("openai_compatible",), "errors", "stream_text")
def test_mid_stream_failure_is_an_error_event(sdk: anthropic.Anthropic) -> None:
    # The fake sends the first words, then stalls past the provider's 2 s read timeout.
    with (
        pytest.raises(anthropic.APIStatusError) as caught,
        sdk.messages.stream(model="hang-stream", max_tokens=50, messages=HELLO) as s,  # type: ignore[arg-type]
    ):
        for _ in s:
            pass
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "timeout_error"
    assert "stalled" in body["error"]["message"]


@covers("count_tokens", ("openai_compatible",), "errors")
def test_count_tokens_unsupported_by_openai_compatible(sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.count_tokens(model="gpt-test", messages=HELLO)  # type: ignore[arg-type]
    _envelope(caught.value.body, "invalid_request_error")
    assert "cannot count tokens" in caught.value.body["error"]["message"]  # type: ignore[index]


@pytest.fixture(scope="module")
def demo_sdk() -> Iterator[anthropic.Anthropic]:
    with demo_gateway() as gw, anthropic.Anthropic(base_url=gw.url, api_key=DEMO_KEY, max_retries=0) as c:
        yield c


@covers("count_tokens", ("demo",), "basic", "system")
def test_count_tokens_on_demo_matches_usage(demo_sdk: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": "How many tokens is this question?"}]
    counted = demo_sdk.messages.count_tokens(model="demo", system="Be brief.", messages=messages)  # type: ignore[arg-type]
    answered = demo_sdk.messages.create(model="demo", max_tokens=50, system="Be brief.", messages=messages)  # type: ignore[arg-type]
    assert counted.input_tokens == answered.usage.input_tokens > 0


@covers("count_tokens", ("demo",), "errors")
def test_count_tokens_validates_and_authenticates(demo_sdk: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError):
        demo_sdk.messages.count_tokens(model="demo", messages=[])
    with (
        anthropic.Anthropic(base_url=str(demo_sdk.base_url), api_key="wrong", max_retries=0) as c,
        pytest.raises(anthropic.AuthenticationError),
    ):
        c.messages.count_tokens(model="demo", messages=HELLO)  # type: ignore[arg-type]
