"""The chain writer over every backend: group commit, strict durability, restarts, failures."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import make_writer, sample_event, service
from tollhouse.audit.events import PrincipalRef
from tollhouse.audit.queue import Entry
from tollhouse.audit.reader import AuditReader
from tollhouse.audit.search import SearchFilters
from tollhouse.audit.store import ChainStore
from tollhouse.audit.writer import AuditWriteFailed, ChainWriter


async def crash(writer: ChainWriter) -> None:
    """The writer's process dies: its task stops mid-chain and its connections go away."""
    assert writer._task is not None
    writer._task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer._task
    await writer.store.shutdown()


async def _types(engine: AsyncEngine, chain_id: str) -> list[str]:
    return [r.columns["type"] async for r in AuditReader(engine).records(chain_id)]


async def test_async_records_are_chained_checkpointed_and_verify(engine: AsyncEngine) -> None:
    writer = make_writer(engine, every=25)
    await writer.start()
    for n in range(100):
        if n % 25 == 24:  # a strict caller makes the writer commit now: checkpoints follow commits
            await writer.durable(Entry(sample_event(n).to_record()), 5.0)
        else:
            assert writer.queue.offer(Entry(sample_event(n).to_record()))
    await writer.stop()
    types = await _types(engine, writer.chain_id)
    assert types[0] == "chain.start" and types[-1] == "chain.close" and len(types) == 102
    report = await service(engine).verify()
    assert report.ok, report.problems
    (chain,) = report.chains
    assert chain.records == 102 and chain.closed and chain.checkpoints >= 4
    checkpoints = await AuditReader(engine).checkpoints(writer.chain_id)
    assert checkpoints[-1].seq == 101  # the close record is always covered


async def test_batches_of_every_size_are_written_whole_and_in_order(engine: AsyncEngine) -> None:
    # SQLite writes a batch as INSERTs of 64, 32, … 1 rows: sizes around those boundaries.
    writer = make_writer(engine)
    await writer.start()
    n = 0
    for size in (1, 2, 3, 63, 64, 65, 127, 200):
        await writer._commit([Entry(sample_event(n + k).to_record()) for k in range(size)])
        n += size
    await writer.stop()
    rows = [r async for r in AuditReader(engine).records(writer.chain_id)]
    assert [r.seq for r in rows] == list(range(n + 2))
    assert [r.columns["request_id"] for r in rows[1:-1]] == [f"req_{k // 2}" for k in range(n)]
    report = await service(engine).verify()
    assert report.ok, report.problems


