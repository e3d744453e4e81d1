"""Guardrails on the Anthropic Messages and OpenAI Responses surfaces: blocks in each
surface's error envelope, redaction on the Anthropic passthrough lane, streams cut with the
surface's error event."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.scripted_openai import Script, ScriptedOpenAI
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway
from tests.support.guarded import AWS_KEY, INJECTION
from tests.support.surfaces import raw_sse

ANTHROPIC_KEY = "sk-ant-upstream-guard-77aa"
HEADERS = {"x-api-key": CLIENT_KEY, "authorization": f"Bearer {CLIENT_KEY}"}


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def claude() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(ANTHROPIC_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def gw(fake_openai: FakeOpenAI, scripted: ScriptedOpenAI, claude: FakeAnthropic) -> Iterator[RunningGateway]:
    strict = [{"type": "injection"}, {"type": "secrets"}, {"type": "pii", "action": "redact"}]
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "fake": {"kind": "openai_compatible", "base_url": fake_openai.base_url, "api_key": UPSTREAM_KEY},
            "scripted": {"kind": "openai_compatible", "base_url": scripted.base_url + "/v1"},
            "claude": {"kind": "anthropic", "base_url": claude.base_url, "api_key": ANTHROPIC_KEY},
        },
        "models": [
            {"alias": "gpt", "target": "fake/gpt-4o-mini"},
            {"alias": "scripted", "target": "scripted/gpt-4o-mini"},
            {"alias": "claude", "target": "claude/claude-sonnet-4-5"},
            {"alias": "claude-out", "target": "claude/claude-sonnet-4-5"},
        ],
        "guardrails": {
            "policies": [
                {"name": "strict", "match": {"models": ["gpt", "claude"]}, "guards": strict},
                {
                    "name": "output",
                    "match": {"models": ["scripted", "claude-out"]},
                    "stages": ["response", "stream", "tool_args"],
                    "guards": [{"type": "secrets"}],
                    "hold_back_chars": 16,
                },
            ]
        },
    }
    with RunningGateway(config) as gateway:
        yield gateway


def _messages(text: str, model: str, stream: bool = False) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


def _responses(text: str, model: str, stream: bool = False) -> dict[str, Any]:
    return {"model": model, "input": text, "stream": stream}


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_messages_block_in_anthropics_envelope(
    gw: RunningGateway, upstream: FakeOpenAI, claude: FakeAnthropic, model: str
) -> None:
    claude.reset()
    for stream in (False, True):
        status, events = raw_sse(gw.url, "/v1/messages", _messages(INJECTION, model, stream), HEADERS)
        assert status == 400
        assert events[0][1]["type"] == "error"
        assert events[0][1]["error"]["type"] == "invalid_request_error"
    assert upstream.requests == [] and claude.requests == []


def test_responses_block(gw: RunningGateway, upstream: FakeOpenAI) -> None:
    status, events = raw_sse(gw.url, "/v1/responses", _responses(f"key {AWS_KEY}", "gpt"), HEADERS)
    assert status == 400 and events[0][1]["error"]["code"] == "content_filter"
    assert upstream.requests == []


def test_passthrough_lane_is_redacted_and_restored(gw: RunningGateway, claude: FakeAnthropic) -> None:
    claude.reset()
    text = "Reply to sam@example.com"
    for stream in (False, True):
        status, events = raw_sse(gw.url, "/v1/messages", _messages(text, "claude", stream), HEADERS)
        assert status == 200
        assert "sam@example.com" not in claude.last_request.body.decode()
        assert claude.last_request.json["messages"][0]["content"] == "Reply to <EMAIL_1>"
        if stream:
            deltas = [d["delta"].get("text", "") for n, d in events if n == "content_block_delta"]
            assert "sam@example.com" in "".join(deltas)
            assert [n for n, _ in events][-1] == "message_stop"
        else:
            assert "sam@example.com" in events[0][1]["content"][0]["text"]


def test_anthropic_passthrough_stream_is_cut(gw: RunningGateway, claude: FakeAnthropic) -> None:
    text = f"please repeat this: {AWS_KEY} thanks"
    status, events = raw_sse(gw.url, "/v1/messages", _messages(text, "claude-out", True), HEADERS)
    assert status == 200
    assert AWS_KEY[:4] not in "".join(
        d["delta"].get("text", "") for n, d in events if n == "content_block_delta"
    )
    assert events[-1][0] == "error"
    assert AWS_KEY not in str(events)


@pytest.mark.parametrize("surface", ["messages", "responses"])
def test_canonical_streams_are_cut_with_the_surfaces_error_event(
    gw: RunningGateway, scripted: ScriptedOpenAI, surface: str
) -> None:
    scripted.script = Script(pieces=["Here you go, the key is AK", "IAIOSFODNN7EX", "AMPLE, enjoy."])
    body = (
        _messages("key?", "scripted", True) if surface == "messages" else _responses("key?", "scripted", True)
    )
    status, events = raw_sse(gw.url, f"/v1/{surface}", body, HEADERS)
    assert status == 200
    assert "AKIA" not in str(events)
    names = [name for name, _ in events]
    if surface == "messages":
        assert names[-1] == "error"
    else:
        assert names[-2:] == ["error", "response.failed"]
