"""Bedrock end to end: OpenAI SDK → gateway (SigV4-signed) → fake Bedrock runtime (event stream)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.fakes.bedrock_upstream import FakeBedrock
from tests.integration import sdk_checks
from tests.support.compat import covers
from tests.support.gateway import CLIENT_KEY, RunningGateway

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "eu-central-1"
CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBedrock]:
    with FakeBedrock(KEY_ID, SECRET, REGION) as server:
        yield server


@pytest.fixture(scope="module")
def gateway(fake: FakeBedrock) -> Iterator[RunningGateway]:
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "aws": {
                "kind": "bedrock",
                "region": REGION,
                "base_url": fake.base_url,
                "aws_access_key_id": KEY_ID,
                "aws_secret_access_key": SECRET,
            },
            "aws-wrong": {
                "kind": "bedrock",
                "region": REGION,
                "base_url": fake.base_url,
                "aws_access_key_id": KEY_ID,
                "aws_secret_access_key": "not-the-secret",
            },
        },
        "models": [
            {"alias": "claude", "target": f"aws/{CLAUDE}"},
            {"alias": "titan", "target": "aws/amazon.titan-embed-text-v2:0"},
            {"alias": "cohere-embed", "target": "aws/cohere.embed-english-v3"},
            {"alias": "throttled", "target": "aws/throttled-stream"},
            {"alias": "bad-signature", "target": f"aws-wrong/{CLAUDE}"},
            *({"alias": f"e{s}", "target": f"aws/error-{s}"} for s in (400, 403, 429, 500)),
        ],
    }
    with RunningGateway(config) as gw:
        yield gw


@pytest.fixture
def client(gateway: RunningGateway, fake: FakeBedrock) -> openai.OpenAI:
    fake.reset()
    return openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)


@covers("chat", ("bedrock",), "basic", "system", "usage")
def test_chat_is_signed(client: openai.OpenAI, fake: FakeBedrock) -> None:
    sdk_checks.check_chat(client, "claude")
    sent = fake.last_request
    assert sent.path == "/model/anthropic.claude-sonnet-4-5-20250929-v1:0/converse"
    assert sent.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
    assert SECRET not in repr(sent.headers)
    assert sent.json["system"] == [{"text": "Be brief."}]


@covers("chat", ("bedrock",), "stream_text", "usage")
def test_stream_event_stream(client: openai.OpenAI, fake: FakeBedrock) -> None:
    sdk_checks.check_stream(client, "claude")
    assert fake.last_request.path.endswith("/converse-stream")


@covers("chat", ("bedrock",), "tools", "tool_results", "parallel_tools")
def test_tools_and_results(client: openai.OpenAI) -> None:
    sdk_checks.check_tools(client, "claude")


@covers("chat", ("bedrock",), "stream_tools")
def test_tools_stream(client: openai.OpenAI) -> None:
    sdk_checks.check_tools_stream(client, "claude")


@covers("chat", ("bedrock",), "errors")
def test_error_event_mid_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="throttled", messages=sdk_checks.MESSAGES, stream=True)
    with pytest.raises(openai.APIError, match="rate limiting"):
        for _ in stream:
            pass


@covers("chat", ("bedrock",), "errors")
def test_wrong_secret_is_an_upstream_auth_failure(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="bad-signature", messages=sdk_checks.MESSAGES)
    assert info.value.code == "upstream_auth_failed"


@pytest.mark.parametrize(("alias", "tokens"), [("titan", 2), ("cohere-embed", 5)])
def test_embeddings(client: openai.OpenAI, alias: str, tokens: int) -> None:
    result = client.embeddings.create(model=alias, input=["hello", "tollhouse"], encoding_format="float")
    assert [d.embedding for d in result.data] == [[0.5, 5.0], [0.5, 9.0]]
    assert result.usage.prompt_tokens == tokens


@covers("chat", ("bedrock",), "errors")
def test_errors(client: openai.OpenAI) -> None:
    sdk_checks.check_errors(client, {400: "e400", 429: "e429", 500: "e500"})
    with pytest.raises(openai.InternalServerError):  # AccessDenied: the gateway's credential, 502
        client.chat.completions.create(model="e403", messages=sdk_checks.MESSAGES)
