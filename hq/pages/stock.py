"""Stock pages: on-hand per outlet with low-stock thresholds, stock counts, transfers.

Everyone signed in looks (a manager at their outlets); owners, and managers at their own
outlets, count, transfer and set thresholds; accountants only read. The data comes from
:mod:`hq.inventory`, as does ``GET /v1/reports/stock``'s.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import FormData

from hq import inventory
from hq import models as m
from hq.api.admin import AdminContext, CsrfAdminDep, PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.report_params import scope_for
from hq.config import Settings
from hq.pages.templating import render, sentence

router = APIRouter()
Text = Annotated[str, Form(max_length=2000)]
Code = Annotated[str, Form(max_length=16)]
LINE_ROWS = 6
"""Empty product rows a transfer (or purchase) form offers."""
COUNT_PAGE = 500
DONE = {
    "count": "Count saved: the differences are booked as adjustments.",
    "transfer": "Transfer booked at both outlets.",
    "threshold": "Threshold saved.",
}


async def _outlets(db: DatabaseDep, admin: AdminContext) -> list[str]:
    async with db.readers() as s, s.begin():
        stmt = select(m.Outlet.code).order_by(m.Outlet.code)
        if admin.profile.outlets is not None:
            stmt = stmt.where(m.Outlet.code.in_(admin.profile.outlets))
        return list((await s.execute(stmt)).scalars())


async def _page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    settings: Settings,
    *,
    outlet: str = "",
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    outlet = outlet.strip().upper()
    async with db.readers() as s, s.begin():
        levels = await inventory.stock_levels(
            session=s, scope=scope_for(admin, settings), outlet=outlet or None
        )
    return render(
        request,
        "stock/index.html",
        admin,
        status=status,
        title="Stock",
        levels=levels,
        outlets=await _outlets(db, admin),
        outlet=outlet,
        can_change=inventory.may_move_any(admin.profile),
        line_rows=range(LINE_ROWS),
        error=error,
        done=DONE.get(done or ""),
    )


@router.get("/stock")
async def stock_page(
    request: Request,
    admin: PageAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    outlet: str = "",
    done: str | None = None,
) -> Response:
    return await _page(request, admin, db, settings, outlet=outlet[:16], done=done)


@router.get("/stock/movements")
async def movements_page(
    request: Request,
    admin: PageAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    outlet: str = "",
    sku: str = "",
) -> Response:
    """One product's ledger at one outlet (linked from each row of the stock table)."""
    try:
        async with db.readers() as s, s.begin():
            history = await inventory.movement_history(
                session=s, scope=scope_for(admin, settings), outlet=outlet[:16].strip().upper(),
                sku=sku[:64],
            )  # fmt: skip
    except inventory.StockError as exc:
        return render(
            request, "error.html", admin, status=404, title="Not found",
            heading="No such stock", message=sentence(exc) + ".",
        )  # fmt: skip
    return render(
        request, "stock/movements.html", admin, title=f"{history.product.sku} at {history.outlet}",
        history=history,
    )  # fmt: skip


def lines_from_form(form: FormData, sku: str = "sku", qty: str = "qty") -> list[tuple[str, str]]:
    """The (sku, quantity) rows a form sent, blank rows left out."""
    skus, qtys = form.getlist(sku), form.getlist(qty)
    out = []
    for s, q in zip(skus, qtys, strict=False):
        if isinstance(s, str) and isinstance(q, str) and (s.strip() or q.strip()):
            if not s.strip():
                raise inventory.StockError(f"a row has quantity {q.strip()[:20]!r} but no sku")
            out.append((s.strip(), q))
    return out


