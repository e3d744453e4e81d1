"""Admin API endpoints for the MCP gateway: definitions to pin, tool calls to approve.

Reading definitions needs ``admin:policies:read`` (security auditors too); pinning one needs
``admin:policies:write``. Held calls need ``admin:approvals:read`` / ``admin:approvals:decide``,
as on ``/v1/approvals`` (``approvals.admin_handlers``). Rows are in ``admin/routes.py``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tollhouse.admin.api import AdminCall
from tollhouse.approvals import admin_handlers as approval_handlers
from tollhouse.approvals import store
from tollhouse.mcp import operations
from tollhouse.mcp.pin_store import PinStore

Reply = tuple[int, Any]


class DefinitionDecision(BaseModel):
    """Which pending definition: ``target`` is SERVER/NAME."""

    model_config = ConfigDict(extra="forbid")
    target: str
    kind: str = "tool"


async def list_definitions(call: AdminCall) -> Reply:
    """``?pending=true&server=github``."""
    pending = call.query.get("pending", "").lower() in ("1", "true", "yes")
    rows = await operations.list_definitions(
        PinStore(call.services.engine), pending, call.query.get("server")
    )
    return 200, {"data": rows}


async def _definition(call: AdminCall, approve: bool) -> Reply:
    body: DefinitionDecision = call.body
    store = PinStore(call.services.engine)
    row = await operations.decide_definition(
        store, call.services.sink, call.actor.name, body.target, body.kind, approve
    )
    return 200, row


async def approve_definition(call: AdminCall) -> Reply:
    """POST /v1/mcp/definitions/approve: pin the pending definition."""
    return await _definition(call, True)


async def reject_definition(call: AdminCall) -> Reply:
    """POST /v1/mcp/definitions/reject: keep it blocked."""
    return await _definition(call, False)


async def list_calls(call: AdminCall) -> Reply:
    """``?status=pending`` (default) or ``?status=all``."""
    status = call.query.get("status", "pending")
    rows = await store.list_approvals(
        call.services.engine, None if status == "all" else status, source=store.MCP
    )
    return 200, {"data": rows}


async def approve_call(call: AdminCall) -> Reply:
    """POST /v1/mcp/calls/{id}/approve: the held call goes ahead."""
    return await approval_handlers.approve(call)


async def deny_call(call: AdminCall) -> Reply:
    """POST /v1/mcp/calls/{id}/deny: the held call fails."""
    return await approval_handlers.deny(call)
