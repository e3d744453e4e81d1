"""The usage tables (SQLAlchemy Core): the spend ledger and the killed sessions.

The migration ``storage/migrations/versions/usage_0001.py`` creates the same tables. Times
are UTC microseconds since the epoch; cost is in nano-USD (an integer: sums are exact).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements only INTEGER keys

ledger = Table(
    "usage_ledger",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("time_us", BigInteger, nullable=False),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD (UTC), for reports by day
    # Text, not VARCHAR(n): callers' and upstreams' values reach these (``usage_0002``), and a
    # value too long for its column would fail its batch on every retry.
    Column("request_id", Text, nullable=False),
    Column("key_id", Text),
    Column("principal", Text),  # kind:id
    Column("agent_id", Text),
    Column("team_id", Text),
    Column("org_id", Text),
    Column("session_id", Text),
    Column("model", Text, nullable=False),  # the alias the caller asked for
    Column("provider", Text, nullable=False),
    Column("upstream_model", Text, nullable=False),
    Column("surface", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cost_nusd", BigInteger, nullable=False),
    Column("estimated", Boolean, nullable=False),  # usage unknown: the reservation was charged
    Index("ix_usage_ledger_time", "time_us"),
    Index("ix_usage_ledger_session", "session_id"),
    Index("ix_usage_ledger_key", "key_id"),
    Index("ix_usage_ledger_team", "team_id"),
)

kills = Table(
    "usage_session_kills",
    metadata,
    Column("session_id", String(255), primary_key=True),
    Column("killed_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("reason", String(500), nullable=False),
)
