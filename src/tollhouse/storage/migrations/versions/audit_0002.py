"""Audit: fewer search indexes on SQLite, where the gateway's own process maintains them.

Every index on ``audit_records`` is work on each insert, and with SQLite that work runs in
the gateway, on the core that serves calls: the request and trace ids are random, so each
of their indexes dirties a page per record. SQLite keeps the time index (every search walks
it newest first, and a time range bounds a search on any other field) and indexes sessions
only where a record has one (an ``x-tollhouse-session`` header or a caller's trace), so an
agent session's timeline stays an index lookup. PostgreSQL keeps all five: there the
database server does that work.

Revision ID: audit_0002
Revises: audit_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None

_DROPPED = {
    "ix_audit_records_trace": "trace_id",
    "ix_audit_records_principal": "principal_id",
    "ix_audit_records_request": "request_id",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _DROPPED:
        op.drop_index(name, "audit_records")
    op.drop_index("ix_audit_records_session", "audit_records")
    op.create_index(
        "ix_audit_records_session",
        "audit_records",
        ["session_id"],
        sqlite_where=sa.text("session_id IS NOT NULL"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_audit_records_session", "audit_records")
    op.create_index("ix_audit_records_session", "audit_records", ["session_id"])
    for name, column in _DROPPED.items():
        op.create_index(name, "audit_records", [column])
