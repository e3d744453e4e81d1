"""Usage: on PostgreSQL, the spend ledger's text columns are unbounded.

Callers' and upstreams' values reach them: a token's subject and agent id (in ``principal``
and ``agent_id``), the session header, the model name an upstream reports. As ``VARCHAR(n)``
one longer value failed its whole batch, and the writer kept the batch for the next try, so
the ledger stopped there until its queue overflowed. ``TEXT`` has no length to exceed
(PostgreSQL changes the type without rewriting the table). SQLite does not enforce
``VARCHAR`` lengths: nothing changes there.

Revision ID: usage_0002
Revises: usage_0001
"""

from __future__ import annotations

from alembic import op

revision = "usage_0002"
down_revision = "usage_0001"
branch_labels = None
depends_on = None

# Column and its type before this revision.
WIDENED = (
    ("request_id", "VARCHAR(128)"),
    ("key_id", "VARCHAR(128)"),
    ("principal", "VARCHAR(255)"),
    ("agent_id", "VARCHAR(128)"),
    ("team_id", "VARCHAR(128)"),
    ("org_id", "VARCHAR(128)"),
    ("session_id", "VARCHAR(255)"),
    ("model", "VARCHAR(128)"),
    ("provider", "VARCHAR(64)"),
    ("upstream_model", "VARCHAR(255)"),
    ("surface", "VARCHAR(32)"),
)


def _retype(to: dict[str, str]) -> None:
    changes = ", ".join(f"ALTER COLUMN {column} TYPE {kind}" for column, kind in to.items())
    op.execute(f"ALTER TABLE usage_ledger {changes}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        _retype({column: "TEXT" for column, _ in WIDENED})


def downgrade() -> None:
    # Fails if a longer value has been stored since: narrowing would have to cut it.
    if op.get_bind().dialect.name != "sqlite":
        _retype(dict(WIDENED))
