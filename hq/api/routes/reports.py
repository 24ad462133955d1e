"""Reports for head office as JSON: an admin session, or for read-only scripts an admin API
token or HTTP Basic.

Each endpoint calls the same data function as its back-office page and CSV download.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hq import inventory, reports
from hq.api.admin import AdminContext, OwnerDep, ReportReaderDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.errors import ApiError
from hq.api.report_params import NO_NUL, ReportQueryDep, scope_for
from hq.auth import audit
from hq.config import Settings
from hq.db import Database
from hq.reports import dashboard as dashboard_report
from hq.reports import exceptions, products, reconciliation, refunds, sales, tenders
from hq.reports import gst_f5 as gst_report
from hq.reports import quarantine as quarantine_report
from hq.retry import NotQuarantined, RetryOutcome, RetryRefused, retry
from sync import protocol as p

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": p.ErrorBody},
    422: {"model": p.ErrorBody},
}

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=UNAUTHORIZED)


@router.get("/summary", response_model=reports.Summary)
async def summary(admin: ReportReaderDep, db: DatabaseDep) -> reports.Summary:
    """Sales, loyalty points outstanding and each terminal's sync state, chain-wide (owners
    and accountants; an outlet manager reads the dashboard and sales reports, which are
    scoped to their outlets)."""
    if admin.profile.outlets is not None:
        raise ApiError(
            403,
            "forbidden",
            "the summary covers every outlet: use /v1/reports/dashboard or /v1/reports/sales, "
            "which show your outlets",
        )
    async with db.readers() as session, session.begin():
        return await reports.summary(session=session)


@router.get("/dashboard", response_model=dashboard_report.Dashboard)
async def dashboard(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep
) -> dashboard_report.Dashboard:
    """Today and this week by outlet, hourly and 30-day series, top products, till health."""
    async with db.readers() as session, session.begin():
        return await dashboard_report.dashboard(
            session=session,
            scope=scope_for(admin, settings),
            silent_after_minutes=settings.silent_till_minutes,
        )


@router.get("/sales", response_model=sales.SalesReport)
async def sales_summary(
    admin: ReportReaderDep,
    db: DatabaseDep,
    settings: SettingsDep,
    query: ReportQueryDep,
    group_by: sales.GroupBy = "day",
) -> sales.SalesReport:
    """Transactions, gross, refunds, net, discounts and GST by day, outlet, terminal or
    cashier."""
    async with db.readers() as session, session.begin():
        return await sales.sales_summary(
            session=session, query=query, scope=scope_for(admin, settings), group_by=group_by
        )


@router.get("/tenders", response_model=tenders.TendersReport)
async def tender_totals(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> tenders.TendersReport:
    """Sales and refunds by tender (cash after rounding, NETS, card, PayNow...)."""
    async with db.readers() as session, session.begin():
        return await tenders.tenders(session=session, query=query, scope=scope_for(admin, settings))


@router.get("/top-products", response_model=products.ProductsReport)
async def top_products(
    admin: ReportReaderDep,
    db: DatabaseDep,
    settings: SettingsDep,
    query: ReportQueryDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> products.ProductsReport:
    """Best-selling products by net sales."""
    async with db.readers() as session, session.begin():
        return await products.top_products(
            session=session, query=query, scope=scope_for(admin, settings), limit=limit
        )


@router.get("/top-categories", response_model=products.CategoriesReport)
async def top_categories(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> products.CategoriesReport:
    """Net sales, quantity and receipts by product category (a product's category as the
    catalog has it now; lines without one are "Uncategorised")."""
    async with db.readers() as session, session.begin():
        return await products.top_categories(
            session=session, query=query, scope=scope_for(admin, settings)
        )


@router.get("/gst-f5", response_model=gst_report.GstF5)
async def gst_f5(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> gst_report.GstF5:
    """GST F5 boxes 1-8 for the period, from synced sales and the effective-dated rates."""
    async with db.readers() as session, session.begin():
        return await gst_report.gst_f5(
            session=session, query=query, scope=scope_for(admin, settings)
        )


@router.get("/refunds", response_model=refunds.RefundsReport)
async def refund_list(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> refunds.RefundsReport:
    """Every refund (credit note) in the period beside the receipt it refunds."""
    async with db.readers() as session, session.begin():
        return await refunds.refunds(session=session, query=query, scope=scope_for(admin, settings))


@router.get("/exceptions", response_model=exceptions.ExceptionsReport)
async def exception_list(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> exceptions.ExceptionsReport:
    """The tills' audit trail: discounts, voids, cancelled sales, no-sale drawer opens and
    every manager approval (granted, or refused with its wrong-PIN attempts)."""
    async with db.readers() as session, session.begin():
        return await exceptions.exceptions(
            session=session, query=query, scope=scope_for(admin, settings)
        )


@router.get("/reconciliation", response_model=reconciliation.ReconciliationReport)
async def shift_reconciliation(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> reconciliation.ReconciliationReport:
    """Each closed shift's own totals beside HQ's sums of its events, to the cent, and
    every gap in each terminal's sequence."""
    async with db.readers() as session, session.begin():
        return await reconciliation.reconciliation(
            session=session, query=query, scope=scope_for(admin, settings)
        )


@router.get("/quarantine", response_model=quarantine_report.QuarantineReport)
async def quarantine(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, query: ReportQueryDep
) -> quarantine_report.QuarantineReport:
    """Events HQ refused (by the day HQ received them), with reason and raw body."""
    async with db.readers() as session, session.begin():
        return await quarantine_report.quarantine(
            session=session, query=query, scope=scope_for(admin, settings)
        )


OutletParam = Annotated[
    str | None, Query(max_length=16, pattern=NO_NUL, description="one outlet (default: all)")
]


