"""Category pages: list, create, rename, deactivate and reactivate product categories.
Owners change; everyone else only looks. Every change is audited (in :mod:`hq.categories`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from hq import categories
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.pages.templating import render, sentence

router = APIRouter()
Text = Annotated[str, Form(max_length=200)]
CategoryId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DONE = {
    "created": "Category added.",
    "renamed": "Category renamed.",
    "deactivated": "Category deactivated: its products keep it; new products are not offered it.",
    "reactivated": "Category reactivated.",
}


async def _page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        found = await categories.list_categories(s)
    return render(
        request,
        "categories/index.html",
        admin,
        status=status,
        title="Categories",
        categories=found,
        can_change=admin.profile.can_change,
        max_name=categories.MAX_NAME,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/categories")
async def categories_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _page(request, admin, db, done=done)


@router.post("/categories")
async def category_create(
    request: Request, admin: OwnerDep, db: DatabaseDep, name: Text = ""
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await categories.create_category(s, name=name, actor=admin.username)
    except categories.CategoryError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/categories?done=created", status_code=303)


@router.post("/categories/{category_id}/rename")
async def category_rename(
    request: Request, category_id: CategoryId, admin: OwnerDep, db: DatabaseDep, name: Text = ""
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await categories.rename_category(
                s, category_id=category_id, name=name, actor=admin.username
            )
    except categories.CategoryError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/categories?done=renamed", status_code=303)


@router.post("/categories/{category_id}/active")
async def category_active(
    request: Request, category_id: CategoryId, admin: OwnerDep, db: DatabaseDep, active: Text = ""
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await categories.set_active(
                s, category_id=category_id, active=active == "1", actor=admin.username
            )
    except categories.CategoryError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    done = "reactivated" if active == "1" else "deactivated"
    return RedirectResponse(f"/categories?done={done}", status_code=303)
