"""The audit trail across real gateway processes: SIGKILL under strict load, workers, replicas.

Each test runs ``python -m tollhouse.cli.main serve --config …`` as a separate process, so a
crash is a real SIGKILL and every worker writes its own chain to a real database.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from sqlalchemy import text

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.audit_chain import MASTER_KEY, SIGNING_KEY, signer
from tests.support.gateway import CLIENT_KEY, free_port, upstream_config
from tollhouse.audit.reader import AuditReader
from tollhouse.audit.service import AuditService
from tollhouse.audit.verify import VerifyReport
from tollhouse.storage.engine import create_engine

PG_ADMIN = os.environ.get("TOLLHOUSE_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
HEADERS = {"authorization": f"Bearer {CLIENT_KEY}"}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    name = f"audit_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _pg_admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


class Served:
    """One `tollhouse serve` process."""

    def __init__(self, config: dict[str, Any], tmp_path: Path, name: str, workers: int = 1) -> None:
        self.path = tmp_path / f"{name}.yaml"
        self.path.write_text(yaml.safe_dump(config))
        self.log = tmp_path / f"{name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Served:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tollhouse.cli.main",
                    "serve",
                    "--config",
                    str(self.path),
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.2)
        return self

    def _ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def gateway_config(fake: FakeOpenAI, url: str, mode: str, **audit: Any) -> dict[str, Any]:
    config = upstream_config(fake.base_url)
    config["database"] = {"url": url}
    config["audit"] = {
        "enabled": True,
        "mode": mode,
        "content": {"mode": "full", "master_key": base64.b64encode(MASTER_KEY).decode()},
        "checkpoints": {"signing_key": SIGNING_KEY, "every": 50, "interval_s": 1},
        **audit,
    }
    return config


async def _call(session: aiohttp.ClientSession, url: str, n: int) -> str | None:
    """One chat call (every third streamed); the request id if the whole answer arrived."""
    stream = n % 3 == 0
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": f"call {n}"}], "stream": stream}
    try:
        async with session.post(f"{url}/v1/chat/completions", json=body, headers=HEADERS) as resp:
            data = await resp.read()
            if resp.status != 200:
                return None
            complete = b"data: [DONE]" in data if stream else data.rstrip().endswith(b"}")
            return resp.headers["x-request-id"] if complete else None
    except (TimeoutError, aiohttp.ClientError):
        return None


async def _load(url: str, seconds: float, concurrency: int = 8) -> list[str]:
    """Calls from ``concurrency`` clients for ``seconds``; the ids of those fully answered."""
    done: list[str] = []
    deadline = time.monotonic() + seconds
    counter = iter(range(1_000_000))

    async def client() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while time.monotonic() < deadline:
                request_id = await _call(session, url, next(counter))
                if request_id:
                    done.append(request_id)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return done


async def _recorded_pairs(url: str, request_ids: list[str]) -> dict[str, set[str]]:
    """The record types of each of ``request_ids``, read from every chain in full (a search
    returns at most the newest 10,000 records; a fast gateway writes more here)."""
    engine = create_engine(url)
    try:
        reader, wanted = AuditReader(engine), set(request_ids)
        found: dict[str, set[str]] = {}
        for chain in await reader.chains():
            async for record in reader.records(chain.chain_id):
                request_id = record.columns["request_id"]
                if request_id in wanted:
                    found.setdefault(request_id, set()).add(record.columns["type"])
        return found
    finally:
        await engine.dispose()


def test_sigkill_under_strict_load_loses_no_answered_call(
    database_url: str, tmp_path: Path, upstream: FakeOpenAI
) -> None:
    served = Served(gateway_config(upstream, database_url, "strict"), tmp_path, "gw").start()
    try:

        async def load_then_kill() -> list[str]:
            task = asyncio.ensure_future(_load(served.url, seconds=2.5))
            await asyncio.sleep(1.5)
            served.kill()  # mid-load: requests are in flight, commits in progress
            return await task

        answered = asyncio.run(load_then_kill())
        assert len(answered) > 20
        served.start()  # the same replica again: its new chain links the crashed one
        assert asyncio.run(_load(served.url, seconds=0.5, concurrency=2))
    finally:
        served.stop()
    pairs = asyncio.run(_recorded_pairs(database_url, answered))
    missing = [rid for rid in answered if pairs.get(rid) != {"llm.request", "llm.response"}]
    assert not missing, f"{len(missing)} answered calls lack a record: {missing[:5]}"
    report = asyncio.run(_verify(database_url))
    assert report.ok, report.problems
    assert report.notes == []  # the crashed chain is linked, not left open
    crashed, restarted = report.chains
    assert not crashed.closed and restarted.closed
    assert restarted.records > 1


async def _verify(url: str) -> VerifyReport:
    engine = create_engine(url)
    try:
        return await AuditService(engine, [signer().public_key]).verify()
    finally:
        await engine.dispose()


async def _chains(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return [c.chain_id for c in await AuditReader(engine).chains()]
    finally:
        await engine.dispose()


def test_workers_and_replicas_write_separate_chains_that_all_verify(
    tmp_path: Path, upstream: FakeOpenAI
) -> None:
    name = f"audit_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    replicas = [
        Served(gateway_config(upstream, url, mode, replica_id=f"replica-{i}"), tmp_path, f"r{i}", workers=2)
        for i, mode in enumerate(("async", "strict"))
    ]
    try:
        for replica in replicas:
            replica.start()

        async def spread() -> list[str]:
            return [
                rid for replica in replicas for rid in await _load(replica.url, seconds=1.0, concurrency=4)
            ]

        answered = asyncio.run(spread())
        for replica in replicas:
            replica.stop()
        chains = asyncio.run(_chains(url))
        assert len(chains) == 4  # two workers in each of two replicas
        assert {c.split("-")[1] for c in chains} == {"0", "1"}
        pairs = asyncio.run(_recorded_pairs(url, answered))
        assert all(pairs.get(rid) == {"llm.request", "llm.response"} for rid in answered)
        report = asyncio.run(_verify(url))
        assert report.ok, report.problems
        assert all(chain.closed for chain in report.chains) and report.notes == []
    finally:
        for replica in replicas:
            replica.stop()
        asyncio.run(_pg_admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


async def _outage(name: str) -> None:
    """PostgreSQL refuses new connections to database ``name`` and ends the open ones."""
    await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    ends = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"  # noqa: S608 - our name
    await _pg_admin(ends)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_records_queued_through_an_outage_are_written_when_the_gateway_stops(
    database_url: str, tmp_path: Path, upstream: FakeOpenAI
) -> None:
    """async mode keeps answering while PostgreSQL refuses connections and the writer's
    commits fail, more times in a row than shutdown retries; the database is back when the
    gateway is stopped: everything queued is written and the chain closes. (Shutdown once
    counted the failures of the outage as its own tries and dropped the queue untried.)"""
    name = database_url.rsplit("/", 1)[1]
    served = Served(gateway_config(upstream, database_url, "async"), tmp_path, "gw").start()
    try:
        answered = asyncio.run(_load(served.url, seconds=0.5, concurrency=2))
        asyncio.run(_outage(name))
        deadline = time.monotonic() + 20
        while "failed (attempt 5)" not in served.log.read_text():  # 3 s of backoff
            assert time.monotonic() < deadline, served.log.read_text()
            answered += asyncio.run(_load(served.url, seconds=0.5, concurrency=2))
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        served.stop()  # while the writer waits out its backoff
    finally:
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        served.stop()
    log = served.log.read_text()
    assert "lost" not in log and "could not" not in log, log
    pairs = asyncio.run(_recorded_pairs(database_url, answered))
    assert len(answered) > 20
    assert all(pairs.get(rid) == {"llm.request", "llm.response"} for rid in answered)
    report = asyncio.run(_verify(database_url))
    assert report.ok, report.problems
    assert [chain.closed for chain in report.chains] == [True] and report.notes == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_database_gone_at_shutdown_leaves_an_open_chain_the_next_start_links(
    database_url: str, tmp_path: Path, upstream: FakeOpenAI
) -> None:
    """The database refuses connections through shutdown: the gateway still stops, saying what
    it could not write (no spill file: the queued records are counted lost) without a
    traceback; the next start links the chain it left open, and everything written verifies."""
    name = database_url.rsplit("/", 1)[1]
    served = Served(gateway_config(upstream, database_url, "async"), tmp_path, "gw").start()
    try:
        assert asyncio.run(_load(served.url, seconds=0.3, concurrency=2))
        asyncio.run(_outage(name))
        assert asyncio.run(_load(served.url, seconds=0.3, concurrency=2))  # async mode answers on
        started = time.monotonic()
        served.stop()
        assert time.monotonic() - started < 20
        log = served.log.read_text()
        assert "queued records lost (no spill_path configured)" in log
        assert "could not append chain.close after 5 tries" in log
        assert "Traceback" not in log and "failed to stop cleanly" not in log, log
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        served.start()
    finally:
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        served.stop()
    report = asyncio.run(_verify(database_url))
    assert report.ok, report.problems
    assert report.notes == []  # the open chain is linked by its successor, not left unexplained
    left_open, restarted = report.chains
    assert not left_open.closed and restarted.closed


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_strict_calls_are_served_again_soon_after_the_database_returns(
    database_url: str, tmp_path: Path, upstream: FakeOpenAI
) -> None:
    """In strict mode calls are refused while the database is away; once it is back, the
    writer's next try comes within half a second while calls wait, not after the rest of a
    backoff that had grown towards five seconds (calls were refused all that time)."""
    name = database_url.rsplit("/", 1)[1]
    served = Served(
        gateway_config(upstream, database_url, "strict", block_timeout_s=1), tmp_path, "gw"
    ).start()
    try:
        assert asyncio.run(_load(served.url, seconds=0.3, concurrency=2))
        asyncio.run(_outage(name))
        assert asyncio.run(_load(served.url, seconds=4, concurrency=2)) == []  # nothing unrecorded
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        back = time.monotonic()
        served_again = asyncio.run(_load(served.url, seconds=1.5, concurrency=2))
        assert served_again, (
            f"no call served within 1.5 s of the database's return ({time.monotonic() - back:.1f} s)"
        )
    finally:
        asyncio.run(_pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        served.stop()
    pairs = asyncio.run(_recorded_pairs(database_url, served_again))
    assert all(pairs.get(rid) == {"llm.request", "llm.response"} for rid in served_again)
    assert asyncio.run(_verify(database_url)).ok
