"""An approver's decision on a held tool call, shared by the CLI and the admin API.

Each decision is an admin event with the actor and the status before and after — so, with
the audit trail on, a record in its tamper-evident chain: ``approval.approve`` /
``approval.deny`` for tool calls of the LLM surfaces, ``mcp.call.approve`` /
``mcp.call.deny`` for MCP tool calls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.admin.events import AdminEventSink, event
from tollhouse.approvals import store
from tollhouse.identity.errors import UnknownRecord


async def decide(
    engine: AsyncEngine, sink: AdminEventSink, actor: str, approval_id: str, approve: bool, note: str = ""
) -> dict[str, Any]:
    """Approve or deny a held tool call (only while it is pending)."""
    row = await store.decide(engine, approval_id, approve, actor, note)
    if row is None:
        raise UnknownRecord(f"no pending call {approval_id} (decided, expired or unknown)")
    verb = "approve" if approve else "deny"
    mcp = row["source"] == store.MCP
    action = f"mcp.call.{verb}" if mcp else f"approval.{verb}"
    before = {"status": "pending"}
    after = {"status": row["status"], "tool": row["tool"], "principal": row["principal"], "note": row["note"]}
    sink.emit(event(action, actor, "mcp_call" if mcp else "tool_call", approval_id, before, after))
    return row
