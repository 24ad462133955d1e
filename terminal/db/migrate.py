"""Create or upgrade the till's schema with Alembic, on start.

Alembic is imported here, lazily, so that importing the store does not pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

    from terminal.db.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


async def upgrade(db: Database) -> None:
    """Bring the database file to the newest schema (a no-op when it already is)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)
