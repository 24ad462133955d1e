"""Create or upgrade the till's schema with Alembic, on start (see :mod:`sync.alembic_runner`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sync import alembic_runner

if TYPE_CHECKING:
    from terminal.db.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")


async def upgrade(db: Database) -> None:
    """Bring the database file to the newest schema (a no-op when it already is)."""
    await alembic_runner.upgrade(db.engine, MIGRATIONS)
