"""Audit: on SQLite, the search columns nothing indexes are read from the record's body.

``request_id``, ``principal_id``, ``principal_kind``, ``org_id``, ``trace_id`` and ``status``
are not indexed on SQLite (``audit_0002``), so a search on them reads every row of its time
range anyway. Stored, they were six more values bound and written per record by the
gateway's own process. They are dropped: readers take them from the hashed body with
``json_extract`` (``tables.record_column``), so they can no longer disagree with it either.
(Virtual generated columns would read the same but SQLite computes them on every INSERT,
which costs more than storing them.) PostgreSQL, which indexes them, keeps them.

For people who query the database with SQL, the view ``audit_records_view`` has every
column on either database (on SQLite the six read from the body).

Revision ID: audit_0003
Revises: audit_0002
"""

from __future__ import annotations

from alembic import op

revision = "audit_0003"
down_revision = "audit_0002"
branch_labels = None
depends_on = None

# Column, type, and how to read it from the body (as the writer stored it: empty text and a
# zero status as NULL), for the downgrade. ``tables.DERIVED_ON_SQLITE`` is the same list.
DERIVED = (
    ("request_id", "VARCHAR(128)", "NULLIF(json_extract(body, '$.request_id'), '')"),
    ("principal_id", "VARCHAR(255)", "NULLIF(json_extract(body, '$.principal.id'), '')"),
    ("principal_kind", "VARCHAR(16)", "NULLIF(json_extract(body, '$.principal.kind'), '')"),
    ("org_id", "VARCHAR(255)", "NULLIF(json_extract(body, '$.principal.org'), '')"),
    ("trace_id", "VARCHAR(32)", "NULLIF(json_extract(body, '$.trace_id'), '')"),
    ("status", "INTEGER", "NULLIF(json_extract(body, '$.status'), 0)"),
)


# The table's columns in order (at this revision), for the view.
_COLUMNS = (
    "chain_id, seq, hash, event_id, type, time_us, request_id, principal_id, principal_kind, org_id, "
    "session_id, trace_id, status, verdict, body"
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for column, _, _ in DERIVED:
            op.execute(f"ALTER TABLE audit_records DROP COLUMN {column}")
    derived = {column: expression for column, _, expression in DERIVED} if sqlite else {}
    columns = ", ".join(f"{derived[c]} AS {c}" if c in derived else c for c in _COLUMNS.split(", "))
    op.execute(f"CREATE VIEW audit_records_view AS SELECT {columns} FROM audit_records")  # noqa: S608


def downgrade() -> None:
    op.execute("DROP VIEW audit_records_view")
    if op.get_bind().dialect.name != "sqlite":
        return
    for column, kind, expression in DERIVED:
        op.execute(f"ALTER TABLE audit_records ADD COLUMN {column} {kind}")
        op.execute(f"UPDATE audit_records SET {column} = {expression}")  # noqa: S608 - fixed names
