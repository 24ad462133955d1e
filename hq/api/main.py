"""Collect every route module's router."""

from __future__ import annotations

from fastapi import APIRouter

from hq.api.routes import (
    admin_audit,
    admin_lists,
    health,
    loyalty,
    purchasing,
    reports,
    sales,
    sync,
)

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(sync.router)
api_router.include_router(sales.router)
api_router.include_router(reports.router)
api_router.include_router(purchasing.router)
api_router.include_router(loyalty.router)
api_router.include_router(admin_audit.router)
api_router.include_router(admin_lists.router)
