"""The report filter as query parameters (``?from=2026-01-01&to=2026-03-31&outlet=AMK``),
shared by the JSON endpoints, the pages and their CSV downloads."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Query
from pydantic import ValidationError

from hq.api.admin import AdminContext
from hq.api.deps import SettingsDep
from hq.api.errors import ApiError
from hq.config import Settings
from hq.reports.common import ReportQuery, Scope, today


def report_query(
    settings: SettingsDep,
    date_from: Annotated[
        date | None, Query(alias="from", description="first local day (default: 1st of month)")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="last local day, inclusive")
    ] = None,
    outlet: Annotated[str | None, Query(max_length=16)] = None,
    terminal: Annotated[str | None, Query(max_length=40)] = None,
    cashier: Annotated[str | None, Query(max_length=100, description="cashier name")] = None,
) -> ReportQuery:
    end = date_to or today(ZoneInfo(settings.timezone))
    start = date_from or end.replace(day=1)
    try:
        return ReportQuery(
            date_from=start,
            date_to=end,
            outlet=outlet or None,
            terminal=terminal or None,
            cashier=cashier or None,
        )
    except ValidationError as exc:
        message = "; ".join(str(e.get("msg", "")) for e in exc.errors())
        raise ApiError(422, "validation_error", message) from exc


def scope_for(admin: AdminContext, settings: Settings) -> Scope:
    return Scope(tz=ZoneInfo(settings.timezone), outlets=admin.profile.outlets)


ReportQueryDep = Annotated[ReportQuery, Depends(report_query)]
