"""Audit: hash-chained records per writer, signed checkpoints, encrypted content, data keys.

Revision ID: audit_0001
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = "0001_base"
branch_labels = ("audit",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_chains",
        sa.Column("chain_id", sa.String(128), primary_key=True),
        sa.Column("replica_id", sa.String(128), nullable=False, index=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_us", sa.BigInteger, nullable=False),
        sa.Column("heartbeat_us", sa.BigInteger, nullable=False),
        sa.Column("closed_us", sa.BigInteger),
        sa.Column("predecessor", sa.String(128)),
        sa.Column("successor", sa.String(128)),
    )
    op.create_table(
        "audit_records",
        sa.Column("chain_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("principal_id", sa.String(255)),
        sa.Column("principal_kind", sa.String(16)),
        sa.Column("org_id", sa.String(255)),
        sa.Column("session_id", sa.String(255)),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("status", sa.Integer),
        sa.Column("verdict", sa.String(32)),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_audit_records_time", "audit_records", ["time_us"])
    op.create_index("ix_audit_records_session", "audit_records", ["session_id"])
    op.create_index("ix_audit_records_trace", "audit_records", ["trace_id"])
    op.create_index("ix_audit_records_principal", "audit_records", ["principal_id"])
    op.create_index("ix_audit_records_request", "audit_records", ["request_id"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("chain_id", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("time_us", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_content",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(32), nullable=False, index=True),
        sa.Column("part", sa.String(32), nullable=False),
        sa.Column("org_id", sa.String(255), nullable=False, index=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False, index=True),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "audit_data_keys",
        sa.Column("org_id", sa.String(255), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("wrapped", sa.LargeBinary),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("shredded_us", sa.BigInteger),
    )


def downgrade() -> None:
    for table in ("audit_data_keys", "audit_content", "audit_checkpoints", "audit_records", "audit_chains"):
        op.drop_table(table)
