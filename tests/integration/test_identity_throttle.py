"""Brute-force protection through the gateway: repeated failures from one client get 429."""

from __future__ import annotations

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, upstream_config
from tests.support.identity import call


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
