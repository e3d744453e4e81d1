"""The writer's queue under backpressure: block, fail, spill, drop — never silently."""

from __future__ import annotations

import asyncio

from tollhouse.audit.queue import AuditQueue, Entry, Item


def _entry(n: int) -> Entry:
    return Entry({"type": "llm.request", "n": n})


async def test_block_waits_for_room_then_times_out() -> None:
    queue = AuditQueue(2, "block", 0.2)
    queue.offer(_entry(1))
    queue.offer(_entry(2))
    waiter = asyncio.create_task(queue.admit())
    await asyncio.sleep(0.05)
    assert not waiter.done()  # full: the caller waits…
    queue.take(1)
    assert await waiter is True  # …until the writer takes something
    queue.offer(_entry(3))
    assert await queue.admit() is False  # nobody takes anything: bounded wait, then refused


async def test_fail_refuses_at_once() -> None:
    queue = AuditQueue(1, "fail", 5.0)
    queue.offer(_entry(1))
    assert await queue.admit() is False


async def test_drop_counts_what_it_drops() -> None:
    queue = AuditQueue(2, "drop", 5.0)
    assert all(queue.offer(_entry(n)) for n in range(2))
    assert await queue.admit() is True
    assert not queue.offer(_entry(3)) and not queue.offer(_entry(4))
    assert queue.take_drop_counts() == {"queue_full": 2}
    assert queue.take_drop_counts() == {}


async def test_spill_hands_overflow_to_the_spill_file() -> None:
    spilled: list[Item] = []
    queue = AuditQueue(1, "spill", 5.0, spill=spilled.extend)
    queue.offer(_entry(1))
    queue.offer(_entry(2))
    assert spilled == [_entry(2)] and queue.stats.spilled == 1 and not queue.take_drop_counts()


async def test_block_mode_keeps_late_entries_up_to_twice_the_capacity_and_counts_the_rest() -> None:
    queue = AuditQueue(2, "block", 5.0)
    accepted = [queue.offer(_entry(n)) for n in range(6)]
    assert accepted == [True, True, True, True, False, False]
    assert queue.take_drop_counts() == {"queue_full": 2}


async def test_urgent_entries_wake_the_writer_and_are_never_refused() -> None:
    queue = AuditQueue(1, "drop", 5.0)
    queue.offer(_entry(1))
    queue.wake.clear()
    assert queue.offer(_entry(2), urgent=True) and queue.urgent and queue.wake.is_set()
    assert [e.record["n"] for e in queue.take(10) if isinstance(e, Entry)] == [1, 2] and not queue.urgent
