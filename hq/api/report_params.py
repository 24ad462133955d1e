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

_DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
"""A calendar day as the pages' date inputs send it; nothing else (``?to=0`` is no day)."""


FIRST_YEAR, LAST_YEAR = 2000, 2100
"""Days a report may ask for: the edges of the calendar overflow a day's window."""

NO_NUL = r"^[^\x00]*$"
"""No NUL: PostgreSQL cannot hold one in text, so a filter with it matches nothing."""


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "validation_error", f"{name}={text!r} is not a day") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ApiError(
            422, "validation_error", f"{name}={text!r}: give a day from {FIRST_YEAR} to {LAST_YEAR}"
        )
    return day


def report_query(
    settings: SettingsDep,
    date_from: Annotated[
        str | None,
        Query(
            alias="from",
            pattern=_DAY,
            description="first local day, YYYY-MM-DD (default: 1st of month)",
        ),
    ] = None,
    date_to: Annotated[
        str | None,
        Query(alias="to", pattern=_DAY, description="last local day, inclusive, YYYY-MM-DD"),
    ] = None,
    outlet: Annotated[str | None, Query(max_length=16, pattern=NO_NUL)] = None,
    terminal: Annotated[str | None, Query(max_length=40, pattern=NO_NUL)] = None,
    cashier: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="cashier name")
    ] = None,
) -> ReportQuery:
    end = _day(date_to, "to") or today(ZoneInfo(settings.timezone))
    start = _day(date_from, "from") or end.replace(day=1)
    try:
        return ReportQuery(
            date_from=start,
            date_to=end,
            outlet=outlet or None,
            terminal=terminal or None,
            cashier=cashier or None,
        )
    except ValidationError as exc:
        message = "; ".join(
            str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
        )
        raise ApiError(422, "validation_error", message) from exc


def scope_for(admin: AdminContext, settings: Settings) -> Scope:
    return Scope(tz=ZoneInfo(settings.timezone), outlets=admin.profile.outlets)


ReportQueryDep = Annotated[ReportQuery, Depends(report_query)]