@router.get("/stock", response_model=inventory.StockLevels)
async def stock_levels(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, outlet: OutletParam = None
) -> inventory.StockLevels:
    """On-hand per outlet and product (the sum of the stock ledger), with low-stock
    thresholds; an outlet manager sees their outlets."""
    async with db.readers() as session, session.begin():
        return await inventory.stock_levels(
            session=session, scope=scope_for(admin, settings), outlet=outlet or None
        )


@router.get("/low-stock", response_model=list[inventory.StockRow])
async def low_stock(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep
) -> list[inventory.StockRow]:
    """Products below their outlet's low-stock threshold, emptiest first (the dashboard's
    panel)."""
    async with db.readers() as session, session.begin():
        return await inventory.low_stock(session=session, scope=scope_for(admin, settings))


@router.get(
    "/stock-movements",
    response_model=inventory.MovementHistory,
    responses={403: {"model": p.ErrorBody}, 404: {"model": p.ErrorBody}},
)
async def stock_movements(
    admin: ReportReaderDep,
    db: DatabaseDep,
    settings: SettingsDep,
    outlet: Annotated[str, Query(min_length=1, max_length=16, pattern=NO_NUL)],
    sku: Annotated[str, Query(min_length=1, max_length=64, pattern=NO_NUL)],
) -> inventory.MovementHistory:
    """One product's stock ledger at one outlet, newest first, with the running balance."""
    async with db.readers() as session, session.begin():
        try:
            return await inventory.movement_history(
                session=session, scope=scope_for(admin, settings), outlet=outlet, sku=sku
            )
        except inventory.StockForbidden as exc:
            raise ApiError(403, "forbidden", str(exc)) from exc
        except inventory.StockError as exc:
            raise ApiError(404, "not_found", str(exc)) from exc


@router.get("/stock-valuation", response_model=inventory.StockValuation)
async def stock_valuation(
    admin: ReportReaderDep, db: DatabaseDep, settings: SettingsDep, outlet: OutletParam = None
) -> inventory.StockValuation:
    """Stock at cost as at now: on-hand x the latest unit cost from goods receipts
    (excluding GST), per outlet and product; an outlet manager sees their outlets."""
    async with db.readers() as session, session.begin():
        return await inventory.valuation(
            session=session, scope=scope_for(admin, settings), outlet=outlet or None
        )


class DismissBody(BaseModel):
    note: Annotated[str, Field(max_length=500, description="why it needs no repair")] = ""


class Dismissed(BaseModel):
    event_id: uuid.UUID
    dismissed: bool
    """False when it had already been dismissed."""


@router.post(
    "/quarantine/{event_id}/dismiss",
    response_model=Dismissed,
    responses={
        400: {"model": p.ErrorBody, "description": "a body that is not JSON"},
        403: {"model": p.ErrorBody},
        404: {"model": p.ErrorBody},
    },
)
async def dismiss_quarantined(
    event_id: uuid.UUID, body: DismissBody, admin: OwnerDep, db: DatabaseDep, settings: SettingsDep
) -> Dismissed:
    """Owner only, with the session's ``X-CSRF-Token`` and a reason; audited."""
    done = await dismiss_and_audit(
        db=db, admin=admin, settings=settings, event_id=event_id, note=body.note
    )
    return Dismissed(event_id=event_id, dismissed=done)


async def dismiss_and_audit(
    *, db: Database, admin: AdminContext, settings: Settings, event_id: uuid.UUID, note: str
) -> bool:
    """One unit of work: the dismissal and its audit row commit together (the page's
    form and this endpoint share it)."""
    note = note.strip()
    if not note:
        raise ApiError(422, "validation_error", "say why the event needs no repair")
    async with db.sessions() as session, session.begin():
        try:
            done = await quarantine_report.dismiss(
                session=session,
                event_id=event_id,
                by=admin.username,
                note=note,
                scope=scope_for(admin, settings),
            )
        except quarantine_report.DismissError as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        await audit.record(
            session=session,
            username=admin.username,
            action="quarantine.dismiss" if done else "quarantine.dismiss_again",
            target=str(event_id),
            detail=note or None,
            ip=admin.address,
        )
    return done


@router.post(
    "/quarantine/{event_id}/retry",
    response_model=RetryOutcome,
    responses={
        403: {"model": p.ErrorBody},
        404: {"model": p.ErrorBody},
        409: {"model": p.ErrorBody, "description": "dismissed, or its terminal is revoked"},
    },
)
async def retry_quarantined(
    event_id: uuid.UUID, admin: OwnerDep, db: DatabaseDep, settings: SettingsDep
) -> RetryOutcome:
    """Run a quarantined event through ingest again (after a fix): accepted, it becomes
    facts exactly once and leaves quarantine; refused, it stays with the new reason.
    Owner only, with the session's ``X-CSRF-Token``; audited."""
    return await retry_and_audit(db=db, admin=admin, settings=settings, event_id=event_id)


async def retry_and_audit(
    *, db: Database, admin: AdminContext, settings: Settings, event_id: uuid.UUID
) -> RetryOutcome:
    """One unit of work: the retry's effect and its audit row commit together."""
    async with db.sessions() as session, session.begin():
        try:
            outcome = await retry(
                session=session, event_id=event_id, scope=scope_for(admin, settings)
            )
        except NotQuarantined as exc:
            raise ApiError(404, "not_found", str(exc)) from exc
        except RetryRefused as exc:
            raise ApiError(409, "conflict", str(exc)) from exc
        await audit.record(
            session=session,
            username=admin.username,
            action=f"quarantine.retry.{outcome.status}",
            target=str(event_id),
            detail=outcome.reason,
            ip=admin.address,
        )
    return outcome
