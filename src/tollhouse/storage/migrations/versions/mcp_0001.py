"""MCP gateway: pinned tool/prompt/resource definitions and tool calls held for approval.

Revision ID: mcp_0001
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mcp_0001"
down_revision = "0001_base"
branch_labels = ("mcp",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mcp_pins",
        sa.Column("server", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("approved_sha256", sa.String(64)),
        sa.Column("approved_body", sa.JSON),
        sa.Column("pending_sha256", sa.String(64)),
        sa.Column("pending_body", sa.JSON),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("diff", sa.JSON, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("decided_at", sa.Float),
    )
    op.create_table(
        "mcp_approvals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("route", sa.String(64), nullable=False),
        sa.Column("server", sa.String(64), nullable=False),
        sa.Column("tool", sa.String(512), nullable=False),
        sa.Column("principal", sa.String(255), nullable=False),
        sa.Column("session_id", sa.String(255)),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("args_sha256", sa.String(64), nullable=False),
        sa.Column("args_preview", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("decided_by", sa.String(255)),
        sa.Column("decided_at", sa.Float),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_mcp_approvals_status", "mcp_approvals", ["status"])


def downgrade() -> None:
    op.drop_index("ix_mcp_approvals_status", "mcp_approvals")
    op.drop_table("mcp_approvals")
    op.drop_table("mcp_pins")
