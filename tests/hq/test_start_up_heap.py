"""An HQ worker keeps its start-up heap out of the garbage collector's full passes."""

from __future__ import annotations

import gc
from pathlib import Path

from hq.app import create_app
from hq.config import Settings


async def test_a_worker_freezes_its_start_up_heap_before_it_serves(tmp_path: Path) -> None:
    gc.unfreeze()
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'hq.db'}", secret_key="t" * 32))
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        # FastAPI, SQLAlchemy, pydantic's validators, the routes: far more than this.
        assert gc.get_freeze_count() > 10_000
