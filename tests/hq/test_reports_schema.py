"""The back office's tables: the migrations create exactly what the models declare."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from hq import manage
from hq.models import Base

BACK_OFFICE = {
    "admin_roles", "admin_outlets", "admin_sessions", "login_throttle", "admin_audit",
    "quarantine_dismissals",
}  # fmt: skip


def _diff(url: str) -> list[object]:
    manage.run(url, manage.do_migrate)
    parsed = make_url(url)
    driver = "postgresql+psycopg" if parsed.get_backend_name() == "postgresql" else "sqlite"
    engine = create_engine(parsed.set(drivername=driver))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_models(tmp_path: Path) -> None:
    assert BACK_OFFICE <= set(Base.metadata.tables)
    assert _diff(f"sqlite:///{tmp_path / 'hq.db'}") == []


@pytest.mark.postgres
def test_postgres_migrations_match_the_models(postgres_url: str) -> None:
    assert _diff(postgres_url) == []
