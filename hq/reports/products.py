"""Top products and top categories by net sales (refunded quantities and amounts taken off).

A sale line is put in the category its product is in now (HQ's catalog, joined by the
line's ``product_id``): categories are head office's reporting groups, so moving a
product moves its past sales with it. A line whose product HQ does not know, or that has
no category, counts as "Uncategorised".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.categories import UNCATEGORISED
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


class CategoryRow(BaseModel):
    category: str
    """The category's name, or "Uncategorised"."""
    category_id: int | None
    """None for "Uncategorised"."""
    qty: int
    net_sales_cents: int
    sales: int
    """Sales (receipts) with at least one line in the category."""


class CategoriesReport(BaseModel):
    query: ReportQuery
    rows: list[CategoryRow]

    def table(self) -> tuple[list[str], list[list[Any]]]:
        head = ["rank", "category", "qty", "net_sales", "receipts"]
        return head, [
            [i, r.category, r.qty, cents(r.net_sales_cents), r.sales]
            for i, r in enumerate(self.rows, 1)
        ]


async def top_categories(
    *, session: AsyncSession, query: ReportQuery, scope: Scope
) -> CategoriesReport:
    """Every category with sales in the period (a chain has tens), best first."""
    net = func.sum(m.SaleLine.total_cents)
    stmt = (
        select(
            m.Product.category_id,
            func.sum(m.SaleLine.qty).label("qty"),
            net.label("net"),
            func.count(func.distinct(m.SaleLine.sale_id)).label("sales"),
        )
        .select_from(m.SaleLine)
        .join(m.Sale, m.Sale.sale_id == m.SaleLine.sale_id)
        .outerjoin(m.Product, m.Product.product_id == m.SaleLine.product_id)
    )
    stmt = scoped_sales(stmt, query, scope).group_by(m.Product.category_id)
    names = {
        c.category_id: c.name
        for c in await session.execute(select(m.Category.category_id, m.Category.name))
    }
    rows = [
        CategoryRow(
            category=names.get(r.category_id, UNCATEGORISED),
            category_id=r.category_id,
            qty=int(r.qty),
            net_sales_cents=int(r.net),
            sales=int(r.sales),
        )
        for r in await session.execute(stmt)
    ]
    rows.sort(key=lambda r: (-r.net_sales_cents, r.category.casefold()))
    return CategoriesReport(query=query, rows=rows)
