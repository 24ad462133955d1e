"""``create_app(settings)``: the HQ ASGI application.

The app holds no state of its own beyond the engine (DESIGN invariant 10): any number of
workers, on any number of hosts, can serve the same database.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from hq import httpserver
from hq.api import errors
from hq.api.main import api_router
from hq.api.middleware import RequestBodyMiddleware, SecurityHeadersMiddleware
from hq.config import Settings
from hq.db import open_database
from hq.pages import STATIC, error_pages
from hq.pages import router as pages_router

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the database is connected lazily and disposed on shutdown."""
    settings.check_secure()
    db = open_database(settings.database_url, pool_size=settings.db_pool_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _freeze_start_up_heap()
        try:
            yield
        finally:
            await db.dispose()

    app = FastAPI(
        title="Kedai HQ",
        version="1",
        summary="Head office for Kedai tills: idempotent event ingest and a change feed.",
        lifespan=lifespan,
        docs_url="/docs" if settings.api_docs else None,
        redoc_url="/redoc" if settings.api_docs else None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.terminal_slots = {}  # per-worker request slots per terminal (api/deps.py)
    errors.install(app)
    error_pages.install(app)
    app.include_router(api_router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        RequestBodyMiddleware,
        max_bytes=settings.max_body_bytes,
        read_timeout=settings.body_timeout,
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: on every answer, errors too
    httpserver.header_timeout = settings.header_timeout
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes: settings from ``KEDAI_HQ_*``."""
    return create_app(Settings())


def _freeze_start_up_heap() -> None:
    """Keep what start-up built out of the garbage collector's full passes.

    Everything imported and made before the first request (FastAPI, SQLAlchemy, pydantic's
    validators, the routes) lives as long as the worker, about 240,000 objects. A large
    push makes enough objects for a full collection every few pushes, and each walked
    them all: 165 ms on average, 47 ms per 500-event push. ``gc.freeze`` moves them into
    a permanent generation the collector skips (1.7 ms per push); what is made later is
    collected as before. Collected first, so no garbage is frozen. Runs in each worker's
    start-up (the ASGI lifespan), before it serves.
    """
    gc.collect()
    gc.freeze()
