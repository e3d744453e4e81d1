"""The identity tables, as SQLAlchemy Core sees them (the migration creates the same shape).

Timestamps are UTC seconds since the epoch (a float): the same value on SQLite and
PostgreSQL, no time-zone handling in between.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

orgs = Table(
    "identity_orgs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)

teams = Table(
    "identity_teams",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)

principals = Table(
    "identity_principals",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("team_id", String(64), nullable=True),
    Column("name", String(200), nullable=False),
    Column("owner_id", String(64), nullable=True),
    Column("roles", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("can_delegate", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

keys = Table(
    "identity_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("principal_id", String(64), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    Column("rotated_from", String(64), nullable=True),
    Column("last_used_at", Float, nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("metadata", JSON, nullable=False),
)

policies = Table(
    "identity_policies",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("text", Text, nullable=False),
    Column("description", String(500), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

credentials = Table(
    "identity_credentials",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("key_version", Integer, nullable=False),
    Column("last4", String(4), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# One row whose counter every change bumps: replicas poll it to know when to reload.
version = Table(
    "identity_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
