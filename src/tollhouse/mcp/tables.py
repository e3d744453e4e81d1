"""The MCP tables (SQLAlchemy Core): pinned definitions and held tool calls.

The migration ``storage/migrations/versions/mcp_0001.py`` creates the same tables. Times
are seconds since the epoch (floats), like the identity tables.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, MetaData, String, Table, Text

metadata = MetaData()

# One row per (server, kind, key): the approved definition's hash and body, and the
# definition waiting for approval (new and suspicious, or changed: a rug pull) with its
# scan findings and its diff against the approved one.
pins = Table(
    "mcp_pins",
    metadata,
    Column("server", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),  # tool, prompt, resource, template
    Column("key", String(512), primary_key=True),  # the name, URI or URI template
    Column("status", String(16), nullable=False),  # approved, pending, rejected
    Column("approved_sha256", String(64)),
    Column("approved_body", JSON),
    Column("pending_sha256", String(64)),
    Column("pending_body", JSON),
    Column("findings", JSON, nullable=False),
    Column("diff", JSON, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("decided_by", String(255)),
    Column("decided_at", Float),
)

# One row per tool call held for a human decision.
approvals = Table(
    "mcp_approvals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # pending, approved, denied, expired
    Column("route", String(64), nullable=False),
    Column("server", String(64), nullable=False),
    Column("tool", String(512), nullable=False),
    Column("principal", String(255), nullable=False),  # kind:id
    Column("session_id", String(255)),
    Column("request_id", String(128), nullable=False),
    Column("args_sha256", String(64), nullable=False),
    Column("args_preview", Text, nullable=False),  # the arguments after guard redaction, capped
    Column("reason", Text, nullable=False),  # why approval is needed
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("decided_by", String(255)),
    Column("decided_at", Float),
    Column("note", Text),
    Index("ix_mcp_approvals_status", "status"),
)
