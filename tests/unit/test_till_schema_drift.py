"""The till's ORM models describe exactly the schema its Alembic migrations build.

A column added to a model without a migration (or the other way round) would work in
tests that create tables from the models and fail on a till upgraded in place; this
compares the two with Alembic's own ``compare_metadata`` on a migrated SQLite file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from terminal.db import migrate
from terminal.db.engine import open_database
from terminal.db.models import Base


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_till_models_match_its_migrations(tmp_path: Path) -> None:
    db = open_database(tmp_path / "till.db")
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await db.dispose()
    assert diff == []