@router.post("/stock/transfer")
async def transfer_submit(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    from_outlet: Code = "",
    to_outlet: Code = "",
    note: Text = "",
) -> Response:
    source, target = from_outlet.strip().upper(), to_outlet.strip().upper()
    try:
        inventory.check_may_move(admin.profile, source, target)
        rows = lines_from_form(await request.form())
        async with db.sessions() as s, s.begin():
            products = await inventory.products_by_sku(s, (sku for sku, _ in rows))
            lines = [(products[sku].product_id, inventory.parse_qty(q, sku)) for sku, q in rows]
            await inventory.transfer(
                s, from_outlet=source, to_outlet=target, lines=lines, actor=admin.username,
                note=note.strip() or None, ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _page(request, admin, db, settings, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _page(request, admin, db, settings, status=422, error=sentence(exc))
    return RedirectResponse(f"/stock?outlet={source}&done=transfer", status_code=303)


@router.post("/stock/threshold")
async def threshold_submit(
    request: Request,
    admin: CsrfAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    outlet: Code = "",
    sku: Text = "",
    min_qty: Text = "",
) -> Response:
    code = outlet.strip().upper()
    try:
        inventory.check_may_move(admin.profile, code)
        limit = (
            inventory.parse_qty(min_qty, "minimum", allow_zero=True) if min_qty.strip() else None
        )
        async with db.sessions() as s, s.begin():
            product = (
                (await inventory.products_by_sku(s, [sku]))[sku.strip()] if sku.strip() else None
            )
            if product is None:
                raise inventory.StockError("give the sku of the product")
            await inventory.set_threshold(
                s, outlet=code, product_id=product.product_id, min_qty=limit,
                actor=admin.username, ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _page(request, admin, db, settings, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _page(request, admin, db, settings, status=422, error=sentence(exc))
    return RedirectResponse(f"/stock?outlet={code}&done=threshold", status_code=303)


# ------------------------------------------------------------------------------- counts


async def _count_page(
    request: Request,
    admin: AdminContext,
    db: DatabaseDep,
    outlet: str,
    *,
    status: int = 200,
    error: str | None = None,
) -> Response:
    outlet = outlet.strip().upper()
    outlets = await _outlets(db, admin)
    if outlet not in outlets:
        outlet = outlets[0] if outlets else ""
    async with db.readers() as s, s.begin():
        products = list(
            (
                await s.execute(
                    select(m.Product.product_id, m.Product.sku, m.Product.name)
                    .where(m.Product.active.is_(True))
                    .order_by(m.Product.sku)
                    .limit(COUNT_PAGE)
                )
            ).all()
        )
        levels = await inventory.on_hand(s, outlets=[outlet]) if outlet else {}
    return render(
        request,
        "stock/count.html",
        admin,
        status=status,
        title="Stock count",
        outlet=outlet,
        outlets=outlets,
        products=[
            (r.product_id, r.sku, r.name, levels.get((outlet, r.product_id), 0)) for r in products
        ],
        can_change=inventory.may_move_any(admin.profile),
        limit=COUNT_PAGE,
        error=error,
    )


@router.get("/stock/count")
async def count_page(
    request: Request, admin: PageAdminDep, db: DatabaseDep, outlet: str = ""
) -> Response:
    return await _count_page(request, admin, db, outlet[:16])


@router.post("/stock/count")
async def count_submit(
    request: Request, admin: CsrfAdminDep, db: DatabaseDep, outlet: Code = "", note: Text = ""
) -> Response:
    """Fields ``count.<product id>``: a blank one is a product not counted."""
    code = outlet.strip().upper()
    form = await request.form()
    try:
        inventory.check_may_move(admin.profile, code)
        counts: dict[uuid.UUID, int] = {}
        for key, value in form.multi_items():
            if not key.startswith("count.") or not isinstance(value, str) or not value.strip():
                continue
            try:
                pid = uuid.UUID(key.removeprefix("count."))
            except ValueError:
                raise inventory.StockError(f"{key[:60]!r} names no product") from None
            counts[pid] = inventory.parse_qty(value, "counted", allow_zero=True)
        async with db.sessions() as s, s.begin():
            await inventory.record_count(
                s, outlet=code, counts=counts, actor=admin.username,
                note=note.strip() or None, ip=admin.address,
            )  # fmt: skip
    except inventory.StockForbidden as exc:
        return await _count_page(request, admin, db, code, status=403, error=sentence(exc))
    except inventory.StockError as exc:
        return await _count_page(request, admin, db, code, status=422, error=sentence(exc))
    return RedirectResponse(f"/stock?outlet={code}&done=count", status_code=303)
