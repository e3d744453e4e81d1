"""The audit trail's metrics over a real writer and database: commits, failures, losses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import make_writer, sample_event
from tollhouse.audit.capture import ContentPolicy
from tollhouse.audit.metrics import AuditMetrics
from tollhouse.audit.queue import AuditQueue, Entry
from tollhouse.audit.settings import AuditConfig
from tollhouse.audit.trail import AuditTrail
from tollhouse.audit.writer import ChainWriter
from tollhouse.observability.metrics import Metrics


class _Writer:
    """Opens the trail onto a writer over the test database (as ``DatabaseOpener`` does)."""

    def __init__(self, writer: ChainWriter) -> None:
        self.writer = writer

    async def open(self, queue: AuditQueue) -> ChainWriter:
        self.writer.queue = queue
        await self.writer.start()
        return self.writer

    async def close(self) -> None:
        return None


def _trail(engine: AsyncEngine, capacity: int, backpressure: str) -> AuditTrail:
    settings = AuditConfig(enabled=True, queue_size=max(capacity, 16), backpressure=backpressure)  # type: ignore[arg-type]
    queue = AuditQueue(capacity, settings.backpressure, 0.2, batch_max=500)
    return AuditTrail(settings, ContentPolicy("digest"), queue, _Writer(make_writer(engine)))


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 5 s")


def _value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_commits_and_a_failing_database_show_in_the_metrics(engine: AsyncEngine) -> None:
    trail = _trail(engine, 100, "block")
    metrics = Metrics()
    metrics.add_source(AuditMetrics(trail, metrics.registry))
    reg = metrics.registry
    await trail.start()
    for n in range(10):
        trail.queue.offer(Entry(sample_event(n).to_record()))
    assert trail.writer is not None
    stats = trail.writer.stats
    await _until(lambda: stats.records == 11)
    metrics.flush()
    assert _value(reg, "tollhouse_audit_records_total") == 1 + 10  # chain.start, then the ten
    ok = _value(reg, "tollhouse_audit_commits_total", outcome="ok")
    assert ok >= 2 and _value(reg, "tollhouse_audit_commit_duration_seconds_count") == ok
    assert _value(reg, "tollhouse_audit_queue_capacity") == 100
    # The database refuses: the commit fails, its records wait in the queue, and it shows.
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_records RENAME TO audit_records_away"))
    for n in range(10, 13):
        trail.queue.offer(Entry(sample_event(n).to_record()))
    await _until(lambda: stats.failures > 0)
    metrics.flush()
    assert _value(reg, "tollhouse_audit_commits_total", outcome="failed") >= 1
    assert _value(reg, "tollhouse_audit_queue_depth") == 3
    assert _value(reg, "tollhouse_audit_records_total") == 11
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_records_away RENAME TO audit_records"))
    await trail.stop()  # the retry succeeds, then chain.close
    metrics.flush()
    assert _value(reg, "tollhouse_audit_records_total") == 11 + 3 + 1
    assert _value(reg, "tollhouse_audit_queue_depth") == 0


async def test_losses_and_refusals_are_counted(engine: AsyncEngine) -> None:
    dropping = _trail(engine, 4, "drop")
    metrics = Metrics()
    metrics.add_source(AuditMetrics(dropping, metrics.registry))
    for n in range(10):  # no writer yet: the first four fit, six are dropped
        dropping.queue.offer(Entry(sample_event(n).to_record()))
    metrics.flush()
    reg = metrics.registry
    assert _value(reg, "tollhouse_audit_dropped_records_total", reason="queue_full") == 6
    assert _value(reg, "tollhouse_audit_queue_depth") == 4
    metrics.flush()  # counted once, however often the metrics are read
    assert _value(reg, "tollhouse_audit_dropped_records_total", reason="queue_full") == 6

    blocking = _trail(engine, 16, "block")
    other = Metrics()
    other.add_source(AuditMetrics(blocking, other.registry))
    for n in range(16):
        blocking.queue.offer(Entry(sample_event(n).to_record()))
    assert not await blocking.admit()  # a full queue, no writer to make room: refused in 0.2 s
    other.flush()
    assert _value(other.registry, "tollhouse_audit_backpressure_total", outcome="waited") == 1
    assert _value(other.registry, "tollhouse_audit_backpressure_total", outcome="refused") == 1
