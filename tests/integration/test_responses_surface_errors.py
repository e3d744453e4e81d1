"""``/v1/responses``: OpenAI's error envelope, the stateless refusals, mid-stream failures, and
usage details (cached / reasoning tokens) from a reasoning upstream."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import orjson
import pytest

from tests.fakes.openai_reasoning import CACHED_TOKENS, FakeReasoningOpenAI
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway, upstream_config
from tests.support.surfaces import raw_sse


@pytest.fixture
def sdk(gateway: RunningGateway, upstream: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0) as client:
        yield client


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id"),
        ({"conversation": "conv_123"}, "conversation"),
        ({"background": True}, "background"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
    ],
)
@covers("responses", ("openai_compatible",), "errors")
def test_stateless_and_hosted_features_are_refused(
    sdk: openai.OpenAI, extra: dict[str, object], param: str
) -> None:
    body: dict[str, object] = {"model": "gpt-test", "input": "hi", **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.post("/responses", body=body, cast_to=object)
    error = caught.value.body
    assert isinstance(error, dict) and error["param"] == param
    assert error["type"] == "invalid_request_error"


@covers("responses", ("openai_compatible",), "errors")
def test_invalid_input_names_the_parameter(gateway: RunningGateway) -> None:
    body = {"model": "gpt-test", "input": [{"role": "robot", "content": "x"}]}
    status, [(_, error)] = raw_sse(
        gateway.url, "/v1/responses", body, {"authorization": f"Bearer {CLIENT_KEY}"}
    )
    assert status == 400
    assert error["error"]["param"] == "input[0].role"


@covers("responses", ("openai_compatible",), "errors")
def test_unknown_model_and_bad_key(gateway: RunningGateway, sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.responses.create(model="no-such-model", input="hi")
    assert caught.value.code == "model_not_found"
    with (
        openai.OpenAI(base_url=gateway.base_url, api_key="sk-wrong", max_retries=0) as bad,
        pytest.raises(openai.AuthenticationError),
    ):
        bad.responses.create(model="gpt-test", input="hi")


@pytest.mark.parametrize(
    ("model", "exc", "status"),
    [
        ("error-400", openai.BadRequestError, 400),
        ("error-429", openai.RateLimitError, 429),
        ("error-500", openai.InternalServerError, 502),
    ],
)
@covers("responses", ("openai_compatible",), "errors")
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors(
    sdk: openai.OpenAI, model: str, exc: type[Exception], status: int, stream: bool
) -> None:
    with pytest.raises(exc) as caught:
        sdk.responses.create(model=model, input="hi", stream=stream)
    error = caught.value
    assert isinstance(error, openai.APIStatusError) and error.status_code == status
    assert UPSTREAM_KEY not in orjson.dumps(error.body).decode()


@covers("responses", ("openai_compatible",), "errors", "stream_text")
def test_mid_stream_failure_ends_with_error_and_failed(sdk: openai.OpenAI) -> None:
    events = list(sdk.responses.create(model="hang-stream", input="hi", stream=True))
    kinds = [e.type for e in events]
    assert "response.output_text.delta" in kinds  # the first words got out
    assert kinds[-2:] == ["error", "response.failed"]
    assert events[-2].code == "upstream_timeout"  # type: ignore[union-attr]
    failed = events[-1].response  # type: ignore[union-attr]
    assert failed.status == "failed" and failed.error is not None and failed.error.code == "server_error"


@pytest.fixture(scope="module")
def reasoning_sdk() -> Iterator[openai.OpenAI]:
    with (
        FakeReasoningOpenAI(require_key=UPSTREAM_KEY) as fake,
        RunningGateway(upstream_config(fake.base_url)) as gw,
        openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0) as client,
    ):
        yield client


@covers("responses", ("openai_compatible",), "reasoning", "usage")
def test_reasoning_items_and_usage_details(reasoning_sdk: openai.OpenAI) -> None:
    response = reasoning_sdk.responses.create(model="gpt-test", input="Why is the sky blue?")
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and reasoning.content is not None
    assert reasoning.content[0].text.startswith("The user asked: Why is the sky blue?")
    assert message.type == "message" and "Why is the sky blue?" in response.output_text
    usage = response.usage
    assert usage is not None
    assert usage.input_tokens_details.cached_tokens == CACHED_TOKENS
    assert usage.output_tokens_details.reasoning_tokens > 0


@covers("responses", ("openai_compatible",), "reasoning", "stream_text", "usage")
def test_streamed_reasoning(reasoning_sdk: openai.OpenAI) -> None:
    with reasoning_sdk.responses.stream(model="gpt-test", input="Why is the sky blue?") as stream:
        kinds = [e.type for e in stream]
        final = stream.get_final_response()
    assert "response.reasoning_text.delta" in kinds and "response.reasoning_text.done" in kinds
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.usage is not None and final.usage.output_tokens_details.reasoning_tokens > 0
