"""Create or upgrade HQ's schema with Alembic (on ``serve`` start and ``kedai-hq migrate``).

Migrations run once in the parent process before any worker starts, so several workers
never race to create the same tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

    from hq.db import Database

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
    """Bring the store to the newest schema (a no-op when it already is)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade)
