"""The audit trail of one process: the observer the app calls, and the writer behind it.

``AuditTrail`` is a runtime observer. ``observe(ctx)`` (after every request, once its
response is sent) builds the call's records and queues them; the writer task seals and
commits them. In strict mode the audit policies
call ``record_request`` / ``record_response`` on the call's path and wait until the record
is durable; ``observe`` then adds only what they did not record (an upstream error, say).
Other components (admin API, MCP, A2A) record their own events with ``emit``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from tollhouse.audit.canonical import check_canonical_value
from tollhouse.audit.capture import Capture, ContentPolicy, Finished
from tollhouse.audit.events import AuditEvent
from tollhouse.audit.queue import AuditQueue, Entry
from tollhouse.audit.settings import AuditConfig
from tollhouse.audit.writer import AuditWriteFailed, ChainWriter
from tollhouse.pipeline.context import RequestContext

log = logging.getLogger("tollhouse.audit")


class WriterOpener(Protocol):
    """Opens the database and starts the writer at startup (so compiling the config does no I/O)."""

    async def open(self, queue: AuditQueue) -> ChainWriter: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Recorded:
    """What strict mode already made durable for one in-flight call."""

    request: bool = False
    response: bool = False
    base: dict[str, Any] | None = None  # the fields both records share, built once


class AuditTrail:
    """Runtime observer and the strict-mode recording API, over one ``ChainWriter``."""

    def __init__(
        self, settings: AuditConfig, content: ContentPolicy, queue: AuditQueue, opener: WriterOpener
    ) -> None:
        self.settings = settings
        self.strict = settings.mode == "strict"
        self.capture = Capture(content)
        self.queue = queue
        self._opener = opener
        self.writer: ChainWriter | None = None
        self._recorded: dict[int, _Recorded] = {}  # by id(ctx), while the call is in flight
        self._timeout = settings.block_timeout_s

    async def start(self) -> None:
        self.writer = await self._opener.open(self.queue)
        log.info("audit chain %s started (%s mode)", self.writer.chain_id, self.settings.mode)

    async def stop(self) -> None:
        """Drain every queued record, close the chain, release the database."""
        if self.writer is not None:
            try:
                await self.writer.stop()
            finally:
                await self._opener.close()
                self.writer = None

    def observe(self, ctx: RequestContext) -> None:
        """Queue what is left to record of a finished call.

        The records are built here, not in the writer: the response has been sent, so the
        call waits for nothing, the work is the same on this core either way, and the queue
        then holds a few small dicts per call rather than the whole context (its body,
        decoded payload, headers…) for up to a flush interval — a heap the collector would
        walk again and again under load."""
        recorded = self._recorded.pop(id(ctx), None) if self.strict else None
        if recorded is not None and recorded.response and not ctx.verdicts and not ctx.decisions:
            return  # strict mode recorded the whole call; no guard verdicts are left to record
        end = Finished(time.time_ns() // 1000, time.perf_counter())
        try:
            entries = self.capture.finished(
                ctx,
                end,
                recorded is not None and recorded.request,
                recorded is not None and recorded.response,
            )
        except Exception:  # a bug building one call's records must not fail the call or the chain
            log.exception("building audit records failed")
            self.queue.stats.drop("build_error")
            return
        offer = self.queue.offer
        for entry in entries:
            offer(entry)

    def emit(self, event: AuditEvent) -> None:
        """Record an event from elsewhere in the gateway (admin changes, tool calls…).

        Raises ``NotCanonical`` if its ``detail`` holds a value a record cannot (a float, say)."""
        record = event.to_record()
        check_canonical_value(record)
        self.queue.offer(Entry(record))

    async def admit(self) -> bool:
        """Backpressure before a call is forwarded: whether it may go ahead."""
        return self.queue.full is False or await self.queue.admit()

    async def record_request(self, ctx: RequestContext) -> None:
        """Strict mode: make ``llm.request`` durable (raises ``AuditWriteFailed``)."""
        base = self.capture.base(ctx)
        await self._durable(self.capture.request(ctx, time.time_ns() // 1000, base))
        self._recorded[id(ctx)] = _Recorded(request=True, base=base)

    async def record_response(self, ctx: RequestContext) -> None:
        """Strict mode: make ``llm.response`` durable before the caller gets the end of it."""
        end = Finished(time.time_ns() // 1000, time.perf_counter())
        recorded = self._recorded.get(id(ctx))
        base = recorded.base if recorded is not None else None
        await self._durable(self.capture.response(ctx, end, status=ctx.status or 200, base=base))
        if recorded is not None:
            recorded.response = True

    async def _durable(self, entry: Entry) -> None:
        if self.writer is None:
            raise AuditWriteFailed("the audit writer is not running")
        await self.writer.durable(entry, self._timeout)
