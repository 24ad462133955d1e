"""Member pages: search, edit details, see the ledger, adjust points with a reason.
Owners change; everyone else only looks."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hq import members
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.pages.templating import render

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]
DONE = {
    "saved": "Saved.",
    "points": "Points adjusted; the tills get the balance at their next sync.",
}


@router.get("/members")
async def members_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, q: str = ""
) -> Response:
    async with db.readers() as s, s.begin():
        found = await members.search(s, q)
    return render(request, "members/index.html", admin, title="Members", q=q.strip(), found=found)


async def _detail(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    customer_id: uuid.UUID,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        try:
            member = await members.get(s, customer_id)
        except members.MemberError:
            return render(
                request, "error.html", admin, status=404, heading="Not found",
                message="No such member.",
            )  # fmt: skip
        lines = await members.ledger(s, customer_id)
    return render(
        request,
        "members/detail.html",
        admin,
        status=status,
        title=member.name,
        member=member,
        lines=lines,
        can_change=admin.profile.can_change,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/members/{customer_id}")
async def member_page(
    request: Request,
    customer_id: uuid.UUID,
    admin: PageAdminDep,
    db: DatabaseDep,
    done: str | None = None,
) -> Response:
    return await _detail(request, admin, db, customer_id, done=done)


@router.post("/members/{customer_id}")
async def member_edit(
    request: Request,
    customer_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    name: Text = "",
    phone: Text = "",
    email: Text = "",
    address: Text = "",
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await members.edit(
                s, customer_id=customer_id, name=name, phone=phone, email=email,
                address=address, actor=admin.username,
            )  # fmt: skip
    except members.MemberError as exc:
        message = str(exc)
        return await _detail(
            request, admin, db, customer_id, status=422, error=message[:1].upper() + message[1:]
        )
    return RedirectResponse(f"/members/{customer_id}?done=saved", status_code=303)


@router.post("/members/{customer_id}/points")
async def member_points(
    request: Request,
    customer_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    points: Text = "",
    reason: Text = "",
) -> Response:
    try:
        try:
            delta = int(points.strip())
        except ValueError:
            raise members.MemberError("points are a whole number, like 50 or -20") from None
        async with db.sessions() as s, s.begin():
            await members.adjust_points(
                s, customer_id=customer_id, points=delta, reason=reason, actor=admin.username
            )
    except members.MemberError as exc:
        message = str(exc)
        return await _detail(
            request, admin, db, customer_id, status=422, error=message[:1].upper() + message[1:]
        )
    return RedirectResponse(f"/members/{customer_id}?done=points", status_code=303)
