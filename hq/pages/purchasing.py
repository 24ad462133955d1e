"""Purchasing pages: suppliers, purchase orders per outlet, goods receiving.

Owners act anywhere and managers at their own outlets (suppliers are the chain's: either
may add them); accountants only read. Every change is audited by :mod:`hq.purchasing`.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from hq import inventory, purchasing
from hq import models as m
from hq.api.admin import AdminContext, CsrfAdminDep, PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.routes.purchasing import PoId
from hq.pages.stock import LINE_ROWS
from hq.pages.templating import render, sentence
from hq.reports.common import today

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]
Code = Annotated[str, Form(max_length=16)]
DONE = {
    "supplier": "Supplier saved.",
    "created": "Purchase order saved as a draft.",
    "ordered": "Marked as ordered.",
    "cancelled": "Purchase order cancelled.",
    "received": "Goods received: the stock and the GST on the purchase are booked.",
}


async def _outlets(s: AsyncSession, admin: AdminContext) -> list[str]:
    stmt = select(m.Outlet.code).order_by(m.Outlet.code)
    if admin.profile.outlets is not None:
        stmt = stmt.where(m.Outlet.code.in_(admin.profile.outlets))
    return list((await s.execute(stmt)).scalars())


def _int(raw: str, what: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise purchasing.PurchasingError(f"pick a {what}")
    return int(text)


async def lines_in(s: AsyncSession, form: FormData) -> list[purchasing.LineIn]:
    """Rows of sku, qty, unit cost (dollars, excluding GST) and tax code; blank rows skipped."""
    fields = [form.getlist(name) for name in ("sku", "qty", "cost", "tax_code")]
    rows = []
    for n, values in enumerate(zip(*fields, strict=False), start=1):
        sku, qty, cost, code = (v if isinstance(v, str) else "" for v in values)
        if not (sku.strip() or qty.strip() or cost.strip()):
            continue
        if not sku.strip():
            raise purchasing.PurchasingError(f"row {n} has no sku")
        rows.append((n, sku.strip(), qty, cost, code))
    products = await inventory.products_by_sku(s, (r[1] for r in rows))
    return [
        purchasing.LineIn(
            product_id=products[sku].product_id,
            qty=inventory.parse_qty(qty, f"row {n} ({sku}) quantity"),
            unit_cost_cents=purchasing.parse_cost(cost, f"row {n} ({sku}) unit cost"),
            tax_code=purchasing.parse_tax_code(code, f"row {n} ({sku})"),
        )
        for n, sku, qty, cost, code in rows
    ]


# ------------------------------------------------------------------------------ suppliers


async def _suppliers_page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        suppliers = await purchasing.list_suppliers(s)
    return render(
        request, "purchasing/suppliers.html", admin, status=status, title="Suppliers",
        suppliers=suppliers, can_change=inventory.may_move_any(admin.profile), error=error,
        done=DONE.get(done or ""),
    )  # fmt: skip


@router.get("/purchasing/suppliers")
async def suppliers_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _suppliers_page(request, admin, db, done=done)


@router.post("/purchasing/suppliers")
async def supplier_save(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    name: Text = "",
    gst_reg_no: Text = "",
    contact: Text = "",
    supplier_id: Code = "",
) -> Response:
    try:
        if not inventory.may_move_any(admin.profile):
            raise inventory.StockForbidden(f"a {admin.profile.role} cannot change suppliers")
        async with db.sessions() as s, s.begin():
            await purchasing.save_supplier(
                s, name=name, gst_reg_no=gst_reg_no, contact=contact, actor=admin.username,
                supplier_id=_int(supplier_id, "supplier") if supplier_id.strip() else None,
                ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _suppliers_page(request, admin, db, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _suppliers_page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/purchasing/suppliers?done=supplier", status_code=303)


# ------------------------------------------------------------------------ purchase orders


async def _orders_page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    template: str = "purchasing/orders.html",
) -> Response:
    async with db.readers() as s, s.begin():
        outlets = await _outlets(s, admin)
        orders = await purchasing.list_pos(s, outlets=admin.profile.outlets)
        receipts = await purchasing.list_receipts(s, outlets=admin.profile.outlets)
        suppliers = await purchasing.list_suppliers(s)
    return render(
        request, template, admin, status=status,
        title="Goods received" if template.endswith("receipts.html") else "Purchase orders",
        orders=orders, receipts=receipts, suppliers=suppliers, outlets=outlets,
        can_change=inventory.may_move_any(admin.profile), line_rows=range(LINE_ROWS),
        tax_codes=purchasing.TAX_CODES, error=error, done=DONE.get(done or ""),
    )  # fmt: skip


@router.get("/purchasing/orders")
async def orders_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _orders_page(request, admin, db, done=done)


@router.post("/purchasing/orders")
async def order_create(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    supplier_id: Code = "",
    outlet: Code = "",
    note: Text = "",
) -> Response:
    code = outlet.strip().upper()
    try:
        inventory.check_may_move(admin.profile, code)
        form = await request.form()
        async with db.sessions() as s, s.begin():
            po_id = await purchasing.create_po(
                s, supplier_id=_int(supplier_id, "supplier"), outlet=code,
                lines=await lines_in(s, form), actor=admin.username,
                note=note.strip() or None, ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _orders_page(request, admin, db, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _orders_page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse(f"/purchasing/orders/{po_id}?done=created", status_code=303)


async def _order_page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    po_id: PoId,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        try:
            po = await purchasing.get_po(s, po_id)
        except purchasing.PurchasingError:
            po = None
        visible = po is not None and (
            admin.profile.outlets is None or po.outlet in admin.profile.outlets
        )
        receipts = await purchasing.list_receipts(s, outlets=None, po_id=po_id) if visible else []
    if po is None or not visible:
        return render(
            request, "error.html", admin, status=404, title="Not found",
            heading="No such purchase order",
            message=f"There is no purchase order {po_id} at your outlets.",
        )  # fmt: skip
    return render(
        request, "purchasing/order.html", admin, status=status, title=f"PO {po_id}", po=po,
        receipts=receipts, error=error, done=DONE.get(done or ""),
        can_change=inventory.may_move_any(admin.profile)
        and (admin.profile.outlets is None or po.outlet in admin.profile.outlets),
    )  # fmt: skip


@router.get("/purchasing/orders/{po_id}")
async def order_page(
    request: Request, po_id: PoId, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _order_page(request, admin, db, po_id, done=done)


async def _order_outlet(db: DatabaseDep, po_id: int) -> str:
    async with db.readers() as s, s.begin():
        return await purchasing.po_outlet(s, po_id)


@router.post("/purchasing/orders/{po_id}/status")
async def order_status(
    request: Request, po_id: PoId, admin: CsrfAdminDep, db: DatabaseDep, status: Code = ""
) -> Response:
    try:
        inventory.check_may_move(admin.profile, await _order_outlet(db, po_id))
        async with db.sessions() as s, s.begin():
            await purchasing.set_po_status(
                s, po_id=po_id, status=status.strip(), actor=admin.username, ip=admin.address
            )
    except inventory.StockForbidden as exc:
        return await _order_page(request, admin, db, po_id, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _order_page(request, admin, db, po_id, status=422, error=sentence(exc))
    return RedirectResponse(f"/purchasing/orders/{po_id}?done={status.strip()}", status_code=303)


@router.post("/purchasing/orders/{po_id}/receive")
async def order_receive(
    request: Request,
    po_id: PoId,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    supplier_ref: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Fields ``recv.<line no>``: the quantity received now (blank or 0: none)."""
    form = await request.form()
    try:
        inventory.check_may_move(admin.profile, await _order_outlet(db, po_id))
        received: dict[int, int] = {}
        for key, value in form.multi_items():
            if not key.startswith("recv.") or not isinstance(value, str) or not value.strip():
                continue
            no = key.removeprefix("recv.")
            if not (no.isascii() and no.isdigit() and len(no) < 6):
                raise purchasing.PurchasingError(f"{key[:40]!r} names no order line")
            received[int(no)] = inventory.parse_qty(value, f"line {no}", allow_zero=True)
        async with db.sessions() as s, s.begin():
            await purchasing.receive(
                s, outlet="", supplier_id=0, lines=[], actor=admin.username,
                tz_day=today(ZoneInfo(settings.timezone)), po_id=po_id, po_lines=received,
                supplier_ref=supplier_ref.strip() or None, ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _order_page(request, admin, db, po_id, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _order_page(request, admin, db, po_id, status=422, error=sentence(exc))
    return RedirectResponse(f"/purchasing/orders/{po_id}?done=received", status_code=303)


# ----------------------------------------------------------------- receiving without a PO


@router.get("/purchasing/receipts")
async def receipts_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _orders_page(request, admin, db, done=done, template="purchasing/receipts.html")


@router.post("/purchasing/receipts")
async def receipt_create(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    supplier_id: Code = "",
    outlet: Code = "",
    supplier_ref: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    code = outlet.strip().upper()
    try:
        inventory.check_may_move(admin.profile, code)
        form = await request.form()
        async with db.sessions() as s, s.begin():
            await purchasing.receive(
                s, outlet=code, supplier_id=_int(supplier_id, "supplier"),
                lines=await lines_in(s, form), actor=admin.username,
                tz_day=today(ZoneInfo(settings.timezone)),
                supplier_ref=supplier_ref.strip() or None, ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _orders_page(
            request, admin, db, status=403, error=sentence(exc),
            template="purchasing/receipts.html",
        )  # fmt: skip
    except inventory.StockError as exc:
        return await _orders_page(
            request, admin, db, status=422, error=sentence(exc),
            template="purchasing/receipts.html",
        )  # fmt: skip
    return RedirectResponse("/purchasing/receipts?done=received", status_code=303)
