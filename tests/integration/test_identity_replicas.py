"""Two gateway processes sharing PostgreSQL and Redis: a key revoked through one replica's
admin API is refused by the other within the invalidation window, long before its polling
interval would have noticed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import free_port
from tests.support.identity import admin_request, call, identity_config, seed
from tollhouse.storage.engine import create_engine

PG_ADMIN_URL = os.environ.get("TOLLHOUSE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TOLLHOUSE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POLL_S = 30.0  # far longer than the test waits: only the Redis notification can be in time
WINDOW_S = 2.0


async def _database(name: str, create: bool) -> None:
    engine = create_engine(PG_ADMIN_URL)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            if create:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


@pytest.fixture
def database() -> Iterator[str]:
    name = f"th_replicas_{uuid.uuid4().hex[:10]}"
    asyncio.run(_database(name, create=True))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(_database(name, create=False))


def _serve(config: dict[str, Any], path: Path) -> subprocess.Popen[bytes]:
    path.write_text(yaml.safe_dump(config))
    with path.with_suffix(".log").open("wb") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(
            [sys.executable, "-m", "tollhouse.cli.main", "serve", "--config", str(path)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if call(port, None, path="/healthz")[0] == 200:
                return
        except OSError:
            pass
        assert time.monotonic() < deadline, "replica did not start"
        time.sleep(0.1)


def test_revocation_crosses_replicas_through_redis(
    fake_openai: FakeOpenAI, database: str, tmp_path: Path
) -> None:
    seeded = asyncio.run(seed(database))
    ports = [free_port(), free_port()]
    admin_port = free_port()
    replicas = []
    try:
        for i, port in enumerate(ports):
            config = identity_config(
                fake_openai.base_url,
                database,
                server={"port": port, "body_timeout_s": 2},
                redis={"url": REDIS_URL},
                identity={"enabled": True, "refresh_interval_s": POLL_S, "last_used_flush_s": 3600},
                admin={"enabled": i == 0, "port": admin_port},
            )
            replicas.append(_serve(config, tmp_path / f"replica{i}.yaml"))
        for i, (port, process) in enumerate(zip(ports, replicas, strict=True)):
            _wait_ready(port, process, tmp_path / f"replica{i}.log")

        key = seeded.keys["alice"]
        assert [call(port, key)[0] for port in ports] == [200, 200]
        status, _, _ = admin_request(
            admin_port, "POST", f"/v1/keys/{seeded.key_ids['alice']}/revoke", "sk-client-master-0001"
        )
        assert status == 200
        revoked_at = time.monotonic()
        while call(ports[1], key)[0] != 401:
            assert time.monotonic() - revoked_at < WINDOW_S, "replica 2 still accepts the revoked key"
            time.sleep(0.02)
        assert call(ports[0], key)[0] == 401
        assert [call(port, seeded.keys["scoped"])[0] for port in ports] == [200, 200]  # others unaffected
    finally:
        for process in replicas:
            process.terminate()
        for process in replicas:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
