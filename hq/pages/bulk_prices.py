"""Bulk price change page: choose products, a rule, a scope and a moment; preview every
old -> new price; apply all of them in one transaction (:mod:`hq.price_changes`).

Like the CSV import, the preview carries the form's fields (and a digest of its figures)
into the confirming form, so nothing is kept at HQ between the two steps. Owners change;
everyone else sees the page without its form and gets 403 on a post.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import select

from hq import models as m
from hq import price_changes, prices
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.pages.products import cents
from hq.pages.templating import render

router = APIRouter()
PATH = "/products/bulk-prices"
Text = Annotated[str, Form(max_length=200)]
Pasted = Annotated[str, Form(max_length=200_000)]


class BulkForm(BaseModel):
    """The form's fields as typed, echoed back into the page and the confirming form."""

    sku_prefix: str = ""
    name: str = ""
    skus: str = ""
    kind: str = "percent"
    direction: str = "up"
    value: str = ""
    round_to: str = "0"
    outlet: str = ""
    when: str = ""


def _rule(form: BulkForm) -> price_changes.Rule:
    kind: price_changes.Kind
    if form.kind == "percent":
        kind, value = "percent", price_changes.basis_points(form.value)
    elif form.kind in ("amount", "fixed"):
        kind = "amount" if form.kind == "amount" else "fixed"
        value = cents(form.value)
        if value <= 0:
            raise price_changes.BulkPriceError("give an amount above S$0.00")
    else:
        raise price_changes.BulkPriceError("choose a kind of change")
    steps: dict[str, Literal[0, 5, 10]] = {"0": 0, "5": 5, "10": 10}
    if form.round_to not in steps:
        raise price_changes.BulkPriceError("round to 5 or 10 cents, or not at all")
    return price_changes.Rule(
        kind=kind, up=form.direction != "down", value=value, round_to=steps[form.round_to]
    )


def _moment(form: BulkForm, timezone: str, now: datetime) -> datetime:
    if not form.when.strip():
        return now
    try:
        local = datetime.fromisoformat(form.when.strip())
    except ValueError:
        raise price_changes.BulkPriceError("give the moment as a date and time") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=ZoneInfo(timezone))
    if local <= now:
        raise price_changes.BulkPriceError("the moment has passed: choose a later one, or now")
    return local


async def _page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    form: BulkForm,
    *,
    status: int = 200,
    preview: price_changes.BulkPreview | None = None,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    async with db.readers() as s, s.begin():
        outlets = list((await s.execute(select(m.Outlet).order_by(m.Outlet.code))).scalars())
    return render(
        request,
        "products/bulk_prices.html",
        admin,
        status=status,
        title="Bulk price change",
        form=form,
        outlets=[(o.code, o.name) for o in outlets],
        preview=preview,
        can_change=admin.profile.can_change,
        error=error[:1].upper() + error[1:] if error else None,
        done=done,
    )


@router.get(PATH)
async def bulk_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, done: int | None = None
) -> Response:
    message = None
    if done is not None:
        message = f"{done} prices scheduled; the tills get them at their next sync."
    return await _page(request, admin, db, BulkForm(), done=message)


@router.post(PATH)
async def bulk_submit(
    request: Request,
    admin: OwnerDep,
    db: DatabaseDep,
    settings: SettingsDep,
    sku_prefix: Text = "",
    name: Text = "",
    skus: Pasted = "",
    kind: Text = "percent",
    direction: Text = "up",
    value: Text = "",
    round_to: Text = "0",
    outlet: Text = "",
    when: Text = "",
    action: Text = "preview",
    digest: Text = "",
) -> Response:
    form = BulkForm(sku_prefix=sku_prefix, name=name, skus=skus, kind=kind,
                    direction=direction, value=value, round_to=round_to, outlet=outlet,
                    when=when)  # fmt: skip
    now = datetime.now(UTC)
    try:
        rule = _rule(form)
        effective_from = _moment(form, settings.timezone, now)
        selection = price_changes.Selection(
            sku_prefix=sku_prefix.strip().upper(),
            name=name.strip(),
            skus=price_changes.parse_skus(skus),
        )
        outlet_code = outlet.strip().upper() or None
        if action == "apply":
            async with db.sessions() as s, s.begin():
                found = await price_changes.apply(
                    s,
                    selection=selection,
                    rule=rule,
                    outlet_code=outlet_code,
                    effective_from=effective_from,
                    now=now,
                    digest=digest,
                    actor=admin.username,
                    ip=admin.address,
                )
            if not found.problems:
                return RedirectResponse(f"{PATH}?done={len(found.rows)}", status_code=303)
        else:
            async with db.readers() as s, s.begin():
                found = await price_changes.preview(
                    s,
                    selection=selection,
                    rule=rule,
                    outlet_code=outlet_code,
                    effective_from=effective_from,
                )
    except prices.PriceError as exc:
        return await _page(request, admin, db, form, status=422, error=str(exc))
    return await _page(
        request, admin, db, form, status=422 if found.problems else 200, preview=found
    )
