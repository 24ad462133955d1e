"""``create_app(settings)``: the HQ ASGI application.

The app holds no state of its own beyond the engine (DESIGN invariant 10): any number of
workers, on any number of hosts, can serve the same database.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hq.api import errors
from hq.api.main import api_router
from hq.api.middleware import RequestBodyMiddleware
from hq.config import Settings
from hq.db import open_database
from hq.pages import STATIC
from hq.pages import router as pages_router

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the database is connected lazily and disposed on shutdown."""
    settings.check_secure()
    db = open_database(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await db.dispose()

    app = FastAPI(
        title="Kedai HQ",
        version="1",
        summary="Head office for Kedai tills: idempotent event ingest and a change feed.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    errors.install(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestBodyMiddleware, max_bytes=settings.max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: settings from ``KEDAI_HQ_*``."""
    return create_app(Settings())
