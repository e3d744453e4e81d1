"""Admin API endpoints for held tool calls, of the MCP gateway and the LLM surfaces alike.

Listing needs ``admin:approvals:read`` (admins, security auditors, approvers); deciding
needs ``admin:approvals:decide`` (admins and approvers). Rows are in ``admin/routes.py``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tollhouse.admin.api import AdminCall
from tollhouse.approvals import store
from tollhouse.approvals.decide import decide
from tollhouse.identity.errors import InvalidInput, UnknownRecord

Reply = tuple[int, Any]
_STATUSES = ("pending", "approved", "denied", "expired", "all")
_SOURCES = ("mcp", "llm", "all")


class Decision(BaseModel):
    """An approver's note on a held call, kept with the decision."""

    model_config = ConfigDict(extra="forbid")
    note: str = ""


async def list_approvals(call: AdminCall) -> Reply:
    """``?status=pending`` (default), ``approved``, ``denied``, ``expired`` or ``all``;
    ``?source=mcp|llm|all`` (default all)."""
    status = call.query.get("status", "pending")
    source = call.query.get("source", "all")
    if status not in _STATUSES or source not in _SOURCES:
        raise InvalidInput(f"status: one of {', '.join(_STATUSES)}; source: one of {', '.join(_SOURCES)}")
    rows = await store.list_approvals(
        call.services.engine, None if status == "all" else status, source=None if source == "all" else source
    )
    return 200, {"data": rows}


async def get_approval(call: AdminCall) -> Reply:
    """GET /v1/approvals/{id}."""
    row = await store.get(call.services.engine, call.params["approval_id"])
    if row is None:
        raise UnknownRecord(f"no approval {call.params['approval_id']}")
    return 200, row


async def _decide(call: AdminCall, approve: bool) -> Reply:
    body: Decision = call.body
    row = await decide(
        call.services.engine,
        call.services.sink,
        call.actor.name,
        call.params["approval_id"],
        approve,
        body.note,
    )
    return 200, row


async def approve(call: AdminCall) -> Reply:
    """POST /v1/approvals/{id}/approve: the held call goes ahead (MCP) or may be retried (LLM)."""
    return await _decide(call, True)


async def deny(call: AdminCall) -> Reply:
    """POST /v1/approvals/{id}/deny: the held call fails, and so do its retries."""
    return await _decide(call, False)
