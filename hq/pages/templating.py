"""Jinja2 set-up for the back office: one environment, autoescaped, with money filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hq.api.admin import AdminContext
from hq.api.deps import get_settings
from hq.reports.common import money

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

templates = Jinja2Templates(directory=TEMPLATES)


def _money(cents: int | None) -> str:
    return "" if cents is None else f"S${money(cents)}"


templates.env.filters["money"] = _money
templates.env.filters["amount"] = lambda cents: "" if cents is None else money(cents)


NavLinks = list[tuple[str, str]]

REPORT_NAV: NavLinks = [
    ("/", "Dashboard"),
    ("/reports/sales", "Sales"),
    ("/reports/tenders", "Tenders"),
    ("/reports/top-products", "Products"),
    ("/reports/gst-f5", "GST F5"),
    ("/reports/refunds", "Refunds"),
    ("/reports/exceptions", "Exceptions"),
    ("/reports/loyalty", "Loyalty"),
    ("/reports/overspend", "Overspend"),
    ("/reports/reconciliation", "Reconciliation"),
    ("/reports/quarantine", "Quarantine"),
]
MANAGE_NAV: NavLinks = [
    ("/products", "Catalog"),
    ("/categories", "Categories"),
    ("/stock", "Stock"),
    ("/purchasing/orders", "Purchasing"),
    ("/members", "Members"),
    ("/staff", "Staff"),
    ("/outlets", "Outlets"),
    ("/settings", "Settings"),
]
OWNER_NAV: NavLinks = [("/admins", "Admins"), ("/audit", "Audit")]
"""The header's two rows: what head office reads, and what it runs (owners see more)."""


def sentence(exc: Exception) -> str:
    """An error's words for a page: the first letter upper, the rest as written
    (``str.capitalize`` would lower a sku, a name or "PIN" in the middle)."""
    message = str(exc)
    return message[:1].upper() + message[1:]


def render(
    request: Request,
    template: str,
    admin: AdminContext | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    settings = get_settings(request)
    tz = ZoneInfo(settings.timezone)

    def local(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "never"

    owner = admin is not None and admin.profile.role == "owner"
    nav = [("Reports", REPORT_NAV), ("Manage", MANAGE_NAV + (OWNER_NAV if owner else []))]
    return templates.TemplateResponse(
        request,
        template,
        {
            "admin": admin,
            "csrf_token": admin.csrf_token if admin else None,
            "nav": nav,
            "path": request.url.path,
            "local": local,
            "tz_name": settings.timezone,
            **context,
        },
        status_code=status,
        headers=headers,
    )
