"""Fault injection: every way an upstream fails, and what the client gets through the router.

The gateway runs for real (uvicorn) in front of a ``FaultyUpstream``; each alias routes to
models on it whose next answers a test scripts. After every test the gateway holds no extra
tasks and the upstream no running handler; after the module no connection stays open.
Circuit breaking is off here (its own tests are in test_routing_circuit.py), so failures in
one test do not change routing in the next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.fakes.faulty_upstream import FaultyUpstream
from tests.support.gateway import RunningGateway
from tests.support.routing import Client, gateway_tasks, routing_config, settled

RETRY = {"max_attempts": 2, "initial_backoff_s": 0.01, "max_backoff_s": 0.05, "max_retry_after_s": 2}
MODELS = [
    {
        "alias": "pair",
        "targets": [{"target": "up/a"}, {"target": "up/b"}],
        "retry": RETRY,
        "timeouts": {"first_byte_s": 1.0, "idle_s": 0.5},
    },
    {
        "alias": "sizes",
        "targets": [
            {"target": "up/small", "context_window": 8000},
            {"target": "up/same", "context_window": 8000},
            {"target": "up/large", "context_window": 128000},
        ],
    },
    {
        "alias": "guarded",
        "targets": [{"target": "up/strict"}, {"target": "up/other"}],
        "fallbacks": {"content_filter": ["up/lenient"]},
    },
    {"alias": "unguarded", "targets": [{"target": "up/strict"}, {"target": "up/other"}]},
    {"alias": "refused", "targets": [{"target": "down/a"}, {"target": "up/b"}]},
    {"alias": "hurry", "target": "up/a", "deadline_s": 0.5},
    {"alias": "plain", "target": "up/plain"},
]


@pytest.fixture(scope="module")
def up() -> Iterator[FaultyUpstream]:
    with FaultyUpstream(hang_s=5) as server:
        yield server


@pytest.fixture(scope="module")
def gw(up: FaultyUpstream) -> Iterator[RunningGateway]:
    with RunningGateway(routing_config(up, MODELS, routing={"circuit": None})) as gateway:
        Client(gateway).chat("plain")  # starts what the gateway starts lazily, before any count
        yield gateway
    # The gateway closed its pool: nothing it opened may stay open.
    assert up.wait_until(lambda: up.open_connections == 0)


@pytest.fixture
def client(gw: RunningGateway, up: FaultyUpstream) -> Iterator[Client]:
    up.reset()
    before = gateway_tasks(gw)
    yield Client(gw)
    assert settled(lambda: up.active, 0), "an upstream handler is still running"
    assert settled(lambda: gateway_tasks(gw), before), "the gateway kept a task"
    assert up.open_connections <= 2, "connections pile up instead of being reused or closed"


CASES = [
    # behaviours of up/a, status, upstream calls in order, answering target
    (["500"], 200, ["a", "a"], "up/a"),
    (["503", "503"], 200, ["a", "a", "b"], "up/b"),
    (["429:30"], 200, ["a", "b"], "up/b"),  # Retry-After beyond max_retry_after_s: fall back now
    (["400"], 400, ["a"], None),
    (["hang", "hang"], 200, ["a", "a", "b"], "up/b"),  # no headers within first_byte_s
    (["garbage", "garbage"], 200, ["a", "a", "b"], "up/b"),
    (["reset", "reset"], 200, ["a", "a", "b"], "up/b"),
    (["truncate", "truncate"], 200, ["a", "a", "b"], "up/b"),
]


@pytest.mark.parametrize(("script", "status", "calls", "target"), CASES, ids=lambda v: str(v))
def test_json_calls_retry_and_fall_back_as_documented(
    client: Client, up: FaultyUpstream, script: list[str], status: int, calls: list[str], target: str | None
) -> None:
    up.script("a", *script)
    answer = client.chat("pair")
    assert answer.status == status, answer.body
    assert up.calls == calls
    assert answer.headers["x-tollhouse-attempts"] == str(len(calls))
    if target is not None:
        assert answer.headers["x-tollhouse-target"] == target
        assert answer.json()["choices"][0]["message"]["content"]
    else:
        assert answer.json()["error"]["code"] == "upstream_rejected"
        assert "x-tollhouse-target" not in answer.headers


def test_retry_after_is_honoured(client: Client, up: FaultyUpstream) -> None:
    up.script("a", "429:1")
    started = time.monotonic()
    answer = client.chat("pair")
    assert answer.status == 200 and up.calls == ["a", "a"]
    assert time.monotonic() - started >= 1.0


def test_when_every_target_fails_the_last_error_is_returned(client: Client, up: FaultyUpstream) -> None:
    up.script("a", "500", "500")
    up.script("b", "429", "429")
    answer = client.chat("pair")
    assert answer.status == 429 and answer.json()["error"]["type"] == "rate_limit_error"
    assert up.calls == ["a", "a", "b", "b"]
    assert answer.headers["x-tollhouse-attempts"] == "4"


def test_connection_refused_falls_back(client: Client, up: FaultyUpstream) -> None:
    answer = client.chat("refused")
    assert answer.status == 200 and answer.headers["x-tollhouse-target"] == "up/b"
    assert answer.headers["x-tollhouse-attempts"] == "2"


def test_the_deadline_bounds_the_whole_call(client: Client, up: FaultyUpstream) -> None:
    up.script("a", "slow:3")
    started = time.monotonic()
    answer = client.chat("hurry")
    assert time.monotonic() - started < 2
    assert answer.status == 504 and answer.json()["error"]["code"] == "deadline_exceeded"


def test_a_prompt_too_long_goes_to_a_larger_context_model(client: Client, up: FaultyUpstream) -> None:
    up.script("small", "context")
    answer = client.chat("sizes")
    assert answer.status == 200 and answer.headers["x-tollhouse-target"] == "up/large"
    assert up.calls == ["small", "large"]


def test_a_content_filter_refusal_goes_only_to_the_configured_alternative(
    client: Client, up: FaultyUpstream
) -> None:
    up.script("strict", "filter")
    answer = client.chat("guarded")
    assert answer.status == 200 and answer.headers["x-tollhouse-target"] == "up/lenient"
    assert up.calls == ["strict", "lenient"]
    up.reset()
    up.script("strict", "filter")
    refused = client.chat("unguarded")
    assert refused.status == 400 and refused.json()["error"]["code"] == "content_filter"
    assert up.calls == ["strict"]


STREAM_FAILOVER = [
    (["500"], ["a", "a"], "up/a"),
    (["503", "503"], ["a", "a", "b"], "up/b"),
    (["hang", "hang"], ["a", "a", "b"], "up/b"),
    (["empty", "empty"], ["a", "a", "b"], "up/b"),  # 200 with no events: nothing reached the client
]


@pytest.mark.parametrize(("script", "calls", "target"), STREAM_FAILOVER, ids=lambda v: str(v))
def test_streams_fail_over_before_the_first_byte(
    client: Client, up: FaultyUpstream, script: list[str], calls: list[str], target: str
) -> None:
    up.script("a", *script)
    answer = client.chat("pair", stream=True)
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert answer.headers["x-tollhouse-target"] == target
    assert answer.events()[-1] == "[DONE]"
    assert up.calls == calls


@pytest.mark.parametrize(
    ("behaviour", "code"),
    [("stall", "upstream_timeout"), ("reset", "upstream_error"), ("truncate", "upstream_error")],
)
def test_after_the_first_byte_a_failure_ends_the_stream_with_an_error_event(
    client: Client, up: FaultyUpstream, behaviour: str, code: str
) -> None:
    up.script("a", behaviour)
    answer = client.chat("pair", stream=True)
    assert answer.status == 200
    events = answer.events()
    assert '"content"' in events[0] or '"role"' in events[0]  # the caller got content first
    assert '"error"' in events[-1] and f'"code":"{code}"' in events[-1]
    assert "[DONE]" not in events
    assert up.calls == ["a"]  # no fallback once bytes went out


def test_the_gateway_serves_other_calls_while_one_upstream_hangs(client: Client, up: FaultyUpstream) -> None:
    up.script("a", "stall")
    slow = threading.Thread(target=client.chat, args=("pair",), kwargs={"stream": True})
    slow.start()
    assert up.wait_until(lambda: up.calls == ["a"])
    started = time.monotonic()
    for _ in range(5):
        assert client.chat("plain").status == 200
    assert time.monotonic() - started < 1.0
    slow.join(10)
    assert not slow.is_alive()


def test_a_direct_alias_still_maps_failures_without_a_router(client: Client, up: FaultyUpstream) -> None:
    up.script("plain", "503")
    answer = client.chat("plain")
    assert answer.status == 502 and up.calls == ["plain"]
    assert "x-tollhouse-attempts" not in answer.headers  # the direct path adds nothing
