"""Every call with known usage gets a cost: from the model catalog, or the route's ``price``."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import openai
import pytest

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.integration import sdk_checks
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tollhouse.pipeline.context import RequestContext

UPSTREAM_KEY = "sk-ant-upstream-cost"


class Recorder:
    """An observer keeping (alias, usage, cost) of every finished call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object, float | None]] = []

    def observe(self, ctx: RequestContext) -> None:
        self.seen.append((ctx.model, ctx.usage, ctx.cost))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[RunningGateway, Recorder]]:
    with FakeAnthropic(UPSTREAM_KEY) as fake:
        config = {
            "auth": {"master_keys": [CLIENT_KEY]},
            "providers": {
                "claude": {"kind": "anthropic", "base_url": fake.base_url, "api_key": UPSTREAM_KEY}
            },
            "models": [
                {"alias": "haiku", "target": "claude/claude-haiku-4-5-20251001"},
                {
                    "alias": "priced",
                    "target": "claude/claude-haiku-4-5-20251001",
                    "price": {"input": 100, "output": 1000},
                },
                {"alias": "unlisted", "target": "claude/claude-private-finetune"},
            ],
        }
        gateway = RunningGateway(config)
        recorder = Recorder()
        gateway.app.runtime = dataclasses.replace(gateway.app.runtime, observers=(recorder,))
        with gateway:
            yield gateway, recorder


@pytest.mark.parametrize("stream", [False, True])
def test_cost_from_catalog_and_override(setup: tuple[RunningGateway, Recorder], stream: bool) -> None:
    gateway, recorder = setup
    client = openai.OpenAI(base_url=gateway.base_url, api_key=CLIENT_KEY, max_retries=0)
    for alias in ("haiku", "priced", "unlisted"):
        answer = client.chat.completions.create(model=alias, messages=sdk_checks.MESSAGES, stream=stream)
        if stream:
            list(answer)  # type: ignore[call-overload]
    calls = {alias: (usage, cost) for alias, usage, cost in recorder.seen[-3:]}
    usage, cost = calls["haiku"]
    assert usage is not None and cost is not None
    assert cost == pytest.approx((usage.prompt_tokens * 1 + usage.completion_tokens * 5) / 1e6)  # type: ignore[attr-defined]
    usage, cost = calls["priced"]
    assert cost == pytest.approx((usage.prompt_tokens * 100 + usage.completion_tokens * 1000) / 1e6)  # type: ignore[attr-defined]
    assert calls["unlisted"][0] is not None and calls["unlisted"][1] is None  # usage known, price not
