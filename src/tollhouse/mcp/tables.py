"""The MCP table (SQLAlchemy Core): pinned definitions (held tool calls: ``approvals.table``).

The migration ``storage/migrations/versions/mcp_0001.py`` creates the same table. Times
are seconds since the epoch (floats), like the identity tables.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, MetaData, String, Table

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
