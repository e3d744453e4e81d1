"""The audit policies: backpressure and strict-mode durability of the request and response records.

``AuditRecord`` runs last among the pre phases (RECORD): it applies the writer's backpressure
(block or fail while the queue is full) and, in strict mode, makes ``llm.request`` durable
before the call is forwarded. ``AuditResponseRecord`` enters first (RECORD_RESPONSE) so its
``on_response`` runs after every other policy's: in strict mode ``llm.response`` — the answer
the caller is about to get — is durable before the response (or a stream's final event) goes
out. If the trail cannot record, the call is refused with a 503, never served unrecorded.
"""

from __future__ import annotations

import logging

from tollhouse.audit.trail import AuditTrail
from tollhouse.audit.writer import AuditWriteFailed
from tollhouse.errors import AuditUnavailable
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import CallKind, Phase
from tollhouse.pipeline.policy import Policy

log = logging.getLogger("tollhouse.audit")


class AuditRecord(Policy):
    """Admission under backpressure; strict mode: a durable ``llm.request`` before forwarding."""

    name = "audit"
    phase = Phase.RECORD
    kinds = frozenset({CallKind.LLM})

    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail
        self._strict = trail.strict

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        ctx.capture_stream = True  # the response record needs the streamed answer's digest
        if self._trail.queue.full and not await self._trail.admit():
            return Deny(
                AuditUnavailable("the audit trail is saturated; retry shortly"),
                "audit_backpressure",
                self.name,
            )
        if self._strict:
            try:
                await self._trail.record_request(ctx)
            except AuditWriteFailed as exc:
                log.error("strict audit: request %s refused: %s", ctx.request_id, exc)
                return Deny(
                    AuditUnavailable("the audit trail cannot record this call"),
                    "audit_unavailable",
                    self.name,
                )
        return None


class AuditResponseRecord(Policy):
    """Strict mode: a durable ``llm.response`` before the caller receives the end of the answer."""

    name = "audit_response"
    phase = Phase.RECORD_RESPONSE
    kinds = frozenset({CallKind.LLM})

    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    async def on_response(self, ctx: RequestContext) -> Outcome | None:
        try:
            await self._trail.record_response(ctx)
        except AuditWriteFailed as exc:
            log.error("strict audit: response of %s withheld: %s", ctx.request_id, exc)
            return Deny(
                AuditUnavailable("the audit trail cannot record this answer"), "audit_unavailable", self.name
            )
        return None
