"""Top products by net sales (refunded quantities and amounts taken off)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.reports.common import ReportQuery, Scope, scoped_sales
from hq.reports.sales import cents


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
    *, session: AsyncSession, query: ReportQuery, scope: Scope, limit: int = 20
) -> ProductsReport:
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
    stmt = (
        scoped_sales(stmt, query, scope)
        .group_by(m.SaleLine.sku)
        .order_by(net.desc(), m.SaleLine.sku)
        .limit(limit)
    )
    rows = [
        ProductRow(
            sku=r.sku, name=r.name, qty=int(r.qty), net_sales_cents=int(r.net), sales=int(r.sales)
        )
        for r in await session.execute(stmt)
    ]
    return ProductsReport(query=query, rows=rows)
