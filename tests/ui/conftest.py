"""Fixtures for the till UI tests: a seeded till database per test, a fixed clock.

Building and seeding a till database takes ~0.2 s (migrations + demo data), so one is
built per session and copied per test: each test still gets its own SQLite file.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal.db.engine import open_database
from terminal.services.setup import init_till, seed_demo
from terminal.ui.app import KedaiTill
from terminal.ui.clock import fixed_clock

NOON_SGT = datetime(2025, 3, 14, 4, 30, tzinfo=UTC)
"""14 Mar 2025 12:30 in Singapore: every UI test and snapshot sees this time."""

DEMO_BARCODE = "8880000000019"


@pytest.fixture(autouse=True)
def _ui_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the developer's machine out: home, XDG dirs and the till log under tmp_path."""
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_STATE_HOME", ".local/state"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.delenv("KEDAI_UI_READY_FILE", raising=False)
    yield


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "till.db"

    async def build() -> None:
        db = open_database(path)
        try:
            await init_till(db)
            await seed_demo(db)
        finally:
            await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture
def till_path(tmp_path: Path, _template_db: Path) -> Path:
    """A fresh copy of the seeded demo till database for this test."""
    path = tmp_path / "till.db"
    shutil.copyfile(_template_db, path)
    return path


@pytest.fixture
def make_app(till_path: Path):  # type: ignore[no-untyped-def]
    def make(**kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("clock", fixed_clock(NOON_SGT))
        kwargs.setdefault("cursor_blink", False)  # a blink phase is timing, not state
        return KedaiTill(till_path, **kwargs)

    return make
