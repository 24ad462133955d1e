"""Top products by net sales (refunded quantities and amounts taken off)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, rollup_fits, scoped_rollup, scoped_sales
from hq.reports.sales import cents
from hq.rollups import PRODUCT_HOURLY


class ProductRow(BaseModel):
    sku: str
    name: str
    qty: int
    net_sales_cents: int
    sales: int
    """Sales (receipts) the product was on."""


class ProductsReport(BaseModel):
    query: ReportQuery
    rows: list[ProductRow]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["rank", "sku", "name", "qty", "net_sales", "receipts"]
        return head, [
            [i, r.sku, r.name, r.qty, cents(r.net_sales_cents), r.sales]
            for i, r in enumerate(self.rows, 1)
        ]


async def top_products(
    *,
    session: AsyncSession,
    query: ReportQuery,
    scope: Scope,
    limit: int = 20,
    facts: bool = False,
) -> ProductsReport:
    """From the hourly product rollup when the period fits it and no cashier is asked
    for (the rollup has none), else (or with ``facts``) from the sale lines."""
    if facts or query.cashier or not rollup_fits(query, scope):
        stmt = _from_lines(query, scope, limit)
    else:
        stmt = _from_rollup(query, scope, limit)
    rows = [
        ProductRow(
            sku=r.sku, name=r.name, qty=int(r.qty), net_sales_cents=int(r.net), sales=int(r.sales)
        )
        for r in await session.execute(stmt)
    ]
    return ProductsReport(query=query, rows=rows)


def _from_rollup(query: ReportQuery, scope: Scope, limit: int) -> Select[str, str, int, int, int]:
    r = PRODUCT_HOURLY.c
    net = func.sum(r.net_cents)
    stmt = select(
        r.sku,
        func.max(r.name).label("name"),
        func.sum(r.qty).label("qty"),
        net.label("net"),
        func.sum(r.sales).label("sales"),
    ).select_from(PRODUCT_HOURLY)
    return (
        scoped_rollup(stmt, PRODUCT_HOURLY, query, scope, join=False)
        .group_by(r.sku)
        .order_by(net.desc(), r.sku)
        .limit(limit)
    )


def _from_lines(query: ReportQuery, scope: Scope, limit: int) -> Select[str, str, int, int, int]:
    net = func.sum(m.SaleLine.total_cents)
    stmt = (
        select(
            m.SaleLine.sku,
            func.max(m.SaleLine.name).label("name"),
            func.sum(m.SaleLine.qty).label("qty"),
            net.label("net"),
            func.count(func.distinct(m.SaleLine.sale_id)).label("sales"),
        )
        .select_from(m.SaleLine)
        .join(m.Sale, m.Sale.sale_id == m.SaleLine.sale_id)
    )
    return (
        scoped_sales(stmt, query, scope)
        .group_by(m.SaleLine.sku)
        .order_by(net.desc(), m.SaleLine.sku)
        .limit(limit)
    )
