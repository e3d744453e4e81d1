"""``mcp.call`` audit events: one per message a caller sent, with its outcome.

The record names the principal, agent and delegation, the session (``x-tollhouse-session``,
else the caller's trace, else the MCP session — so tool calls line up with the same
session's LLM calls), the W3C trace and span, the route and server, the tool, the digests
of the arguments and the result (never the values), the verdicts and the latency. In strict
mode the record is durable before the caller gets the answer; if it cannot be, the caller
gets an error instead (nothing is served unrecorded).
"""

from __future__ import annotations

import logging
import time

from tollhouse.audit.canonical import NotCanonical, check_canonical_value
from tollhouse.audit.events import AuditEvent, DetailValue, EventType, PrincipalRef
from tollhouse.audit.queue import Entry
from tollhouse.audit.trail import AuditTrail
from tollhouse.mcp.call import Caller, McpCall

log = logging.getLogger("tollhouse.mcp")


def session_of(caller: Caller) -> str | None:
    """The session a message belongs to: x-tollhouse-session, else the trace, else the MCP session."""
    ctx = caller.ctx
    return ctx.session_id or (caller.session.id if caller.session is not None else None)


def build_event(caller: Caller, call: McpCall) -> AuditEvent:
    """The ``mcp.call`` event of one handled message."""
    ctx = caller.ctx
    detail: dict[str, DetailValue] = {"method": call.method, "outcome": call.outcome, "era": caller.era}
    for key, value in (
        ("tool", call.name),
        ("exposed_name", call.exposed),
        ("args_sha256", call.args_sha256),
        ("result_sha256", call.result_sha256),
        ("mcp_session", caller.session.id if caller.session is not None else None),
        ("rpc_error", call.error_code),
        ("error", call.error),
    ):
        if value is not None:
            detail[key] = value
    detail.update(call.detail)
    return AuditEvent(
        EventType.MCP_CALL,
        request_id=ctx.request_id,
        principal=PrincipalRef.of(caller.principal) if caller.principal is not None else None,
        session_id=session_of(caller),
        trace_id=ctx.trace_id or None,
        span_id=ctx.span_id or None,
        parent_span_id=ctx.parent_span_id,
        surface="mcp",
        route=caller.route.name,
        provider=call.server,
        status=ctx.status or 200,
        error_code=call.outcome if call.outcome not in ("ok", "tool_error") else None,
        latency_us=int((time.perf_counter() - call.started) * 1_000_000),
        verdicts=tuple(call.verdicts),
        detail=detail,
    )


async def record(trail: AuditTrail | None, caller: Caller, call: McpCall) -> None:
    """Record the message. Async mode queues it (the trail's backpressure applies); strict
    mode waits until it is durable and raises ``AuditWriteFailed`` when it cannot be."""
    if trail is None:
        return
    try:
        event = build_event(caller, call)
        if not trail.strict or trail.writer is None:
            trail.emit(event)
            return
        entry = event.to_record()
        check_canonical_value(entry)
    except NotCanonical:
        log.exception("mcp.call record for %s could not be built", call.method)
        return
    await trail.writer.durable(Entry(entry), trail.settings.block_timeout_s)
