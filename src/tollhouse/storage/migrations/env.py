"""Alembic environment: migrations run on the connection ``storage.migrate`` hands over."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the CLI path always supplies one
    raise RuntimeError("run migrations through tollhouse.storage.migrate (tollhouse db upgrade)")

context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
