"""Three gateway processes sharing one Redis and one PostgreSQL: limits hold across them.

Every test drives real ``tollhouse serve`` replicas over HTTP, round-robin, from many
concurrent clients; the upstream is the fake OpenAI server. Counters are read back from
Redis and spend from the ledger in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.limits_support import (
    AUTH,
    REDIS_URL,
    Replica,
    chat_body,
    clear_prefix,
    cost_nusd,
    counter,
    drop_pg_database,
    gateway_config,
    pg_database,
    post,
    run,
    stream_usage,
)
from tests.support.gateway import UPSTREAM_KEY
from tollhouse.limits.tables import ledger
from tollhouse.storage.engine import create_engine

RPM = 37
BUDGET_USD = 3.0
MAX_CALLS = 50
LOOP_REPEATS = 3


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(require_key=UPSTREAM_KEY, chunk_delay_s=0.02, hang_s=20) as fake:
        yield fake


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    name = f"test-replicas:{uuid.uuid4().hex[:10]}:"
    yield name
    clear_prefix(REDIS_URL, name)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = run(pg_database())
    yield url
    run(drop_pg_database(url))


def _limits(prefix: str) -> dict[str, Any]:
    return {
        "backend": "redis",
        "key_prefix": prefix,
        "kill_poll_s": 0.3,
        "ledger": {"flush_interval_s": 0.2},
        "rules": [
            {"name": "rpm", "metric": "requests", "limit": RPM, "by": ["key"], "match": {"model": ["gpt-test"]}},
            {"name": "budget", "metric": "spend", "limit": BUDGET_USD, "by": [], "window": "day",
             "match": {"model": ["priced"]}},
        ],
        "sessions": {"max_calls": MAX_CALLS, "loop": {"max_repeats": LOOP_REPEATS, "kill_session": True}},
    }  # fmt: skip


@pytest.fixture(scope="module")
def replicas(
    upstream: FakeOpenAI, database: str, prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Replica]]:
    directory = tmp_path_factory.mktemp("replicas")
    config = gateway_config(upstream.base_url, database, _limits(prefix), redis={"url": REDIS_URL})
    started = [Replica(config, directory, f"replica{i}") for i in range(3)]
    try:
        for replica in started:
            replica.start()
        yield started
    finally:
        for replica in started:
            replica.stop()


def _urls(replicas: list[Replica]) -> Iterator[str]:
    return itertools.cycle([r.url for r in replicas])


async def _ledger(database: str, request_ids: set[str], timeout_s: float = 10.0) -> dict[str, dict[str, Any]]:
    """The ledger rows of ``request_ids``, once all are written."""
    engine = create_engine(database)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(ledger).where(ledger.c.request_id.in_(request_ids)))).all()
            if len(rows) >= len(request_ids) or time.monotonic() > deadline:
                return {r.request_id: dict(r._mapping) for r in rows}
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


def test_requests_per_minute_admit_exactly_n_across_replicas(replicas: list[Replica]) -> None:
    async def scenario() -> list[tuple[int, dict[str, str], Any]]:
        urls = _urls(replicas)
        gate = asyncio.Semaphore(40)  # forty clients at a time
        async with aiohttp.ClientSession() as session:

            async def one(url: str) -> tuple[int, dict[str, str], Any]:
                async with gate:
                    return await post(session, url, chat_body("gpt-test"))

            return await asyncio.gather(*(one(next(urls)) for _ in range(3 * RPM)))

    results = run(scenario())
    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == RPM
    assert statuses.count(429) == 2 * RPM
    refused = [(headers, body) for status, headers, body in results if status == 429]
    assert all(body["error"]["code"] == "rate_limit_exceeded" for _, body in refused)
    assert all(1 <= int(headers["retry-after"]) <= 60 for headers, _ in refused)
    assert all(headers["x-ratelimit-remaining-requests"] == "0" for headers, _ in refused)
    served = [headers for status, headers, _ in results if status == 200]
    assert sorted(int(h["x-ratelimit-remaining-requests"]) for h in served) == list(range(RPM))


def test_budget_holds_against_200_concurrent_streams(
    replicas: list[Replica], prefix: str, database: str
) -> None:
    async def wave(session: aiohttp.ClientSession) -> list[tuple[int, dict[str, Any] | None, Any]]:
        urls = _urls(replicas)
        body = chat_body("priced", words=30, max_tokens=24, stream=True)
        return await asyncio.gather(*(stream_usage(session, next(urls), body) for _ in range(200)))

    async def scenario() -> list[tuple[int, dict[str, Any] | None, Any]]:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            return [*(await wave(session)), *(await wave(session))]  # the second wave finds what is left

    results = run(scenario())
    served = [usage for status, usage, _ in results if status == 200]
    refused = [body for status, _, body in results if status != 200]
    assert served, "some streams must fit in the budget"
    assert refused, "400 streams at this price cannot all fit"
    assert all(body["error"]["code"] == "budget_exceeded" for body in refused)
    assert all(usage is not None for usage in served)
    actual = sum(cost_nusd(u["prompt_tokens"], u["completion_tokens"]) for u in served if u)
    key = f"{prefix}budget:*"
    deadline = time.monotonic() + 5
    while (spent := counter(REDIS_URL, key))[1] and time.monotonic() < deadline:
        time.sleep(0.05)  # settlements are sent right after each stream's end
    assert spent == (actual, 0)  # settled spend is the sum of actual usages; nothing still held
    assert actual <= BUDGET_USD * 1e9

    async def ledger_total() -> tuple[int, int]:
        engine = create_engine(database)
        try:
            deadline = time.monotonic() + 10
            while True:
                query = select(func.count(), func.sum(ledger.c.cost_nusd)).where(ledger.c.model == "priced")
                async with engine.connect() as conn:
                    count, total = (await conn.execute(query)).one()
                if count >= len(served) or time.monotonic() > deadline:
                    return int(count), int(total or 0)
                await asyncio.sleep(0.1)
        finally:
            await engine.dispose()

    assert run(ledger_total()) == (len(served), actual)


# Where a client hangs up mid-stream: the Anthropic surface (its stream is translated and
# counted) and the OpenAI surface (relayed byte for byte, cut before the usage chunk).
LEAVING = {
    "translated": ("/v1/messages", b"content_block_delta", 1),
    "relayed": ("/v1/chat/completions", b'"content"', 3),
}


@pytest.mark.parametrize("lane", LEAVING)
def test_a_client_leaving_mid_stream_is_settled_with_what_was_produced(
    replicas: list[Replica], prefix: str, database: str, lane: str
) -> None:
    path, marker, lines = LEAVING[lane]

    async def leave_early(session: aiohttp.ClientSession, url: str) -> str:
        body = {
            "model": "hang-stream",
            "max_tokens": 200,
            "stream": True,
            "messages": [{"role": "user", "content": "tell me a long story"}],
        }
        async with session.post(f"{url}{path}", json=body, headers=AUTH) as response:
            assert response.status == 200
            seen = 0
            async for line in response.content:
                seen += marker in line
                if seen == lines:
                    break  # some text arrived: now hang up
            return response.headers["x-request-id"]

    async def scenario() -> str:
        async with aiohttp.ClientSession() as session:
            return await leave_early(session, replicas[0].url)

    request_id = run(scenario())
    rows = run(_ledger(database, {request_id}))
    row = rows[request_id]
    assert row["status"] == 200  # the stream had started
    assert 0 < row["output_tokens"] < 200  # what was produced, not the reservation's 200
    assert row["input_tokens"] > 0
    assert not row["estimated"]
    assert row["cost_nusd"] == cost_nusd(row["input_tokens"], row["output_tokens"])


def test_a_looping_session_is_stopped_then_killed_everywhere(replicas: list[Replica]) -> None:
    session_id = f"loop-{uuid.uuid4().hex[:8]}"
    headers = {"x-tollhouse-session": session_id}

    async def scenario() -> tuple[list[tuple[int, Any]], list[int]]:
        urls = _urls(replicas)
        async with aiohttp.ClientSession() as session:
            same = chat_body("free", words=3)
            repeated = []
            for _ in range(LOOP_REPEATS + 2):
                status, _, body = await post(session, next(urls), same, headers)
                repeated.append((status, body))
            await asyncio.sleep(1.0)  # the kill reaches every replica within kill_poll_s
            different = chat_body("free", words=5)
            after = [(await post(session, r.url, different, headers))[0] for r in replicas]
            return repeated, after

    repeated, after = run(scenario())
    assert [status for status, _ in repeated] == [200] * LOOP_REPEATS + [403, 403]
    assert repeated[LOOP_REPEATS][1]["error"]["code"] == "session_loop_detected"
    assert repeated[-1][1]["error"]["code"] in ("session_loop_detected", "session_killed")
    assert after == [403, 403, 403]


def test_session_call_cap_holds_across_replicas(replicas: list[Replica]) -> None:
    session_id = f"cap-{uuid.uuid4().hex[:8]}"

    async def scenario() -> list[tuple[int, dict[str, str], Any]]:
        urls = _urls(replicas)
        async with aiohttp.ClientSession() as session:
            calls = [
                post(
                    session,
                    next(urls),
                    chat_body("free", tag=f"call{i}"),
                    {"x-tollhouse-session": session_id},
                )
                for i in range(MAX_CALLS + 20)
            ]
            return await asyncio.gather(*calls)

    results = run(scenario())
    assert [status for status, _, _ in results].count(200) == MAX_CALLS
    refused = [body for status, _, body in results if status != 200]
    assert len(refused) == 20
    assert all(body["error"]["code"] == "session_limit_exceeded" for body in refused)


def test_a_session_killed_with_the_cli_is_refused_on_every_replica(replicas: list[Replica]) -> None:
    session_id = f"kill-{uuid.uuid4().hex[:8]}"
    headers = {"x-tollhouse-session": session_id}
    config = str(replicas[0].path)

    async def statuses() -> list[tuple[int, Any]]:
        async with aiohttp.ClientSession() as session:
            bodies = [chat_body("free", tag=uuid.uuid4().hex) for _ in replicas]
            results = [
                await post(session, r.url, body, headers) for r, body in zip(replicas, bodies, strict=True)
            ]
            return [(status, body) for status, _, body in results]

    assert [s for s, _ in run(statuses())] == [200, 200, 200]
    cli = [sys.executable, "-m", "tollhouse.cli.main", "sessions"]
    done = subprocess.run(
        [*cli, "kill", session_id, "--reason", "runaway", "-c", config], capture_output=True
    )
    assert done.returncode == 0, done.stderr
    time.sleep(1.0)
    refused = run(statuses())
    assert [s for s, _ in refused] == [403, 403, 403]
    assert all(body["error"]["code"] == "session_killed" for _, body in refused)
    done = subprocess.run([*cli, "revive", session_id, "-c", config], capture_output=True)
    assert done.returncode == 0, done.stderr
    time.sleep(1.0)
    assert [s for s, _ in run(statuses())] == [200, 200, 200]


def test_killed_sessions_list_and_spend_report_through_the_cli(
    replicas: list[Replica], tmp_path: Path
) -> None:
    config = str(replicas[0].path)
    cli = [sys.executable, "-m", "tollhouse.cli.main"]

    async def one_call() -> int:  # this test's own call: it must not rely on another test's
        async with aiohttp.ClientSession() as session:
            status, _, _ = await post(session, replicas[0].url, chat_body("free", tag=uuid.uuid4().hex))
            return status

    assert run(one_call()) == 200
    deadline = time.monotonic() + 10
    while True:  # the ledger is written in batches, shortly after the call
        report = subprocess.run(
            [*cli, "spend", "report", "--by", "model", "--csv", "-c", config], capture_output=True
        )
        assert report.returncode == 0, report.stderr
        lines = report.stdout.decode().splitlines()
        if any(line.startswith("free,") for line in lines[1:]) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert lines[0] == "model,calls,input_tokens,output_tokens,cost_usd,estimated_calls"
    assert any(line.startswith("free,") for line in lines[1:])
    target = tmp_path / "usage.csv"
    export = subprocess.run([*cli, "spend", "export", "--since", "1d", "-o", str(target), "-c", config])
    assert export.returncode == 0
    exported = target.read_text().splitlines()
    assert exported[0].startswith("time_us,day,request_id,key_id")
    assert len(exported) > 1
