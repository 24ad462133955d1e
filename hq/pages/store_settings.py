"""Store settings page: store identity, loyalty rates, effective-dated GST rates and the
tenders the tills take. Owners change; everyone else only looks. (Approval limits are on
the staff page.)"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hq import store_settings
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.outlets import list_outlets
from hq.pages.templating import render, sentence

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]
DONE = {
    "store": "Saved. The tills get it at their next sync.",
    "gst": "GST rate added. The tills apply it from its date.",
    "tender": "Tender saved. The tills get it at their next sync.",
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
        found = await store_settings.current(s)
        tenders = await store_settings.tenders(s)
        refusals = await store_settings.refusals(s)
        outlets = await list_outlets(s)
    return render(
        request,
        "settings/index.html",
        admin,
        status=status,
        title="Store settings",
        store=found,
        tenders=tenders,
        refusals=refusals,
        outlets=[(o.code, o.name) for o in outlets],
        can_change=admin.profile.can_change,
        error=error,
        done=DONE.get(done or ""),
    )


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise store_settings.SettingsError(f"{what} is a whole number") from None


@router.get("/settings")
async def settings_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: str | None = None
) -> Response:
    return await _page(request, admin, db, done=done)


@router.post("/settings/store")
async def settings_store(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    store_name: Text = "",
    address: Text = "",
    gst_reg_no: Text = "",
    cents_per_point: Text = "",
    point_value_cents: Text = "",
) -> Response:
    try:
        earn = _int(cents_per_point, "cents per point")
        value = _int(point_value_cents, "a point's value")
        async with db.sessions() as s, s.begin():
            await store_settings.save_store(
                s, store_name=store_name, address=address, gst_reg_no=gst_reg_no,
                cents_per_point=earn, point_value_cents=value, actor=admin.username,
            )  # fmt: skip
    except store_settings.SettingsError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/settings?done=store", status_code=303)


@router.post("/settings/gst-rates")
async def settings_gst(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    settings: SettingsDep,
    effective_from: Text = "",
    rate_percent: Text = "",
) -> Response:
    try:
        try:
            day = date.fromisoformat(effective_from.strip())
            bp = round(float(rate_percent.strip()) * 100)
        except ValueError:
            raise store_settings.SettingsError("give a date and a rate like 9 or 9.5") from None
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        async with db.sessions() as s, s.begin():
            await store_settings.add_gst_rate(
                s, effective_from=day, rate_bp=bp, actor=admin.username, today=today
            )
    except store_settings.SettingsError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/settings?done=gst", status_code=303)


@router.post("/tenders/{code}")
async def tender_save(
    request: Request,
    code: str,
    admin: OwnerDep,
    db: DatabaseDep,
    name: Text = "",
    active: Text = "",
    sort_order: Text = "0",
    outlets_listed: Text = "",
    taken_at: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """``taken_at``: the outlets ticked as taking the tender, when the form lists them
    (``outlets_listed``); every other outlet refuses it."""
    try:
        order = _int(sort_order, "the order")
        async with db.sessions() as s, s.begin():
            refused_at = None
            if outlets_listed == "1":
                every = {o.code for o in await list_outlets(s)}
                refused_at = every - set(taken_at or ())
            await store_settings.set_tender(
                s, code=code, name=name, active=active == "1", sort_order=order,
                actor=admin.username, refused_at=refused_at,
            )  # fmt: skip
    except store_settings.SettingsError as exc:
        return await _page(request, admin, db, status=422, error=sentence(exc))
    return RedirectResponse("/settings?done=tender", status_code=303)
