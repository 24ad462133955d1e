"""The Admins page (owners only): every admin with their role and outlets, every API token
(never a secret), and an owner's controls: revoke a token, deactivate, reactivate or
remove an admin. The rules and the audit live in :mod:`hq.auth.accounts`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.auth import accounts
from hq.auth.login import typed_username
from hq.db import Database
from hq.pages.confirm import CONFIRMED, Confirm, ask
from hq.pages.templating import render, sentence

router = APIRouter()
Name = Annotated[str, Form(max_length=200)]
DONE = {
    "revoked": "Token revoked: it no longer opens anything.",
    "deactivated": "Admin deactivated: their sessions ended and their tokens were revoked.",
    "reactivated": "Admin reactivated: they can log in again (their old tokens stay revoked).",
    "removed": "Admin removed.",
}


async def _page(
    request: Request,
    admin: AdminContext,
    db: Database,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    if admin.profile.role != "owner":
        return render(
            request, "error.html", admin, status=403, title="Not allowed",
            heading="Not allowed", message="Only an owner manages admins.",
        )  # fmt: skip
    async with db.readers() as s, s.begin():
        people = await accounts.list_admins(session=s)
        tokens = await accounts.list_all_tokens(session=s)
    return render(
        request,
        "auth/admins.html",
        admin,
        status=status,
        title="Admins",
        people=people,
        tokens=tokens,
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/admins")
async def admins_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _page(request, admin, db, done=done)


@router.post("/admins/tokens/{token_id}/revoke")
async def admin_token_revoke(
    request: Request,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    admin: OwnerDep,
    db: DatabaseDep,
    confirm: Confirm = "",
) -> Response:
    if confirm != CONFIRMED:
        async with db.readers() as s, s.begin():
            tokens = await accounts.list_all_tokens(session=s)
        live = next((t for t in tokens if t.token_id == token_id and t.revoked_at is None), None)
        if live is not None:
            return ask(
                request,
                admin,
                title=f"Revoke {live.username}'s API token “{live.name}”?",
                consequence=(
                    "Anything using it is refused from now on, and it cannot be restored: "
                    "its owner makes a new one to carry on."
                ),
                action=f"/admins/tokens/{token_id}/revoke",
                button="Revoke token",
                back="/admins",
            )
    try:
        async with db.sessions() as s, s.begin():
            await accounts.revoke_token(
                session=s, token_id=token_id, actor=admin.username, ip=admin.address
            )
    except accounts.AccountError as exc:
        return await _page(request, admin, db, status=404, error=sentence(exc))
    return RedirectResponse("/admins?done=revoked", status_code=303)


async def _act(
    request: Request, admin: AdminContext, db: Database, username: str, what: str
) -> Response:
    act = {
        "deactivated": accounts.deactivate,
        "reactivated": accounts.reactivate,
        "removed": accounts.remove,
    }[what]
    try:
        async with db.sessions() as s, s.begin():
            await act(
                session=s,
                username=typed_username(username),
                actor=admin.username,
                ip=admin.address,
            )
    except accounts.AccountError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse(f"/admins?done={what}", status_code=303)


@router.post("/admins/deactivate")
async def admin_deactivate(
    request: Request, admin: OwnerDep, db: DatabaseDep, username: Name = ""
) -> Response:
    return await _act(request, admin, db, username, "deactivated")


@router.post("/admins/reactivate")
async def admin_reactivate(
    request: Request, admin: OwnerDep, db: DatabaseDep, username: Name = ""
) -> Response:
    return await _act(request, admin, db, username, "reactivated")


@router.post("/admins/remove")
async def admin_remove(
    request: Request, admin: OwnerDep, db: DatabaseDep, username: Name = "", confirm: Confirm = ""
) -> Response:
    if confirm != CONFIRMED and username != admin.username:
        async with db.readers() as s, s.begin():
            people = await accounts.list_admins(session=s)
        if any(p.username == username for p in people):
            return ask(
                request,
                admin,
                title=f"Remove admin {username}?",
                consequence=(
                    "The account is deleted, their sessions end and their API tokens stop "
                    "working; it cannot be brought back (the audit trail keeps the name). "
                    "Deactivating instead can be undone."
                ),
                action="/admins/remove",
                button="Remove admin",
                back="/admins",
                fields=[("username", username)],
            )
    return await _act(request, admin, db, username, "removed")
