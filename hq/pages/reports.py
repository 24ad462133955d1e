"""Report pages and their CSV downloads.

Each report is one entry in :data:`REPORTS`: a loader that calls the report's data
function (the one its ``/v1/reports/...`` endpoint calls) and the template that shows it.
The CSV is the report model's own ``table()``, so page, CSV and JSON show one set of
figures. Downloads are audited: figures leaving HQ are an admin action.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hq import inventory
from hq.api.admin import AdminContext, OwnerDep, PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.errors import ApiError
from hq.api.report_params import ReportQueryDep, scope_for
from hq.api.routes.reports import dismiss_and_audit, retry_and_audit
from hq.auth import audit
from hq.db import Database
from hq.pages.templating import render
from hq.reports import (
    exceptions,
    gst_f5,
    loyalty,
    overspend,
    products,
    quarantine,
    reconciliation,
    refunds,
    sales,
    tenders,
)
from hq.reports.common import ReportQuery, Scope, choices

router = APIRouter()


class Tabular(Protocol):
    def table(self) -> tuple[list[str], list[list[Any]]]: ...


Loader = Callable[[AsyncSession, ReportQuery, Scope, Request], Awaitable[Tabular]]


@dataclass(frozen=True, slots=True)
class ReportPage:
    title: str
    template: str
    load: Loader
    api: str
    """Its JSON endpoint, linked from the page."""
    extra: tuple[str, ...] = ()
    """Query parameters beyond the common filter that the report reads."""


def _group_by(request: Request) -> sales.GroupBy:
    value = request.query_params.get("group_by", "day")
    for g in sales.GROUPS:
        if g == value:
            return g
    return "day"


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", "20")
    return min(max(int(raw), 1), 500) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 20


async def _sales(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await sales.sales_summary(session=s, query=q, scope=sc, group_by=_group_by(r))


async def _tenders(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await tenders.tenders(session=s, query=q, scope=sc)


async def _products(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await products.top_products(session=s, query=q, scope=sc, limit=_limit(r))


async def _categories(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await products.top_categories(session=s, query=q, scope=sc)


async def _gst(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await gst_f5.gst_f5(session=s, query=q, scope=sc)


async def _refunds(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await refunds.refunds(session=s, query=q, scope=sc)


async def _exceptions(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await exceptions.exceptions(session=s, query=q, scope=sc)


async def _reconciliation(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await reconciliation.reconciliation(session=s, query=q, scope=sc)


async def _quarantine(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await quarantine.quarantine(session=s, query=q, scope=sc)


def _number(request: Request, name: str, default: int, top: int) -> int:
    raw = request.query_params.get(name, "")
    return (
        min(max(int(raw), 1), top) if raw.isascii() and raw.isdigit() and len(raw) < 10 else default
    )


async def _loyalty(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    """Balances need no dates; the CSV carries every matching member, the page one page."""
    search = r.query_params.get("q", "")[:100]
    if r.url.path.endswith(".csv"):
        return await loyalty.loyalty(session=s, search=search, size=loyalty.CSV_ROWS)
    size = _number(r, "size", loyalty.PAGE_SIZE, loyalty.MAX_PAGE_SIZE)
    return await loyalty.loyalty(
        session=s, search=search, page=_number(r, "page", 1, 1_000_000), size=size
    )


async def _valuation(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    """As at now: the dates of the filter do not apply."""
    return await inventory.valuation(session=s, scope=sc, outlet=q.outlet)


async def _overspend(s: AsyncSession, q: ReportQuery, sc: Scope, r: Request) -> Tabular:
    return await overspend.overspend(session=s, query=q, scope=sc)


REPORTS: dict[str, ReportPage] = {
    "sales": ReportPage(
        "Sales summary", "reports/sales.html", _sales, "/v1/reports/sales", ("group_by",)
    ),
    "tenders": ReportPage("Tenders", "reports/tenders.html", _tenders, "/v1/reports/tenders"),
    "top-products": ReportPage(
        "Top products", "reports/products.html", _products, "/v1/reports/top-products", ("limit",)
    ),
    "top-categories": ReportPage(
        "Top categories", "reports/categories.html", _categories, "/v1/reports/top-categories"
    ),
    "gst-f5": ReportPage("GST F5", "reports/gst_f5.html", _gst, "/v1/reports/gst-f5"),
    "refunds": ReportPage("Refunds", "reports/refunds.html", _refunds, "/v1/reports/refunds"),
    "exceptions": ReportPage(
        "Till exceptions", "reports/exceptions.html", _exceptions, "/v1/reports/exceptions"
    ),
    "reconciliation": ReportPage(
        "Reconciliation",
        "reports/reconciliation.html",
        _reconciliation,
        "/v1/reports/reconciliation",
    ),
    "quarantine": ReportPage(
        "Quarantine", "reports/quarantine.html", _quarantine, "/v1/reports/quarantine"
    ),
    "loyalty": ReportPage(
        "Loyalty", "reports/loyalty.html", _loyalty, "/v1/reports/loyalty", ("q", "page")
    ),
    "overspend": ReportPage(
        "Offline overspend", "reports/overspend.html", _overspend, "/v1/reports/overspend"
    ),
    "stock-valuation": ReportPage(
        "Stock valuation",
        "reports/stock_valuation.html",
        _valuation,
        "/v1/reports/stock-valuation",
    ),
}


PDF_REPORTS = ("gst-f5", "reconciliation")
"""The reports people print: :mod:`hq.pages.pdf` draws them."""


def _page(name: str) -> ReportPage:
    page = REPORTS.get(name)
    if page is None:
        raise ApiError(404, "not_found", f"no report {name!r}")
    return page


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _cell(value: Any) -> Any:
    """Text from tills (product names, raw events) that a spreadsheet would run as a
    formula is prefixed with ``'``; numbers, negative ones too, are left alone."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return value if _NUMBER.fullmatch(value) else "'" + value
    return value


