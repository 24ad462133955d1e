"""Create or upgrade HQ's schema with Alembic (on ``serve`` start and ``kedai-hq migrate``).

Migrations run once in the parent process before any worker starts, so several workers
never race to create the same tables. The runner is shared with the till
(:mod:`sync.alembic_runner`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sync import alembic_runner

if TYPE_CHECKING:
    from hq.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


async def upgrade(db: Database) -> None:
    """Bring the store to the newest schema (a no-op when it already is)."""
    await alembic_runner.upgrade(db.engine, MIGRATIONS)
