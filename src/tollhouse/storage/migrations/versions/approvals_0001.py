"""One approvals table for MCP and LLM tool calls: ``mcp_approvals`` renamed, with the
caller's surface (``source``) and the digest that identifies an LLM tool call on retry.

Revision ID: approvals_0001
Revises: mcp_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "approvals_0001"
down_revision = "mcp_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_mcp_approvals_status", "mcp_approvals")
    op.rename_table("mcp_approvals", "approvals")
    op.add_column("approvals", sa.Column("source", sa.String(16), nullable=False, server_default="mcp"))
    op.add_column("approvals", sa.Column("digest", sa.String(64), nullable=False, server_default=""))
    op.create_index("ix_approvals_status", "approvals", ["status"])
    op.create_index("ix_approvals_digest", "approvals", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_approvals_digest", "approvals")
    op.drop_index("ix_approvals_status", "approvals")
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("digest")
        batch.drop_column("source")
    op.rename_table("approvals", "mcp_approvals")
    op.create_index("ix_mcp_approvals_status", "mcp_approvals", ["status"])
