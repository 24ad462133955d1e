"""Liveness plus a database round trip: what ``kedai-till demo`` and load balancers poll."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hq.api.deps import DatabaseDep
from hq.api.errors import ApiError

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str
    database: str


@router.get("/healthz", response_model=Health)
async def healthz(db: DatabaseDep) -> Health:
    try:
        async with db.readers() as session, session.begin():
            await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        log.warning("health check: database unreachable: %s", exc)
        raise ApiError(503, "database_unavailable", "database unreachable") from exc
    return Health(status="ok", database=db.dialect)
