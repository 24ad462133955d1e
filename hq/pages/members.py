"""Member pages: search, create, edit details, see the ledger, adjust points with a
reason, merge a duplicate into another member. Owners and outlet managers create members;
only owners change or merge them; accountants only look."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hq import members
from hq.api.admin import AdminContext, CsrfAdminDep, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.api.errors import ApiError
from hq.pages.templating import render

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]
DONE = {
    "saved": "Saved.",
    "points": "Points adjusted; the tills get the balance at their next sync.",
    "created": "Member created; the tills get them at their next sync.",
    "merged": "Merged: the duplicate's points and sales are now this member's.",
}
CREATORS = ("owner", "manager")


def _can_create(admin: AdminContext) -> bool:
    return admin.profile.role in CREATORS


def _sentence(exc: Exception) -> str:
    message = str(exc)
    return message[:1].upper() + message[1:]


@router.get("/members")
async def members_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, q: str = ""
) -> Response:
    async with db.readers() as s, s.begin():
        found = await members.search(s, q)
    return render(
        request, "members/index.html", admin, title="Members", q=q.strip(), found=found,
        can_create=_can_create(admin),
    )  # fmt: skip


def _new_form(
    request: Request,
    admin: AdminContext,
    *,
    status: int = 200,
    error: str | None = None,
    taken: members.PhoneTaken | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request, "members/new.html", admin, status=status, title="New member", error=error,
        taken=taken, values=values or {},
    )  # fmt: skip


@router.get("/members/new")
async def member_new_page(request: Request, admin: PageAdminDep) -> Response:
    if not _can_create(admin):
        raise ApiError(403, "forbidden", f"a {admin.profile.role} cannot create members")
    return _new_form(request, admin)


@router.post("/members/new")
async def member_create(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    name: Text = "",
    phone: Text = "",
    email: Text = "",
) -> Response:
    if not _can_create(admin):
        raise ApiError(403, "forbidden", f"a {admin.profile.role} cannot create members")
    try:
        async with db.sessions() as s, s.begin():
            customer_id = await members.create(
                s, name=name, phone=phone, email=email, actor=admin.username
            )
    except members.MemberError as exc:
        return _new_form(
            request, admin, status=422, error=_sentence(exc),
            taken=exc if isinstance(exc, members.PhoneTaken) else None,
            values={"name": name, "phone": phone, "email": email},
        )  # fmt: skip
    return RedirectResponse(f"/members/{customer_id}?done=created", status_code=303)


async def _detail(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    customer_id: uuid.UUID,
    *,
    status: int = 200,
    error: str | None = None,
    taken: members.PhoneTaken | None = None,
    done: str | None = None,
    find: str = "",
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
        merged_into = (
            await members.get(s, member.merged_into) if member.merged_into is not None else None
        )
        can_merge = admin.profile.can_change and member.merged_into is None
        candidates = (
            [c for c in await members.search(s, find) if c.customer_id != customer_id]
            if can_merge and find.strip()
            else []
        )
    return render(
        request,
        "members/detail.html",
        admin,
        status=status,
        title=member.name,
        member=member,
        lines=lines,
        can_change=admin.profile.can_change and member.merged_into is None,
        can_merge=can_merge,
        merged_into=merged_into,
        find=find.strip(),
        candidates=candidates,
        error=error,
        taken=taken,
        done=DONE.get(done or ""),
    )


@router.get("/members/{customer_id}")
async def member_page(
    request: Request,
    customer_id: uuid.UUID,
    admin: PageAdminDep,
    db: DatabaseDep,
    done: str | None = None,
    find: str = "",
) -> Response:
    return await _detail(request, admin, db, customer_id, done=done, find=find)


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
        return await _detail(
            request, admin, db, customer_id, status=422, error=_sentence(exc),
            taken=exc if isinstance(exc, members.PhoneTaken) else None,
        )  # fmt: skip
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


@router.post("/members/{customer_id}/merge")
async def member_merge(
    request: Request,
    customer_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    into: Text = "",
) -> Response:
    """Merge this member (a duplicate) into the one named by ``into`` (phone or id)."""
    try:
        async with db.sessions() as s, s.begin():
            target = await members.find_target(s, into, source_id=customer_id)
            await members.merge(s, source_id=customer_id, target_id=target, actor=admin.username)
    except members.MemberError as exc:
        return await _detail(request, admin, db, customer_id, status=422, error=_sentence(exc))
    return RedirectResponse(f"/members/{target}?done=merged", status_code=303)
