"""Alembic environment for the till store: the shared runner over the till's models."""

from __future__ import annotations

from sync.alembic_runner import run_env
from terminal.db.models import Base

run_env(Base.metadata, entry_point="terminal.db.migrate.upgrade()")
