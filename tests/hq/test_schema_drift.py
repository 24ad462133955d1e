"""HQ's ORM models describe exactly the schema its Alembic migrations build, on SQLite and
on PostgreSQL (Alembic's ``compare_metadata`` against a freshly migrated store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from hq import migrate
from hq.db import open_database
from hq.models import Base
from tests.hq.conftest import PG_CTL
from tests.hq.pg import postgres_required


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _migrated_diff(url: str) -> list[Any]:
    db = open_database(url)
    try:
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await db.dispose()


@pytest.fixture
def drift_pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database of its own in the session's temporary PostgreSQL cluster."""
    if PG_CTL is None:
        if postgres_required():
            pytest.fail("PostgreSQL server binaries not found and KEDAI_REQUIRE_POSTGRES=1")
        pytest.skip("PostgreSQL server binaries not installed")
    proc = request.getfixturevalue("pg_proc")
    import psycopg

    server = {"host": proc.host, "port": proc.port, "user": proc.user, "autocommit": True}
    with psycopg.connect(dbname="postgres", **server) as conn:
        conn.execute("DROP DATABASE IF EXISTS kedai_hq_drift")
        conn.execute("CREATE DATABASE kedai_hq_drift")
    yield f"postgresql://{proc.user}@{proc.host}:{proc.port}/kedai_hq_drift"
    with psycopg.connect(dbname="postgres", **server) as conn:
        conn.execute("DROP DATABASE IF EXISTS kedai_hq_drift")


async def test_hq_models_match_its_migrations_on_sqlite(tmp_path: Path) -> None:
    assert await _migrated_diff(f"sqlite:///{tmp_path / 'hq.db'}") == []


@pytest.mark.postgres
async def test_hq_models_match_its_migrations_on_postgres(drift_pg_url: str) -> None:
    assert await _migrated_diff(drift_pg_url) == []
