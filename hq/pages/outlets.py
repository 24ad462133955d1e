"""Outlet pages: outlets and their terminals, enroll / re-enroll / revoke from the web.
Owners change; everyone else only looks. A new token is shown once, in the answer to the
enrolling request (never stored, never cached)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hq import outlets
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep
from hq.db import Database
from hq.enroll import EnrolledTerminal, terminal_id_for
from hq.pages.confirm import CONFIRMED, Confirm, ask
from hq.pages.templating import render, sentence

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]
DONE = {"saved": "Saved.", "revoked": "Revoked: that terminal's token no longer works."}


async def _page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
    enrolled: EnrolledTerminal | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        found = await outlets.list_outlets(s)
    return render(
        request,
        "outlets/index.html",
        admin,
        status=status,
        headers={"Cache-Control": "no-store"} if enrolled else None,
        title="Outlets",
        outlets=found,
        can_change=admin.profile.can_change,
        error=error,
        done=DONE.get(done or ""),
        enrolled=enrolled,
    )


@router.get("/outlets")
async def outlets_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _page(request, admin, db, done=done)


@router.post("/outlets")
async def outlet_save(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    code: Text = "",
    name: Text = "",
    address: Text = "",
    gst_reg_no: Text = "",
    opening_hours: Text = "",
) -> Response:
    try:
        async with db.sessions() as s, s.begin():
            await outlets.save_outlet(
                s, code=code, name=name, address=address, gst_reg_no=gst_reg_no,
                opening_hours=opening_hours, actor=admin.username,
            )  # fmt: skip
    except outlets.OutletError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/outlets?done=saved", status_code=303)


@router.post("/outlets/{outlet_code}/terminals")
async def terminal_enroll(
    request: Request,
    outlet_code: str,
    admin: OwnerDep,
    db: DatabaseDep,
    terminal_code: Text = "",
    replace: Text = "",
    confirm: Confirm = "",
) -> Response:
    terminal_id = terminal_id_for(outlet_code.upper(), terminal_code.strip())
    if replace == "1" and confirm != CONFIRMED and await _live(db, terminal_id):
        return ask(
            request,
            admin,
            title=f"Re-enroll terminal {terminal_id} with a new token?",
            consequence=(
                "Its present token stops working at once: the till keeps selling and keeps "
                "its sales, but sends nothing to head office until the new token is entered "
                "there (kedai-till enroll)."
            ),
            action=f"/outlets/{outlet_code}/terminals",
            button="Re-enroll with a new token",
            back="/outlets",
            fields=[("terminal_code", terminal_code), ("replace", "1")],
        )
    try:
        async with db.sessions() as s, s.begin():
            enrolled = await outlets.enroll_terminal(
                s,
                outlet_code=outlet_code.upper(),
                terminal_code=terminal_code,
                replace=replace == "1",
                actor=admin.username,
            )
    except outlets.OutletError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return await _page(request, admin, db, enrolled=enrolled)


@router.post("/terminals/{terminal_id}/revoke")
async def terminal_revoke(
    request: Request, terminal_id: str, admin: OwnerDep, db: DatabaseDep, confirm: Confirm = ""
) -> Response:
    if confirm != CONFIRMED and await _live(db, terminal_id):
        return ask(
            request,
            admin,
            title=f"Revoke terminal {terminal_id}?",
            consequence=(
                "Its token stops working at once and cannot be restored: the till keeps "
                "selling and keeps its sales, but sends nothing to head office until it is "
                "re-enrolled with a new token."
            ),
            action=f"/terminals/{terminal_id}/revoke",
            button="Revoke terminal",
            back="/outlets",
        )
    try:
        async with db.sessions() as s, s.begin():
            await outlets.revoke_terminal(s, terminal_id=terminal_id, actor=admin.username)
    except outlets.OutletError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/outlets?done=revoked", status_code=303)


async def _live(db: Database, terminal_id: str) -> bool:
    """Whether ``terminal_id`` is enrolled and not revoked (only then is there a question)."""
    async with db.readers() as s, s.begin():
        found = await outlets.list_outlets(s)
    return any(t.terminal_id == terminal_id and not t.revoked for o in found for t in o.terminals)
