"""Alembic environment for the till store.

Migrations run on a connection handed in by :func:`terminal.db.migrate.upgrade` (through
``config.attributes["connection"]``); SQLite needs batch mode to alter tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from terminal.db.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run till migrations through terminal.db.migrate.upgrade()")
_run(connection)
