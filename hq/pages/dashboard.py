"""The dashboard at ``/``: the same data function as ``GET /v1/reports/dashboard``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hq import inventory
from hq.api.admin import PageAdminDep
from hq.api.deps import DatabaseDep, SettingsDep
from hq.api.report_params import scope_for
from hq.pages.charts import hourly_chart, trend_chart
from hq.pages.templating import render
from hq.reports.dashboard import dashboard as dashboard_data

router = APIRouter()


@router.get("/")
async def dashboard(
    request: Request, admin: PageAdminDep, db: DatabaseDep, settings: SettingsDep
) -> Response:
    async with db.readers() as session, session.begin():
        data = await dashboard_data(
            session=session,
            scope=scope_for(admin, settings),
            silent_after_minutes=settings.silent_till_minutes,
        )
        low_stock = await inventory.low_stock(session=session, scope=scope_for(admin, settings))
    return render(
        request,
        "dashboard/index.html",
        admin,
        data=data,
        low_stock=low_stock,
        hourly_svg=hourly_chart(data.hourly),
        trend_svg=trend_chart(data.trend),
    )
