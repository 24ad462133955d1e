"""Alembic on a connection the caller hands in: the one runner the till and HQ share.

Each store keeps its own migrations folder and models; this module knows neither. A
store's ``migrate.upgrade`` calls :func:`upgrade` with its engine and folder, and that
folder's ``env.py`` calls :func:`run_env` with its metadata. The connection travels in
``config.attributes["connection"]``, so migrations run inside the caller's transaction
on the caller's engine (the till's PRAGMAs, HQ's SQLite or PostgreSQL). SQLite needs
batch mode to alter tables. Alembic is imported on first use: a till that is already
migrated starts without paying for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import MetaData
    from sqlalchemy.engine import Connection
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["alembic_config", "run_env", "upgrade"]


def alembic_config(script_location: Path, connection: Connection | None = None) -> Config:
    """An in-memory Alembic config for the migrations in ``script_location``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(engine: AsyncEngine, script_location: Path) -> None:
    """Bring the database to the newest schema in one transaction (a no-op if it is)."""

    def to_head(connection: Connection) -> None:
        from alembic import command

        command.upgrade(alembic_config(script_location, connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(to_head)


def run_env(metadata: MetaData, *, entry_point: str) -> None:
    """The body of a migrations folder's ``env.py``: migrate the handed-in connection.

    ``entry_point`` names the function to call instead, for the error raised when
    someone runs the ``alembic`` command line (which hands in no connection).
    """
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(f"run these migrations through {entry_point}")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
