"""Product pages: find, create and edit products, and schedule effective-dated prices
(chain-wide or one outlet's override). Owners change; everyone else only looks.

Times are typed in HQ's local time zone (``settings.timezone``) and stored in UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import or_, select

from hq import catalog, categories, fields, prices
from hq import models as m
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.auth import audit
from hq.pages.templating import render, sentence
from sync import protocol as p

router = APIRouter()
Text = Annotated[str, Form(max_length=200)]
PAGE = 100


def cents(value: str) -> int:
    """``"3.30"`` -> 330 (:func:`hq.fields.price_cents`), refused in the prices' words."""
    try:
        return fields.price_cents(value)
    except fields.FieldError as exc:
        raise prices.PriceError(str(exc)) from None


@router.get("/products")
async def products_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, q: str = ""
) -> Response:
    needle = q.strip()
    query = select(m.Product).order_by(m.Product.sku).limit(PAGE)
    if needle:
        like = f"%{needle.lower()}%"
        query = query.where(
            or_(m.Product.sku.ilike(like), m.Product.name.ilike(like), m.Product.barcode == needle)
        )
    async with db.readers() as s, s.begin():
        rows = list((await s.execute(query)).scalars())
        found = await categories.list_categories(s, with_counts=False)
    return render(
        request,
        "products/index.html",
        admin,
        title="Products",
        q=needle,
        products=rows,
        categories=found,
        category_names={c.category_id: c.name for c in found},
        can_change=admin.profile.can_change,
    )


async def _detail(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    product_id: uuid.UUID,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        product = await s.get(m.Product, product_id)
        if product is None:
            return render(
                request,
                "error.html",
                admin,
                status=404,
                heading="Not found",
                message="No such product.",
            )
        scheduled = (await prices.price_rows(s, [product_id])).get(product_id, [])
        outlets = list((await s.execute(select(m.Outlet).order_by(m.Outlet.code))).scalars())
        found = await categories.list_categories(s, with_counts=False)
    return render(
        request,
        "products/detail.html",
        admin,
        status=status,
        title=product.sku,
        product=product,
        scheduled=sorted(scheduled, key=lambda r: (r.effective_from, r.price_id)),
        outlets=[(o.code, o.name) for o in outlets],
        categories=[c for c in found if c.active or c.category_id == product.category_id],
        category_names={c.category_id: c.name for c in found},
        can_change=admin.profile.can_change,
        error=error,
        done=done,
    )


@router.get("/products/{product_id}")
async def product_page(
    request: Request,
    product_id: uuid.UUID,
    admin: PageAdminDep,
    db: DatabaseDep,
    done: str | None = None,
) -> Response:
    message = {
        "saved": "Saved.",
        "scheduled": "Price scheduled; the tills get it at their next sync.",
    }
    return await _detail(request, admin, db, product_id, done=message.get(done or ""))


def _category_id(value: str) -> int | None:
    """The form's category: blank for none, else a category id."""
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) < 10):
        raise categories.CategoryError("no such category")
    return int(value)


def _record(
    product_id: uuid.UUID,
    *,
    sku: str,
    barcode: str,
    name: str,
    price: str,
    tax_code: str,
    cdc: str,
    active: str,
    age_restricted: str,
) -> p.ProductRecord:
    return p.ProductRecord.model_validate(
        {
            "product_id": product_id,
            "sku": sku.strip().upper(),
            "barcode": barcode.strip() or None,
            "name": name.strip(),
            "price_cents": cents(price),
            "tax_code": tax_code,
            "cdc_eligible": cdc == "1",
            "active": active == "1",
            "age_restricted": age_restricted == "1",
        }
    )