class CountingStore(ChainStore):
    """The real store, counting its commits."""

    commits = 0

    async def append(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        self.commits += 1
        await super().append(*args, **kwargs)  # type: ignore[arg-type]


async def test_strict_callers_share_group_commits(engine: AsyncEngine) -> None:
    writer = make_writer(engine)
    writer.store = store = CountingStore(engine)
    await writer.start()
    before = store.commits
    await asyncio.gather(*(writer.durable(Entry(sample_event(n).to_record()), 5.0) for n in range(200)))
    assert await ChainStore(engine).count(writer.chain_id) == 201  # durable when awaited
    assert store.commits - before < 100  # most callers rode along on someone else's commit
    await writer.stop()
    assert (await service(engine).verify()).ok


async def test_a_group_commit_waits_for_callers_that_keep_arriving(engine: AsyncEngine) -> None:
    # Under load, calls reach their records over several turns of the event loop: the writer
    # keeps turning while turns bring records, rather than committing after the first.
    writer = make_writer(engine)
    writer.store = store = CountingStore(engine)
    await writer.start()

    async def caller(n: int) -> None:
        for _ in range(n):  # the n-th caller's record is ready n turns from now
            await asyncio.sleep(0)
        await writer.durable(Entry(sample_event(n).to_record()), 5.0)

    before = store.commits
    await asyncio.gather(*(caller(n) for n in range(6)))
    assert store.commits - before == 1
    await writer.stop()
    assert (await service(engine).verify()).ok


async def test_a_writer_behind_catches_up_within_a_few_turns_of_the_loop(engine: AsyncEngine) -> None:
    # A backlog (calls arriving faster than one batch a turn) is written several batches' worth
    # in one commit a turn; one batch a turn fell further behind every second at 256 connections.
    if engine.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL commit waits on the network: loop turns pass while it is in flight")
    writer = make_writer(engine, batch_max=256, flush_s=5.0)  # the default batch_max
    await writer.start()
    for n in range(256 * 8):
        assert writer.queue.offer(Entry(sample_event(n).to_record()))
    left = []
    while len(writer.queue) and len(left) < 100:
        await asyncio.sleep(0)  # the other calls on the loop: one step each turn
        left.append(len(writer.queue))
    # Four batches a turn, and a turn for the others between them (no stall until it is all written),
    # each turn's four in one commit.
    assert left == [256 * 4, 0]
    assert writer.stats.commits == 1 + 2  # the genesis record's, then the backlog's
    await writer.stop()
    assert await ChainStore(engine).count(writer.chain_id) == 256 * 8 + 2
    assert (await service(engine).verify()).ok


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_a_writer_behind_on_a_busy_loop_needs_few_turns_per_backlog(engine: AsyncEngine) -> None:
    # Every await of the database lets the loop run each ready call first; under load a turn
    # takes milliseconds. A PostgreSQL commit of 256 records was six round trips (about 18
    # turns), and the writer fell behind for good at 256 connections.
    writer = make_writer(engine, batch_max=256, flush_s=5.0)
    await writer.start()
    for n in range(256 * 8):
        assert writer.queue.offer(Entry(sample_event(n).to_record()))
    turns = 0
    while len(writer.queue) or writer.stats.records < 256 * 8 + 1:
        await asyncio.sleep(0)
        _busy(0.002)  # the calls this turn served
        turns += 1
        assert turns < 60, f"{len(writer.queue)} records still queued after {turns} busy turns"
    # The genesis record's commit, then catch-up commits of four batches or more each.
    assert writer.stats.commits <= 1 + 2
    await writer.stop()
    assert (await service(engine).verify()).ok


async def test_callers_long_values_are_written_and_searchable(engine: AsyncEngine) -> None:
    # A session header or a token's subject longer than a VARCHAR column failed its batch, and
    # the writer retried it for ever: one request stopped the chain (``audit_0004``).
    writer = make_writer(engine)
    await writer.start()
    principal = PrincipalRef("user", "u" * 1_000, "o" * 1_000)
    event = replace(sample_event(1, session="s" * 10_000), principal=principal)
    await writer.durable(Entry(event.to_record()), 5.0)
    await writer.stop()
    assert writer.stats.failures == 0
    found = await service(engine).search(SearchFilters(session="s" * 10_000, principal="u" * 1_000))
    assert [r["id"] for r in found] == [event.id]
    assert (await service(engine).verify()).ok


async def test_a_record_without_canonical_form_is_dropped_and_recorded_not_retried(
    engine: AsyncEngine,
) -> None:
    # A lone surrogate (JSON from a token's claims can hold one) has no UTF-8 form: its record
    # cannot be hashed. It used to fail its batch on every retry; now it alone is left out.
    writer = make_writer(engine)
    await writer.start()
    bad = sample_event(1).to_record() | {"route": "gpt-\ud800"}
    writer.queue.offer(Entry(sample_event(0).to_record()))
    with pytest.raises(AuditWriteFailed, match="canonical"):
        await writer.durable(Entry(bad), 5.0)
    await writer.durable(Entry(sample_event(2).to_record()), 5.0)
    await writer.stop()
    assert writer.stats.failures == 0
    types = await _types(engine, writer.chain_id)
    assert types == ["chain.start", "llm.request", "llm.request", "audit.dropped", "chain.close"]
    records = [orjson.loads(r.body) async for r in AuditReader(engine).records(writer.chain_id)]
    assert records[3]["detail"] == {"dropped_unencodable": 1}
    assert (await service(engine).verify()).ok


async def test_a_record_the_database_refuses_is_isolated_and_dropped_not_retried(engine: AsyncEngine) -> None:
    # PostgreSQL refuses a NUL in text: the batch holding such a record used to be retried for
    # ever. Its records now go one at a time and the refused one alone is dropped, on the record.
    # (Identity refuses such ids at the door; this is the writer's own line of defence.)
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores any text: there is no value for it to refuse")
    writer = make_writer(engine, flush_s=5.0)
    await writer.start()
    poison = replace(sample_event(3), principal=PrincipalRef("user", "mallory\x00"))
    events = [sample_event(0), sample_event(1), poison, sample_event(4), sample_event(5)]
    for event in events:
        assert writer.queue.offer(Entry(event.to_record()))
    await writer.stop()
    records = [orjson.loads(r.body) async for r in AuditReader(engine).records(writer.chain_id)]
    ids = [r["id"] for r in records if r["type"].startswith("llm.")]
    dropped = [r["detail"] for r in records if r["type"] == "audit.dropped"]
    assert ids == [e.id for e in events if e is not poison]
    assert dropped == [{"dropped_unwritable": 1}]
    assert writer.stats.failures >= 2  # the batch, then the record alone
    assert (await service(engine).verify()).ok


async def test_restart_after_crash_links_the_new_chain(engine: AsyncEngine) -> None:
    first = make_writer(engine)
    await first.start()
    for n in range(10):
        await first.durable(Entry(sample_event(n).to_record()), 5.0)
    await crash(first)  # the process dies: no close record, the chain stays open
    second = make_writer(engine)
    await second.start()
    await second.stop()
    chains = {c.chain_id: c for c in await AuditReader(engine).chains()}
    assert chains[first.chain_id].successor == second.chain_id
    assert chains[second.chain_id].predecessor == first.chain_id
    report = await service(engine).verify()
    assert report.ok, report.problems
    assert report.notes == []


async def test_a_truncated_crashed_chain_is_caught_through_its_successor(engine: AsyncEngine) -> None:
    first = make_writer(engine)
    await first.start()
    for n in range(6):
        await first.durable(Entry(sample_event(n).to_record()), 5.0)
    await crash(first)
    second = make_writer(engine)
    await second.start()
    await second.stop()
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM audit_records WHERE chain_id = :c AND seq >= 5"), {"c": first.chain_id}
        )
    report = await service(engine).verify()
    assert not report.ok
    (problem,) = report.problems
    assert (problem.chain_id, problem.seq, problem.kind) == (first.chain_id, 5, "truncated")


