"""Brute-force protection through the gateway: repeated failures from one client get 429."""

from __future__ import annotations

import time

import redis

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port, upstream_config
from tests.support.identity import call
from tollhouse.policies.auth_failures import PREFIX


def test_repeated_failures_are_rate_limited(fake_openai: FakeOpenAI) -> None:
    config = upstream_config(fake_openai.base_url)
    config["auth_throttle"] = {"max_failures": 5, "window_s": 60, "block_s": 30}
    with RunningGateway(config) as gw:
        for i in range(4):
            assert call(gw.port, f"sk-guess-{i:04d}-xxxxxxxx")[0] == 401
        for _ in range(3):
            assert call(gw.port, None)[0] == 401  # no key at all is not a guess: not counted
        assert call(gw.port, CLIENT_KEY)[0] == 200
        assert call(gw.port, "sk-guess-0004-xxxxxxxx")[0] == 401  # the fifth failure
        status, headers, body = call(gw.port, "sk-guess-9999-xxxxxxxx")
        assert status == 429 and headers["retry-after"] == "30"
        assert body["error"]["code"] == "auth_throttled"
        # The block holds for the client whatever it sends, even a good key, until it expires.
        assert call(gw.port, CLIENT_KEY)[0] == 429
        assert call(gw.port, CLIENT_KEY, path="/v1/models")[0] == 429


REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own: the count is per client address


def _shared_config(upstream_url: str, redis_url: str, max_failures: int) -> dict[str, object]:
    config = upstream_config(upstream_url)
    config["auth_throttle"] = {"max_failures": max_failures, "window_s": 60, "block_s": 30}
    config["redis"] = {"url": redis_url}
    return config


def _forget_failures() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(PREFIX + "127.0.0.1")
    finally:
        client.close()


def _until_blocked(port: int) -> None:
    """A good key gets 429 within a second (successes are not counted, so polling is harmless)."""
    deadline = time.monotonic() + 1.0
    while call(port, CLIENT_KEY)[0] != 429:
        assert time.monotonic() < deadline, "the client was not blocked"
        time.sleep(0.02)


def test_replicas_share_the_failure_count_through_redis(fake_openai: FakeOpenAI) -> None:
    _forget_failures()
    config = _shared_config(fake_openai.base_url, REDIS_URL, max_failures=6)
    with RunningGateway(config) as first, RunningGateway(config) as second:
        for i in range(3):
            assert call(first.port, f"sk-guess-a{i:03d}-xxxxxxxx")[0] == 401
        assert call(second.port, CLIENT_KEY)[0] == 200  # a success costs no Redis call, resets nothing
        for i in range(3):
            assert call(second.port, f"sk-guess-b{i:03d}-xxxxxxxx")[0] == 401
        # Six failures in all, three on each replica: the second one (which saw the sixth) blocks.
        # (A failure is counted after its 401 is sent: wait for the count, not for a fixed time.)
        _until_blocked(second.port)
        # The first has seen only three, but its next failure reads the shared count and blocks too:
        # two replicas allow 6 + 1 guesses, not 12.
        assert call(first.port, "sk-guess-a999-xxxxxxxx")[0] == 401
        _until_blocked(first.port)
        status, headers, _ = call(first.port, CLIENT_KEY)
        assert status == 429 and headers["retry-after"] == "30"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert int(client.get(PREFIX + "127.0.0.1") or 0) == 7
        assert 0 < client.ttl(PREFIX + "127.0.0.1") <= 30  # kept for the block, then forgotten
    finally:
        client.delete(PREFIX + "127.0.0.1")
        client.close()


def test_without_redis_each_replica_counts_for_itself(fake_openai: FakeOpenAI) -> None:
    """Redis down (nothing listens on its port): the throttle fails open to local counting."""
    config = _shared_config(fake_openai.base_url, f"redis://127.0.0.1:{free_port()}/0", max_failures=3)
    with RunningGateway(config) as gw:
        for i in range(3):
            assert call(gw.port, f"sk-guess-c{i:03d}-xxxxxxxx")[0] == 401
        _until_blocked(gw.port)
