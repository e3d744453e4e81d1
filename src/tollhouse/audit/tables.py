"""The audit tables (SQLAlchemy Core): chains, chained records, checkpoints, content, data keys.

The migrations ``storage/migrations/versions/audit_000*.py`` create the same tables; these
definitions are what queries are built from.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text

metadata = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys

chains = Table(
    "audit_chains",
    metadata,
    Column("chain_id", String(128), primary_key=True),
    Column("replica_id", String(128), nullable=False, index=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("heartbeat_us", BigInteger, nullable=False),
    Column("closed_us", BigInteger),
    Column("predecessor", String(128)),
    Column("successor", String(128)),  # set when a restarted writer adopts this chain
)

records = Table(
    "audit_records",
    metadata,
    Column("chain_id", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("event_id", String(32), nullable=False),
    Column("type", String(32), nullable=False),
    Column("time_us", BigInteger, nullable=False),
    # Text, not VARCHAR(n): callers' values reach these (``audit_0004``), and a value too long
    # for its column would fail every retry of its batch.
    Column("request_id", Text),
    Column("principal_id", Text),
    Column("principal_kind", Text),
    Column("org_id", Text),
    Column("session_id", Text),
    Column("trace_id", String(32)),
    Column("status", Integer),
    Column("verdict", String(32)),
    Column("body", Text, nullable=False),
    # Indexes (created by the migrations): time_us and session_id everywhere (on SQLite the
    # session index is partial: rows with a session); PostgreSQL also indexes trace_id,
    # principal_id and request_id (``audit_0002`` says why SQLite does not). SQLite does not
    # store the columns of ``DERIVED_ON_SQLITE`` at all (``audit_0003``): read them with
    # ``record_column``.
    Index("ix_audit_records_time", "time_us"),
)

# The search columns SQLite reads from the record's body instead of storing them: where in
# the body each one is, and its NULL stand-in (the writer stores an empty value as NULL).
DERIVED_ON_SQLITE: dict[str, tuple[str, str | int]] = {
    "request_id": ("$.request_id", ""),
    "principal_id": ("$.principal.id", ""),
    "principal_kind": ("$.principal.kind", ""),
    "org_id": ("$.principal.org", ""),
    "trace_id": ("$.trace_id", ""),
    "status": ("$.status", 0),
}


def record_column(name: str, dialect: str) -> sa.ColumnElement[object]:
    """Column ``name`` of ``audit_records`` as ``dialect`` reads it (labelled with its name)."""
    if dialect == "sqlite" and name in DERIVED_ON_SQLITE:
        path, empty = DERIVED_ON_SQLITE[name]
        # A body that is no longer JSON (tampered with) reads as NULL here rather than failing
        # the whole query: the verifier must still reach that record and name it.
        value = sa.func.nullif(sa.func.json_extract(records.c.body, path), empty)
        return sa.case((sa.func.json_valid(records.c.body), value)).label(name)
    column: sa.ColumnElement[object] = records.c[name]
    return column


def record_columns(dialect: str) -> list[sa.ColumnElement[object]]:
    """Every column of ``audit_records`` as ``dialect`` reads it."""
    return [record_column(column.name, dialect) for column in records.columns]


checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("chain_id", String(128), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(64), nullable=False),
    Column("time_us", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", Text, nullable=False),
)

content = Table(
    "audit_content",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("event_id", String(32), nullable=False, index=True),
    Column("part", String(32), nullable=False),
    Column("org_id", String(255), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("created_us", BigInteger, nullable=False, index=True),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
)

data_keys = Table(
    "audit_data_keys",
    metadata,
    Column("org_id", String(255), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("wrapped", LargeBinary),  # NULL once shredded
    Column("created_us", BigInteger, nullable=False),
    Column("shredded_us", BigInteger),
)
