"""Audit: on PostgreSQL, the search columns a caller's values reach are unbounded text.

``session_id`` is the caller's ``x-tollhouse-session`` header; ``request_id``,
``principal_id``, ``principal_kind`` and ``org_id`` come from the caller's ``x-request-id``,
a token's claims or the key store. As ``VARCHAR(n)`` a longer value failed the whole batch's
commit, and the writer retried that batch for ever: one request with a 300-character
session header, even an unauthenticated one, stopped the chain and, through backpressure,
the gateway. ``TEXT`` has no length to exceed (PostgreSQL changes the type without rewriting
the table or its indexes). SQLite does not enforce ``VARCHAR`` lengths: nothing changes there.

Revision ID: audit_0004
Revises: audit_0003
"""

from __future__ import annotations

from alembic import op

revision = "audit_0004"
down_revision = "audit_0003"
branch_labels = None
depends_on = None

# Column and its type before this revision.
WIDENED = (
    ("request_id", "VARCHAR(128)"),
    ("principal_id", "VARCHAR(255)"),
    ("principal_kind", "VARCHAR(16)"),
    ("org_id", "VARCHAR(255)"),
    ("session_id", "VARCHAR(255)"),
)
# The view reads the columns (``audit_0003``); PostgreSQL will not retype a column a view uses.
_VIEW = (
    "CREATE VIEW audit_records_view AS SELECT chain_id, seq, hash, event_id, type, time_us, request_id, "
    "principal_id, principal_kind, org_id, session_id, trace_id, status, verdict, body FROM audit_records"
)


def _retype(to: dict[str, str]) -> None:
    op.execute("DROP VIEW audit_records_view")
    changes = ", ".join(f"ALTER COLUMN {column} TYPE {kind}" for column, kind in to.items())
    op.execute(f"ALTER TABLE audit_records {changes}")
    op.execute(_VIEW)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _retype({column: "TEXT" for column, _ in WIDENED})


def downgrade() -> None:
    # Fails if a longer value has been stored since: narrowing would have to cut it.
    if op.get_bind().dialect.name != "sqlite":
        _retype(dict(WIDENED))
