"""The Categories and Admins pages' data as JSON: categories for every admin, every admin
and API token (never a secret) for owners only."""

from __future__ import annotations

from fastapi import APIRouter

from hq import categories
from hq.api.admin import AdminDep
from hq.api.deps import DatabaseDep
from hq.api.errors import ApiError
from hq.auth import accounts
from sync import protocol as p

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    responses={401: {"model": p.ErrorBody}, 403: {"model": p.ErrorBody}},
)


@router.get("/categories", response_model=list[categories.CategoryView])
async def category_list(admin: AdminDep, db: DatabaseDep) -> list[categories.CategoryView]:
    """Product categories with how many products each holds (inactive ones too)."""
    async with db.readers() as session, session.begin():
        return await categories.list_categories(session)


@router.get("/admins", response_model=accounts.AdminsOverview)
async def admin_list(admin: AdminDep, db: DatabaseDep) -> accounts.AdminsOverview:
    """Every admin (role, outlets, active or not) and every admin's API tokens, without
    their secrets (owners only)."""
    if admin.profile.role != "owner":
        raise ApiError(403, "forbidden", "only an owner sees every admin")
    async with db.readers() as session, session.begin():
        return accounts.AdminsOverview(
            admins=await accounts.list_admins(session=session),
            tokens=await accounts.list_all_tokens(session=session),
        )
