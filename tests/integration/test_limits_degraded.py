"""Redis killed under a running gateway: each limit follows its degraded mode; Redis back, counters resume.

The Redis here is the test's own ``redis-server`` on another loopback port, killed and
restarted by the test; the machine's shared Redis is not involved.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.limits_support import PrivateRedis, chat_body, gateway_config, post, run
from tests.support.gateway import RunningGateway

PREFIX = "degraded:"
OPEN_LIMIT = 5


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path).start()
    yield server
    server.kill()


def _config(upstream: str, database: str, redis_url: str) -> dict[str, Any]:
    limits = {
        "backend": "redis",
        "key_prefix": PREFIX,
        "redis_timeout_s": 0.3,
        "redis_retry_s": 0.3,
        "rules": [
            {"name": "open", "metric": "requests", "limit": OPEN_LIMIT, "match": {"model": ["free"]},
             "degraded": "fail_open"},
            {"name": "closed", "metric": "requests", "limit": 100, "match": {"model": ["gpt-test"]},
             "degraded": "fail_closed"},
        ],
    }  # fmt: skip
    return gateway_config(upstream, database, limits, redis={"url": redis_url})


async def _calls(url: str, model: str, count: int) -> list[tuple[int, Any]]:
    async with aiohttp.ClientSession() as session:
        out = []
        for _ in range(count):
            status, headers, body = await post(session, url, chat_body(model, tag=uuid.uuid4().hex))
            out.append((status, body if status != 200 else headers))
        return out


def test_degraded_modes_then_recovery(
    upstream: FakeOpenAI, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    config = _config(upstream.base_url, f"sqlite:///{tmp_path / 'degraded.db'}", private_redis.url)
    with RunningGateway(config) as gateway:
        assert [s for s, _ in run(_calls(gateway.url, "free", 2))] == [200, 200]
        assert [s for s, _ in run(_calls(gateway.url, "gpt-test", 1))] == [200]
        client = private_redis.client()
        assert int(client.hget(f"{PREFIX}open:master-0", "u") or 0) == 2
        client.close()

        private_redis.kill()
        closed = run(_calls(gateway.url, "gpt-test", 3))
        assert [s for s, _ in closed] == [503, 503, 503]
        assert all(body["error"]["code"] == "limits_unavailable" for _, body in closed)
        # fail_open: this process's own counters take over, starting from nothing
        opened = run(_calls(gateway.url, "free", OPEN_LIMIT + 2))
        assert [s for s, _ in opened] == [200] * OPEN_LIMIT + [429, 429]
        assert run(_calls(gateway.url, "free", 1))[0][0] == 429  # still counted locally, no crash

        restarted = PrivateRedis(tmp_path)
        restarted.port, restarted.url = private_redis.port, private_redis.url
        restarted.start()
        try:
            time.sleep(0.5)  # past redis_retry_s: the next call tries Redis again
            deadline = time.monotonic() + 5
            while run(_calls(gateway.url, "gpt-test", 1))[0][0] != 200:
                assert time.monotonic() < deadline, "counters did not resume on Redis"
                time.sleep(0.1)
            assert [s for s, _ in run(_calls(gateway.url, "free", 2))] == [200, 200]
            client = restarted.client()
            assert int(client.hget(f"{PREFIX}open:master-0", "u") or 0) == 2  # counted in Redis again
            assert int(client.hget(f"{PREFIX}closed:master-0", "u") or 0) >= 1
            client.close()
        finally:
            restarted.kill()


def test_a_password_and_a_database_number_are_used(tmp_path: Path) -> None:
    from tollhouse.limits.counters import COUNT, Admission, Expiry, Op
    from tollhouse.limits.redis_store import RedisStore

    server = PrivateRedis(tmp_path, password="s3cret-pass").start()
    try:

        async def admit() -> bool:
            store = RedisStore(f"redis://:s3cret-pass@127.0.0.1:{server.port}/3", timeout_s=2)
            try:
                op = Op("authed:key", COUNT, 1, 5, Expiry("a", 60_000))
                return (await store.admit(Admission("r1", (op,), 1000))).admitted
            finally:
                await store.close()

        assert run(admit())
        client = server.client()
        client.select(3)
        assert client.hget("authed:key", "u") == b"1"
        client.close()
    finally:
        server.kill()
