"""Fixtures shared by every test: keep the developer's machine out, give a real till DB."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from terminal.db.engine import Database, open_database
from terminal.services.setup import init_till, seed_demo


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real home, config or a real till/HQ database."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    for name in list(os.environ):
        if name.startswith(("KEDAI_TILL_", "KEDAI_HQ_")):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _unfreeze_after() -> Iterator[None]:
    """A till app freezes its start-up heap (one app per process in use); many apps run in
    one test process, so each test's frozen objects are handed back to the collector."""
    yield
    gc.unfreeze()


@pytest.fixture
async def till_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated till database with the demo store loaded (a real SQLite file)."""
    db = open_database(tmp_path / "till.db")
    await init_till(db)
    await seed_demo(db)
    try:
        yield db
    finally:
        await db.dispose()
