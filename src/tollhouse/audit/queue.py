"""The writer's in-memory queue, and what happens when it is full (never a silent drop).

``offer`` is the only call on a request's path: an append to a deque. Admission control
(``admit``) runs before a call is forwarded, so under ``block`` callers wait for room and
under ``fail`` they get a 503 instead of the queue growing without bound. Entries offered
anyway beyond twice the capacity (calls denied before admission, say) are spilled to a file
when a spill file is configured, else dropped — and every drop is counted and later recorded
in the chain as an ``audit.dropped`` record.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tollhouse.audit.settings import Backpressure


@dataclass(frozen=True, slots=True)
class ContentPiece:
    """Content to store encrypted for ``org_id``: the bytes as the content mode leaves them."""

    event_id: str
    part: str
    org_id: str
    sha256: str  # of ``data``
    data: bytes


@dataclass(slots=True)
class Entry:
    """One record to chain, its content, and (strict mode) a future resolved once durable."""

    record: dict[str, Any]
    content: tuple[ContentPiece, ...] = ()
    done: asyncio.Future[None] | None = None
    time_us: int = 0  # the record's time, when known (saves parsing it back for the index)
    # The row's search columns when the producer knows them (``chain.index_values`` of the
    # record, which they must equal); else the writer reads them from the record.
    index: tuple[Any, ...] | None = None


# A deferred producer builds its entries in the writer task, off the request's path.
Producer = Callable[[], Sequence[Entry]]
Item = Entry | Producer
Overflow = Callable[[Sequence[Item]], None]


@dataclass(slots=True)
class QueueStats:
    """What the queue refused or set aside; the ``*_total`` counts only grow (for metrics)."""

    dropped: Counter[str] = field(default_factory=Counter)  # by reason, until recorded
    dropped_total: Counter[str] = field(default_factory=Counter)  # by reason, ever
    spilled: int = 0
    waited: int = 0  # calls that waited for room (backpressure ``block``)
    refused: int = 0  # calls refused for want of room (``fail``, or ``block`` timed out)

    def drop(self, reason: str, count: int = 1) -> None:
        """Count ``count`` records lost for ``reason``: recorded in the chain, and ever."""
        self.dropped[reason] += count
        self.dropped_total[reason] += count


class AuditQueue:
    """A bounded deque with explicit backpressure. One writer task drains it."""

    def __init__(
        self,
        capacity: int,
        backpressure: Backpressure,
        block_timeout_s: float,
        spill: Overflow | None = None,
        batch_max: int = 1000,
    ) -> None:
        self.capacity = capacity
        self._batch_max = batch_max
        self.backpressure = backpressure
        self._hard_cap = capacity * 2
        self._timeout = block_timeout_s
        self._spill = spill
        self._items: deque[Item] = deque()
        self._room = asyncio.Event()
        self._room.set()
        self.wake = asyncio.Event()  # set on the first arrival, a full batch, or an urgent entry
        self.urgent = False  # a strict-mode caller is waiting: commit without the flush delay
        self.stats = QueueStats()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def full(self) -> bool:
        return len(self._items) >= self.capacity

    async def admit(self) -> bool:
        """Whether a new call may go ahead; under ``block`` waits (bounded) for room."""
        if len(self._items) < self.capacity or self.backpressure in ("spill", "drop"):
            return True
        if self.backpressure == "fail":
            self.stats.refused += 1
            return False
        self.stats.waited += 1
        self._room.clear()
        try:
            await asyncio.wait_for(self._room.wait(), self._timeout)
        except TimeoutError:
            self.stats.refused += 1
            return False
        return True

    def offer(self, item: Item, urgent: bool = False) -> bool:
        """Queue ``item``; ``urgent`` (a strict-mode caller waits) wakes the writer at once."""
        n = len(self._items)
        limit = self.capacity if self.backpressure in ("spill", "drop") else self._hard_cap
        if n >= limit and not urgent:
            self._overflow(item)
            return False
        self._items.append(item)
        if urgent:
            self.urgent = True
            self.wake.set()
        elif n == 0 or n + 1 >= self._batch_max:
            self.wake.set()
        return True

    def _overflow(self, item: Item) -> None:
        if self._spill is not None:
            self._spill([item])
            self.stats.spilled += 1
        else:
            self.stats.drop("queue_full")

    def take(self, limit: int) -> list[Item]:
        """Up to ``limit`` items, oldest first; wakes callers waiting for room."""
        items = self._items
        taken = [items.popleft() for _ in range(min(limit, len(items)))]
        self.urgent = bool(items) and self.urgent
        if len(items) < self.capacity:
            self._room.set()
        return taken

    def requeue(self, entries: Sequence[Entry]) -> None:
        """Add entries read back from the spill file, whatever the queue's length (they were
        already accepted once; refusing them again would only move them back to the file)."""
        self._items.extend(entries)
        if entries:
            self.wake.set()

    def put_back(self, items: Sequence[Item]) -> None:
        """Return items a failed commit did not write, in their order, ahead of newer ones."""
        self._items.extendleft(reversed(items))

    def abandon(self) -> str:
        """Give up on everything queued (shutdown with the database gone): spill it if a spill
        file is configured, else count it as dropped. Says what happened, for the log."""
        items, self._items = list(self._items), deque()
        if self._spill is not None:
            self._spill(items)
            self.stats.spilled += len(items)
            return f"{len(items)} queued records spilled to the spill file"
        self.stats.drop("shutdown", len(items))
        return f"{len(items)} queued records lost (no spill_path configured)"

    def take_drop_counts(self) -> Counter[str]:
        counts = self.stats.dropped
        if counts:  # a new Counter only when there was a drop (this runs for every commit)
            self.stats.dropped = Counter()
        return counts
