"""The ``approvals`` table (SQLAlchemy Core): one row per tool call held for a human decision.

The migrations ``mcp_0001`` (as ``mcp_approvals``) and ``approvals_0001`` (renamed, with
``source`` and ``digest``) create it. Times are seconds since the epoch (floats).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, MetaData, String, Table, Text

metadata = MetaData()

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # pending, approved, denied, expired
    Column("source", String(16), nullable=False, server_default="mcp"),  # mcp, chat, responses, messages
    Column("route", String(64), nullable=False),  # the MCP route, or the model alias asked for
    Column("server", String(64), nullable=False),  # the MCP server, or the model alias
    Column("tool", String(512), nullable=False),
    Column("principal", String(255), nullable=False),  # kind:id
    Column("session_id", String(255)),
    Column("request_id", String(128), nullable=False),
    Column("digest", String(64), nullable=False, server_default=""),  # LLM tool calls: see tool_calls.py
    Column("args_sha256", String(64), nullable=False),
    Column("args_preview", Text, nullable=False),  # the arguments after guard redaction, capped
    Column("reason", Text, nullable=False),  # why approval is needed
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("decided_by", String(255)),
    Column("decided_at", Float),
    Column("note", Text),
    Index("ix_approvals_status", "status"),
    Index("ix_approvals_digest", "digest"),
)
