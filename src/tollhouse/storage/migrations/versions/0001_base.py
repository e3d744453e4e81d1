"""The base revision every feature's migration branch starts from.

Feature areas (identity, audit, usage, …) each keep their own Alembic branch off this base
(``branch_labels``), so they evolve independently; ``upgrade`` applies all heads.

Revision ID: 0001_base
Revises:
"""

from __future__ import annotations

revision = "0001_base"
down_revision = None
branch_labels = ("base",)
depends_on = None


def upgrade() -> None:
    return None


def downgrade() -> None:
    return None
