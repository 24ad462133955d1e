"""One member's loyalty ledger as a page and a CSV (the balances and the liability are the
``loyalty`` entry of :data:`hq.pages.reports.REPORTS`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hq.api.admin import PageAdminDep
from hq.api.deps import DatabaseDep
from hq.pages.reports import csv_download
from hq.pages.templating import render
from hq.reports import loyalty

router = APIRouter()


async def _ledger(db: DatabaseDep, customer_id: uuid.UUID) -> loyalty.MemberLedger | None:
    async with db.readers() as session, session.begin():
        try:
            return await loyalty.member_ledger(session=session, customer_id=customer_id)
        except loyalty.UnknownMember:
            return None


def _not_found(request: Request, admin: PageAdminDep) -> Response:
    return render(
        request, "error.html", admin, status=404, title="Not found",
        heading="No such member", message="HQ holds no member with that id.",
    )  # fmt: skip


@router.get("/reports/loyalty/{customer_id}.csv")
async def ledger_csv(
    customer_id: uuid.UUID, request: Request, admin: PageAdminDep, db: DatabaseDep
) -> Response:
    ledger = await _ledger(db, customer_id)
    if ledger is None:
        return _not_found(request, admin)
    return await csv_download(
        ledger,
        db=db,
        admin=admin,
        target="loyalty-ledger",
        detail=str(customer_id),
        filename=f"kedai-loyalty-{customer_id}.csv",
    )


@router.get("/reports/loyalty/{customer_id}")
async def ledger_page(
    customer_id: uuid.UUID, request: Request, admin: PageAdminDep, db: DatabaseDep
) -> Response:
    ledger = await _ledger(db, customer_id)
    if ledger is None:
        return _not_found(request, admin)
    return render(
        request,
        "reports/loyalty_member.html",
        admin,
        title=f"Loyalty: {ledger.name}",
        ledger=ledger,
        csv_url=f"/reports/loyalty/{customer_id}.csv",
        api_url=f"/v1/reports/loyalty/members/{customer_id}",
    )