async def _save(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    product_id: uuid.UUID,
    fields: dict[str, str],
    *,
    new: bool,
) -> Response:
    fields = dict(fields)
    try:
        if not fields["sku"].strip() or not fields["name"].strip():
            raise prices.PriceError("a product needs a SKU and a name")
        category_id = _category_id(fields.pop("category"))
        record = _record(product_id, **fields)
        async with db.sessions() as s, s.begin():
            if not new and await s.get(m.Product, product_id) is None:
                raise prices.PriceError("no such product")
            await catalog.check_sellable(s, record)
            await categories.check_id(s, category_id)
            changed = await catalog.upsert_products(session=s, products=[record])
            # Not part of the till's record: set beside it, without a new change_seq.
            product = await s.get(m.Product, product_id)
            assert product is not None
            if product.category_id != category_id:
                product.category_id = category_id
                await s.flush()
                changed += 1
            if changed:
                await audit.record(
                    session=s,
                    username=admin.username,
                    action="product.create" if new else "product.edit",
                    target=record.sku,
                    detail=record.model_dump_json(exclude={"prices"})
                    + f" category_id={category_id}",
                )
    except (
        prices.PriceError,
        catalog.CatalogError,
        categories.CategoryError,
        ValidationError,
    ) as exc:
        message = sentence(exc) if not isinstance(exc, ValidationError) else "Check the fields."
        if new:
            return await products_error(request, admin, db, message)
        return await _detail(request, admin, db, product_id, status=422, error=message)
    return RedirectResponse(f"/products/{product_id}?done=saved", status_code=303)


async def products_error(
    request: Request, admin: AdminContext, db: DatabaseDep, message: str
) -> Response:
    async with db.readers() as s, s.begin():
        rows = list(
            (await s.execute(select(m.Product).order_by(m.Product.sku).limit(PAGE))).scalars()
        )
        found = await categories.list_categories(s, with_counts=False)
    return render(
        request,
        "products/index.html",
        admin,
        status=422,
        title="Products",
        q="",
        products=rows,
        categories=found,
        category_names={c.category_id: c.name for c in found},
        can_change=True,
        error=message,
    )


@router.post("/products")
async def product_create(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    sku: Text = "",
    barcode: Text = "",
    name: Text = "",
    price: Text = "",
    tax_code: Text = "SR",
    cdc: Text = "",
    active: Text = "1",
    age_restricted: Text = "",
    category: Text = "",
) -> Response:
    fields = {"sku": sku, "barcode": barcode, "name": name, "price": price,
              "tax_code": tax_code, "cdc": cdc, "active": active,
              "age_restricted": age_restricted, "category": category}  # fmt: skip
    return await _save(request, admin, db, uuid.uuid4(), fields, new=True)


@router.post("/products/{product_id}")
async def product_edit(
    request: Request,
    product_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    sku: Text = "",
    barcode: Text = "",
    name: Text = "",
    price: Text = "",
    tax_code: Text = "SR",
    cdc: Text = "",
    active: Text = "",
    age_restricted: Text = "",
    category: Text = "",
) -> Response:
    fields = {"sku": sku, "barcode": barcode, "name": name, "price": price,
              "tax_code": tax_code, "cdc": cdc, "active": active,
              "age_restricted": age_restricted, "category": category}  # fmt: skip
    return await _save(request, admin, db, product_id, fields, new=False)


@router.post("/products/{product_id}/prices")
async def product_schedule_price(
    request: Request,
    product_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    settings: SettingsDep,
    price: Text = "",
    effective_from: Text = "",
    outlet: Text = "",
) -> Response:
    try:
        try:
            local = datetime.fromisoformat(effective_from.strip())
        except ValueError:
            raise prices.PriceError("give the moment as a date and time") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=ZoneInfo(settings.timezone))
        async with db.sessions() as s, s.begin():
            await prices.schedule_price(
                s,
                product_id=product_id,
                price_cents=cents(price),
                effective_from=local,
                outlet_code=outlet.strip().upper() or None,
                actor=admin.username,
            )
    except prices.PriceError as exc:
        return await _detail(request, admin, db, product_id, status=422, error=sentence(exc))
    return RedirectResponse(f"/products/{product_id}?done=scheduled", status_code=303)
