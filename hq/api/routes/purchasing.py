"""Purchasing as JSON for the back office's pages and scripts: suppliers, purchase orders
and goods received (read-only; an outlet manager sees their outlets' orders and receipts).
Changes go through the back office's forms, which are CSRF-protected and audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from hq import purchasing
from hq.api.admin import ReportReaderDep
from hq.api.deps import DatabaseDep
from hq.api.errors import ApiError
from sync import protocol as p

PoId = Annotated[int, Path(ge=1, le=2**31 - 1)]
"""A purchase order's number, within what the store's key holds (a 500 otherwise)."""

router = APIRouter(
    prefix="/v1/reports/purchasing",
    tags=["reports"],
    responses={401: {"model": p.ErrorBody}, 422: {"model": p.ErrorBody}},
)


@router.get("/suppliers", response_model=list[purchasing.SupplierView])
async def suppliers(admin: ReportReaderDep, db: DatabaseDep) -> list[purchasing.SupplierView]:
    """Every supplier, by name."""
    async with db.readers() as session, session.begin():
        return await purchasing.list_suppliers(session)


@router.get("/orders", response_model=list[purchasing.PoView])
async def orders(admin: ReportReaderDep, db: DatabaseDep) -> list[purchasing.PoView]:
    """The newest 200 purchase orders with their lines and received quantities."""
    async with db.readers() as session, session.begin():
        return await purchasing.list_pos(session, outlets=admin.profile.outlets)


@router.get(
    "/orders/{po_id}",
    response_model=purchasing.PoView,
    responses={404: {"model": p.ErrorBody}},
)
async def order(po_id: PoId, admin: ReportReaderDep, db: DatabaseDep) -> purchasing.PoView:
    """One purchase order (404 for one at another manager's outlet, as for none)."""
    async with db.readers() as session, session.begin():
        found = await purchasing.list_pos(session, outlets=admin.profile.outlets, po_id=po_id)
    if not found:
        raise ApiError(404, "not_found", f"there is no purchase order {po_id} at your outlets")
    return found[0]


@router.get("/receipts", response_model=list[purchasing.ReceiptView])
async def receipts(admin: ReportReaderDep, db: DatabaseDep) -> list[purchasing.ReceiptView]:
    """The newest 200 goods receipts with their value and the GST on the purchase."""
    async with db.readers() as session, session.begin():
        return await purchasing.list_receipts(session, outlets=admin.profile.outlets)
