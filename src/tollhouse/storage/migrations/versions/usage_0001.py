"""Usage: the spend ledger (one row per settled call) and killed agent sessions.

Revision ID: usage_0001
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "usage_0001"
down_revision = "0001_base"
branch_labels = ("usage",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "usage_ledger",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("key_id", sa.String(128)),
        sa.Column("principal", sa.String(255)),
        sa.Column("agent_id", sa.String(128)),
        sa.Column("team_id", sa.String(128)),
        sa.Column("org_id", sa.String(128)),
        sa.Column("session_id", sa.String(255)),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("upstream_model", sa.String(255), nullable=False),
        sa.Column("surface", sa.String(32), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost_nusd", sa.BigInteger, nullable=False),
        sa.Column("estimated", sa.Boolean, nullable=False),
    )
    op.create_index("ix_usage_ledger_time", "usage_ledger", ["time_us"])
    op.create_index("ix_usage_ledger_session", "usage_ledger", ["session_id"])
    op.create_index("ix_usage_ledger_key", "usage_ledger", ["key_id"])
    op.create_index("ix_usage_ledger_team", "usage_ledger", ["team_id"])
    op.create_table(
        "usage_session_kills",
        sa.Column("session_id", sa.String(255), primary_key=True),
        sa.Column("killed_us", sa.BigInteger, nullable=False),
        sa.Column("expires_us", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_session_kills")
    op.drop_index("ix_usage_ledger_team", "usage_ledger")
    op.drop_index("ix_usage_ledger_key", "usage_ledger")
    op.drop_index("ix_usage_ledger_session", "usage_ledger")
    op.drop_index("ix_usage_ledger_time", "usage_ledger")
    op.drop_table("usage_ledger")
