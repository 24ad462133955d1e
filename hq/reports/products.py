"""Top products and top categories by net sales (refunded quantities and amounts taken off).

A sale line is put in the category its product is in now (HQ's catalog, joined by the
line's ``product_id``): categories are head office's reporting groups, so moving a
product moves its past sales with it. A line whose product HQ does not know, or that has
no category, counts as "Uncategorised".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hq import models as m
from hq.categories import UNCATEGORISED
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