async def test_failed_commits_fail_strict_callers_and_retry_async_records(engine: AsyncEngine) -> None:
    writer = make_writer(engine)
    await writer.start()
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_records RENAME TO audit_records_away"))
    for n in range(5):
        writer.queue.offer(Entry(sample_event(n).to_record()))
    with pytest.raises(AuditWriteFailed):
        await writer.durable(Entry(sample_event(99).to_record()), 5.0)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_records_away RENAME TO audit_records"))
    await writer.stop()
    types = await _types(engine, writer.chain_id)
    assert len(types) == 7  # genesis, the five async records (retried), close; not the failed strict one
    assert (await service(engine).verify()).ok


async def test_a_strict_waiter_times_out_while_the_database_is_locked(engine: AsyncEngine) -> None:
    writer = make_writer(engine)
    await writer.start()
    async with engine.connect() as blocker:
        # Another writer holds the database: the commit waits for its lock.
        if engine.dialect.name == "sqlite":
            await blocker.execute(text("UPDATE audit_chains SET heartbeat_us = heartbeat_us"))
        else:
            await blocker.execute(text("LOCK TABLE audit_records IN EXCLUSIVE MODE"))
        started = asyncio.get_running_loop().time()
        waits = [writer.durable(Entry(sample_event(n).to_record()), 0.5) for n in range(3)]
        results = await asyncio.gather(*waits, return_exceptions=True)
        elapsed = asyncio.get_running_loop().time() - started
        assert all(isinstance(r, AuditWriteFailed) and "within 0.5s" in str(r) for r in results), results
        assert 0.4 < elapsed < 3.0
        await blocker.rollback()
    await writer.durable(Entry(sample_event(3).to_record()), 10.0)  # the lock is gone: durable again
    await writer.stop()
    report = await service(engine).verify()
    assert report.ok, report.problems
