"""Admin endpoints for the audit trail: verify, search, a session's timeline, the public key.

They call ``AuditService`` (the same operations as ``tollhouse audit …``). Reading records
needs ``admin:audit:read``; decrypting prompts and answers (``reveal_content=true``) needs
``admin:audit:content`` as well, and every reveal is itself an admin event, so it lands in
the chain as an ``admin.change`` record (action ``audit.reveal``).
"""

from __future__ import annotations

from typing import Any

from tollhouse.admin.api import AdminCall, QueryParam
from tollhouse.admin.events import event
from tollhouse.admin.roles import AUDIT_CONTENT
from tollhouse.audit.search import MAX_LIMIT, SearchFilters
from tollhouse.audit.service import AuditService
from tollhouse.identity.errors import IdentityError, InvalidInput, UnknownRecord
from tollhouse.limits.timespec import BadTime, to_us

Reply = tuple[int, Any]
_TRUE = ("1", "true", "yes")


class AuditDisabled(IdentityError):
    status = 404
    code = "audit_disabled"


def _service(call: AdminCall) -> AuditService:
    if call.services.audit is None:
        raise AuditDisabled("the audit trail is not enabled on this gateway (audit.enabled)")
    return call.services.audit


def _time(call: AdminCall, name: str) -> int | None:
    try:
        return to_us(call.query.get(name))
    except BadTime as exc:
        raise InvalidInput(f"{name}: {exc}") from None


def _int(call: AdminCall, name: str, low: int, high: int) -> int | None:
    text = call.query.get(name)
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name} must be a number from {low} to {high}")
    return int(text)


async def verify(call: AdminCall) -> Reply:
    """Recompute the chains (or one) and check checkpoint signatures; ``ok`` false names problems."""
    report = await _service(call).verify(call.query.get("chain") or None, _time(call, "since"))
    return 200, report.to_json()


SEARCH_FIELDS = ("principal", "agent", "org", "session", "trace", "request", "type", "verdict", "chain")


async def search(call: AdminCall) -> Reply:
    """Records matching every given filter, newest first (content by digest only)."""
    service = _service(call)
    text = {name: call.query.get(name) or None for name in SEARCH_FIELDS}
    filters = SearchFilters(
        status=_int(call, "status", 100, 599),
        since_us=_time(call, "since"),
        until_us=_time(call, "until"),
        limit=_int(call, "limit", 1, MAX_LIMIT) or 100,
        **text,
    )
    return 200, {"data": await service.search(filters)}


async def session_timeline(call: AdminCall) -> Reply:
    """One agent session as a tree of calls; prompts and answers only with ``reveal_content``."""
    service = _service(call)
    session_id = call.params["session_id"]
    reveal = call.query.get("reveal_content", "").lower() in _TRUE
    if reveal:
        call.require(AUDIT_CONTENT)
        if service.vault is None:
            raise InvalidInput("content cannot be revealed: audit.content.master_key is not configured")
    timeline = await service.session_timeline(session_id, reveal_content=reveal)
    if not timeline.calls:
        raise UnknownRecord(f"no audit records for session {session_id!r}")
    if reveal:
        reveal_event = event(
            "audit.reveal", call.actor.name, "session", session_id, None, None, call.request_id
        )
        call.services.sink.emit(reveal_event)
    return 200, timeline.to_json()


async def public_key(call: AdminCall) -> Reply:
    """The Ed25519 keys checkpoints are verified with (what an external auditor needs)."""
    return 200, _service(call).public_key()


VERIFY_QUERY = (
    QueryParam("chain", "Only this chain."),
    QueryParam("since", "From each chain's last valid checkpoint at or before this time (7d, ISO 8601)."),
)
SEARCH_QUERY = (
    QueryParam("principal", "Principal id."),
    QueryParam("agent", "Agent id."),
    QueryParam("org", "Organisation id."),
    QueryParam("session", "Agent session id."),
    QueryParam("trace", "W3C trace id."),
    QueryParam("request", "Request id."),
    QueryParam("type", "Event type: llm.response, guard.verdict, admin.change, …"),
    QueryParam("verdict", "Worst verdict of a record: deny, block, redact, flag, …"),
    QueryParam("chain", "Only this chain."),
    QueryParam("status", "HTTP status.", "integer"),
    QueryParam("since", "From this time (7d, 24h, 2026-11-01, ISO 8601, epoch seconds)."),
    QueryParam("until", "Before this time."),
    QueryParam("limit", f"At most this many records (1 to {MAX_LIMIT}, default 100).", "integer"),
)
SESSION_QUERY = (
    QueryParam(
        "reveal_content",
        "true: decrypt prompts and answers (needs admin:audit:content; the reveal is recorded).",
        "boolean",
    ),
)
