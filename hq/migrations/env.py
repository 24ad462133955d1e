"""Alembic environment for HQ (SQLite and PostgreSQL).

Migrations run on a connection handed in by :func:`hq.migrate.upgrade` through
``config.attributes["connection"]``; SQLite needs batch mode to alter tables.
"""

from __future__ import annotations

from alembic import context

from hq.models import Base

config = context.config

connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run HQ migrations through hq.migrate.upgrade()")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