@router.get("/reports/{name}.csv")
async def report_csv(
    name: str,
    request: Request,
    admin: PageAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    query: ReportQueryDep,
) -> Response:
    page = _page(name)
    async with db.readers() as session, session.begin():
        report = await page.load(session, query, scope_for(admin, settings), request)
    return await csv_download(
        report,
        db=db,
        admin=admin,
        target=name,
        detail=str(request.url.query) or None,
        filename=f"kedai-{name}-{query.date_from}-{query.date_to}.csv",
    )


async def csv_download(
    report: Tabular,
    *,
    db: Database,
    admin: AdminContext,
    target: str,
    detail: str | None,
    filename: str,
) -> Response:
    """The report's ``table()`` as a CSV attachment; the export is audited."""
    head, rows = report.table()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(head)
    writer.writerows([_cell(c) for c in row] for row in rows)
    async with db.sessions() as session, session.begin():
        await audit.record(
            session=session,
            username=admin.username,
            action="report.export",
            target=target,
            detail=detail,
            ip=admin.address,
        )
    return Response(
        out.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/reports/{name}")
async def report_page(
    name: str,
    request: Request,
    admin: PageAdminDep,
    db: DatabaseDep,
    settings: SettingsDep,
    query: ReportQueryDep,
) -> Response:
    if name not in REPORTS:
        return render(
            request, "error.html", admin, status=404, title="Not found",
            heading="No such report", message=f"There is no report called {name!r}.",
        )  # fmt: skip
    page = _page(name)
    scope = scope_for(admin, settings)
    async with db.readers() as session, session.begin():
        report = await page.load(session, query, scope, request)
        options = await choices(session=session, scope=scope)
    qs = request.url.query
    return render(
        request,
        page.template,
        admin,
        title=page.title,
        name=name,
        report=report,
        query=query,
        options=options,
        csv_url=f"/reports/{name}.csv" + (f"?{qs}" if qs else ""),
        api_url=page.api + (f"?{qs}" if qs else ""),
        pdf_url=f"/reports/{name}.pdf" + (f"?{qs}" if qs else "") if name in PDF_REPORTS else "",
        extra={k: request.query_params.get(k, "") for k in page.extra},
        groups=sales.GROUPS,
        query_string=qs,
        retried=request.query_params.get("retried", ""),
        outcome=request.query_params.get("outcome", ""),
    )


@router.post("/reports/quarantine/{event_id}/dismiss")
async def dismiss_form(
    event_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    settings: SettingsDep,
    note: Annotated[str, Form(max_length=500)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/reports/quarantine",
) -> Response:
    await dismiss_and_audit(db=db, admin=admin, settings=settings, event_id=event_id, note=note)
    return RedirectResponse(_back(back), status_code=303)


@router.post("/reports/quarantine/{event_id}/retry")
async def retry_form(
    event_id: uuid.UUID,
    admin: OwnerDep,
    db: DatabaseDep,
    settings: SettingsDep,
    back: Annotated[str, Form(max_length=2000)] = "/reports/quarantine",
) -> Response:
    outcome = await retry_and_audit(db=db, admin=admin, settings=settings, event_id=event_id)
    target = _back(back)
    mark = "&" if "?" in target else "?"
    return RedirectResponse(
        f"{target}{mark}retried={event_id}&outcome={outcome.status}", status_code=303
    )


def _back(back: str) -> str:
    """Only back to the quarantine list (never an open redirect), without an old outcome."""
    path, _, query = back.partition("?")
    if path != "/reports/quarantine":
        return "/reports/quarantine"
    kept = [
        part for part in query.split("&") if part and not part.startswith(("retried=", "outcome="))
    ]
    return "/reports/quarantine" + ("?" + "&".join(kept) if kept else "")


@router.get("/audit")
async def audit_page(request: Request, admin: PageAdminDep, db: DatabaseDep) -> Response:
    if admin.profile.role != "owner":
        return render(
            request, "error.html", admin, status=403, title="Not allowed",
            heading="Not allowed", message="Only an owner reads the audit trail.",
        )  # fmt: skip
    async with db.readers() as session, session.begin():
        entries = await audit.recent(session=session, limit=300)
    return render(request, "reports/audit.html", admin, title="Audit trail", entries=entries)
