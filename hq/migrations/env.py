"""Alembic environment for HQ (SQLite and PostgreSQL): the shared runner over HQ's models."""

from __future__ import annotations

from hq.models import Base
from sync.alembic_runner import run_env

run_env(Base.metadata, entry_point="hq.migrate.upgrade()")
