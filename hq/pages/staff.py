"""Staff pages: cashiers and managers per outlet, PIN set/reset, deactivate, reassign, and
the approval limits the tills apply. Owners change; managers and accountants only look.

Hand-written forms (not a generic CRUD library) because every write here must hash a PIN
slowly, stamp a change_seq, record a feed removal and audit in one unit of work, behind
the back office's own session, CSRF and role checks.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from hq import models as m
from hq import staff
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.pages.templating import render, sentence
from sync import protocol as p

router = APIRouter()

Text = Annotated[str, Form(max_length=200)]

DONE = {
    "created": "Added. The outlet's tills receive them at their next sync.",
    "pin": "PIN set. The tills receive the new hash at their next sync.",
    "active": "Saved.",
    "outlet": "Moved. The old outlet's tills drop them at their next sync.",
    "limits": "Approval limits saved. The tills apply them at their next sync.",
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
        people = await staff.list_staff(s)
        outlets = list((await s.execute(select(m.Outlet).order_by(m.Outlet.code))).scalars())
        limits = await staff.approval_limits(s)
    return render(
        request,
        "staff/index.html",
        admin,
        status=status,
        title="Staff",
        people=people,
        outlets=[(o.code, o.name) for o in outlets],
        limits=limits,
        can_change=admin.profile.can_change,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/staff")
async def staff_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _page(request, admin, db, done=done)


def _outlet(value: str) -> str | None:
    return value.strip().upper() or None


def _back(done: str) -> Response:
    return RedirectResponse(f"/staff?done={done}", status_code=303)


@router.post("/staff")
async def staff_create(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    name: Text = "",
    role: Text = "cashier",
    outlet: Text = "",
    pin: Text = "",
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await staff.create_staff(
                s, name=name, role=role, outlet_code=_outlet(outlet), pin=pin, actor=admin.username
            )
    except staff.StaffError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return _back("created")


@router.post("/staff/{cashier_id}/pin")
async def staff_pin(
    request: Request, cashier_id: uuid.UUID, admin: OwnerDep, db: DatabaseDep, pin: Text = ""
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await staff.set_pin(s, cashier_id=cashier_id, pin=pin, actor=admin.username)
    except staff.StaffError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return _back("pin")


@router.post("/staff/{cashier_id}/active")
async def staff_active(
    request: Request,
    cashier_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    active: Text = "",
    pin: Text = "",
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await staff.set_active(
                s, cashier_id=cashier_id, active=active == "1", pin=pin, actor=admin.username
            )
    except staff.StaffError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return _back("active")


@router.post("/staff/{cashier_id}/outlet")
async def staff_outlet(
    request: Request,
    cashier_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    outlet: Text = "",
    pin: Text = "",
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await staff.reassign(
                s, cashier_id=cashier_id, outlet_code=_outlet(outlet), pin=pin, actor=admin.username
            )
    except staff.StaffError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return _back("outlet")


_FLAGS = ("price_override", "void", "qty_decrease", "no_sale", "cancel")
_AMOUNTS = (
    "line_discount_bp",
    "line_discount_cents",
    "sale_discount_bp",
    "sale_discount_cents",
    "refund_cents",
)


@router.post("/settings/approval-limits")
async def approval_limits_submit(request: Request, admin: OwnerDep, db: DatabaseDep) -> Response:
    form = await request.form()
    values: dict[str, object] = {}
    try:
        for name in _AMOUNTS:
            raw = form.get(name)
            values[name] = int(raw) if isinstance(raw, str) and raw.strip() else 0
        for name in _FLAGS:
            values[name] = form.get(name) == "1"
        limits = p.ApprovalLimits.model_validate(values)
    except (ValueError, ValidationError):
        return await _page(
            request,
            admin,
            db,
            status=422,
            error="Limits are whole numbers: basis points 0 to 10000, cents 0 or more.",
        )
    try:
        async with db.sessions() as s, s.begin():
            await staff.set_approval_limits(s, limits=limits, actor=admin.username)
    except staff.StaffError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return _back("limits")
