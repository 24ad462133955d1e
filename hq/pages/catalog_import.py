"""Catalog CSV import page: upload, preview (counts and every bad row by line), import.

The preview carries the file's text in the confirming form, so nothing is kept at HQ
between the two steps; the import checks every row again and writes all or nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import Response

from hq import catalog_import
from hq.api.admin import OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.auth import audit
from hq.pages.templating import render

router = APIRouter()


@router.get("/products/export.csv")
async def export_products(admin: PageAdminDep, db: DatabaseDep) -> Response:
    async with db.readers() as s, s.begin():
        text = await catalog_import.export_csv(s)
    async with db.sessions() as s, s.begin():
        await audit.record(
            session=s,
            username=admin.username,
            action="catalog.export",
            target="products",
            ip=admin.address,
        )
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kedai-products.csv"'},
    )


@router.get("/products/import")
async def import_page(request: Request, admin: PageAdminDep) -> Response:
    return render(
        request, "products/import.html", admin, title="Import products", check=None, text=""
    )


@router.post("/products/import")
async def import_submit(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    file: UploadFile | None = None,
    csv_text: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "preview",
) -> Response:
    if file is not None and file.filename:
        raw = await file.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return render(
                request, "products/import.html", admin, status=422, title="Import products",
                check=None, text="", error="The file is not UTF-8 text (save it as CSV UTF-8).",
            )  # fmt: skip
    else:
        text = csv_text
    check = catalog_import.parse(text)
    imported = False
    if action == "import" and check.ok:
        async with db.sessions() as s, s.begin():
            await catalog_import.import_checked(s, check)
            if check.ok:
                await audit.record(
                    session=s,
                    username=admin.username,
                    action="catalog.import",
                    detail=(
                        f"{check.new} new, {check.changed} changed, {check.unchanged} "
                        f"unchanged, {len(check.new_categories)} new categories"
                    ),
                )
                imported = True
            else:  # a clash found against the store: roll back, nothing written
                await s.rollback()
    elif check.records:
        async with db.readers() as s, s.begin():
            await catalog_import.compare(s, check)
    return render(
        request,
        "products/import.html",
        admin,
        status=200 if check.ok else 422,
        title="Import products",
        check=check,
        text=text if check.ok and not imported else "",
        imported=imported,
    )
