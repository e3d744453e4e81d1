"""The chain writer: one task per process that seals queued records and commits them in batches.

Group commit: the task takes everything queued (up to ``batch_max``), seals it onto the
chain, encrypts its content and writes it all in one transaction, with a signed checkpoint
when one is due. Strict-mode callers wait on a future that the commit resolves, so one commit
serves every caller in the batch. A failed commit changes nothing: the head stays where the
database has it, async records go back to the queue, strict callers get the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import sqlalchemy.exc

from tollhouse.audit.chain import ChainHead, SealedRecord, seal_rows, sealed_record
from tollhouse.audit.checkpoint import Checkpointer
from tollhouse.audit.events import AuditEvent, EventType
from tollhouse.audit.lifecycle import WriterIdentity, adopt_orphans, genesis_event, new_chain_info
from tollhouse.audit.queue import AuditQueue, ContentPiece, Entry, Item
from tollhouse.audit.store import ChainStore, CheckpointRow, ContentRow
from tollhouse.audit.vault import ContentVault
from tollhouse.audit.writer_stats import WriterStats

log = logging.getLogger("tollhouse.audit")

_IDLE_TICK_S = 5.0  # how often an idle writer checks for a due checkpoint or heartbeat
_HEARTBEAT_S = 30.0
# The chain's heartbeat row is refreshed with a commit at most this often (orphan detection
# waits two minutes), not by every commit: an UPDATE per batch would cost as much as its inserts.
_HEARTBEAT_WRITE_S = 10.0
_MAX_BACKOFF_S = 5.0
_URGENT_RETRY_S = 0.5  # how often a failing writer retries while strict-mode calls wait
_STOP_ATTEMPTS = 5  # failed commits in a row after which shutdown stops waiting for the database
# A big batch (a raised ``batch_max``, a spill file read back) is built and sealed in slices, so
# requests sharing the event loop are not held up long; a catch-up commit at the default
# ``batch_max`` (4 x 256) is one slice.
_YIELD_EVERY = 1024
# A writer behind (two full batches queued) commits this many batches' worth in one transaction,
# then lets the event loop turn: one batch a turn fell behind at 256 connections, and on
# PostgreSQL, where every round trip waits out a whole turn of the loop, so did four.
_CATCH_UP_BATCHES = 4
# Most loop turns a strict-mode commit waits for more records (see ``_gather``).
_GROUP_TURNS = 8


class AuditWriteFailed(Exception):
    """A batch could not be made durable (the database refused or is unreachable)."""


class RecordListener(Protocol):
    """Sees every record once it is durable (export sinks); must only enqueue."""

    def accept(self, records: Sequence[SealedRecord]) -> None: ...


class ChainWriter:
    """Owns this process's chain. ``start`` opens it, ``stop`` drains and closes it."""

    def __init__(
        self,
        store: ChainStore,
        queue: AuditQueue,
        me: WriterIdentity,
        *,
        batch_max: int,
        flush_interval_s: float,
        vault: ContentVault | None = None,
        checkpointer: Checkpointer | None = None,
        listeners: Sequence[RecordListener] = (),
    ) -> None:
        self.store = store
        self.queue = queue
        self.me = me
        self.chain_id = me.chain_id
        self.head = ChainHead()
        self._batch_max = batch_max
        self._flush_s = flush_interval_s
        self._vault = vault
        self._checkpointer = checkpointer
        self._listeners = tuple(listeners)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._failures = 0  # failed commits in a row
        self._failures_at_stop = 0  # of those, the ones before ``stop``: shutdown tries afresh
        self._last_commit = time.monotonic()
        self._last_heartbeat = -_HEARTBEAT_WRITE_S
        # Strict-mode waiters in arrival order: (deadline, timeout, future); see ``durable``.
        self._waiting: deque[tuple[float, float, asyncio.Future[None]]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self.stats = WriterStats()
        # Records still to commit one at a time, after the database refused a value in their
        # batch: the one it refuses alone is dropped (``_isolate_or_drop``), the rest go through.
        self._isolate = 0

    async def start(self) -> None:
        """Register this chain, adopt crashed ones, write the genesis record, start the task."""
        links = await adopt_orphans(self.store, self.me)
        try:
            await self.store.register(new_chain_info(self.me, links))
            await self._commit([Entry(genesis_event(self.me, links).to_record())], raise_errors=True)
        except Exception:
            for link in links:
                await self.store.release(str(link["chain"]), self.chain_id)
            raise
        self._task = asyncio.create_task(self._run(), name=f"audit-writer-{self.chain_id}")
        self._tick()

    def _tick(self) -> None:
        """Wake an idle writer every ``_IDLE_TICK_S`` (heartbeat, due checkpoints): one timer
        for the writer's life rather than one per wait."""
        self.queue.wake.set()
        self._ticker = asyncio.get_running_loop().call_later(_IDLE_TICK_S, self._tick)

    async def stop(self) -> None:
        """Drain the queue, append ``chain.close`` with a final checkpoint, mark the chain closed.

        Shutdown gets ``_STOP_ATTEMPTS`` tries at each step however many commits failed before
        it (a database back after an outage must not lose what queued meanwhile); when the
        database stays away, the chain is left open, to be linked as a crashed one on the next
        start, and the queue is spilled or counted as lost."""
        if self._task is None:
            return
        self._stopping = True
        self._failures_at_stop = self._failures
        self.queue.wake.set()
        await self._task
        self._task = None
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
        try:
            if await _retrying("append chain.close", self._append_close):
                now_us = time.time_ns() // 1000
                await _retrying("mark the chain closed", lambda: self.store.close(self.chain_id, now_us))
        finally:
            await self.store.shutdown()
            if self._watchdog is not None:
                self._watchdog.cancel()
                self._watchdog = None
            if self._checkpointer is not None:
                await self._checkpointer.drain()

    async def _append_close(self) -> None:
        """Commit ``chain.close`` with a checkpoint; raise ``AuditWriteFailed`` if it did not."""
        entry = Entry(AuditEvent(EventType.CHAIN_CLOSE, detail={"reason": "shutdown"}).to_record())
        # A future of its own: a failed commit fails it rather than queueing the record again.
        entry.done = done = asyncio.get_running_loop().create_future()
        try:
            await self._commit([entry], raise_errors=True, force_checkpoint=True)
        finally:
            if done.done() and not done.cancelled():
                done.exception()  # retrieved: the error is ours to raise, not asyncio's to log

    async def durable(self, entry: Entry, timeout_s: float) -> None:
        """Queue ``entry`` and wait until it is committed (strict mode).

        The future is this caller's alone (cancelling it cancels nobody else's wait). The
        timeout is kept by one watchdog timer for all waiters rather than a timer each: waiters
        arrive in deadline order, and most are resolved long before it fires."""
        loop = asyncio.get_running_loop()
        entry.done = done = loop.create_future()
        self.queue.offer(entry, urgent=True)
        self._waiting.append((loop.time() + timeout_s, timeout_s, done))
        if self._watchdog is None:
            self._watchdog = loop.call_later(timeout_s, self._expire)
        await done

    def _expire(self) -> None:
        """Fail the waiters whose deadline passed; re-arm for the next one still waiting."""
        self._watchdog = None
        waiting, now = self._waiting, asyncio.get_running_loop().time()
        while waiting and (waiting[0][2].done() or waiting[0][0] <= now):
            _, timeout_s, done = waiting.popleft()
            if not done.done():
                done.set_exception(
                    AuditWriteFailed(f"the audit record was not durable within {timeout_s:g}s")
                )
        if waiting:
            self._watchdog = asyncio.get_running_loop().call_at(waiting[0][0], self._expire)

    async def _run(self) -> None:
        queue = self.queue
        batch = self._batch_max
        catch_up = max(batch * _CATCH_UP_BATCHES, self.store.catch_up_rows)
        while True:
            if self._stopping and (
                not len(queue) or self._failures - self._failures_at_stop >= _STOP_ATTEMPTS
            ):
                if len(queue):
                    log.error("audit database unreachable at shutdown: %s", queue.abandon())
                return
            if not len(queue) and not self._stopping:
                await queue.wake.wait()  # an arrival, ``stop`` or the idle ticker sets it
            queue.wake.clear()
            if len(queue) and not queue.urgent and len(queue) < self._batch_max and not self._stopping:
                await _wait(queue.wake, self._flush_s)
                queue.wake.clear()
            elif queue.urgent and len(queue) < self._batch_max:
                await self._gather(queue)
            isolated = self._isolate > 0
            if isolated:
                items = queue.take(1)
                self._isolate = max(0, self._isolate - len(items))
            else:
                items = queue.take(catch_up if len(queue) >= 2 * batch else batch)
            if items or self._tick_due():
                await self._commit(items, isolated=isolated)
            if len(queue) >= batch:
                # Behind: the next batch goes without the flush delay, but after the calls
                # waiting on the loop run (a commit that does not suspend would otherwise hold
                # them until the whole backlog is written).
                await asyncio.sleep(0)

    async def _gather(self, queue: AuditQueue) -> None:
        """Group commit (strict mode): let the event loop turn while turns bring more records.

        Each turn lets the calls whose I/O is ready in its poll queue their records into this
        commit, and a commit costs more than a turn. One turn that brings nothing ends it, so a
        lone caller waits one turn as before; at 16 and 64 connections more records share each
        commit than one turn gathers (bench A/B: about 10% less CPU per call)."""
        for _ in range(_GROUP_TURNS):
            before = len(queue)
            await asyncio.sleep(0)
            if len(queue) == before or len(queue) >= self._batch_max:
                return

    def _tick_due(self) -> bool:
        idle = time.monotonic() - self._last_commit
        return idle >= _HEARTBEAT_S or (self._checkpointer is not None and self._checkpointer.due(self.head))

    async def _commit(
        self,
        items: list[Item],
        raise_errors: bool = False,
        force_checkpoint: bool = False,
        isolated: bool = False,
    ) -> None:
        entries = await self._expand(items)
        dropped = self.queue.take_drop_counts()
        if dropped:
            entries.append(Entry(_dropped_event(dropped).to_record()))
        now_us = time.time_ns() // 1000
        head, rows = self.head, []
        rejected: list[Entry] = []
        for start in range(0, len(entries), _YIELD_EVERY):
            if start:
                await asyncio.sleep(0)
            part, head = seal_rows(entries[start : start + _YIELD_EVERY], self.chain_id, head, rejected)
            rows += part
        if rejected:
            entries = self._reject(entries, rejected)
        beat = time.monotonic()
        try:
            content = await self._seal_content(entries, now_us)
            checkpoint = self._checkpoint(head, now_us, force_checkpoint)
            heartbeat = now_us if beat - self._last_heartbeat >= _HEARTBEAT_WRITE_S else None
            await self.store.append(self.chain_id, rows, content, checkpoint, heartbeat)
            if heartbeat is not None:
                self._last_heartbeat = beat
        except Exception as exc:
            if await self._committed_anyway(head):
                checkpoint = None
            elif not raise_errors and self._isolate_or_drop(items, entries, dropped, exc, isolated):
                return
            else:
                self._failed(entries, dropped, exc)
                if raise_errors:
                    raise AuditWriteFailed(str(exc)) from exc
                # Shutdown backs off from its own first try, not from the outage before it.
                tries = self._failures - self._failures_at_stop if self._stopping else self._failures
                await self._back_off(min(_MAX_BACKOFF_S, 0.1 * 2**tries))
                return
        self.stats.committed(len(rows), time.monotonic() - beat)
        self._succeeded(entries, rows, head, checkpoint)

    async def _back_off(self, seconds: float) -> None:
        """Wait ``seconds`` before the next try, or ``_URGENT_RETRY_S`` once a strict-mode call
        waits: a database back after an outage would otherwise leave strict calls refused
        (their wait is ``block_timeout_s``) for the rest of a backoff of up to five seconds."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            await asyncio.sleep(min(left, _URGENT_RETRY_S))
            if self.queue.urgent:
                return

    def _isolate_or_drop(
        self, items: list[Item], entries: list[Entry], dropped: dict[str, int], exc: Exception, isolated: bool
    ) -> bool:
        """After the database refused a value (not the connection: retrying the same record can
        never succeed): a batch's records are retried one at a time, and a record refused on
        its own is dropped — counted, recorded with the next commit, its strict caller failed —
        rather than retried for ever, holding the chain and, by backpressure, every call.
        True when the record was dropped (nothing to retry)."""
        if not _refused_value(exc):
            return False
        if len(items) > 1 and not isolated:
            # What ``_failed`` puts back (strict callers get the error instead) goes one by one.
            self._isolate = sum(
                1 for e in entries if e.done is None and e.record.get("type") != EventType.AUDIT_DROPPED
            )
            return False
        log.error("the audit database refused a record's values, dropped: %s", exc)
        self.stats.failures += 1
        self.queue.stats.dropped.update(dropped)
        records = [e for e in entries if e.record.get("type") != EventType.AUDIT_DROPPED]
        self._drop(records, "unwritable", "the audit database refused the record")
        return True

    def _drop(self, entries: Sequence[Entry], reason: str, message: str) -> None:
        """Count ``entries`` as dropped for ``reason`` (recorded with the next commit) and fail
        the strict-mode callers waiting on them with ``message``."""
        self.queue.stats.drop(reason, len(entries))
        for entry in entries:
            if entry.done is not None and not entry.done.done():
                entry.done.set_exception(AuditWriteFailed(message))

    def _reject(self, entries: list[Entry], rejected: list[Entry]) -> list[Entry]:
        """Leave out records that cannot be sealed, counted as dropped (and so recorded with the
        next commit): one bad record must not fail its batch on every retry and stop the chain.
        A strict-mode caller waiting on one gets the error, as for a failed commit."""
        log.error("%d audit records have no canonical form and were dropped", len(rejected))
        self._drop(rejected, "unencodable", "the audit record has no canonical form")
        bad = {id(entry) for entry in rejected}
        return [entry for entry in entries if id(entry) not in bad]

    async def _expand(self, items: list[Item]) -> list[Entry]:
        entries: list[Entry] = []
        built = 0  # producers called: only they do work here
        for item in items:
            if isinstance(item, Entry):
                entries.append(item)
                continue
            built += 1
            if built % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            try:
                entries.extend(item())
            except Exception:  # a bug building one call's records must not stop the chain
                log.exception("building audit records failed")
                self.queue.stats.drop("build_error")
        return entries

    async def _seal_content(self, entries: list[Entry], now_us: int) -> list[ContentRow]:
        if self._vault is None:  # content mode ``digest``: nothing to store
            return []
        pieces: list[ContentPiece] = [piece for entry in entries for piece in entry.content]
        if not pieces:
            return []
        return await self._vault.seal(pieces, now_us)

    def _checkpoint(self, head: ChainHead, now_us: int, force: bool) -> CheckpointRow | None:
        if self._checkpointer is None or not self._checkpointer.due(head, force):
            return None
        return self._checkpointer.make(self.chain_id, head, now_us)

    async def _committed_anyway(self, head: ChainHead) -> bool:
        """After an error: did the commit reach the database before the connection failed?"""
        if head.seq == self.head.seq:
            return False
        try:
            return await self.store.head(self.chain_id) == head
        except Exception:
            return False

    def _failed(self, entries: list[Entry], dropped: dict[str, int], exc: Exception) -> None:
        self._failures += 1
        self.stats.failures += 1
        log.error("audit commit of %d records failed (attempt %d): %s", len(entries), self._failures, exc)
        self.queue.stats.dropped.update(dropped)
        retry: list[Item] = []
        for entry in entries:
            if entry.done is not None:
                if not entry.done.done():
                    entry.done.set_exception(AuditWriteFailed(str(exc)))
            elif entry.record.get("type") != EventType.AUDIT_DROPPED:
                retry.append(entry)
        self.queue.put_back(retry)

    def _succeeded(
        self,
        entries: list[Entry],
        rows: list[tuple[Any, ...]],
        head: ChainHead,
        checkpoint: CheckpointRow | None,
    ) -> None:
        self.head, self._failures, self._last_commit = head, 0, time.monotonic()
        for entry in entries:
            if entry.done is not None and not entry.done.done():
                entry.done.set_result(None)
        waiting = self._waiting
        while waiting and waiting[0][2].done():  # most waiters are done in order: forget them now
            waiting.popleft()
        if checkpoint is not None and self._checkpointer is not None:
            self._checkpointer.committed(checkpoint)
        if not self._listeners:
            return
        sealed = [sealed_record(row, entry.record) for row, entry in zip(rows, entries, strict=True)]
        for listener in self._listeners:
            try:
                listener.accept(sealed)
            except Exception:
                log.exception("audit listener %s failed", type(listener).__name__)


def _refused_value(exc: BaseException) -> bool:
    """Whether the database refused a value it was given (SQLite, SQLAlchemy or asyncpg's
    DataError) rather than failing to commit: a conflict or a lost connection is retried."""
    if isinstance(exc, (sqlite3.DataError, sqlalchemy.exc.DataError)):
        return True
    # asyncpg is only imported with PostgreSQL: its DataError is recognised by name.
    return any(c.__name__ == "DataError" and c.__module__ == "asyncpg.exceptions" for c in type(exc).__mro__)


async def _retrying(what: str, step: Callable[[], Awaitable[None]]) -> bool:
    """Run a shutdown step, retried ``_STOP_ATTEMPTS`` times (a connection that broke is
    replaced by the next try); False, logged, when the database refused every time."""
    for attempt in range(_STOP_ATTEMPTS):
        try:
            await step()
            return True
        except Exception as exc:
            if attempt == _STOP_ATTEMPTS - 1:
                log.error("audit shutdown: could not %s after %d tries: %s", what, _STOP_ATTEMPTS, exc)
                return False
            await asyncio.sleep(0.1 * 2**attempt)
    return False


async def _wait(event: asyncio.Event, timeout_s: float) -> None:
    # asyncio.timeout rather than wait_for: wait_for wraps the coroutine in a task, per batch.
    if event.is_set():
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()


def _dropped_event(counts: dict[str, int]) -> AuditEvent:
    return AuditEvent(EventType.AUDIT_DROPPED, detail={f"dropped_{k}": v for k, v in sorted(counts.items())})
