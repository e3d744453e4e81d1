"""Helpers for the limits integration tests: gateway processes, a private Redis, HTTP calls.

Replicas are real ``tollhouse serve`` processes; the private Redis is a ``redis-server`` on a
free loopback port that a test may kill and restart (the machine's shared Redis on 6379 is
never touched beyond the keys a test's own prefix names).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import redis
import yaml
from sqlalchemy import text

from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, free_port
from tollhouse.storage.engine import create_engine

REDIS_URL = os.environ.get("TOLLHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PG_ADMIN = os.environ.get("TOLLHOUSE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
AUTH = {"authorization": f"Bearer {CLIENT_KEY}"}
PRICE = {"input": 1000.0, "output": 2000.0}  # USD per million tokens: a token costs a thousandth of a cent


def gateway_config(upstream: str, database: str, limits: dict[str, Any], **sections: Any) -> dict[str, Any]:
    """A gateway on the fake upstream: a priced alias (`priced`), unpriced ones (`gpt-test`, `free`)."""
    return {
        "server": {"body_timeout_s": 5},
        "auth": {"master_keys": [CLIENT_KEY]},
        "providers": {
            "fake": {
                "kind": "openai_compatible",
                "base_url": upstream,
                "api_key": UPSTREAM_KEY,
                "timeouts": {"connect_s": 2, "first_byte_s": 10, "total_s": 30},
            }
        },
        "models": [
            {"alias": "gpt-test", "target": "fake/gpt-4o-mini"},
            {"alias": "free", "target": "fake/gpt-4o-mini"},
            {"alias": "priced", "target": "fake/priced-model", "price": PRICE},
            {"alias": "hang-stream", "target": "fake/hang-stream", "price": PRICE},
            {"alias": "slow", "target": "fake/hang-stream"},
        ],
        "database": {"url": database},
        "logging": {"level": "warning"},
        "limits": limits,
        **sections,
    }


def cost_nusd(prompt_tokens: int, completion_tokens: int) -> int:
    """What the gateway charges for this usage at ``PRICE``, computed the way it does."""
    cost = (prompt_tokens * PRICE["input"] + completion_tokens * PRICE["output"]) / 1_000_000
    return round(cost * 1_000_000_000)


class Replica:
    """One ``tollhouse serve`` process."""

    def __init__(self, config: dict[str, Any], directory: Path, name: str) -> None:
        self.path = directory / f"{name}.yaml"
        self.path.write_text(yaml.safe_dump(config))
        self.log = directory / f"{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Replica:
        with self.log.open("ab") as out:
            command = [sys.executable, "-m", "tollhouse.cli.main", "serve", "-c", str(self.path)]
            self.proc = subprocess.Popen(
                [*command, "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.1)
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None


class PrivateRedis:
    """A ``redis-server`` of the test's own, on a free port, without persistence."""

    def __init__(self, directory: Path, password: str | None = None) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = directory
        self._password = password
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self._password:
            args += ["--requirepass", self._password]
        self.proc = subprocess.Popen([*args, "--dir", str(self._dir)], stdout=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self._password)


def clear_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def counter(url: str, key: str) -> tuple[int, int]:
    """A counter's (used, held) as stored in Redis."""
    client = redis.Redis.from_url(url)
    used, held = client.hmget(key, "u", "h")
    client.close()
    return int(used or 0), int(held or 0)


async def pg_database() -> str:
    """A fresh PostgreSQL database; its URL."""
    name = f"th_limits_{uuid.uuid4().hex[:10]}"
    await _pg(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


async def drop_pg_database(url: str) -> None:
    await _pg(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def _pg(statement: str) -> None:
    engine = create_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def chat_body(
    model: str = "priced", words: int = 8, max_tokens: int = 16, stream: bool = False, tag: str = ""
) -> dict[str, Any]:
    content = " ".join([*(f"word{i}" for i in range(words)), tag]).strip()
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": content}]}
    body["max_tokens"] = max_tokens
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


async def post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    async with session.post(
        f"{url}/v1/chat/completions", json=body, headers={**AUTH, **(headers or {})}
    ) as r:
        data = await r.read()
        headers = {k.lower(): v for k, v in r.headers.items()}
        return r.status, headers, orjson.loads(data) if data else None


async def stream_usage(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any] | None, Any]:
    """A streamed chat: status, the usage of its last chunk, and the error body when refused."""
    async with session.post(
        f"{url}/v1/chat/completions", json=body, headers={**AUTH, **(headers or {})}
    ) as r:
        if r.status != 200:
            return r.status, None, orjson.loads(await r.read())
        usage = None
        async for line in r.content:
            if line.startswith(b"data: {"):
                chunk = orjson.loads(line[6:])
                usage = chunk.get("usage") or usage
        return 200, usage, None


def run(coro: Any) -> Any:
    return asyncio.run(coro)
