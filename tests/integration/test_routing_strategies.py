"""Strategies and conditional routing through the running gateway."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.faulty_upstream import FaultyUpstream
from tests.support.gateway import RunningGateway
from tests.support.routing import Client, provider, routing_config


def two(strategy: str, alias: str | None = None, **first: Any) -> dict[str, Any]:
    return {
        "alias": alias or strategy,
        "strategy": strategy,
        "targets": [{"target": f"up/{strategy}-a", **first}, {"target": f"up/{strategy}-b"}],
    }


MODELS = [
    two("weighted", weight=3),
    two("latency"),
    two("least_busy"),
    {
        "alias": "cost",
        "strategy": "cost",
        "targets": [{"target": "priced/gpt-4o"}, {"target": "priced/gpt-4o-mini"}],
    },
    {
        "alias": "tiered",
        "targets": [
            {"target": "up/premium", "when": {"headers": {"x-tier": "premium"}}},
            {"target": "up/eval", "when": {"metadata": {"purpose": "eval"}}},
            {"target": "up/ops", "when": {"principal_kinds": ["master"]}, "priority": 1},
        ],
    },
]


@pytest.fixture(scope="module")
def up() -> Iterator[FaultyUpstream]:
    with FaultyUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def gw(up: FaultyUpstream) -> Iterator[RunningGateway]:
    # `priced` is an OpenAI catalog row pointed at the fake, so targets carry OpenAI's prices.
    config = routing_config(up, MODELS)
    config["providers"]["priced"] = {**provider(up.base_url), "kind": "openai"}
    with RunningGateway(config) as gateway:
        yield gateway


@pytest.fixture
def client(gw: RunningGateway, up: FaultyUpstream) -> Client:
    up.reset()
    return Client(gw)


def test_weighted_spreads_calls_by_weight(client: Client, up: FaultyUpstream) -> None:
    for _ in range(200):
        assert client.chat("weighted").status == 200
    share = Counter(up.calls)["weighted-a"] / 200
    assert 0.6 < share < 0.9  # weight 3 of 4


def test_latency_moves_to_the_faster_target(client: Client, up: FaultyUpstream) -> None:
    up.script("latency-a", "slow:0.3")
    for _ in range(4):
        client.chat("latency")
    assert up.calls == ["latency-a", "latency-b", "latency-b", "latency-b"]


def test_least_busy_avoids_the_target_with_calls_in_flight(client: Client, up: FaultyUpstream) -> None:
    up.script("least_busy-a", "slow:1")
    up.script("least_busy-b", "slow:1")
    busy = threading.Thread(target=client.chat, args=("least_busy",))
    busy.start()
    assert up.wait_until(lambda: len(up.calls) == 1)
    first = up.calls[0]
    client.chat("least_busy")
    busy.join(5)
    assert len(up.calls) == 2 and up.calls[1] != first


def test_cost_prefers_the_cheaper_model(client: Client, up: FaultyUpstream) -> None:
    answer = client.chat("cost")
    assert answer.headers["x-tollhouse-target"] == "priced/gpt-4o-mini"
    assert up.calls == ["gpt-4o-mini"]


def test_conditions_route_by_header_metadata_and_principal(client: Client, up: FaultyUpstream) -> None:
    premium = client.post(
        "/v1/chat/completions",
        {"model": "tiered", "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-tier": "premium"},
    )
    assert premium.headers["x-tollhouse-target"] == "up/premium"
    evaluation = client.chat("tiered", metadata={"purpose": "eval"})
    assert evaluation.headers["x-tollhouse-target"] == "up/eval"
    # Neither header nor metadata: only the master-key target (a lower tier) is eligible.
    assert client.chat("tiered").headers["x-tollhouse-target"] == "up/ops"
