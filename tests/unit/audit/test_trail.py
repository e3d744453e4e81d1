"""The trail's observer: what a finished call leaves in the writer's queue."""

from __future__ import annotations

import sys

from tests.unit.audit.test_capture import _served
from tollhouse.audit.capture import ContentPolicy
from tollhouse.audit.queue import AuditQueue, Entry
from tollhouse.audit.settings import AuditConfig
from tollhouse.audit.trail import AuditTrail
from tollhouse.audit.writer import ChainWriter


class _NoDatabase:
    async def open(self, queue: AuditQueue) -> ChainWriter:
        raise AssertionError("observe needs no database")

    async def close(self) -> None:
        return None


def _trail() -> AuditTrail:
    settings = AuditConfig(enabled=True, mode="async")
    queue = AuditQueue(settings.queue_size, settings.backpressure, settings.block_timeout_s)
    return AuditTrail(settings, ContentPolicy("digest"), queue, _NoDatabase())


async def test_observe_queues_the_records_and_keeps_no_reference_to_the_context() -> None:
    trail, ctx = _trail(), _served()
    held = sys.getrefcount(ctx)
    trail.observe(ctx)
    assert sys.getrefcount(ctx) == held  # the context (body, payload, headers…) is free at once
    items = trail.queue.take(10)
    assert all(isinstance(item, Entry) for item in items)
    assert [item.record["type"] for item in items if isinstance(item, Entry)] == [
        "llm.request",
        "llm.response",
    ]


async def test_a_record_that_cannot_be_built_is_counted_not_raised() -> None:
    trail, ctx = _trail(), _served()
    ctx.started = "not a time"  # type: ignore[assignment]
    trail.observe(ctx)
    assert len(trail.queue) == 0 and trail.queue.stats.dropped["build_error"] == 1
