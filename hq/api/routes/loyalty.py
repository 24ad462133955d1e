"""Loyalty reports as JSON: the liability and balances, a member's ledger, offline overspend.

Each endpoint calls the same data function as its back-office page and CSV download.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from hq.api.admin import ReportReaderDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.errors import ApiError
from hq.api.report_params import NO_NUL, ReportQueryDep, scope_for
from hq.api.routes.reports import UNAUTHORIZED
from hq.reports import loyalty as loyalty_report
from hq.reports import overspend as overspend_report
from sync import protocol as p

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=UNAUTHORIZED)

SearchParam = Annotated[
    str,
    Query(max_length=100, pattern=NO_NUL, description="part of a member's name, phone or email"),
]
PageParam = Annotated[int, Query(ge=1, le=1_000_000)]
SizeParam = Annotated[int, Query(ge=1, le=loyalty_report.MAX_PAGE_SIZE)]


@router.get("/loyalty", response_model=loyalty_report.LoyaltyReport)
async def loyalty(
    admin: ReportReaderDep,
    db: DatabaseDep,
    q: SearchParam = "",
    page: PageParam = 1,
    size: SizeParam = loyalty_report.PAGE_SIZE,
) -> loyalty_report.LoyaltyReport:
    """Points outstanding and their S$ value at the redeem rate (chain-wide), and one page
    of member balances, largest first."""
    async with db.readers() as session, session.begin():
        return await loyalty_report.loyalty(session=session, search=q, page=page, size=size)


@router.get(
    "/loyalty/members/{customer_id}",
    response_model=loyalty_report.MemberLedger,
    responses={404: {"model": p.ErrorBody}},
)
async def member_ledger(
    customer_id: uuid.UUID, admin: ReportReaderDep, db: DatabaseDep
) -> loyalty_report.MemberLedger:
    """Every signed delta of one member in the order HQ applied it, with its event,
    terminal, times, reason and the running balance."""
    async with db.readers() as session, session.begin():
        try:
            return await loyalty_report.member_ledger(session=session, customer_id=customer_id)
        except loyalty_report.UnknownMember as exc:
            raise ApiError(404, "not_found", str(exc)) from exc


@router.get("/overspend", response_model=overspend_report.OverspendReport)
async def overspend(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> overspend_report.OverspendReport:
    """Members whose points two or more offline tills redeemed beyond their balance (the
    balance went below zero as HQ applied the deltas), with the events involved."""
    async with db.readers() as session, session.begin():
        return await overspend_report.overspend(
            session=session, query=query, scope=scope_for(admin, settings)
        )
