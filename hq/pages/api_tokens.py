"""The admin's own API tokens: make one (shown once), list them, revoke one. Audited.

Any admin may make tokens for themself: a token reads what its admin may read (their role
and outlets), and only the JSON reports under ``/v1/reports``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from hq.api.admin import AdminContext, CsrfAdminDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.auth import api_tokens, audit
from hq.db import Database
from hq.pages.confirm import CONFIRMED, Confirm, ask
from hq.pages.templating import render, sentence

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
DONE = {"revoked": "Token revoked: it no longer opens anything."}


async def _page(
    request: Request,
    admin: AdminContext,
    db: Database,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    new: api_tokens.NewApiToken | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        tokens = await api_tokens.list_tokens(session=s, username=admin.username)
    return render(
        request,
        "auth/tokens.html",
        admin,
        status=status,
        headers=NO_STORE,
        tokens=tokens,
        error=error,
        done=DONE.get(done or ""),
        new=new,
        max_name=api_tokens.MAX_NAME,
    )


@router.get("/account/tokens")
async def tokens_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _page(request, admin, db, done=done)


@router.post("/account/tokens")
async def token_create(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            new = await api_tokens.create(session=s, username=admin.username, name=name)
            await audit.record(
                session=s,
                username=admin.username,
                action="api_token.create",
                target=f"{new.token_id} {new.name}",
                ip=admin.address,
            )
    except api_tokens.TokenError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return await _page(request, admin, db, new=new)


@router.post("/account/tokens/{token_id}/revoke")
async def token_revoke(
    request: Request,
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    admin: CsrfAdminDep,
    db: DatabaseDep,
    confirm: Confirm = "",
) -> Response:
    if confirm != CONFIRMED:
        async with db.readers() as s, s.begin():
            tokens = await api_tokens.list_tokens(session=s, username=admin.username)
        live = next((t for t in tokens if t.token_id == token_id and t.revoked_at is None), None)
        if live is not None:
            return ask(
                request,
                admin,
                title=f"Revoke your API token “{live.name}”?",
                consequence=(
                    "Anything using it is refused from now on, and it cannot be restored: "
                    "make a new one to carry on."
                ),
                action=f"/account/tokens/{token_id}/revoke",
                button="Revoke token",
                back="/account/tokens",
            )
    async with db.sessions() as s, s.begin():
        name = await api_tokens.revoke(session=s, username=admin.username, token_id=token_id)
        if name is not None:
            await audit.record(
                session=s,
                username=admin.username,
                action="api_token.revoke",
                target=f"{token_id} {name}",
                ip=admin.address,
            )
    if name is None:
        return await _page(
            request, admin, db, status=404, error="No such live token of yours to revoke."
        )
    return RedirectResponse("/account/tokens?done=revoked", status_code=303)
