"""A guardrail policy reads at most ``max_scan_chars`` characters per stage: guards run on the
event loop (about a megabyte a second), so a bigger text would hold up every other call.
Over the limit, ``fail_closed`` refuses the call with a 413 before it reaches the upstream;
``fail_open`` lets it through unread and records each guard as not run."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, RunningGateway
from tests.support.guarded import chat, user
from tollhouse.guards.config import MAX_SCAN_CHARS
from tollhouse.pipeline.context import RequestContext

LIMIT = 2_000


class Seen:
    """Sees each finished call's guard verdicts (an observer, as the metrics and audit are)."""

    def __init__(self) -> None:
        self.verdicts: list[tuple[str, str, str, str]] = []

    def observe(self, ctx: RequestContext) -> None:
        self.verdicts = [(v.guard, v.stage, v.outcome, v.reason) for v in ctx.verdicts]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture(scope="module")
def served(fake_openai: FakeOpenAI) -> Iterator[tuple[RunningGateway, Seen]]:
    guards = [{"type": "injection"}, {"type": "pii", "action": "redact"}]
    policy = {"guards": guards, "max_scan_chars": LIMIT, "stages": ["request", "response"]}
    config = {
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "fake": {"kind": "openai_compatible", "base_url": fake_openai.base_url, "api_key": UPSTREAM_KEY}
        },
        "models": [{"alias": a, "target": "fake/gpt-4o-mini"} for a in ("closed", "open")],
        "guardrails": {
            "policies": [
                {**policy, "name": "closed", "match": {"models": ["closed"]}},
                {**policy, "name": "open", "match": {"models": ["open"]}, "on_error": "fail_open"},
            ]
        },
    }
    gateway = RunningGateway(config)
    seen = Seen()
    runtime = gateway.app.runtime
    gateway.app.runtime = dataclasses.replace(runtime, observers=(*runtime.observers, seen))
    with gateway:
        yield gateway, seen


def test_a_text_over_the_limit_is_refused_before_the_upstream(
    served: tuple[RunningGateway, Seen], upstream: FakeOpenAI
) -> None:
    gw, seen = served
    text = "Please summarise: " + "the quarterly numbers look fine. " * 100
    assert len(text) > LIMIT
    for stream in (False, True):
        status, events = chat(gw.url, "closed", user(text), stream=stream)
        assert status == 413
        error = events[0][1]["error"]
        assert error["code"] == "request_too_large"
        assert error["message"] == (
            f"guardrail policy closed reads at most {LIMIT} characters at the request stage; this call has {len(text)}"
        )
    assert upstream.requests == []
    assert {(guard, stage, outcome) for guard, stage, outcome, _ in seen.verdicts} == {
        ("injection", "request", "error"),
        ("pii", "request", "error"),
    }
    assert chat(gw.url, "closed", user("a short question"))[0] == 200  # under the limit: read as always


def test_fail_open_lets_it_through_unread_and_says_so(
    served: tuple[RunningGateway, Seen], upstream: FakeOpenAI
) -> None:
    gw, seen = served
    text = "Write to jane.doe@example.com about " + "the quarterly numbers. " * 100
    status, events = chat(gw.url, "open", user(text))
    assert status == 200
    assert "jane.doe@example.com" in upstream.last_request.body.decode()  # not read, so not redacted
    assert "jane.doe@example.com" in events[0][1]["choices"][0]["message"]["content"]  # the echo, unread too
    read = {(guard, stage): reason for guard, stage, outcome, reason in seen.verdicts if outcome == "error"}
    answer = len(f"fake reply to: {text}")
    assert read == {
        ("injection", "request"): _not_run(len(text)),
        ("pii", "request"): _not_run(len(text)),
        ("pii", "response"): _not_run(answer),  # (the injection guard does not read answers)
    }


def _not_run(chars: int) -> str:
    return f"not run: {chars} characters to read, more than max_scan_chars ({LIMIT})"


def test_the_default_limit_is_a_million_characters() -> None:
    assert MAX_SCAN_CHARS == 1_000_000
